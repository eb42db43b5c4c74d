"""Webhook throughput: requests/s of the real DingTalk endpoint against a bare aiohttp handler.

    python bench/bench_webhook.py [--seconds 3] [--rounds 6] [--workers 16] [--profile]

Two servers, each in its own process on 127.0.0.1 (free port, access log off):
(a) bare: an aiohttp app with one POST handler that returns 200 "ok";
(b) duban: bot.server.create_app on a temporary copy of the seed-ingested store, DingTalk enabled with
    the vector's app secret (shared/vectors/dingtalk_inbound.json), replay_window=0, reminders off,
    dingtalk_reply_in_response=True (the answer goes in the HTTP response; the session-host allowlist is
    emptied so nothing could ever be POSTed outward), platform clock fixed to the vector's receiver time,
    "today" fixed to the vector's date, the vector's sender bound to 市生态环境局.
The same client drives both: an aiohttp ClientSession, --workers concurrent keep-alive workers, each
POSTing the vector's request, each with a fresh msgId (duban de-duplicates on msgId) and its own
signed timestamp (duban refuses a signed timestamp reused for another message). Servers alternate (a, b, a, b …) for --seconds
each after a warm-up. This machine's speed drifts by tens of percent within a minute, so each duban
round is compared with the bare round just before it and the verdict uses the median of those
per-pair ratios (the ratio of the totals is printed too). Target: duban >= 70% of bare.
Client and server share the machine's cores, so both numbers are client-bound to some degree.
--profile adds one more duban round under cProfile (in the server process) and prints its hot spots.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
SEED_TXT = SHARED / "seed" / "shaoyang_rectification_plan.txt"
VECTORS = SHARED / "vectors" / "dingtalk_inbound.json"
TARGET_RATIO = 0.70
BOUND_UNIT = "市生态环境局"


def load_vector(index: int = 0) -> tuple[str, dict, str, dict]:
    """(app_secret, headers, raw body, vector) of one recorded inbound request."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    vec = data["requests"][index]
    return data["app_secret"], dict(vec["request"]["headers"]), vec["request"]["body_raw_utf8"], vec


def seed_store(directory: Path, user_id: str) -> Path:
    """The seed plan ingested into a fresh store, the vector's sender bound to BOUND_UNIT."""
    from knowledge import people
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document
    from parser import UnitDirectory

    units = UnitDirectory.load()
    data = SEED_TXT.read_bytes()
    path = directory / "seed.db"
    db = open_db(path)
    ingest_plan(db, parse_document(data, SEED_TXT.name, directory=units), sha256_of(data), directory=units)
    people.bind(db, "dingtalk", "user", user_id, BOUND_UNIT, "bench", datetime.now(timezone.utc))
    db.conn.close()
    return path


# ---- servers (child processes) -----------------------------------------------------------------

def _bare_app():
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/dingtalk", ok)
    return app


def _duban_app(db: str, secret: str, clock_ms: int, today: str):
    from bot.server import create_app
    from bot.settings import Settings

    settings = Settings(db=db, dingtalk_app_secret=secret, replay_window=0, reminders_enabled=False,
                        dingtalk_reply_in_response=True, dingtalk_session_hosts=[], load_example=False,
                        today=today)
    return create_app(settings, platform_clock=lambda: clock_ms / 1000)


def serve(kind: str, args: tuple, ready, stop, profile_on, profile_path: str | None) -> None:
    """Child process: serve until `stop` is set; with profile_path, cProfile while `profile_on` is set."""
    import cProfile
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.ERROR)

    async def main():
        app = _bare_app() if kind == "bare" else _duban_app(*args)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        ready.put(sock.getsockname()[1])
        loop = asyncio.get_running_loop()
        prof = cProfile.Profile() if profile_path else None
        if prof:
            await loop.run_in_executor(None, profile_on.wait)
            prof.enable()
        await loop.run_in_executor(None, stop.wait)
        if prof:
            prof.disable()
            prof.dump_stats(profile_path)
        await runner.cleanup()

    asyncio.run(main())


class Server:
    def __init__(self, kind: str, args: tuple = (), profile_path: str | None = None):
        ctx = mp.get_context("spawn")
        self.ready, self.stop, self.profile_on = ctx.Queue(), ctx.Event(), ctx.Event()
        self.proc = ctx.Process(target=serve, args=(kind, args, self.ready, self.stop, self.profile_on, profile_path),
                                daemon=True)
        self.proc.start()
        self.port = self.ready.get(timeout=60)
        self.url = f"http://127.0.0.1:{self.port}/dingtalk"

    def close(self) -> None:
        self.profile_on.set()
        self.stop.set()
        self.proc.join(timeout=30)
        if self.proc.is_alive():  # our own child, by its handle
            self.proc.terminate()
            self.proc.join()


# ---- the load generator ------------------------------------------------------------------------

class Load:
    """Signed DingTalk requests with unique msgIds, sent by `workers` keep-alive workers."""

    def __init__(self, headers: dict, raw: str, msg_id: str, workers: int, secret: str):
        self.headers = headers
        self.head, self.tail = raw.split(msg_id, 1)
        self.workers = workers
        self.serial = 0
        self.secret = secret
        self.base_ts = int(headers["timestamp"])

    def body(self) -> bytes:
        self.serial += 1
        return f"{self.head}bench-{os.getpid()}-{self.serial}{self.tail}".encode()

    def signed_headers(self) -> dict:
        """Each message signed with its own timestamp, as DingTalk does (duban refuses a signed
        timestamp reused for another message)."""
        from bot.platforms.dingtalk.sign import sign
        ts = self.base_ts + self.serial
        return {**self.headers, "timestamp": str(ts), "sign": sign(self.secret, ts)}

    async def run(self, url: str, seconds: float) -> tuple[int, int, int, float]:
        """(requests, non-200 responses, responses carrying a markdown answer, elapsed seconds)."""
        import aiohttp

        counts = [0, 0, 0]

        async def worker(session, deadline):
            while time.perf_counter() < deadline:
                body = self.body()
                async with session.post(url, data=body, headers=self.signed_headers()) as resp:
                    text = await resp.read()
                counts[0] += 1
                if resp.status != 200:
                    counts[1] += 1
                elif b'"markdown"' in text:
                    counts[2] += 1

        connector = aiohttp.TCPConnector(limit=self.workers, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            start = time.perf_counter()
            deadline = start + seconds
            await asyncio.gather(*(worker(session, deadline) for _ in range(self.workers)))
            elapsed = time.perf_counter() - start
        return counts[0], counts[1], counts[2], elapsed


STAGES = [  # (label, file suffix, function) — cumulative times in the server process
    ("  signature check (verify_headers)", "platforms/dingtalk/sign.py", "verify_headers"),
    ("  JSON parse (_parse_json)", "platforms/dingtalk/robot.py", "_parse_json"),
    ("  delivery record (DeliveryLog.record)", "knowledge/deliveries.py", "record"),
    ("  answer (Conversation.handle)", "bot/conversation.py", "handle"),
    ("    asker unit + generation (asker_and_stamp)", "bot/conversation.py", "asker_and_stamp"),
    ("    unit names (UnitDirectory.all_names)", "parser/unit_directory.py", "all_names"),
    ("    unit names (known_unit_names)", "knowledge/directory.py", "known_unit_names"),
    ("    parse_question", "bot/intent.py", "parse_question"),
    ("    queries.due_lines (overdue + window)", "knowledge/queries.py", "due_lines"),
    ("    render_due", "bot/render.py", "render_due"),
]


def print_profile(path: str, top: int = 22) -> None:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    calls = {}
    for (file, _, fn), (_, ncalls, _, cum, _) in stats.stats.items():
        calls[(file, fn)] = (ncalls, cum)
    total = stats.total_tt
    handled = next((n for (f, fn), (n, _) in calls.items() if f.endswith("bot/conversation.py")
                    and fn == "handle"), 0) or 1
    print(f"duban server under cProfile (one more round): {total:.2f} s in the event loop, {handled} requests,"
          f" {total / handled * 1e6:.0f} us/request")
    top_level = 0.0
    for label, suffix, fn in STAGES:
        hit = [cum for (f, name), (_, cum) in calls.items() if f.endswith(suffix) and name == fn]
        if hit:
            top_level += hit[0] if not label.startswith("    ") else 0
            print(f"  {label:<48} {hit[0] / handled * 1e6:>8.0f} us/request  {hit[0] / total:>5.0%}")
    rest = total - top_level
    print(f"  {'  the rest (aiohttp, sockets, event loop)':<48} {rest / handled * 1e6:>8.0f} us/request"
          f"  {rest / total:>5.0%}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per timed round")
    ap.add_argument("--rounds", type=int, default=6, help="rounds per server (alternating)")
    ap.add_argument("--workers", type=int, default=16, help="concurrent keep-alive client workers")
    ap.add_argument("--warmup", type=float, default=1.5, help="seconds of load before timing, per server")
    ap.add_argument("--profile", action="store_true", help="one extra duban round under cProfile")
    args = ap.parse_args()
    for path in (SEED_TXT, VECTORS):
        if not path.exists():
            print(f"missing {path}", file=sys.stderr)
            return 2

    secret, headers, raw, vec = load_vector(0)
    body = vec["request"]["body_json"]
    clock_ms = int(vec["expected"]["signature_valid_at_receiver_now_ms"])
    today = datetime.fromtimestamp(clock_ms / 1000, timezone.utc).astimezone().date().isoformat()
    tmp = Path(tempfile.mkdtemp(prefix="duban_bench_webhook_"))
    prof_path = str(tmp / "duban.prof") if args.profile else None
    servers = {}
    try:
        db = seed_store(tmp, body["senderStaffId"])
        servers["bare"] = Server("bare")
        servers["duban"] = Server("duban", (str(db), secret, clock_ms, today), profile_path=prof_path)
        load = Load(headers, raw, body["msgId"], args.workers, secret)

        async def drive():
            for name in ("bare", "duban"):
                await load.run(servers[name].url, args.warmup)  # jieba's first load happens here
            results = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name in ("bare", "duban"):
                    results[name].append(await load.run(servers[name].url, args.seconds))
            if args.profile:
                servers["duban"].profile_on.set()
                await load.run(servers["duban"].url, args.seconds)
            return results

        results = asyncio.run(drive())
    finally:
        for s in servers.values():
            s.close()

    def rate(rows):
        return sum(r[0] for r in rows) / sum(r[3] for r in rows)

    print(f"webhook throughput, POST /dingtalk on 127.0.0.1, {args.workers} keep-alive workers,"
          f" {args.rounds} x {args.seconds:.0f} s per server (alternating)")
    print(f"  question: {body['text']['content'].strip()!r} from {body['senderStaffId']} (bound to {BOUND_UNIT}),"
          f" today {today}; {os.cpu_count()} cores shared by the client and the server process")
    print(f"  {'server':<44} {'req/s':>8}  non-200  answered  each round (req/s)")
    for name, label in (("bare", "(a) bare aiohttp handler, 200 \"ok\""),
                        ("duban", "(b) duban create_app, signed DingTalk request")):
        rows = results[name]
        per = ", ".join(f"{r[0] / r[3]:.0f}" for r in rows)
        print(f"  {label:<44} {rate(rows):>8.0f}  {sum(r[1] for r in rows):>7}"
              f"  {sum(r[2] for r in rows) if name == 'duban' else '-':>8}  {per}")
    pairs = sorted((d[0] / d[3]) / (b[0] / b[3]) for b, d in zip(results["bare"], results["duban"]))
    ratio = statistics.median(pairs)
    verdict = "OK" if ratio >= TARGET_RATIO else "UNDER TARGET"
    print(f"  ratio duban / bare, per pair of rounds: {', '.join(f'{r:.0%}' for r in pairs)};"
          f" of the totals {rate(results['duban']) / rate(results['bare']):.0%}")
    print(f"  ratio duban / bare (median of the pairs): {ratio:.0%} (target >= {TARGET_RATIO:.0%}) {verdict}")
    if prof_path and Path(prof_path).exists():
        print_profile(prof_path)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
