"""How fast the private store answers at the size of a long-time user's data.

Fills a fresh encrypted store (in a temporary ``CALLMEMAYBE_HOME``) with 100,000 notes and
10,000 events, 10% of them recurring (weekly, daily or monthly; half without an end), then
times through the tools, as the assistant calls them:

* ``notes_search``: 300 full-text searches of one to three words, rare and common;
* ``calendar_list``: 300 one-week ranges within a year either side of today;
* creates: 200 ``notes_create`` and 200 ``calendar_create`` calls, each committed.

The notes are inserted in bulk with SQL (their full-text index is kept by the store's own
triggers); the events go through ``calendar_create``, so their occurrences are stored as in
real use. Last line: ``notes_search_p95_ms=A events_range_p95_ms=B create_p95_ms=C``.
Targets: each <= 20 ms on this project's 2-core machine.

Usage: python bench/storage.py [--notes N] [--events N]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SYLLABLES = "ka lo mi ne ru ta po si de va gu re no be fi zo".split()  # noqa: SIM905
TAGS = ["work", "home", "ideas", "todo", "travel", "health", "money", "books"]


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _time(call: Callable[[int], object], count: int) -> list[float]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cmm-bench-storage-"))
    os.environ["CALLMEMAYBE_HOME"] = str(home)

    from sqlalchemy import text

    from connectors.registry import load_registry
    from connectors.store.database import open_store
    from connectors.tool import ToolContext

    zone = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 25, 10, 0, tzinfo=zone)
    store = open_store(home / "store", key=secrets.token_bytes(32))
    context = ToolContext(open_store=lambda: store, timezone=zone, now=lambda: now, data_dir=home)
    registry = load_registry()
    rng = random.Random(7)
    vocab = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # Zipf-like word frequencies

    started = time.perf_counter()
    base = datetime(2023, 1, 1, tzinfo=zone)
    notes, note_tags = [], []
    for i in range(args.notes):
        title = " ".join(rng.choices(vocab, weights, k=rng.randint(2, 5))) + f" {i}"
        tags = sorted(set(rng.choices(TAGS, k=rng.randint(0, 3))))
        stamp = (base + timedelta(minutes=7 * i)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        notes.append(
            {
                "t": title,
                "k": title.casefold(),
                "b": " ".join(rng.choices(vocab, weights, k=rng.randint(40, 160))),
                "g": " ".join(tags),
                "c": stamp,
            }
        )
        note_tags.extend({"tag": tag, "id": i + 1, "u": stamp} for tag in tags)
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO notes (title, title_key, body, tags, created, updated) "
                "VALUES (:t, :k, :b, :g, :c, :c)"
            ),
            notes,
        )
        connection.execute(
            text("INSERT INTO note_tags (tag, note_id, updated) VALUES (:tag, :id, :u)"),
            note_tags,
        )
    print(f"filled {args.notes} notes in {time.perf_counter() - started:.0f} s", flush=True)

    started = time.perf_counter()
    for i in range(args.events):
        start = now + timedelta(
            days=rng.randint(-365, 365), hours=rng.randint(-2, 8), minutes=rng.choice([0, 30])
        )
        event: dict[str, object] = {
            "title": f"{rng.choice(vocab)} meeting {i}",
            "start": start.isoformat(timespec="minutes"),
            "duration_minutes": rng.choice([30, 60, 90]),
            "location": f"Room {i % 7}",
        }
        if i % 10 == 0:
            event["repeat"] = rng.choices(["weekly", "daily", "monthly"], [7, 1, 2])[0]
            if i % 20 == 0:
                event["repeat_count"] = rng.choice([5, 10, 20, 52])
        registry.run("calendar_create", event, context, approved=True)
    print(f"filled {args.events} events in {time.perf_counter() - started:.0f} s", flush=True)
    size_mb = sum(p.stat().st_size for p in (home / "store").iterdir()) / 1e6
    print(f"store on disk: {size_mb:.0f} MB", flush=True)

    queries = (
        [vocab[rng.randint(5000, len(vocab) - 1)] for _ in range(100)]
        + [vocab[rng.randint(20, 1000)] for _ in range(100)]
        + [" ".join(rng.choices(vocab[:3000], k=rng.randint(2, 3))) for _ in range(100)]
    )
    rng.shuffle(queries)
    search = _time(lambda i: registry.run("notes_search", {"query": queries[i]}, context), 300)

    def week(i: int) -> object:
        day = (now + timedelta(days=rng.randint(-365, 365))).date()
        span = {"start": day.isoformat(), "end": (day + timedelta(days=7)).isoformat()}
        return registry.run("calendar_list", span, context)

    ranges = _time(week, 300)

    def create_note(i: int) -> object:
        body = " ".join(rng.choices(vocab, weights, k=100))
        note = {"title": f"bench note {i}", "body": body, "tags": ["work"]}
        return registry.run("notes_create", note, context, approved=True)

    def create_event(i: int) -> object:
        start = now + timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 8))
        event = {"title": f"bench event {i}", "start": start.isoformat(timespec="minutes")}
        return registry.run("calendar_create", event, context, approved=True)

    creates = _time(create_note, 200) + _time(create_event, 200)
    store.close()

    for name, samples in (("notes_search", search), ("events_range", ranges), ("create", creates)):
        print(
            f"{name}: p50 {statistics.median(samples):.1f} ms, p95 {_p95(samples):.1f} ms, "
            f"max {max(samples):.1f} ms over {len(samples)}"
        )
    print(
        f"notes_search_p95_ms={_p95(search):.1f} events_range_p95_ms={_p95(ranges):.1f} "
        f"create_p95_ms={_p95(creates):.1f}"
    )


if __name__ == "__main__":
    main()
