"""Memory of a serving process over many requests: duban's DingTalk endpoint against a bare aiohttp handler.

    python bench/bench_memory.py [--requests 100000] [--first 1000] [--workers 16]

Includes: two servers in their own processes on 127.0.0.1 (bench_webhook's: the bare handler, and bot.server.create_app
on a store holding the seed plan, answer cache on as `duban serve` runs, DingTalk enabled with the vector's secret,
replay window off, the answer in the HTTP response); the same signed requests to each, every one with a fresh msgId
(so the delivery log grows by one message each time: in its file beside the store, not in memory) from 24 senders asking the
bench_answer questions in turn. Resident memory (VmRSS from /proc) after --first requests and after --requests.
Excludes: the province store (memory per request does not depend on the store's size), outbound pushes.
Target: duban's memory after --requests within 20 MiB of after --first; the bare handler's growth is printed beside it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_webhook import SEED_TXT, Load, Server, load_vector  # noqa: E402

TARGET_MIB = 20.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def send(load: Load, url: str, count: int, workers: int) -> int:
    """Exactly `count` requests; returns how many were not answered 200."""
    import aiohttp

    left = [count]
    bad = [0]

    async def worker(session):
        while left[0] > 0:
            left[0] -= 1
            async with session.post(url, data=load.body(), headers=load.signed_headers()) as resp:
                await resp.read()
                bad[0] += resp.status != 200

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers)) as session:
        await asyncio.gather(*(worker(session) for _ in range(workers)))
    return bad[0]


def seed_store(folder: Path) -> str:
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document
    db_path = str(folder / "seed.db")
    db = open_db(db_path)
    data = SEED_TXT.read_bytes()
    ingest_plan(db, parse_document(data, SEED_TXT.name), sha256_of(data))
    db.conn.close()
    return db_path


def measure(kind: str, args: tuple, load: Load, first: int, total: int, workers: int) -> tuple[float, float, int]:
    server = Server(kind, args)
    try:
        bad = asyncio.run(send(load, server.url, first, workers))
        early = rss_mib(server.proc.pid)
        bad += asyncio.run(send(load, server.url, total - first, workers))
        late = rss_mib(server.proc.pid)
    finally:
        server.close()
    return early, late, bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--first", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    from bench_answer import QUESTIONS
    secret, headers, raw, vec = load_vector()
    body = json.loads(raw)
    clock_ms = int(headers["timestamp"])
    today = vec.get("today") or "2021-12-01"
    senders = [f"bench-user-{i}" for i in range(24)]
    with tempfile.TemporaryDirectory() as tmp:
        db = seed_store(Path(tmp))
        results = {}
        for kind, server_args in (("bare", ()), ("duban", (db, secret, clock_ms, today, True))):
            load = Load(headers, body, args.workers, secret, [q for _, q in QUESTIONS], senders)
            results[kind] = measure(kind, server_args, load, args.first, args.requests, args.workers)
    print(f"resident memory after {args.first:,} and after {args.requests:,} requests (MiB)")
    for kind, (early, late, bad) in results.items():
        print(f"  {kind:6s} {early:8.1f} {late:8.1f}  growth {late - early:6.1f}  non-200: {bad}")
    growth = results["duban"][1] - results["duban"][0]
    print(f"duban grows {growth:.1f} MiB over {args.requests - args.first:,} requests (target <= {TARGET_MIB:.0f} MiB): "
          f"{'OK' if growth <= TARGET_MIB else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
