"""The daily 09:00 reminder job over a large store, against the bare work it cannot avoid.

    python bench/bench_sweep.py [--docs 2000] [--today 2026-06-01] [--runs 5] [--db PATH] [--profile]

Store: --docs synthetic plans, the seed plan parsed once and stored --docs times through
knowledge.ingest's task writer (same schema, uids, assignments, bound units, recurring duties) with every
milestone date shifted by a per-document offset (0..~10 years), so due dates spread over 2021–2032 like
a city's accumulated plans (2000 documents = 114,000 milestones; on 2026-06-01 about half are overdue).
A roster names one official (mobile, DingTalk id) per unit; every unit and the 督办领导 fallback has a
signed DingTalk group robot whose webhook is a fake robot on 127.0.0.1, in its own process (it answers
errcode 0 to every well-formed push, as DingTalk does).

Included in the job's time (each run on a fresh copy of the store, opened in WAL mode as `duban serve`
keeps it — the copy, opening and the channel settings are not timed):
  bot.scheduler.sweep_if_due — plan_day (sweep, already-queued check, one digest per unit with its
  officials and body), enqueue_plan (the digests and every reminder key, one transaction) and the sweep
  record — then bot.sender.Sender.drain: every digest queued today is claimed, signed, POSTed to its
  robot and marked sent (what the server's sender does right after the 09:00 sweep).
Excluded: building the store, the wait for 09:00, process start-up.

Baseline, in the same run (medians of --runs): the work no implementation can skip — SQLite reading
the day's rows (each milestone due on a reminder date, with its task, in one indexed query) and
aiohttp POSTing the same number of request bodies, of the same sizes, to the same fake robot.
Prints both, the ratio job / baseline, and whether the job is within the 1 s target. Also (b): the
sweep alone, as the first version of this script measured it. --profile adds the top functions of one
job (cProfile).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import multiprocessing as mp
import pstats
import shutil
import statistics
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
SECRET = "SECbench0123456789abcdef0123456789abcdef0123456789abcdef0123456789"


def build_store(path: Path, docs: int) -> int:
    """Fill `path` with `docs` date-shifted copies of the seed plan and a roster; returns the milestone count."""
    from knowledge.db import open_db
    from knowledge.directory import sync_directory
    from knowledge.ingest import _insert_task, sha256_of
    from knowledge.people import replace_roster
    from parser import UnitDirectory, parse_document

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
    replace_roster(db, [{"name": f"联络员{i}", "mobile": f"139{i:08d}", "dingtalk_id": f"dt-{i}", "unit": unit,
                         "role": "联络员"} for i, unit in enumerate(units_of(db))])
    n = db.execute("SELECT count(*) FROM milestones").fetchone()[0]
    db.execute("ANALYZE")
    db.conn.commit()
    db.conn.close()
    return n


def units_of(db) -> list[str]:
    """Every unit a reminder can go to: named on a task, bound to a milestone, member of a collective."""
    return sorted({r[0] for r in db.execute("SELECT unit FROM assignments UNION SELECT unit FROM milestone_units"
                                            " UNION SELECT member FROM collective_members")} | {"督办领导"})


def fake_robot(port_queue) -> None:
    """A DingTalk group robot on 127.0.0.1: errcode 0 for a signed markdown push."""
    import json

    from aiohttp import web

    async def send(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        ok = request.query.get("sign") and request.query.get("access_token") and body.get("msgtype") == "markdown"
        return web.json_response({"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"})

    async def main() -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/robot/send", send)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


def set_channels(db, port: int) -> None:
    from knowledge import outbox

    for i, unit in enumerate(units_of(db)):
        outbox.set_channel(db, unit, "dingtalk_robot", {
            "webhook_url": f"http://127.0.0.1:{port}/robot/send?access_token=bench{i:04d}", "secret": SECRET})


def daily_job(db, today: date) -> tuple[int, dict]:
    """What the server does at 09:00: queue today's digests, then send them."""
    import aiohttp

    from bot.scheduler import sweep_if_due
    from bot.sender import Sender
    from bot.settings import Settings
    from bot.workdays import WorkCalendar

    now = datetime.combine(today, datetime.min.time(), TZ).replace(hour=9, minute=0, second=5)
    queued = sweep_if_due(db, Settings(db=":memory:", today=today.isoformat()), WorkCalendar(), now)

    async def send() -> dict:
        async with aiohttp.ClientSession() as session:
            return await Sender(db, session, now=lambda: now).drain()

    return queued, asyncio.run(send())


def fresh_copy(src: Path, work: Path, port: int):
    from knowledge.db import open_db, use_wal

    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(src, work)
    db = open_db(work)
    use_wal(db)
    set_channels(db, port)
    return db


def bare_work(db, days: list[date], bodies: list[bytes], port: int) -> tuple[float, float]:
    """(s reading the day's milestone rows, s POSTing the bodies): the work any implementation does."""
    import json

    import aiohttp

    dates = json.dumps(reminder_dates(db, days))
    sql = ("SELECT m.id, m.uid, m.due, m.text, t.id, t.section, t.number, t.title FROM json_each(?) c"
           " JOIN milestones m ON m.done = 0 AND m.due = c.value JOIN tasks t ON t.id = m.task_id")
    start = time.perf_counter()
    db.execute(sql, [dates]).fetchall()
    read_s = time.perf_counter() - start

    async def post() -> float:
        async with aiohttp.ClientSession() as session:
            start = time.perf_counter()
            for i, body in enumerate(bodies):
                async with session.post(f"http://127.0.0.1:{port}/robot/send?access_token=bare{i}&timestamp=1&sign=x",
                                        data=body, headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()
            return time.perf_counter() - start

    return read_s, asyncio.run(post())


def reminder_dates(db, days: list[date], lead=(30, 7, 1), every=7) -> list[str]:
    """The dates a milestone must be due on to be reminded of on one of `days` (the default policy)."""
    oldest = date.fromisoformat(db.execute("SELECT min(due) FROM milestones WHERE done = 0").fetchone()[0])
    ahead = [d + timedelta(days=n) for d in days for n in (0, *lead)]
    return sorted({x.isoformat() for x in ahead} | {(d - timedelta(days=k)).isoformat() for d in days
                                                      for k in range(every, (d - oldest).days + 1, every)})


def sent_bodies(db) -> list[bytes]:
    from bot.channels.base import OutMessage
    from bot.platforms.dingtalk.robot_channel import build_body

    return [build_body(OutMessage(title, body, [], [])) for title, body in
            db.execute("SELECT title, body FROM outbox WHERE status = 'sent' ORDER BY id")]


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

    tmp = tempfile.TemporaryDirectory()
    path = Path(args.db) if args.db else Path(tmp.name) / "bench.db"
    if not path.exists():
        start = time.perf_counter()
        n = build_store(path, args.docs)
        print(f"store: {args.docs} documents, {n:,} milestones, built in {time.perf_counter() - start:.1f} s ({path})")
    today = date.fromisoformat(args.today)
    days = WorkCalendar().covered_days(today)
    if not days:
        print(f"{today} is not a working day: nothing is swept")
        return 1
    queue = mp.get_context("spawn").Queue()
    robot = mp.get_context("spawn").Process(target=fake_robot, args=(queue,), daemon=True)
    robot.start()
    port = queue.get(timeout=60)
    work = Path(tmp.name) / "job.db"
    try:
        db = open_db(path)
        n, tasks, assignments = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                 for t in ("milestones", "tasks", "assignments"))
        sweep_s, reminders = timed(lambda: sweep(db, days, Policy()), args.runs)
        db.conn.close()
        job_times, read_times, post_times = [], [], []
        for _ in range(args.runs):
            db = fresh_copy(path, work, port)
            start = time.perf_counter()
            queued, counts = daily_job(db, today)
            job_times.append(time.perf_counter() - start)
            bodies = sent_bodies(db)
            read_s, post_s = bare_work(db, days, bodies, port)
            read_times.append(read_s)
            post_times.append(post_s)
            db.conn.close()
        job_s, read_s, post_s = (statistics.median(x) for x in (job_times, read_times, post_times))
        base_s = read_s + post_s
        print(f"store: {n:,} milestones, {tasks:,} tasks, {assignments:,} assignments; today {today},"
              f" covered {days[0]}..{days[-1]} ({len(days)} day(s)); {len(reminders):,} reminders")
        print(f"(a) baseline: the day's milestone rows {read_s * 1000:7.1f} ms + {len(bodies)} bare POSTs"
              f" ({sum(map(len, bodies)) // 1024:,} KiB) {post_s * 1000:7.1f} ms = {base_s * 1000:7.1f} ms")
        print(f"(b) sweep() alone:                                  {sweep_s * 1000:7.1f} ms")
        print(f"(c) the daily job: {queued} digests queued, sent {counts}:  {job_s * 1000:7.1f} ms"
              f"  (runs: {', '.join(f'{t * 1000:.0f}' for t in job_times)} ms)")
        print(f"ratio (c)/(a) = {job_s / base_s:.1f}x; daily job {'OK' if job_s <= TARGET_S else 'OVER TARGET'}"
              f" (target <= {TARGET_S:g} s)")
        if args.profile:
            db = fresh_copy(path, work, port)
            prof = cProfile.Profile()
            prof.enable()
            daily_job(db, today)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            db.conn.close()
    finally:
        robot.kill()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
