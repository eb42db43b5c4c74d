"""`duban serve` with DingTalk Stream credentials and no public HTTP address: a real server process connects
out to the fake gateway on 127.0.0.1 and answers a group @-message from the store through the sessionWebhook;
/healthz and `duban status` show the connection."""
from __future__ import annotations

import asyncio
import json
import socket
import sys
import urllib.request
from pathlib import Path

from test_stream import CASES, FakeGateway, wait_for

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r)


async def test_serve_answers_a_group_at_message_over_stream(tmp_path):
    gw = await FakeGateway(client_id="dingtestclientid", client_secret="test-client-secret").start()
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "DUBAN_DINGTALK_CLIENT_ID": "dingtestclientid", "DUBAN_DINGTALK_CLIENT_SECRET": "test-client-secret",
           "DUBAN_DINGTALK_API_BASE": gw.base_url, "DUBAN_DINGTALK_SESSION_HOSTS": f"127.0.0.1:{gw.port}",
           "DUBAN_DB": str(tmp_path / "duban.db")}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                                cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        ws = await gw.wait_connection(timeout=60)
        data = json.loads(CASES["robot_message_group_at"]["server_frame"]["data"])
        data.update(msgId="serve-1", sessionWebhook=gw.session_webhook("grp"), sessionWebhookExpiredTime=32503680000000,
                    text={"content": "@督办助手 第1项谁牵头"})
        ack = await gw.send_and_wait_ack(ws, gw.bot_message_frame(data, "frame-serve-1"))
        assert ack["code"] == 200
        await wait_for(lambda: gw.webhook_posts, timeout=20)
        query, body = gw.webhook_posts[0]
        assert query == {"session": "grp"}
        assert "牵头单位：市城市管理和综合执法局" in body["markdown"]["text"]
        assert body["at"]["atUserIds"] == ["manager4321"]
        health = await asyncio.to_thread(get_json, f"http://127.0.0.1:{port}/healthz")
        assert [(c["name"], c["state"], c["connects"]) for c in health["connections"]] == \
            [("dingtalk_stream", "connected", 1)]
        assert "test-client-secret" not in json.dumps(health)
        state = tmp_path / "duban.db.connections.json"
        await wait_for(lambda: state.exists() and '"connected"' in state.read_text("utf-8"), timeout=10)
        status = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "status", cwd=tmp_path,
                                                      env={**env, "COLUMNS": "200"}, stdout=asyncio.subprocess.PIPE)
        out, _ = await status.communicate()
        assert "长连接 dingtalk_stream：connected" in out.decode()
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
        await gw.stop()
    text = out.decode()
    assert "Stream" in text and "test-client-secret" not in text
