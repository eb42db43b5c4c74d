"""Webhook latency while the watched inbox ingests a 20 MB file, against the same server without it.

    python bench/bench_ingest_stall.py [--mb 20] [--workers 16] [--baseline-seconds 10] [--accept]

Includes: a real `duban serve` process (python -m bot.cli) on 127.0.0.1 on a fresh store (the bundled
example plan, so the big file is a new document), DingTalk enabled (reply in the HTTP response, no outbound host allowed), reminders off, access log at
its default; each request is a signed DingTalk text message ("帮助", a fresh msgId and signed timestamp),
so every request pays the whole path: signature, delivery record (writer thread), payload kept, answer,
response written, answered mark. The ingest phase starts when the file is dropped into the inbox and ends
when the inbox has moved it to done/ or failed/ (parse and store in the inbox's worker process).
The file: the seed plan's measures section repeated to --mb megabytes (the issue's 20 MB file: about
10,000 tasks), with its own title. By default the task limit (5,000) refuses it after parsing, as it would
on a real server; --accept raises DUBAN_MAX_TASKS and DUBAN_MAX_PARAGRAPHS so it is parsed whole and stored (one transaction: the webhooks then
also wait for its write lock, which the report shows).
Excludes: network latency (loopback), TLS, platform retries, the client's own cost beyond its timing.
The client and the server share the machine's cores (2 here), so both phases include CPU contention.
Target: p99 during the ingest within 3x of p99 without it, and 0 errors (OK / OVER TARGET).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEED_TXT = ROOT.parent / "shared" / "seed" / "shaoyang_rectification_plan.txt"
SECRET = "bench-stall-secret"
TARGET = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def big_plan(path: Path, mb: int) -> int:
    text = SEED_TXT.read_text(encoding="utf-8")
    section = text[text.index("四、整改措施"):]
    copies = max(1, (mb * 1024 * 1024 - len(text.encode())) // len(section.encode()) + 1)
    body = "邵阳市大型压力测试整改方案\n" + text + section * copies
    path.write_text(body, encoding="utf-8")
    return path.stat().st_size


def sign(ts: int) -> str:
    return base64.b64encode(hmac.digest(SECRET.encode(), f"{ts}\n{SECRET}".encode(), "sha256")).decode()


class Load:
    def __init__(self, url: str):
        self.url = url
        self.seq = 0
        self.base = int(time.time() * 1000)

    def next_request(self) -> tuple[dict, dict]:
        self.seq += 1
        ts = self.base + self.seq
        body = {"msgId": f"bench-{self.seq}", "msgtype": "text", "text": {"content": "帮助"},
                "senderStaffId": "bench-user", "conversationType": "1", "conversationId": "bench", "createAt": ts}
        return body, {"timestamp": str(ts), "sign": sign(ts)}

    async def run(self, workers: int, until) -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0

        async def worker(session: aiohttp.ClientSession) -> None:
            nonlocal errors
            while not until():
                body, headers = self.next_request()
                start = time.perf_counter()
                try:
                    async with session.post(self.url, json=body, headers=headers) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
                latencies.append(time.perf_counter() - start)

        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=workers)) as s:
            await asyncio.gather(*(worker(s) for _ in range(workers)))
        return latencies, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def start_server(work: Path, port: int, accept: bool) -> subprocess.Popen:
    (work / "inbox").mkdir()
    config = work / "duban.toml"
    config.write_text(f'[dingtalk]\napp_secret = "{SECRET}"\nsession_hosts = []\nreply_in_response = true\n'
                      f'[reminders]\nenabled = false\n[server]\nreplay_window = 0\n'
                      f'[store]\ninbox = "{work / "inbox"}"\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if accept:
        env.update(DUBAN_MAX_TASKS="1000000", DUBAN_MAX_PARAGRAPHS="10000000")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--db", str(work / "duban.db"), "serve", "--port",
                             str(port), "--config", str(config)], stdout=open(work / "serve.log", "w"),
                            stderr=subprocess.STDOUT, env=env)
    import urllib.request
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("duban serve did not start: " + (work / "serve.log").read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--baseline-seconds", type=float, default=10.0)
    ap.add_argument("--max-seconds", type=float, default=300.0, help="the ingest phase ends by then at the latest")
    ap.add_argument("--accept", action="store_true", help="raise the task limit so the file is stored too")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="duban-stall-"))
    port = free_port()
    server = start_server(work, port, args.accept)
    try:
        big = work / "big.txt"
        size = big_plan(big, args.mb)
        load = Load(f"http://127.0.0.1:{port}/dingtalk")
        asyncio.run(load.run(args.workers, lambda t=time.monotonic() + 2: time.monotonic() > t))  # warm-up
        end = time.monotonic() + args.baseline_seconds
        base, base_err = asyncio.run(load.run(args.workers, lambda: time.monotonic() > end))
        inbox = work / "inbox"
        shutil.copy(big, inbox / ".big.txt.part")
        os.replace(inbox / ".big.txt.part", inbox / "big.txt")  # dropped whole, as a careful copy does
        started = time.monotonic()
        deadline = started + args.max_seconds
        during, during_err = asyncio.run(load.run(
            args.workers, lambda: not (inbox / "big.txt").exists() or time.monotonic() > deadline))
        took = time.monotonic() - started
        outcome = "done" if list((inbox / "done").glob("*big.txt")) else \
            "failed: " + "".join(p.read_text() for p in (inbox / "failed").glob("*.error.txt")).strip()
    finally:
        server.terminate()
        server.wait(30)
    print(f"file: {size / 1024 / 1024:.1f} MB; inbox result after {took:.1f} s: {outcome}")
    print(f"{'phase':<18}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, lat, err in (("without ingest", base, base_err), ("during ingest", during, during_err)):
        print(f"{name:<18}{len(lat):>10}{err:>8}{pct(lat, .5):>10.1f}{pct(lat, .99):>10.1f}{max(lat) * 1000:>10.1f}")
    ratio = pct(during, .99) / pct(base, .99)
    ok = ratio <= TARGET and base_err == during_err == 0
    print(f"p99 ratio during/without: {ratio:.2f} (target <= {TARGET}, 0 errors): {'OK' if ok else 'OVER TARGET'}")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept for inspection: {work} (serve.log, inbox/failed/)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
