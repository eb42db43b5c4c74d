"""Dashboard server time on a large store: the overview (三色预警 per unit), a filtered task list and a task page.

    python bench/bench_dashboard.py [--plans 1000] [--runs 15]

The store is the province store of bench_answer.py (bench/province_store.py: --plans varied plans, built through
the product's own writers and cached under /tmp), copied, with one 管理员 and a dashboard password. The real aiohttp app
(`create_app`, which mounts the dashboard) is served on 127.0.0.1 and asked over HTTP with a logged-in session.

Baseline in the same run: the overview's data alone (`bot.workbench.overview.overview` — the same queries and
counting, no template, no HTTP). Reported: medians of --runs requests, warm (the unit/task pairs of this store
generation kept, as between two page views) and cold (right after the store changed: the pairs are read again).
Target: the warm overview ≤ 300 ms server time (OK / OVER TARGET).
"""
from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_MS = 300.0
PASSWORD = "bench-password-1"


def prepare(plans: int) -> Path:
    from province_store import cached
    from bot.workbench.auth import hash_password
    from knowledge import people
    from knowledge import workbench_queries as wq
    from knowledge.db import open_db
    from parser import UnitDirectory

    source, how = cached(plans, UnitDirectory.load())
    print(f"store: {source} ({how})")
    path = Path(tempfile.mkdtemp(prefix="duban_bench_dash_")) / "duban.db"
    shutil.copy(source, path)
    db = open_db(path)
    people.replace_roster(db, [{"name": "督办", "unit": "市人民政府办公室", "role": "管理员"}])
    salt, digest, params = hash_password(PASSWORD)
    from bot import clock
    wq.set_account(db, "督办", salt, digest, params, clock.now())
    db.conn.close()
    return path


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def data_only(db, today, cold: bool) -> float:
    """One overview's data alone: the same queries and counting, no template, no HTTP."""
    from bot.workbench import overview as ov
    if cold:
        ov._PAIRS.clear()
    start = time.perf_counter()
    ov.overview(db, ov.Filters(), today)
    return time.perf_counter() - start


async def _get(client, url: str, cold: bool) -> float:
    from bot.workbench import overview as ov
    if cold:
        ov._PAIRS.clear()
    start = time.perf_counter()
    resp = await client.get(url)
    body = await resp.read()
    elapsed = time.perf_counter() - start
    assert resp.status == 200 and len(body) > 1000, (url, resp.status)
    return elapsed


async def pages(path: Path, runs: int) -> dict[str, float]:
    from aiohttp.test_utils import TestClient, TestServer

    from bench_answer import TODAY
    from bot.server import create_app, make_conversation
    from bot.settings import Settings

    settings = Settings(db=str(path), today=TODAY.isoformat(), reminders_enabled=False, load_example=False)
    conv = make_conversation(settings)
    client = TestClient(TestServer(create_app(settings, conv), host="127.0.0.1"))
    await client.start_server()
    try:
        login = await (await client.get("/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
        resp = await client.post("/login", data={"csrf": csrf, "name": "督办", "password": PASSWORD})
        assert resp.status == 200 and "三色预警" in await resp.text(), resp.status
        listed = await (await client.get("/tasks?unit=邵阳县&state=overdue")).text()
        task = re.search(r'href="(/task/\d+)"', listed).group(1)
        out = {}
        for cold in (False, True):  # the page and its data alone, alternately: the machine's drift hits both
            word = "cold" if cold else "warm"
            pairs = [(await _get(client, "/", cold), data_only(conv.db, TODAY, cold))
                     for _ in range(runs if not cold else max(3, runs // 3))]
            out[f"overview, {word}"] = median_ms([p[0] for p in pairs])
            out[f"data only, {word}"] = median_ms([p[1] for p in pairs])
        for name, url in (("task list (邵阳县, 逾期)", "/tasks?unit=邵阳县&state=overdue"), ("task page", task),
                          ("timeline (1 document)", "/timeline?doc=1")):
            out[name] = median_ms([await _get(client, url, False) for _ in range(runs)])
        return out
    finally:
        await client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plans", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    path = prepare(args.plans)
    from knowledge.db import open_db
    db = open_db(path)
    tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    ms = db.execute("SELECT count(*) FROM milestones").fetchone()[0]
    db.conn.close()
    print(f"{tasks:,} tasks, {ms:,} milestones; medians of {args.runs} requests over HTTP on 127.0.0.1")
    got = asyncio.run(pages(path, args.runs))
    width = max(map(len, got))
    for name, value in got.items():
        print(f"  {name:<{width}}  {value:8.1f} ms")
    warm, base = got["overview, warm"], got["data only, warm"]
    print(f"overview / its data alone: {warm / base:.2f}× (rendering and HTTP add {warm - base:.1f} ms)")
    print(f"target: overview ≤ {TARGET_MS:.0f} ms → {warm:.1f} ms {'OK' if warm <= TARGET_MS else 'OVER TARGET'}")
    shutil.rmtree(path.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
