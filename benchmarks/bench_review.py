"""Benchmark of the review path on 100,000 cards and 1,000,000 review-log rows.

Run: ``.venv/bin/python benchmarks/bench_review.py`` (``--cards``, ``--reviews``,
``--repeat``; the database is generated once into ``benchmarks/_data/``,
which git ignores, and reused).

Prints a table of medians: fetching the next card, answering it (schedule,
write, commit), undoing, computing the statistics, and the whole-collection
FSRS (retrievability and replay of every history) in NumPy against a loop over
the ``fsrs`` package. Targets (issue 3): next card + answer <= 10 ms,
statistics <= 500 ms, NumPy >= 50x the loop. This is not a test: nothing here
asserts on time.

The collection is simulated with FSRS itself: each card's reviews happen when
it is due (learning steps on time, reviews within a day of their due date),
and each answer is a recall with probability R at that moment (Again
otherwise; Hard/Good/Easy 10/80/10 % of recalls), so the log looks like a
user who follows the schedule, over about three years.

Last run (2026-11-21, 2 shared cores, load average ~2.5; numbers vary by
~30 % with the machine's load)::

    studylog review benchmark: 100,000 cards, 1,000,000 review rows (bench_100000_1000000.db)
    measure                                                                 ms  note
    --------------------------------------------------------------  ----------  ----
    start a review session (gather the day's queues)                     70.56  once
    next card                                                             1.60  median of 30
    answer (schedule, write, commit)                                      1.97  median of 30
    next card + answer (target <= 10 ms)                                  3.57  sum of medians
    undo (restore card, delete review row)                                2.43  median of 30
    statistics, nothing cached                                         4898.68  once
    statistics (target <= 500 ms)                                       261.93  median of 5, per-day cache warm
    load S, last review of every card (SQL -> NumPy)                     90.07  once
    retrievability of 90,000 cards, NumPy                                 0.48  median of 51
    retrievability of 90,000 cards, fsrs loop                            28.05  median of 5; ratio 58x
    load 1,000,000 reviews grouped by card                             1521.58  once
    reschedule 90,000 cards from 1,000,000 reviews, NumPy                89.11  median of 9
      the same with a loop of Scheduler.reschedule_card                8560.96  ratio 96x
    change desired retention: move every due date, commit              3602.13  once
    change parameters: replay all, rewrite cards + reviews, commit    13602.51  once

The per-answer cost includes the ``cards_au`` full-text trigger, which fires
on every card update (also due/stability changes); restricting it to
``UPDATE OF front, back`` makes scheduling writes ~5x cheaper (measured:
50,000 due updates 1.69 s -> 0.33 s). "Nothing cached" statistics pay for
pulling every review row out of SQLite once; later calls reuse the per-day
cache (see ``studylog.services.stats``).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studylog.scheduling import batch  # noqa: E402
from studylog.scheduling.states import CardState  # noqa: E402
from studylog.services import reschedule  # noqa: E402
from studylog.storage import bulk, migrate  # noqa: E402
from studylog.storage.engine import Database  # noqa: E402

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DATA = ROOT / "benchmarks" / "_data"


def simulate(
    n_cards: int, n_reviews: int, rng: np.random.Generator, p: batch.Params, years: float = 3.0
):
    """Review histories for ``n_cards`` cards totalling exactly ``n_reviews`` answers.

    Each card starts on a random day of the last ``years`` years and is then
    answered whenever it is due, until NOW; the latest answers of a few
    random cards are dropped to hit the exact total (a backlog of overdue
    cards). Returns (offsets, ratings,
    times_us), grouped by card, in time order.
    """
    now_us = batch.to_us(NOW)
    t = now_us - rng.integers(batch.DAY_US, int(years * 365 * batch.DAY_US), n_cards)
    cur = batch.CardArrays.new(n_cards, t)
    ratings_k, times_k = [], []
    alive = np.arange(n_cards)
    while alive.size:
        head = cur.take(alive)
        elapsed = np.maximum(
            (t[alive] - np.where(head.last_review == batch.NO_TIME, t[alive], head.last_review))
            // batch.DAY_US,
            0,
        )
        with np.errstate(invalid="ignore"):
            r = np.where(
                np.isnan(head.stability),
                0.6,
                batch.retrievability_from_elapsed(head.stability, elapsed.astype(float), p),
            )
        kind = rng.random(alive.size)
        rating = np.where(
            rng.random(alive.size) >= r, 1, np.where(kind < 0.1, 2, np.where(kind < 0.9, 3, 4))
        )
        new, _ = batch.review_cards(head, rating, t[alive], p)
        k_ratings = np.zeros(n_cards, dtype=np.int8)
        k_times = np.full(n_cards, -1, dtype=np.int64)
        k_ratings[alive], k_times[alive] = rating, t[alive]
        ratings_k.append(k_ratings)
        times_k.append(k_times)
        for dst, src in zip(cur._fields(), new._fields(), strict=True):
            dst[alive] = src
        # the next answer: learning steps on time (+ up to 2 min), reviews within a day of due
        late = np.where(
            new.state == CardState.REVIEW,
            rng.integers(0, batch.DAY_US, alive.size),
            rng.integers(0, 120_000_000, alive.size),
        )
        t[alive] = new.due + late
        alive = alive[t[alive] < now_us]
    ratings = np.stack(ratings_k, axis=1)  # (n_cards, max_k), 0 = no review
    times = np.stack(times_k, axis=1)
    counts = (ratings > 0).sum(axis=1)
    extra = int(counts.sum()) - n_reviews
    if extra < 0:
        raise ValueError(f"only {counts.sum()} reviews simulated; ask for fewer or more years")
    # Drop the latest answers of a few random cards (abandoned: they become overdue).
    perm = rng.permutation(n_cards)
    cum = np.cumsum(counts[perm] - 1)
    k = int(np.searchsorted(cum, extra))
    drop = np.zeros(n_cards, dtype=np.int64)
    drop[perm[:k]] = counts[perm[:k]] - 1
    drop[perm[k]] = extra - (int(cum[k - 1]) if k else 0)
    counts = counts - drop
    keep = np.arange(ratings.shape[1])[None, :] < counts[:, None]
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return offsets, ratings[keep].astype(np.int64), times[keep]


def _us_to_text(values_us: np.ndarray) -> list[str | None]:
    """Epoch µs as the stored datetime text, to the millisecond (None for NO_TIME)."""
    return bulk._times(np.asarray(values_us))[0]


def _fill_twins(con: sqlite3.Connection) -> None:
    """Set the integer ``*_ms`` twins from the text times (studylog.storage.times)."""
    from studylog.storage.times import TWINS, to_ms

    for table, twins in TWINS.items():
        columns = list(twins)
        rows = con.execute(f"SELECT id, {', '.join(columns)} FROM {table}").fetchall()
        sets = ", ".join(f"{twins[c]} = ?" for c in columns)
        con.executemany(
            f"UPDATE {table} SET {sets} WHERE id = ?",
            (
                [
                    None if v is None else to_ms(datetime.fromisoformat(v).replace(tzinfo=UTC))
                    for v in row[1:]
                ]
                + [row[0]]
                for row in rows
            ),
        )


def build(path: Path, n_cards: int, n_reviews: int, seed: int = 1) -> None:
    """Create the benchmark database at ``path`` (about a minute for 100k/1M)."""
    from studylog.services import review

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    rng = np.random.default_rng(seed)
    config = review.SchedulerConfig(enable_fuzzing=False, maximum_interval_d=365)
    p = config.params()
    n_hist = int(n_cards * 0.9)
    offsets, ratings, times = simulate(n_hist, n_reviews, rng, p, years=1.5)
    card_ids = np.arange(1, n_hist + 1, dtype=np.int64)
    created = times[offsets[:-1]]
    result = batch.replay(offsets, ratings, times, p, card_ids=card_ids, initial_due_us=created)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now_text = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    n_concepts = n_cards // 5
    with con:
        con.executemany(
            "INSERT INTO concepts (id, slug, title, aliases, body, sources, related, origin, user_modified, created_at, updated_at) "
            "VALUES (?, ?, ?, '[]', '', '[]', '[]', 'user', 0, ?, ?)",
            [
                (i, f"concept-{i}", f"Concept {i}", now_text, now_text)
                for i in range(1, n_concepts + 1)
            ],
        )
        c = result.cards
        hist_rows = zip(
            card_ids.tolist(),
            rng.integers(1, n_concepts + 1, n_hist).tolist(),
            c.state.tolist(),
            [None if s < 0 else s for s in c.step.tolist()],
            c.stability.tolist(),
            c.difficulty.tolist(),
            _us_to_text(c.due),
            _us_to_text(c.last_review),
            result.reps.tolist(),
            result.lapses.tolist(),
            _us_to_text(created),
            strict=True,
        )
        sql = (
            "INSERT INTO cards (id, concept_id, front, back, kind, deck, origin, state, step, stability, difficulty, "
            "due, last_review, reps, lapses, suspended, created_at, updated_at) "
            f"VALUES (?, ?, 'front', 'back', 'basic', 'Default', 'user', ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '{now_text}')"
        )
        con.executemany(sql, hist_rows)
        new_created = _us_to_text(
            batch.to_us(NOW - timedelta(days=30)) + np.arange(n_cards - n_hist) * 1_000_000
        )
        con.executemany(
            "INSERT INTO cards (id, concept_id, front, back, kind, deck, origin, state, step, due, reps, lapses, "
            f"suspended, created_at, updated_at) VALUES (?, ?, 'new front', 'back', 'basic', 'Default', 'user', 1, 0, ?, 0, 0, 0, ?, '{now_text}')",
            [
                (n_hist + 1 + i, int(rng.integers(1, n_concepts + 1)), d, d)
                for i, d in enumerate(new_created)
            ],
        )
        b, a = result.before, result.after
        card_of_review = np.repeat(card_ids, np.diff(offsets))
        con.executemany(
            "INSERT INTO reviews (card_id, rating, reviewed_at, duration_ms, state_before, step_before, "
            "stability_before, difficulty_before, due_before, last_review_before, state_after, step_after, "
            "stability_after, difficulty_after, due_after, interval_days) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            zip(
                card_of_review.tolist(),
                ratings.tolist(),
                _us_to_text(times),
                rng.integers(1500, 20000, times.size).tolist(),
                b.state.tolist(),
                [None if s < 0 else s for s in b.step.tolist()],
                [None if np.isnan(s) else s for s in b.stability.tolist()],
                [None if np.isnan(s) else s for s in b.difficulty.tolist()],
                _us_to_text(b.due),
                _us_to_text(b.last_review),
                a.state.tolist(),
                [None if s < 0 else s for s in a.step.tolist()],
                a.stability.tolist(),
                a.difficulty.tolist(),
                _us_to_text(a.due),
                ((a.due - times) / batch.DAY_US).tolist(),
                strict=True,
            ),
        )
        con.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [
                ("timezone", '"Asia/Seoul"'),
                ("fsrs.enable_fuzzing", "false"),
                ("fsrs.maximum_interval_d", "365"),
            ],
        )
    with con:
        _fill_twins(con)
    con.execute("ANALYZE")
    con.close()
    db.dispose()


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true", help="generate the database again")
    parser.add_argument(
        "--vs-anki",
        action="store_true",
        help="next card, answer, undo against Anki's backend on the same collection "
        "(reviews default to 10 per card; see benchmarks/review_vs_anki.py)",
    )
    parser.add_argument("--blocks", type=int, default=6, help="alternating blocks (--vs-anki)")
    parser.add_argument(
        "--ops",
        type=int,
        default=30,
        help="answers per block (--vs-anki; at most 30: Anki keeps 30 undo steps)",
    )
    args = parser.parse_args(argv)
    if args.vs_anki and "--reviews" not in (argv if argv is not None else sys.argv):
        args.reviews = 10 * args.cards
    path = DATA / f"bench_{args.cards}_{args.reviews}.db"
    if args.rebuild or not path.exists():
        t0 = time.perf_counter()
        build(path, args.cards, args.reviews)
        print(f"generated {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if args.vs_anki:
        from benchmarks import review_vs_anki

        anki = path.with_suffix(".anki2")
        if args.rebuild or not anki.exists():
            t0 = time.perf_counter()
            review_vs_anki.build_anki(path, anki)
            print(f"generated {anki} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        print(
            f"next card, answer, undo: {args.cards:,} cards, {args.reviews:,} reviews, "
            f"{args.blocks} alternating blocks of {args.ops} answers, synchronous=FULL"
        )
        for line in review_vs_anki.compare(path, anki, blocks=args.blocks, ops=args.ops):
            print(line)
        return
    run(path, args.repeat)


def run(path: Path, repeat: int) -> None:
    """Measure on a copy of the database at ``path`` and print the table."""
    import shutil
    import tempfile
    from dataclasses import replace

    import fsrs
    from sqlalchemy import text

    from studylog.services import review, stats
    from studylog.services import settings as settings_service

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        shutil.copy(path, copy)
        db = Database(f"sqlite:///{copy}")
        rows: list[tuple[str, float, str]] = []
        with db.read() as session:
            n_cards = session.execute(text("SELECT count(*) FROM cards")).scalar()
            n_reviews = session.execute(text("SELECT count(*) FROM reviews")).scalar()

        t0 = time.perf_counter()
        session_ = review.ReviewSession(db, now=NOW)
        rows.append(
            (
                "start a review session (gather the day's queues)",
                (time.perf_counter() - t0) * 1000,
                "once",
            )
        )

        next_ms, answer_ms = [], []
        moment = NOW
        for i in range(repeat):
            t0 = time.perf_counter()
            card = session_.next_card(now=moment)
            next_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            session_.answer(card.id, 3 if i % 5 else 1, now=moment, duration_ms=4000)
            answer_ms.append((time.perf_counter() - t0) * 1000)
            moment += timedelta(seconds=20)
        undo_ms = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            session_.undo()
            undo_ms.append((time.perf_counter() - t0) * 1000)
        med_next, med_answer = statistics.median(next_ms), statistics.median(answer_ms)
        rows.append(("next card", med_next, f"median of {repeat}"))
        rows.append(("answer (schedule, write, commit)", med_answer, f"median of {repeat}"))
        rows.append(
            ("next card + answer (target <= 10 ms)", med_next + med_answer, "sum of medians")
        )
        rows.append(
            (
                "undo (restore card, delete review row)",
                statistics.median(undo_ms),
                f"median of {repeat}",
            )
        )

        # The same with fuzz on, so load balancing (on by default) chooses the due days:
        # the session counts the due cards per day once, then moves each answer.
        settings_service.put(db, review.K_FUZZ, True)
        balanced = review.ReviewSession(db, now=NOW)
        assert balanced.balancing is not None
        moment = NOW + timedelta(hours=1)
        card = balanced.next_card(now=moment)
        t0 = time.perf_counter()
        balanced.answer(card.id, 3, now=moment, duration_ms=4000)
        rows.append(
            (
                "first answer with load balancing (counts due per day)",
                (time.perf_counter() - t0) * 1000,
                "once per study day",
            )
        )
        lb_next, lb_answer = [], []
        for i in range(repeat):
            moment += timedelta(seconds=20)
            t0 = time.perf_counter()
            card = balanced.next_card(now=moment)
            lb_next.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            balanced.answer(card.id, 3 if i % 5 else 1, now=moment, duration_ms=4000)
            lb_answer.append((time.perf_counter() - t0) * 1000)
        rows.append(
            (
                "answer with load balancing (schedule, write, commit)",
                statistics.median(lb_answer),
                f"median of {repeat}",
            )
        )
        rows.append(
            (
                "next card + answer, load balancing (target <= 10 ms)",
                statistics.median(lb_next) + statistics.median(lb_answer),
                "sum of medians",
            )
        )
        for _ in range(repeat + 1):
            balanced.undo()
        balanced.close()
        settings_service.put(db, review.K_FUZZ, False)

        t0 = time.perf_counter()
        stats.collection_stats(db, now=NOW, use_cache=False)
        rows.append(("statistics, nothing cached", (time.perf_counter() - t0) * 1000, "once"))
        stats.collection_stats(db, now=NOW)  # fills the per-day cache
        rows.append(
            (
                "statistics (target <= 500 ms)",
                median_ms(lambda: stats.collection_stats(db, now=NOW), 5),
                "median of 5, per-day cache warm",
            )
        )

        config = review.load_config(db)
        p = config.params()
        scheduler = config.scheduler()
        now_us = batch.to_us(NOW)
        with db.read() as session:
            t0 = time.perf_counter()
            m = bulk.fetch_matrix(
                session,
                "SELECT id, stability, last_review_ms * 1000 FROM cards WHERE last_review IS NOT NULL",
            )
            load_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            h = bulk.load_histories(session)
            load_h_ms = (time.perf_counter() - t0) * 1000
        stability, last = m[:, 1], m[:, 2].astype(np.int64)
        rows.append(("load S, last review of every card (SQL -> NumPy)", load_ms, "once"))
        vec_r = median_ms(lambda: batch.retrievability(stability, last, now_us, p), 51)
        package_cards = [
            fsrs.Card(
                card_id=int(i),
                state=fsrs.State.Review,
                stability=float(s),
                difficulty=5.0,
                due=NOW,
                last_review=batch.from_us(int(t)),
            )
            for i, s, t in zip(m[:, 0], stability, last, strict=True)
        ]
        loop_r_ms = median_ms(
            lambda: [scheduler.get_card_retrievability(c, NOW) for c in package_cards], 5
        )  # median of 5
        loop_r = [scheduler.get_card_retrievability(c, NOW) for c in package_cards]
        check = batch.retrievability(stability, last, now_us, p)
        assert np.allclose(check, loop_r, rtol=1e-9, atol=0), "NumPy and package disagree"
        rows.append(
            (f"retrievability of {len(package_cards):,} cards, NumPy", vec_r, "median of 51")
        )
        rows.append(
            (
                f"retrievability of {len(package_cards):,} cards, fsrs loop",
                loop_r_ms,
                f"median of 5; ratio {loop_r_ms / vec_r:,.0f}x",
            )
        )

        rows.append((f"load {h.ratings.size:,} reviews grouped by card", load_h_ms, "once"))
        replay_ms = median_ms(
            lambda: batch.replay(
                h.offsets, h.ratings, h.times_us, p, card_ids=h.card_ids, record=False
            ),
            9,
        )
        logs = []
        for k, cid in enumerate(h.card_ids.tolist()):
            a, b = h.offsets[k], h.offsets[k + 1]
            logs.append(
                (
                    cid,
                    [
                        fsrs.ReviewLog(cid, fsrs.Rating(int(r)), batch.from_us(int(t)), None)
                        for r, t in zip(h.ratings[a:b], h.times_us[a:b], strict=True)
                    ],
                )
            )
        t0 = time.perf_counter()
        for cid, card_logs in logs:
            scheduler.reschedule_card(fsrs.Card(card_id=cid, due=NOW), card_logs)
        loop_replay_ms = (time.perf_counter() - t0) * 1000
        rows.append(
            (
                f"reschedule {len(logs):,} cards from {h.ratings.size:,} reviews, NumPy",
                replay_ms,
                "median of 9",
            )
        )
        rows.append(
            (
                "  the same with a loop of Scheduler.reschedule_card",
                loop_replay_ms,
                f"ratio {loop_replay_ms / replay_ms:,.0f}x",
            )
        )
        t0 = time.perf_counter()
        with db.write() as session:
            reschedule.reschedule_in(session, replace(p, desired_retention=0.85), full=False)
        rows.append(
            (
                "change desired retention: move every due date, commit",
                (time.perf_counter() - t0) * 1000,
                "once",
            )
        )
        t0 = time.perf_counter()
        with db.write() as session:
            reschedule.reschedule_in(session, p, full=True)
        rows.append(
            (
                "change parameters: replay all, rewrite cards + reviews, commit",
                (time.perf_counter() - t0) * 1000,
                "once",
            )
        )
        db.dispose()

    print(f"studylog review benchmark: {n_cards:,} cards, {n_reviews:,} review rows ({path.name})")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'ms':>10}  note")
    print(f"{'-' * width}  {'-' * 10}  ----")
    for name, ms, note in rows:
        print(f"{name:<{width}}  {ms:>10.2f}  {note}")


if __name__ == "__main__":
    main()
