"""WeCom 智能机器人, long-connection mode, against a fake WebSocket server on 127.0.0.1 playing
wecom_aibot_longconn_vectors.json: subscribe, ping, a message answered with stream frames under its req_id,
a card click answered by an update, reminders pushed with aibot_send_msg, reconnects, disconnected_event."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import WSMsgType, web

from bot.channels.base import OutMessage
from bot.platforms.base import Reply
from bot.platforms.reconnect import Backoff
from bot.platforms.registry import channel_from_config
from bot.platforms.wecom.aibot import AibotBot
from bot.platforms.wecom.aibot_ws import AibotConnection

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "shared" / "vectors" / "stream_aibot_cards"
                      / "wecom_aibot_longconn_vectors.json").read_text("utf-8"))
CASES = {c["name"]: c for c in VECTORS["cases"]}
BOT_ID, SECRET = "aib_TEST_0001", "bot-secret-test"


class FakeOpenWs:
    """The WeCom side: acks every client frame by req_id (errcode from `subscribe_errcode` for subscribe,
    nothing for pings while `mute`), records frames, and lets the test push server frames."""

    def __init__(self):
        self.frames: list[dict] = []
        self.sockets: asyncio.Queue = asyncio.Queue()
        self.subscribe_errcode = 0
        self.mute_pings = False
        self.runner = None

    async def start(self) -> "FakeOpenWs":
        app = web.Application()
        app.router.add_get("/", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"ws://127.0.0.1:{self.runner.addresses[0][1]}/"
        return self

    async def handle(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await self.sockets.put(ws)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if not await self.acknowledge(ws, frame):
                break
        return ws

    async def acknowledge(self, ws, frame: dict) -> bool:
        """Ack one frame as the open platform does; False: the socket was closed instead."""
        if frame["cmd"] == "ping" and self.mute_pings:
            return True
        code = self.subscribe_errcode if frame["cmd"] == "aibot_subscribe" else 0
        await ws.send_str(json.dumps({"headers": frame["headers"], "errcode": code, "errmsg": "ok"}))
        return True

    def sent(self, cmd: str) -> list[dict]:
        return [f for f in self.frames if f["cmd"] == cmd]

    async def stop(self):
        await self.runner.cleanup()


class Pauses:
    def __init__(self):
        self.delays = []

    async def __call__(self, delay):
        self.delays.append(delay)
        await asyncio.sleep(0.01)


async def wait_for(predicate, timeout=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def server():
    fake = await FakeOpenWs().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def connection(server):
    inbounds = []

    async def answer(inbound):
        inbounds.append(inbound)
        await asyncio.sleep(0.2 if "慢" in inbound.text else 0)
        return Reply(f"收到：{inbound.text}")

    bot = AibotBot(answer=answer, seen=lambda p, m: False, bot_name="提醒助手", first_wait=0.05)
    conn = AibotConnection(bot, bot_id=BOT_ID, secret=SECRET, ws_url=server.url, ping_every=0.05,
                           backoff=Backoff(jitter=lambda: 0.5, sleep=Pauses()))
    conn.inbounds = inbounds
    task = asyncio.create_task(conn.run())
    yield conn
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await bot.close()


async def test_subscribes_first_with_bot_id_and_secret_then_pings(server, connection):
    await server.sockets.get()
    await wait_for(lambda: len(server.sent("ping")) >= 2)
    first = server.frames[0]
    expected = CASES["subscribe"]["client_frame"]
    assert first["cmd"] == expected["cmd"] and first["body"] == expected["body"] and first["headers"]["req_id"]
    assert connection.health()["state"] == "connected" and SECRET not in repr(connection)
    ping = server.sent("ping")[0]
    assert set(ping) == {"cmd", "headers"} and ping["headers"]["req_id"]


async def test_a_group_message_is_answered_with_stream_frames_under_its_req_id(server, connection):
    ws = await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    case = CASES["text_callback_and_stream_reply"]
    frame = json.loads(json.dumps(case["server_frame"]))
    frame["body"]["text"]["content"] = "@提醒助手 慢慢查第13项"
    await ws.send_str(json.dumps(frame, ensure_ascii=False))
    await wait_for(lambda: any(f["body"]["stream"]["finish"] for f in server.sent("aibot_respond_msg")))
    replies = server.sent("aibot_respond_msg")
    assert [f["headers"]["req_id"] for f in replies] == ["REQID_MSG_0001"] * 2
    assert len({f["body"]["stream"]["id"] for f in replies}) == 1
    assert [f["body"]["stream"]["finish"] for f in replies] == [False, True]
    assert replies[-1]["body"] == {"msgtype": "stream", "stream": {"id": replies[0]["body"]["stream"]["id"],
                                                                   "finish": True, "content": "收到：慢慢查第13项"}}
    inbound = connection.inbounds[0]
    assert (inbound.user_id, inbound.chat_id, inbound.chat_type) == ("zhangsan", "wrTEST_group_chatid", "group")


async def test_a_dropped_socket_reconnects_and_subscribes_again_without_answering_twice(server, connection):
    ws = await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    frame = CASES["text_callback_and_stream_reply"]["server_frame"]
    await ws.send_str(json.dumps(frame, ensure_ascii=False))
    await wait_for(lambda: server.sent("aibot_respond_msg"))
    await ws.close()
    ws2 = await server.sockets.get()
    await wait_for(lambda: len(server.sent("aibot_subscribe")) == 2)
    await ws2.send_str(json.dumps(frame, ensure_ascii=False))  # redelivered after the reconnect
    await wait_for(lambda: len(server.sent("ping")) >= 3)
    assert len(connection.inbounds) == 1 and len(server.sent("aibot_respond_msg")) == 1
    assert connection.backoff.sleep.delays == [0.75]


async def test_unanswered_pings_close_the_socket_and_reconnect(server, connection):
    await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    server.mute_pings = True
    await server.sockets.get()  # the client gave up on the silent socket and came back
    assert "心跳" in connection.health()["last_error"]


async def test_a_refused_subscription_backs_off_doubling(server, connection):
    ws = await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    server.subscribe_errcode = 40001  # e.g. the secret was changed in the admin console
    await ws.close()
    await wait_for(lambda: len(server.sent("aibot_subscribe")) >= 3)
    assert connection.backoff.sleep.delays[:2] == [0.75, 1.5]
    assert "40001" in connection.health()["last_error"]


async def test_disconnected_event_stops_without_reconnecting(server, connection):
    ws = await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    await ws.send_str(json.dumps(CASES["disconnected_event"]["server_frame"]))
    await wait_for(lambda: connection.health()["state"] == "stopped")
    await asyncio.sleep(0.1)
    assert len(server.sent("aibot_subscribe")) == 1 and server.sockets.empty()


async def test_a_reminder_goes_into_the_group_with_aibot_send_msg(server, connection):
    await server.sockets.get()
    await wait_for(lambda: connection.health()["state"] == "connected")
    channel = channel_from_config({"kind": "wecom_aibot", "chatid": "wrTEST_group_chatid"}, None)
    outcome = await channel.send(OutMessage(title="督办提醒：市生态环境局", markdown="第13项 明天到期"))
    assert outcome.ok, outcome
    push = server.sent("aibot_send_msg")[0]
    assert push["body"] == {"chatid": "wrTEST_group_chatid", "msgtype": "markdown",
                            "markdown": {"content": "**督办提醒：市生态环境局**\n第13项 明天到期"}}


async def test_without_a_live_connection_a_reminder_waits():
    channel = channel_from_config({"kind": "wecom_aibot", "chatid": "wrX"}, None)
    outcome = await channel.send(OutMessage(title="t", markdown="m"))
    assert outcome.status == "retry" and "长连接未建立" in outcome.detail


async def test_in_the_server_a_message_is_recorded_and_marked_answered_once_its_reply_went_out(server, tmp_path,
                                                                                               aiohttp_server):
    """The real app (create_app) with its store in a file: the message's delivery is committed before its
    reply, marked answered after it; a redelivery gets no second answer."""
    import sqlite3

    from bot.server import create_app
    from bot.settings import Settings
    from knowledge.deliveries import log_path

    db = tmp_path / "duban.db"
    settings = Settings(db=str(db), load_example=False, reminders_enabled=False)
    settings.wecom_aibot_bot_id, settings.wecom_aibot_secret, settings.wecom_aibot_ws_url = BOT_ID, SECRET, server.url
    await aiohttp_server(create_app(settings))
    ws = await server.sockets.get()
    await wait_for(lambda: server.sent("aibot_subscribe"))
    frame = CASES["text_callback_and_stream_reply"]["server_frame"]
    msgid = frame["body"]["msgid"]

    def deliveries() -> list[tuple]:
        conn = sqlite3.connect(log_path(db))
        try:
            return conn.execute("SELECT answered_at FROM deliveries WHERE msg_id = ?", [msgid]).fetchall()
        finally:
            conn.close()

    await ws.send_str(json.dumps(frame, ensure_ascii=False))
    await wait_for(lambda: any(f["body"]["stream"]["finish"] for f in server.sent("aibot_respond_msg")))
    await wait_for(lambda: deliveries() and deliveries()[0][0] is not None)
    await ws.send_str(json.dumps(frame, ensure_ascii=False))  # redelivered
    await asyncio.sleep(0.3)
    assert len(server.sent("aibot_respond_msg")) == 1 and len(deliveries()) == 1
