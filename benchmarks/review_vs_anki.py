"""Next card, answer and undo: studylog against Anki's backend on the same cards and history.

Used by ``benchmarks/bench_review.py --vs-anki [--cards N]``. The studylog
collection is bench_review's simulated one (N cards, 10 N review rows, 90 % of
the cards with a history); the Anki collection (the ``anki`` package, headless)
gets the same cards in the same order, the same review log (``revlog``) and the
same memory states and due days, FSRS on. Both run WAL with
``synchronous=FULL``.

Each block is a fresh child process that opens its collection, answers
``--ops`` cards (next card, answer: Good, or Again every fifth) and undoes
every answer again, so each block starts from the same collection. Blocks
alternate (studylog, Anki, Anki, studylog, ...); the table shows the median
over all operations of all blocks, CPU time (``time.process_time``) and wall
time. Nothing here asserts on time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TZ = "Asia/Seoul"  # bench_review's collections study in Seoul


def build_anki(studylog_db: Path, target: Path) -> None:
    """The Anki collection of ``studylog_db`` (in a child process with ``TZ`` set)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from benchmarks.review_vs_anki import _build\n"
        f"_build({str(studylog_db)!r}, {str(target)!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "TZ": TZ})


def _build(studylog_db: str, target: str) -> None:
    import sqlite3

    from anki.collection import AddNoteRequest, Collection

    src = sqlite3.connect(studylog_db)
    cards = src.execute(
        "SELECT id, state, stability, difficulty, due, last_review, reps, lapses FROM cards ORDER BY id"
    ).fetchall()
    reviews = src.execute(
        "SELECT card_id, reviewed_at, rating, state_before, interval_days, duration_ms "
        "FROM reviews ORDER BY reviewed_at_ms, id"
    ).fetchall()
    src.close()
    Path(target).unlink(missing_ok=True)
    col = Collection(target)
    try:
        col.set_config("rollover", 4)
        col.set_config("fsrs", True)
        model = col.models.by_name("Basic")
        deck_id = col.decks.id("Default")
        requests = []
        for cid, *_ in cards:
            note = col.new_note(model)
            note["Front"], note["Back"] = f"front {cid}", "back"
            requests.append(AddNoteRequest(note, deck_id))
        col.add_notes(requests)
        anki_ids = col.db.list("select id from cards order by id")
        anki_of = dict(zip((c[0] for c in cards), anki_ids, strict=True))
        today = col.sched.today
        # The studylog collection was simulated up to bench_review's NOW; Anki runs on
        # the clock, so every time moves by (clock - NOW): the same relative state.
        now_ms = _ms("2026-11-21 10:00:00")
        shift = int(time.time() * 1000) - now_ms
        day_ms = 86_400_000
        updates = []
        for (_cid, state, s, d, due, last, reps, lapses), aid in zip(cards, anki_ids, strict=True):
            if last is None:
                continue
            due_ms, last_ms = _ms(due), _ms(last)
            ivl = max(1, round((due_ms - last_ms) / day_ms))
            if state == 2:
                ctype, queue, due_value = 2, 2, today + (due_ms - now_ms) // day_ms
            else:  # (re)learning: due as epoch seconds, as Anki's intraday learning queue
                ctype, queue, due_value = (1 if state == 1 else 3), 1, (due_ms + shift) // 1000
            data = json.dumps({"s": s, "d": d, "dr": 0.9, "lrt": (last_ms + shift) // 1000})
            updates.append((ctype, queue, int(due_value), ivl, reps, lapses, data, aid))
        col.db.executemany(
            "update cards set type = ?, queue = ?, due = ?, ivl = ?, reps = ?, lapses = ?, "
            "data = ? where id = ?",
            updates,
        )
        used: set[int] = set()
        rows = []
        kinds = {1: 0, 2: 1, 3: 2}
        for cid, at, rating, state_before, interval, taken in reviews:
            rid = _ms(at) + shift
            while rid in used:
                rid += 1
            used.add(rid)
            kind = kinds.get(state_before, 0)
            rows.append(
                (
                    rid,
                    anki_of[cid],
                    -1,
                    rating,
                    max(1, round(interval or 0)),
                    0,
                    2500,
                    taken or 0,
                    kind,
                )
            )
        col.db.executemany(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    finally:
        col.close()


def _ms(text: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


# --- one block (in a child process) ------------------------------------------------------


def _studylog_block(path: str, ops: int) -> dict[str, list[tuple[float, float]]]:
    from datetime import UTC, datetime, timedelta

    from studylog.services import review
    from studylog.storage.engine import Database

    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    db = Database(f"sqlite:///{path}")
    out: dict[str, list[tuple[float, float]]] = {"next card": [], "answer": [], "undo": []}
    session = review.ReviewSession(db, now=now)
    session.next_card(now=now)  # warm: the first card and the new-card page
    for i in range(ops):
        moment = now + timedelta(seconds=20 * i)
        c0, w0 = time.process_time(), time.perf_counter()
        card = session.next_card(now=moment)
        c1, w1 = time.process_time(), time.perf_counter()
        session.answer(card.id, 1 if i % 5 == 0 else 3, now=moment, duration_ms=4000)
        c2, w2 = time.process_time(), time.perf_counter()
        out["next card"].append((c1 - c0, w1 - w0))
        out["answer"].append((c2 - c1, w2 - w1))
    for _ in range(ops):
        c0, w0 = time.process_time(), time.perf_counter()
        session.undo()
        out["undo"].append((time.process_time() - c0, time.perf_counter() - w0))
    session.close()
    db.dispose()
    return out


def _anki_block(path: str, ops: int) -> dict[str, list[tuple[float, float]]]:
    from anki.collection import Collection
    from anki.scheduler_pb2 import CardAnswer

    # anki.cards must be imported after anki.collection (a circular import: importing it
    # first fails), and an import sorter would put it first: take it from what loaded.
    Card = sys.modules["anki.cards"].Card  # noqa: N806

    col = Collection(path)
    col.db.execute("pragma synchronous = full")
    out: dict[str, list[tuple[float, float]]] = {"next card": [], "answer": [], "undo": []}
    col.sched.get_queued_cards(fetch_limit=1)  # warm: the queues are built
    for i in range(ops):
        c0, w0 = time.process_time(), time.perf_counter()
        top = col.sched.get_queued_cards(fetch_limit=1).cards[0]
        card = Card(col, backend_card=top.card)
        card.start_timer()
        c1, w1 = time.process_time(), time.perf_counter()
        rating = CardAnswer.AGAIN if i % 5 == 0 else CardAnswer.GOOD
        col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=rating))
        c2, w2 = time.process_time(), time.perf_counter()
        out["next card"].append((c1 - c0, w1 - w0))
        out["answer"].append((c2 - c1, w2 - w1))
    for _ in range(ops):
        c0, w0 = time.process_time(), time.perf_counter()
        col.undo()
        out["undo"].append((time.process_time() - c0, time.perf_counter() - w0))
    col.close()
    return out


def child_main() -> None:
    side, path, ops = sys.argv[2], sys.argv[3], int(sys.argv[4])
    fn = _studylog_block if side == "studylog" else _anki_block
    print(json.dumps(fn(path, ops)))


def run_child(module: str, side: str, *args: str) -> dict:
    """``benchmarks.<module>.child_main()`` in a fresh process (``TZ`` set), given
    ``child side *args``; the JSON object it prints last."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        f"from benchmarks.{module} import child_main; child_main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "child", side, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TZ": TZ},
    )
    if done.returncode:
        raise SystemExit(f"{side} block failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_block(side: str, path: Path, ops: int) -> dict[str, list[tuple[float, float]]]:
    return run_child("review_vs_anki", side, str(path), str(ops))


def compare(ours: Path, theirs: Path, *, blocks: int, ops: int) -> list[str]:
    """Alternating blocks on copies of both collections; the table's rows."""
    import shutil
    import tempfile

    samples: dict[str, dict[str, list[tuple[float, float]]]] = {"studylog": {}, "anki": {}}
    with tempfile.TemporaryDirectory(prefix="core-vs-anki-") as tmp:
        mine, anki = Path(tmp) / "s.db", Path(tmp) / "a.anki2"
        shutil.copy(ours, mine)
        shutil.copy(theirs, anki)
        for b in range(blocks):
            order = ("studylog", "anki") if b % 2 == 0 else ("anki", "studylog")
            for side in order:
                got = run_block(side, mine if side == "studylog" else anki, ops)
                for op, values in got.items():
                    samples[side].setdefault(op, []).extend(values)
    out = [
        "| per operation | studylog CPU | Anki CPU | ratio (CPU) | studylog wall | Anki wall | ratio (wall) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for op in ("next card", "answer", "undo"):
        s, a = samples["studylog"][op], samples["anki"][op]
        sc, ac = statistics.median(x[0] for x in s) * 1e3, statistics.median(x[0] for x in a) * 1e3
        sw, aw = statistics.median(x[1] for x in s) * 1e3, statistics.median(x[1] for x in a) * 1e3
        out.append(
            f"| {op} | {sc:.2f} ms | {ac:.2f} ms | {sc / ac:.2f}x | {sw:.2f} ms | {aw:.2f} ms | "
            f"{sw / aw:.2f}x |"
        )
    return out
