"""Webhook throughput and server CPU: the DingTalk endpoint, answer cache off and on, against a bare aiohttp handler.

    python bench/bench_webhook.py [--seconds 3] [--rounds 6] [--workers 16] [--senders 24] [--plans 1000] [--floor] [--profile [off|on] [--profile-out PATH]]

Three servers, each in its own process on 127.0.0.1 (free port, access log off):
(a) bare: an aiohttp app with one POST handler that reads the body and returns 200 "ok";
(b) duban, cache off: bot.server.create_app on a temporary copy of the province store (bench/province_store.py:
    >= 1,000 varied plans), its Conversation with cache_answers=False, so every message is answered from the store;
(c) duban, cache on: the same, answers kept while the store's generation stays (as `duban serve` runs).
duban: DingTalk enabled with the vector's app secret (shared/vectors/dingtalk_inbound.json), replay_window=0,
reminders off, dingtalk_reply_in_response=True (the answer goes in the HTTP response; the session-host allowlist
is emptied so nothing could ever be POSTed outward: a reply too long for one response is attempted there and
refused, as its cost is real), platform clock fixed to the vector's receiver time, "today" fixed to the vector's date.
The load: --senders DingTalk users (each bound to a unit), each request the next of bench_answer.QUESTIONS (every
advertised kind, 47 questions) from the next sender, so consecutive requests differ and a (question, sender) pair
comes back only after questions x senders requests; each request has a fresh msgId (duban de-duplicates on it) and
its own signed timestamp (duban refuses one reused for another message). The same client (aiohttp, --workers
keep-alive workers) drives all three, alternating (a, b, c, a, b, c …) for --seconds each after a warm-up.
Included for duban: signature check, JSON, the replay/de-duplication record (committed on the writer thread), the
answer, the response. Server CPU per request is read from /proc/<pid>/stat (user + system time of the server
process, all its threads) around each round, so a client-bound run cannot hide the server's cost.
This machine's speed drifts by tens of percent within a minute, so each duban round is compared with the bare
round just before it and the verdicts use the median of those per-pair ratios.
Targets: cache off >= 50% of bare req/s; cache on >= 70%. --floor adds (d), a handler doing only the signature,
the JSON, one committed record per turn of the loop and an encoded reply: what durability alone costs. --profile adds one more round (cache off, or on with --profile on) under cProfile.
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
TARGETS = {"off": 0.50, "on": 0.70}  # duban / bare req/s, answer cache off and on
sys.path.insert(0, str(ROOT / "bench"))


def load_vector(index: int = 0) -> tuple[str, dict, str, dict]:
    """(app_secret, headers, raw body, vector) of one recorded inbound request."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    vec = data["requests"][index]
    return data["app_secret"], dict(vec["request"]["headers"]), vec["request"]["body_raw_utf8"], vec


def province_copy(directory: Path, plans: int, senders: list[str]) -> Path:
    """A copy of the province store with each sender bound to a unit."""
    from bench_answer import UNITS
    from knowledge import people
    from knowledge.db import open_db
    from parser import UnitDirectory
    import province_store

    source, _ = province_store.cached(plans, UnitDirectory.load())
    path = directory / "province.db"
    shutil.copyfile(source, path)
    db = open_db(path)
    units = UNITS + [r[0] for r in db.execute("SELECT unit FROM unit_totals WHERE unit != ''"
                                              " ORDER BY total DESC LIMIT ?", [len(senders)])]
    for i, user in enumerate(senders):
        people.bind(db, "dingtalk", "user", user, units[i % len(units)], "bench", datetime.now(timezone.utc))
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


def _floor_app(db: str, secret: str, clock_ms: int):
    """--floor: the least a durable webhook does (the signature, the JSON, one committed record per turn of the
    loop in a WAL file, a reply already encoded), to show what is left above that for the answer and the rest."""
    import sqlite3

    import orjson
    from aiohttp import web

    from bot.platforms.dingtalk.sign import verify_headers

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, msg_id TEXT, timestamp TEXT, sign TEXT)")
    conn.execute("CREATE INDEX log_msg_id ON log(msg_id)")
    pending: list = []
    reply = orjson.dumps({"msgtype": "markdown", "markdown": {"title": "督办", "text": "第十三项 " * 60}})

    def flush():
        batch = pending[:]
        pending.clear()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO log (msg_id, timestamp, sign) VALUES (?,?,?)", [b[:3] for b in batch])
        conn.execute("COMMIT")
        for *_, future in batch:
            future.set_result(None)

    async def handle(request: web.Request) -> web.Response:
        ts, sign = request.headers.get("timestamp"), request.headers.get("sign")
        verify_headers(ts, sign, secret, clock_ms, 3600)
        body = orjson.loads(await request.read())
        future = asyncio.get_running_loop().create_future()
        if not pending:
            asyncio.get_running_loop().call_soon(flush)
        pending.append((body["msgId"], ts, sign, future))
        await future
        return web.Response(body=reply, content_type="application/json")

    app = web.Application()
    app.router.add_post("/dingtalk", handle)
    return app


def _duban_app(db: str, secret: str, clock_ms: int, today: str, cache: bool):
    from bot.server import create_app, make_conversation
    from bot.settings import Settings

    settings = Settings(db=db, dingtalk_app_secret=secret, replay_window=0, reminders_enabled=False,
                        dingtalk_reply_in_response=True, dingtalk_session_hosts=[], load_example=False,
                        today=today)
    conv = make_conversation(settings)
    conv.cache_answers = cache
    return create_app(settings, conv, platform_clock=lambda: clock_ms / 1000)


def serve(kind: str, args: tuple, ready, stop, profile_on, profile_path: str | None) -> None:
    """Child process: serve until `stop` is set; with profile_path, cProfile while `profile_on` is set."""
    import cProfile
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.ERROR)

    async def main():
        if kind != "bare":
            from bot.intent import preload
            preload()  # as `duban serve` does at start-up
        app = _bare_app() if kind == "bare" else _floor_app(*args) if kind == "floor" else _duban_app(*args)
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

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads), from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.profile_on.set()
        self.stop.set()
        self.proc.join(timeout=30)
        if self.proc.is_alive():  # our own child, by its handle
            self.proc.terminate()
            self.proc.join()


# ---- the load generator ------------------------------------------------------------------------

class Load:
    """Signed DingTalk requests with unique msgIds: the next question from the next sender each time."""

    def __init__(self, headers: dict, body: dict, workers: int, secret: str, questions: list[str],
                 senders: list[str]):
        self.headers = headers
        self.body_json = body
        self.workers = workers
        self.serial = 0
        self.secret = secret
        self.base_ts = int(headers["timestamp"])
        self.questions, self.senders = questions, senders

    def body(self) -> bytes:
        self.serial += 1
        n = self.serial
        question = self.questions[(n // len(self.senders) + n) % len(self.questions)]
        return json.dumps({**self.body_json, "msgId": f"bench-{os.getpid()}-{n}",
                           "senderStaffId": self.senders[n % len(self.senders)], "text": {"content": " " + question}},
                          ensure_ascii=False).encode()

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


NAMES = {"bare": "(a) bare aiohttp handler, 200 \"ok\"", "off": "(b) duban, answer cache off",
         "on": "(c) duban, answer cache on", "floor": "(d) floor: signature, JSON, record"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per timed round")
    ap.add_argument("--rounds", type=int, default=6, help="rounds per server (alternating)")
    ap.add_argument("--workers", type=int, default=16, help="concurrent keep-alive client workers")
    ap.add_argument("--senders", type=int, default=24, help="DingTalk senders, each bound to a unit")
    ap.add_argument("--plans", type=int, default=1000, help="plans in the province store")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before timing, per server")
    ap.add_argument("--profile", nargs="?", const="off", choices=("off", "on"),
                    help="one extra round under cProfile, answer cache off (default) or on")
    ap.add_argument("--floor", action="store_true",
                    help="a fourth server: the least a durable webhook does (see _floor_app), for comparison")
    ap.add_argument("--profile-out", metavar="PATH", help="with --profile, also keep the raw cProfile data there")
    args = ap.parse_args()
    for path in (SEED_TXT, VECTORS):
        if not path.exists():
            print(f"missing {path}", file=sys.stderr)
            return 2
    from bench_answer import QUESTIONS

    questions = [q for _, q in QUESTIONS]
    senders = [f"bench-sender-{i:02d}" for i in range(args.senders)]
    secret, headers, _, vec = load_vector(0)
    body = vec["request"]["body_json"]
    clock_ms = int(vec["expected"]["signature_valid_at_receiver_now_ms"])
    today = datetime.fromtimestamp(clock_ms / 1000, timezone.utc).astimezone().date().isoformat()
    tmp = Path(tempfile.mkdtemp(prefix="duban_bench_webhook_"))
    prof_path = str(tmp / "duban.prof") if args.profile else None
    servers: dict[str, Server] = {}
    try:
        db = province_copy(tmp, args.plans, senders)
        servers["bare"] = Server("bare")
        for mode in ("off", "on"):
            copy = tmp / f"{mode}.db"
            shutil.copyfile(db, copy)
            servers[mode] = Server("duban", (str(copy), secret, clock_ms, today, mode == "on"),
                                   profile_path=prof_path if mode == args.profile else None)
        if args.floor:
            servers["floor"] = Server("floor", (str(tmp / "floor.db"), secret, clock_ms))
        load = Load(headers, body, args.workers, secret, questions, senders)

        async def drive():
            for name in servers:
                await load.run(servers[name].url, args.warmup)
            results = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name, server in servers.items():
                    cpu = server.cpu_seconds()
                    row = await load.run(server.url, args.seconds)
                    results[name].append((*row, server.cpu_seconds() - cpu))
            if args.profile:
                servers[args.profile].profile_on.set()
                await load.run(servers[args.profile].url, args.seconds)
            return results

        results = asyncio.run(drive())
    finally:
        for s in servers.values():
            s.close()
    report(results, args, today)
    if prof_path and Path(prof_path).exists():
        print_profile(prof_path)
        if args.profile_out:
            shutil.copyfile(prof_path, args.profile_out)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(results: dict, args, today: str) -> None:
    def rate(rows):
        return sum(r[0] for r in rows) / sum(r[3] for r in rows)

    def cpu_us(rows):
        return sum(r[4] for r in rows) / sum(r[0] for r in rows) * 1e6

    from bench_answer import QUESTIONS

    print(f"webhook throughput, POST /dingtalk on 127.0.0.1, {args.workers} keep-alive workers,"
          f" {args.rounds} x {args.seconds:.0f} s per server (alternating)")
    print(f"  {len(QUESTIONS)} questions (every advertised kind) from {args.senders} senders, each bound to a unit,"
          f" on the province store ({args.plans} plans), today {today}; {os.cpu_count()} cores shared by the client"
          f" and the server processes")
    print(f"  {'server':<36} {'req/s':>7} {'CPU us/req':>10}  non-200  answered  each round (req/s)")
    for name, rows in results.items():
        per = ", ".join(f"{r[0] / r[3]:.0f}" for r in rows)
        print(f"  {NAMES[name]:<36} {rate(rows):>7.0f} {cpu_us(rows):>10.0f}  {sum(r[1] for r in rows):>7}"
              f"  {sum(r[2] for r in rows) if name != 'bare' else '-':>8}  {per}")
    for mode in [m for m in ("off", "on", "floor") if m in results]:
        pairs = sorted((d[0] / d[3]) / (b[0] / b[3]) for b, d in zip(results["bare"], results[mode]))
        ratio, target = statistics.median(pairs), TARGETS.get(mode)
        verdict = (f"(target >= {target:.0%}) {'OK' if ratio >= target else 'UNDER TARGET'}" if target
                   else "(for comparison, no target)")
        label = f"cache {mode}" if target else mode
        print(f"  {label:<9}: / bare per pair of rounds {', '.join(f'{r:.0%}' for r in pairs)}; median {ratio:.0%}"
              f" {verdict}; server CPU {cpu_us(results[mode]):.0f} us/request vs bare"
              f" {cpu_us(results['bare']):.0f} ({cpu_us(results[mode]) / cpu_us(results['bare']):.1f}x)")


if __name__ == "__main__":
    sys.exit(main())
