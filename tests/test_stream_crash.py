"""At-least-once answers over DingTalk Stream: a real `duban serve` connected to the fake gateway on
127.0.0.1 is killed with SIGKILL in a burst of robot messages, while no answer has got through yet (the
sessionWebhook holds every reply). After the restart every message the gateway got an ACK for is answered
without a redelivery (from the payload kept before the ACK); after the gateway redelivers every frame,
every message is answered, each exactly once."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from pathlib import Path

from test_ops_support import free_port, start_serve, stop
from test_stream import CLIENT_ID, CLIENT_SECRET, FakeGateway, wait_for
from test_stream_at_least_once import HoldingGateway, message

from knowledge.deliveries import log_path

MESSAGES = 200
KILL_AT = 40  # ACKs received when the server is killed


async def deliver(gw: FakeGateway, ws, frames: list[dict], kill: tuple[int, int] | None = None,
                  gap: float = 0.0) -> set[str]:
    """Send the frames `gap` seconds apart, each waiting for its ACK; the msgIds ACKed with 200. With `kill`
    (after, pid) the server is killed as soon as that many ACKs are in, and no more frames are sent."""
    acked: set[str] = set()
    killed = asyncio.Event()

    async def one(frame: dict) -> None:
        ack = await gw.send_and_wait_ack(ws, frame, timeout=30)
        if ack["code"] == 200:
            acked.add(json.loads(frame["data"])["msgId"])
            if kill and len(acked) == kill[0]:
                os.kill(kill[1], signal.SIGKILL)
                killed.set()

    tasks = []
    for frame in frames:
        if killed.is_set():
            break
        tasks.append(asyncio.create_task(one(frame)))
        await asyncio.sleep(gap)
    if kill:  # the frames not ACKed before the kill never will be on this socket
        await asyncio.wait_for(killed.wait(), 60)
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return acked


def open_in(db: Path) -> int:
    conn = sqlite3.connect(log_path(db))
    try:
        return conn.execute("SELECT count(*) FROM deliveries WHERE answered_at IS NULL").fetchone()[0]
    finally:
        conn.close()


async def test_stream_messages_acked_before_a_kill_are_answered_after_the_restart(tmp_path):
    gw = await HoldingGateway(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    config = tmp_path / "duban.toml"
    config.write_text(f'[dingtalk]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
                      f'api_base = "{gw.base_url}"\nsession_hosts = ["127.0.0.1:{gw.port}"]\n'
                      '[reminders]\nenabled = false\n', encoding="utf-8")
    db, port = tmp_path / "duban.db", free_port()
    ids = [f"stream-{i:04d}" for i in range(MESSAGES)]
    frames = [gw.bot_message_frame(message(gw, m), f"frame-{m}") for m in ids]
    server = await asyncio.to_thread(start_serve, tmp_path, port, db, config)
    try:
        acked = await deliver(gw, await gw.wait_connection(timeout=60), frames, (KILL_AT, server.pid), gap=0.005)
        await asyncio.to_thread(server.wait, 10)
        assert server.returncode == -signal.SIGKILL
        assert KILL_AT <= len(acked) < MESSAGES and not gw.answered  # ACKed, none answered yet
        assert open_in(db) >= len(acked)
        gw.released.set()

        server = await asyncio.to_thread(start_serve, tmp_path, port, db, config)
        ws = await gw.wait_connection(timeout=60)
        # on start, every message the gateway got an ACK for is answered from what was kept before the ACK
        await wait_for(lambda: acked <= set(gw.answered), timeout=30)
        # the gateway redelivers every frame (an ACK may have been lost too): all answered, none twice
        assert await deliver(gw, ws, frames) == set(ids)
        await wait_for(lambda: set(gw.answered) == set(ids), timeout=30)
        await asyncio.sleep(1.0)
        assert [m for m, n in gw.answered.items() if n > 1] == []
        await wait_for(lambda: open_in(db) == 0, timeout=10)
    finally:
        await asyncio.to_thread(stop, server)
        await gw.stop()
