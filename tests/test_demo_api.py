"""The output API in process: output dicts, JSON-ability, and the size reductions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studylog.demo import api as out


def test_every_kind_is_a_json_able_dict_with_plain_values() -> None:
    with out.collect() as outputs:
        out.text("hello")
        out.value("loss", np.float32(0.5), unit="nats")
        out.value("bad", float("nan"))
        out.array("h", np.arange(6, dtype=np.int32).reshape(2, 3), rows=["a", "b"], cols=range(3))
        out.heatmap("att", np.array([[0.25, 0.75], [1.0, 0.0]]), x_labels=["나는", "학생"])
        out.line("curve", np.arange(3), {"y": np.array([1.0, 2.0, 4.0])}, log_y=True)
        out.table("t", ["k", "v"], [("a", np.int64(1)), ("b", 2.5)])
    assert [o["kind"] for o in outputs] == [
        "text",
        "value",
        "value",
        "array",
        "heatmap",
        "line",
        "table",
    ]
    text = json.dumps(outputs, allow_nan=False, ensure_ascii=False)  # strictly JSON
    assert json.loads(text) == outputs
    assert outputs[1]["value"] == 0.5 and outputs[2]["value"] == "nan"
    h = outputs[3]
    assert (h["shape"], h["dtype"], h["data"]) == ([2, 3], "int32", [[0, 1, 2], [3, 4, 5]])
    assert h["rows"] == ["a", "b"] and h["cols"] == ["0", "1", "2"]
    assert (outputs[4]["vmin"], outputs[4]["vmax"]) == (0.0, 1.0)
    assert outputs[5]["series"] == {"y": [1.0, 2.0, 4.0]} and outputs[5]["log_y"] is True
    assert outputs[6]["rows"] == [["a", 1], ["b", 2.5]]


def test_nested_lists_are_measured() -> None:
    with out.collect() as outputs:
        out.array("m", [[1, 2, 3], [4, 5, 6]])
        out.array("s", 7)
    assert outputs[0]["shape"] == [2, 3] and outputs[0]["data"] == [[1, 2, 3], [4, 5, 6]]
    assert outputs[1]["shape"] == [] and outputs[1]["data"] == 7


def test_large_array_becomes_a_summary_without_its_data() -> None:
    data = np.arange(20_000, dtype=np.float64).reshape(100, 200)
    with out.collect() as outputs:
        out.array("big", data)
    o = outputs[0]
    assert o["data"] is None
    assert o["shape"] == [100, 200] and o["dtype"] == "float64"
    s = o["summary"]
    # 0, 1, ..., n-1: min 0, max n-1, mean (n-1)/2
    assert s["size"] == 20_000
    assert s["head"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert (s["min"], s["max"], s["mean"]) == (0.0, 19_999.0, 9_999.5)
    assert len(json.dumps(o)) < 500


def test_summary_head_is_row_major_for_non_contiguous_arrays() -> None:
    data = np.arange(30_000).reshape(100, 300).T  # a transposed view
    with out.collect() as outputs:
        out.array("t", data)
    # data[0, :] = column 0 of the original = 0, 300, 600, ...
    assert outputs[0]["summary"]["head"] == [300 * k for k in range(8)]


def test_heatmap_over_the_cap_is_cropped_to_its_top_left_corner() -> None:
    data = np.arange(200 * 300, dtype=np.float64).reshape(200, 300)
    with out.collect() as outputs:
        out.heatmap("big", data)
    o = outputs[0]
    assert o["cropped_from"] == [200, 300]
    rows, cols = len(o["data"]), len(o["data"][0])
    assert rows * cols <= 10_000 and (rows, cols) == (100, 100)
    assert o["data"][99][99] == 99 * 300 + 99
    assert (o["vmin"], o["vmax"]) == (0.0, 99 * 300 + 99)


def test_heatmap_of_a_vector_is_one_row_and_ignores_non_finite_in_the_scale() -> None:
    with out.collect() as outputs:
        out.heatmap("v", np.array([1.0, np.nan, 3.0, np.inf]))
    assert len(outputs[0]["data"]) == 1
    assert (outputs[0]["vmin"], outputs[0]["vmax"]) == (1.0, 3.0)


def test_long_line_is_downsampled_by_a_constant_stride() -> None:
    x = np.arange(10_000)
    with out.collect() as outputs:
        out.line("long", x, {"sq": x.astype(float) ** 2})
    o = outputs[0]
    assert o["downsampled_from"] == 10_000
    assert len(o["x"]) == 2_000
    assert o["x"][:3] == [0, 5, 10]
    assert all(y == float(xv) ** 2 for xv, y in zip(o["x"], o["series"]["sq"], strict=True))


def test_long_table_is_cut() -> None:
    with out.collect() as outputs:
        out.table("rows", ["i"], [[i] for i in range(600)])
    assert len(outputs[0]["rows"]) == 500 and outputs[0]["truncated_rows"] == 600


def test_caps_can_be_changed_by_the_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(out._caps, "array_elements", 4)
    with out.collect() as outputs:
        out.array("small", np.ones(4))
        out.array("over", np.ones(5))
    assert outputs[0]["data"] == [1.0] * 4
    assert outputs[1]["data"] is None and outputs[1]["summary"]["size"] == 5


def test_collect_restores_the_previous_sink() -> None:
    with out.collect() as outer:
        with out.collect() as inner:
            out.text("inner")
        out.text("outer")
    assert [o["text"] for o in inner] == ["inner"]
    assert [o["text"] for o in outer] == ["outer"]
