"""Ingest at scale: the 1,000th plan of a store against the 10th, and each task indexed once.

    python bench/bench_ingest_scale.py [--plans 1000] [--early 10] [--probes 12] [--repeat 3] [--db PATH]

Store: --plans plans that are not copies of one plan (bench/province_store.variant: the seed plan and the
corpus documents, first "# source:" line stripped, each with its own title, task titles, some tasks left
out, units swapped, dates shifted by months), stored one by one through knowledge.ingest.ingest_plan, as
`duban ingest` does (open_db: write-ahead log, synchronous=FULL, one transaction per plan). The store as it
stood after --early - 1 plans is kept too.

Included in each timed ingest: ingest_plan of one parsed plan — finding whether it is a version of a stored
document, the directory sync, the task, assignment, milestone and duty rows with their text index, the due
index, the units' task lists and figures, retiring examples, and the commit (its pages appended to the log, one
fsync: what the caller waits for before the plan is stored and answerable).
The planner's statistics are refreshed only when the store's task count crosses a power of two (an ANALYZE
of about 0.1 s on the large store, once per doubling): no probe here crosses one, so none is timed.
Excluded: parsing (the same for every plan), copying the store before each probe (the copy is written to disk
before the clock starts: else the probe's fsync would write out the whole copied store, 200 MB against 2 MB).
Timed apart and printed beside it: the checkpoint that writes the plan's pages from the log back into the file
(SQLite runs one when the log passes 1,000 pages, i.e. every two or three plans, and when the last connection
closes), so the cost of the pages an ingest scatters over a large file is reported, not hidden.

Probes: --probes plans that are in neither store (new variant numbers, over every seed, so their sizes
differ as real plans do). Each is ingested as the --early-th plan (into a copy of the small store) and as the
--plans-th plan (into a copy of the large store), --repeat times each, alternating, the fastest of the
repeats kept (noise on a shared machine only adds time); the baseline is the early ingests, measured in the
same run. Prints the medians over the probes, the median of the probes' ratios (target <= 1.2x) and how many
times one ingest wrote each task into the text indexes (temporary triggers on the same events count the
index triggers' firings; target: once).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import province_store  # noqa: E402  (the varied plans of the answer bench)

TARGET_RATIO = 1.2
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
FTS_TRIGGERS = ("tasks_ai", "tasks_au", "tasks_title_ai", "tasks_title_au")


def seeds_and_pool(directory) -> tuple[list, list[str]]:
    from parser import parse_document

    seeds = [parse_document(province_store._text(f), f.name, directory=directory) for f in province_store.seed_files()]
    pool = sorted({u for s in seeds for t in s.tasks for r in province_store.UNIT_ROLES for u in getattr(t, r) or []})
    return seeds, pool


def plan_number(seeds: list, pool: list[str], n: int):
    base = seeds[0] if n % 3 == 0 else seeds[1 + (n - n // 3) % (len(seeds) - 1)]
    return province_store.variant(base, n, pool)


def ingest(db, plan, n: int):
    from knowledge.ingest import ingest_plan, sha256_of

    return ingest_plan(db, plan, sha256_of(f"{n}|{plan.source_name}".encode()), now=NOW)


def build(large: Path, small: Path, plans: int, early: int, seeds, pool, directory) -> float:
    from knowledge.db import open_db
    from knowledge.directory import sync_directory

    start = time.perf_counter()
    db = open_db(large)
    with db.atomic():
        sync_directory(db, directory)
    for n in range(1, plans):
        if n == early:
            db.conn.commit()
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone holds the store, for the copy
            shutil.copy(large, small)
        ingest(db, plan_number(seeds, pool, n), n)
        if n % 100 == 0:
            print(f"  … {n}/{plans - 1} plans, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    db.conn.close()
    return time.perf_counter() - start


def timed_ingest(store: Path, work: Path, plan, n: int, trace: bool = False
                 ) -> tuple[float, dict[str, int], float]:
    from knowledge.db import open_db

    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(store, work)
    flush(work)
    db = open_db(work)
    if trace:
        count_firings(db)
    start = time.perf_counter()
    result = ingest(db, plan, n)
    seconds = time.perf_counter() - start
    assert result.status == "new", result.status
    fired = dict(db.execute("SELECT name, count(*) FROM temp.fired GROUP BY name").fetchall()) if trace else {}
    start = time.perf_counter()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint = time.perf_counter() - start
    db.conn.close()
    return seconds, {name: fired.get(name, 0) for name in FTS_TRIGGERS}, checkpoint


def flush(path: Path) -> None:
    """The copy on disk before the clock starts: else the ingest's commit (fsync) writes out the whole copied
    store's dirty pages too, which made the large store's probes look ~5x slower than the small one's."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def count_firings(db) -> None:
    """A temporary trigger beside each text-index trigger, on the same event, counts how often it fires."""
    db.execute("CREATE TEMP TABLE fired (name TEXT)")
    for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
                                f" ({','.join('?' * len(FTS_TRIGGERS))})", FTS_TRIGGERS).fetchall():
        event = re.search(r"\b(AFTER .*?) BEGIN", sql, re.S | re.I).group(1)
        event = re.sub(r'ON\s+"?tasks"?', "ON main.tasks", event)
        db.execute(f"CREATE TEMP TRIGGER count_{name} {event} BEGIN INSERT INTO fired VALUES ('{name}'); END")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plans", type=int, default=1000)
    ap.add_argument("--early", type=int, default=10)
    ap.add_argument("--probes", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", help="keep the large store here (and the early one beside it; reused if they exist)")
    args = ap.parse_args(argv)

    from knowledge.db import open_db
    from parser import UnitDirectory

    directory = UnitDirectory.load()
    seeds, pool = seeds_and_pool(directory)
    tmp = tempfile.TemporaryDirectory()
    large = Path(args.db) if args.db else Path(tmp.name) / "large.db"
    small = large.with_name(large.stem + f".first{args.early - 1}.db")
    if not (large.exists() and small.exists()):
        large.unlink(missing_ok=True)
        secs = build(large, small, args.plans, args.early, seeds, pool, directory)
        print(f"built {args.plans - 1} plans in {secs:.0f} s ({large})")
    db = open_db(large)
    docs, tasks, ms = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "tasks", "milestones"))
    db.conn.close()
    work = Path(tmp.name) / "probe.db"
    early_s, late_s, per_task, early_ck, late_ck = [], [], [], [], []
    for k in range(args.probes):
        n = 100_000 + k  # no stored plan has this number
        plan = plan_number(seeds, pool, n)
        e, l = [], []
        for _ in range(args.repeat):
            e.append(timed_ingest(small, work, plan, n))
            l.append(timed_ingest(large, work, plan, n))
        early_s.append(min(r[0] for r in e))  # this machine's noise only ever adds time: the fastest of the repeats
        late_s.append(min(r[0] for r in l))
        early_ck.append(min(r[2] for r in e))
        late_ck.append(min(r[2] for r in l))
        _, fired, _ = timed_ingest(large, work, plan, n, trace=True)
        per_task.append({name: c / len(plan.tasks) for name, c in fired.items()})
        print(f"  probe {k + 1:2d}: {len(plan.tasks):3d} tasks  as plan {args.early}: {early_s[-1] * 1000:6.1f} ms"
              f"  as plan {args.plans}: {late_s[-1] * 1000:6.1f} ms  ({late_s[-1] / early_s[-1]:.2f}x)")
    base, late = statistics.median(early_s), statistics.median(late_s)
    ratio = statistics.median(lt / et for lt, et in zip(late_s, early_s))
    writes = {name: max(p[name] for p in per_task) for name in FTS_TRIGGERS}
    print(f"large store: {docs} documents, {tasks:,} tasks, {ms:,} milestones")
    print(f"(a) baseline: ingest as plan {args.early}:  {base * 1000:7.1f} ms (median over {args.probes} probes)")
    print(f"(b) ingest as plan {args.plans}:             {late * 1000:7.1f} ms")
    print(f"ratio (b)/(a) = {ratio:.2f}x (median of the probes' ratios); {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}"
          f" (target <= {TARGET_RATIO:g}x)")
    ck_ratio = statistics.median(lt / et for lt, et in zip(late_ck, early_ck))
    both = statistics.median((lt + lc) / (et + ec) for lt, lc, et, ec in zip(late_s, late_ck, early_s, early_ck))
    print(f"checkpoint of the plan's pages, timed apart: {statistics.median(early_ck) * 1000:.1f} ms as plan {args.early},"
          f" {statistics.median(late_ck) * 1000:.1f} ms as plan {args.plans} ({ck_ratio:.2f}x); ingest + checkpoint:"
          f" {both:.2f}x (median of the probes' ratios)")
    once = writes["tasks_ai"] == 1 and writes["tasks_title_ai"] == 1 and not writes["tasks_au"] and not writes["tasks_title_au"]
    print("text index writes per task (most of any probe): " + ", ".join(f"{k} {v:g}" for k, v in writes.items())
          + f"; each task indexed once: {'OK' if once else 'NO'}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
