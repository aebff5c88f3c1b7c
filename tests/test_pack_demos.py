"""Every demo of the built-in pack runs through the real runner and shows outputs."""

from __future__ import annotations

import json

import pytest

from studylog.content.concept_file import parse_concept
from studylog.demo.runner import run_file
from studylog.paths import content_dir

pytestmark = pytest.mark.both_backends

CONCEPTS = sorted((content_dir() / "concepts").glob("*.md"))
DEMOS = {
    c.slug: c.demo
    for c in (parse_concept(p.read_text(encoding="utf-8"), str(p)) for p in CONCEPTS)
    if c.demo
}


def test_every_pack_concept_has_a_demo() -> None:
    assert len(DEMOS) == len(CONCEPTS) >= 29


@pytest.mark.parametrize("slug", sorted(DEMOS))
def test_the_demo_runs_ok_through_the_runner(slug: str) -> None:
    result = run_file(content_dir() / "demos" / DEMOS[slug])
    assert result.status == "ok", f"{slug}: {result.status} {result.error}\n{result.traceback}"
    kinds = [o["kind"] for o in result.outputs]
    assert len(kinds) >= 3, f"{slug} shows too little: {kinds}"
    assert set(kinds) - {"text"}, f"{slug} shows only text"
    assert not result.truncated, f"{slug} hit the output caps"


def test_demo_run_slug_from_the_cli(run_cli) -> None:
    result = run_cli("demo", "run", "attention", "--json", "--no-cache")
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["status"] == "ok"
    assert "heatmap" in {o["kind"] for o in data["outputs"]}
