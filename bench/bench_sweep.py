"""One day's reminder sweep over a large store, against a bare indexed SQLite query.

    python bench/bench_sweep.py [--docs 2000] [--today 2026-06-01] [--runs 5] [--db PATH] [--profile]

Builds a store of --docs synthetic plans: the seed plan parsed once, then stored --docs times
through knowledge.ingest's task writer (same schema, uids, assignments, bound units, recurring
duties) with every milestone date shifted by a per-document offset (0..~10 years), so due dates
spread over 2021–2060 like a city's accumulated plans. 2000 documents = 114,000 milestones.

Then, in the same run (medians of --runs):
(a) baseline: SELECT id, task_id, due, text FROM milestones WHERE due BETWEEN ? AND ? (index
    milestones_due), fetching every row: the window from today to the last covered day + 30;
(a') the rows the sweep has to read: every milestone due up to the last covered day + 30 (overdue
    items repeat weekly), same bare query shape;
(b) knowledge.sweep.sweep(db, calendar.covered_days(today)) — the full sweep: context (assignments,
    bound units, collectives, channels), the milestone scan, recurring duties.
Prints both, the ratio (b)/(a), and whether (b) is within the 1 s target. --profile adds the
top functions of one sweep (cProfile).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo
from timing import timed  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEED_TXT = ROOT.parent / "shared" / "seed" / "shaoyang_rectification_plan.txt"
TARGET_S = 1.0
TZ = ZoneInfo("Asia/Shanghai")




def build_store(path: Path, docs: int) -> int:
    """Fill `path` with `docs` date-shifted copies of the seed plan; returns the milestone count."""
    from knowledge.db import open_db
    from knowledge.directory import sync_directory
    from knowledge.ingest import _insert_task, sha256_of
    from parser import parse_document
    from parser import UnitDirectory

    data = SEED_TXT.read_bytes()
    directory = UnitDirectory.load()
    plan = parse_document(data, SEED_TXT.name, directory=directory)
    db = open_db(path)
    now = datetime.now(TZ).isoformat(timespec="seconds")
    with db.atomic():
        sync_directory(db, directory)
        for i in range(docs):
            shift = timedelta(days=(i * 37) % 3653)  # spread over ten years, different weekdays
            doc_id = db.execute("INSERT INTO documents (title, doc_number, year, current_version, created_at)"
                                " VALUES (?,?,?,1,?)", [f"{plan.title}（第{i + 1}份）", None, plan.year, now]).lastrowid
            db.execute("INSERT INTO versions (document_id, version, source_name, sha256, ingested_at) VALUES"
                       " (?,?,?,?,?)", [doc_id, 1, f"synthetic-{i}.txt", sha256_of(data + str(i).encode()), now])
            for t in plan.tasks:
                moved = [dataclasses.replace(m, due=m.due + shift) for m in t.milestones]
                _insert_task(db, doc_id, 1, dataclasses.replace(t, milestones=moved))
    n = db.execute("SELECT count(*) FROM milestones").fetchone()[0]
    db.execute("ANALYZE")
    db.conn.commit()
    db.conn.close()
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--today", default="2026-06-01")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", help="keep the generated store here (reused if it exists)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)

    from bot.workdays import WorkCalendar
    from knowledge.db import open_db
    from knowledge.sweep import Policy, sweep

    tmp = None
    if args.db:
        path = Path(args.db)
    else:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.db"
    if not path.exists():
        start = time.perf_counter()
        n = build_store(path, args.docs)
        print(f"store: {args.docs} documents, {n:,} milestones, built in {time.perf_counter() - start:.1f} s ({path})")
    db = open_db(path)
    n = db.execute("SELECT count(*) FROM milestones").fetchone()[0]
    tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    assignments = db.execute("SELECT count(*) FROM assignments").fetchone()[0]
    today = date.fromisoformat(args.today)
    days = WorkCalendar().covered_days(today)
    if not days:
        print(f"{today} is not a working day: nothing is swept")
        return 1
    policy = Policy()
    horizon = (max(days) + timedelta(days=max(policy.lead_days))).isoformat()

    window_sql = "SELECT id, task_id, due, text FROM milestones WHERE due BETWEEN ? AND ?"
    plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + window_sql, [today.isoformat(), horizon]))
    base_s, base_rows = timed(lambda: db.execute(window_sql, [today.isoformat(), horizon]).fetchall(), args.runs)
    scan_s, scan_rows = timed(lambda: db.execute(window_sql, ["0000-01-01", horizon]).fetchall(), args.runs)
    sweep_s, reminders = timed(lambda: sweep(db, days, policy), args.runs)

    print(f"store: {n:,} milestones, {tasks:,} tasks, {assignments:,} assignments; today {today},"
          f" covered {days[0]}..{days[-1]} ({len(days)} day(s))")
    print(f"(a)  indexed window query  due {today}..{horizon}: {base_s * 1000:8.1f} ms"
          f"  ({len(base_rows):,} rows; plan: {plan})")
    print(f"(a') same query, due <= {horizon} (rows the sweep reads): {scan_s * 1000:8.1f} ms  ({len(scan_rows):,} rows)")
    print(f"(b)  full sweep:                                     {sweep_s * 1000:8.1f} ms  ({len(reminders):,} reminders)")
    print(f"ratio (b)/(a) = {sweep_s / base_s:.1f}x, (b)/(a') = {sweep_s / scan_s:.1f}x;"
          f" sweep {'OK' if sweep_s <= TARGET_S else 'OVER TARGET'} (target <= {TARGET_S:g} s)")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        sweep(db, days, policy)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
    db.conn.close()
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
