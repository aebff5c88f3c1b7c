"""Generate a large studylog database for benchmarks: cards, reviews and years of entries.

Usage: python benchmarks/datagen.py OUT.db [--cards 100000] [--reviews 1000000] [--years 5]

Rows are written with plain executemany in one transaction per table (fast);
the schema comes from the real migrations, so triggers and indexes are the
ones users have.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from studylog.storage import migrate
from studylog.storage.engine import Database
from studylog.storage.times import floor_ms, to_ms

END = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"


def _t(moment: datetime | None) -> str | None:
    """A time as studylog stores it: text to the millisecond (its twin is :func:`_ms`)."""
    return None if moment is None else floor_ms(moment).strftime(FMT)


def _ms(moment: datetime | None) -> int | None:
    return to_ms(moment)


WORDS = (
    "어텐션 attention 기울기 소실 vanishing gradient LSTM 게이트 cell state hidden state "
    "seq2seq encoder decoder softmax 밑바닥2 Transformer positional encoding 잔차 연결 "
    "layer norm BLEU NTM memory 복습 정리 구현 numpy 역전파 backpropagation"
).split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def generate(path: Path, cards: int, reviews: int, years: int, seed: int = 0) -> dict[str, float]:
    """Create ``path`` with the given numbers of rows; return seconds per table."""
    rng = random.Random(seed)
    if path.exists():
        path.unlink()
    db = Database(f"sqlite:///{path}")
    migrate.prepare(db)
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    timings: dict[str, float] = {}

    t = time.perf_counter()
    days = years * 365
    first = END.date() - timedelta(days=days)
    entries = []
    for i in range(days):
        day = first + timedelta(days=i)
        stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).strftime(FMT)
        entries.append((day.isoformat(), _text(rng, 80), stamp, stamp))
    con.executemany(
        "INSERT INTO journal_entries(day, body, created_at, updated_at) VALUES (?,?,?,?)", entries
    )
    # Three TODOs a day; most get done, a few stay open for good (carried over).
    todos = [
        (
            _text(rng, 5),
            (first + timedelta(days=i // 3)).isoformat(),
            None if rng.random() < 0.03 else END.strftime(FMT),
            i % 3,
            END.strftime(FMT),
        )
        for i in range(days * 3)
    ]
    con.executemany(
        "INSERT INTO todos(text, origin_day, done_at, position, created_at) VALUES (?,?,?,?,?)",
        [(a, b, None if c is None else c, d, e) for a, b, c, d, e in todos],
    )
    con.commit()
    timings["entries+todos"] = time.perf_counter() - t

    t = time.perf_counter()
    rows = []
    for i in range(cards):
        created = END - timedelta(days=rng.uniform(0, days))
        reviewed = i % 5 != 0
        last = created + (END - created) * rng.random() if reviewed else None
        stability = rng.lognormvariate(2.0, 1.2) if reviewed else None
        due = (last + timedelta(days=stability)) if reviewed else created
        rows.append(
            (
                f"Q{i}: {_text(rng, 8)}?",
                _text(rng, 12),
                "basic",
                "Default",
                "user",
                2 if reviewed else 1,
                None if reviewed else 0,
                stability,
                rng.uniform(1, 10) if reviewed else None,
                _t(due),
                _ms(due),
                _t(last),
                _ms(last),
                rng.randint(1, 20) if reviewed else 0,
                rng.randint(0, 3) if reviewed else 0,
                created.strftime(FMT),
                created.strftime(FMT),
            )
        )
    con.executemany(
        "INSERT INTO cards(front, back, kind, deck, origin, state, step, stability, difficulty, "
        "due, due_ms, last_review, last_review_ms, reps, lapses, suspended, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)",
        rows,
    )
    con.commit()
    timings["cards"] = time.perf_counter() - t

    t = time.perf_counter()
    batch = []
    span = days * 86400
    for _ in range(reviews):
        card = rng.randint(1, cards)
        at = END - timedelta(seconds=rng.uniform(0, span))
        rating = rng.choices((1, 2, 3, 4), (10, 15, 65, 10))[0]
        s_before = rng.lognormvariate(1.5, 1.0)
        s_after = s_before * (0.3 if rating == 1 else rng.uniform(1.5, 4))
        last_before = at - timedelta(days=s_before)
        batch.append(
            (
                card, rating, _t(at), _ms(at), rng.randint(1500, 20000), 2, None, s_before,
                rng.uniform(1, 10), _t(at), _ms(at), _t(last_before), _ms(last_before),
                2, None, s_after, rng.uniform(1, 10), _t(at + timedelta(days=s_after)), s_after,
            )
        )  # fmt: skip
        if len(batch) == 100_000:
            _insert_reviews(con, batch)
            batch = []
    if batch:
        _insert_reviews(con, batch)
    con.commit()
    timings["reviews"] = time.perf_counter() - t
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    return timings


def _insert_reviews(con: sqlite3.Connection, batch: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO reviews(card_id, rating, reviewed_at, reviewed_at_ms, duration_ms, "
        "state_before, step_before, stability_before, difficulty_before, due_before, "
        "due_before_ms, last_review_before, last_review_before_ms, state_after, step_after, "
        "stability_after, difficulty_after, due_after, interval_days) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        batch,
    )


def time_ordered_copy(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` with the review ids renumbered in time order.

    :func:`generate` draws each review's card and time at random, so its ids
    follow neither. In a collection studied in studylog (answers saved as they
    happen; imports insert in time order too) and in Anki (revlog ids are the
    answer times) ids follow time, which is what makes a time range a run of
    neighbouring rows. Same rows otherwise: only ``id`` changes.
    """
    if target.exists():
        return target
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    con = sqlite3.connect(partial)
    columns = [r[1] for r in con.execute("PRAGMA table_info(reviews)") if r[1] != "id"]
    listed = ", ".join(columns)
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute(
        f"CREATE TEMP TABLE by_time AS SELECT {listed} FROM reviews ORDER BY reviewed_at_ms"
    )
    con.execute("DELETE FROM reviews")
    con.execute(f"INSERT INTO reviews ({listed}) SELECT {listed} FROM by_time ORDER BY rowid")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    partial.rename(target)
    return target


def ensure(path: Path, cards: int = 100_000, reviews: int = 1_000_000, years: int = 5) -> Path:
    """Generate ``path`` unless a file made with the same sizes is already there.

    A file made by an older studylog is migrated to the newest revision first:
    opening a :class:`Database` does not migrate (the app and the CLI do), and a
    benchmark on an old schema measures indexes the current one no longer has.
    """
    marker = path.with_suffix(".sizes")
    wanted = f"{cards} {reviews} {years}"
    if path.exists() and marker.exists() and marker.read_text() == wanted:
        db = Database(f"sqlite:///{path}")
        migrate.prepare(db, make_backup=False)  # a generated file: nothing to save
        db.dispose()
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    generate(path, cards, reviews, years)
    marker.write_text(wanted)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    args = parser.parse_args()
    timings = generate(args.out, args.cards, args.reviews, args.years)
    for name, seconds in timings.items():
        print(f"{name:<14} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
