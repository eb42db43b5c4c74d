"""At-least-once answers: a real `duban serve` killed with SIGKILL under load and started again.

Every message DingTalk got its 200 for is answered without a redelivery (on start, from the kept
payload); after DingTalk's redelivery of everything, every message is answered at least once."""
from __future__ import annotations

import asyncio
import base64
import hmac
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from test_ops_support import free_port, start_serve, stop

from knowledge.deliveries import log_path

SECRET = "crash-test-app-secret"
MESSAGES = 400


def sign(ts: int) -> str:
    digest = hmac.digest(SECRET.encode(), f"{ts}\n{SECRET}".encode(), "sha256")
    return base64.b64encode(digest).decode()


class SlowSessionWebhook:
    """DingTalk's sessionWebhook, one URL per message, answering after a delay (replies are in flight
    when the server dies)."""

    def __init__(self, delay: float):
        self.delay = delay
        self.answered: dict[str, int] = {}
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.started.wait(10)

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        msg = request.match_info["msg"]
        self.answered[msg] = self.answered.get(msg, 0) + 1  # received: the official has the answer
        await asyncio.sleep(self.delay)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/hook/{msg}", self.handle)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.started.set()
        self.loop.run_forever()


def body(msg_id: str, hook_port: int, created: int) -> dict:
    return {"msgId": msg_id, "msgtype": "text", "text": {"content": "帮助"}, "senderStaffId": "u-crash",
            "senderNick": "测试", "conversationType": "1", "conversationId": "cid-crash", "createAt": created,
            "sessionWebhook": f"http://127.0.0.1:{hook_port}/hook/{msg_id}",
            "sessionWebhookExpiredTime": created + 3_600_000, "robotCode": "robot"}


async def deliver(url: str, ids: list[str], hook_port: int, base_ts: int, concurrency: int = 20,
                  kill_after: tuple[int, subprocess.Popen] | None = None) -> set[str]:
    """POST each message once (signed); the ids DingTalk got HTTP 200 for."""
    acked: set[str] = set()
    sent = 0
    queue = list(enumerate(ids))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while queue:
            i, msg_id = queue.pop(0)
            ts = base_ts + i  # DingTalk signs each delivery: one timestamp, one message
            sent += 1
            if kill_after and sent == kill_after[0]:
                os.kill(kill_after[1].pid, signal.SIGKILL)
            try:
                async with session.post(url, json=body(msg_id, hook_port, ts),
                                        headers={"timestamp": str(ts), "sign": sign(ts)}) as r:
                    await r.read()
                    if r.status == 200:
                        acked.add(msg_id)
            except aiohttp.ClientError:
                pass

    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(*(worker(s) for _ in range(concurrency)))
    return acked


def unanswered_in(db: Path) -> int:
    conn = sqlite3.connect(log_path(db))
    try:
        return conn.execute("SELECT count(*) FROM deliveries WHERE answered_at IS NULL").fetchone()[0]
    finally:
        conn.close()


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_server_killed_under_load_loses_no_answer(tmp_path: Path):
    hook = SlowSessionWebhook(delay=0.3)
    config = tmp_path / "duban.toml"
    config.write_text(f'[dingtalk]\napp_secret = "{SECRET}"\nsession_hosts = ["127.0.0.1:{hook.port}"]\n'
                      '[reminders]\nenabled = false\n[server]\nreplay_window = 0\n', encoding="utf-8")
    db = tmp_path / "duban.db"
    ids = [f"msg-{i:04d}" for i in range(MESSAGES)]
    port = free_port()
    url = f"http://127.0.0.1:{port}/dingtalk"
    base_ts = int(time.time() * 1000)

    server = start_serve(tmp_path, port, db, config)
    try:
        acked = asyncio.run(deliver(url, ids, hook.port, base_ts, kill_after=(MESSAGES // 2, server)))
    finally:
        server.wait(10)
    assert server.returncode == -signal.SIGKILL
    assert 0 < len(acked) < MESSAGES
    open_at_kill = unanswered_in(db)
    assert open_at_kill, "the kill came when no message was being answered: nothing was tested"

    server = start_serve(tmp_path, port, db, config)
    try:
        # on start, every message DingTalk got its 200 for is answered from its kept payload
        assert wait_until(lambda: acked <= set(hook.answered), 20), sorted(acked - set(hook.answered))[:5]
        # DingTalk redelivers everything (new signatures): every message ends up answered
        again = asyncio.run(deliver(url, ids, hook.port, base_ts + MESSAGES))
        assert again == set(ids)
        assert wait_until(lambda: set(hook.answered) == set(ids), 20), sorted(set(ids) - set(hook.answered))[:5]
        time.sleep(1.0)
        twice = [m for m, n in hook.answered.items() if n > 1]
        assert len(twice) <= open_at_kill  # duplicates only of what was being answered at the kill
    finally:
        stop(server)
