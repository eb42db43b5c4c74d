"""DingTalk Stream messages answered at least once, by the real app (create_app) connected to the fake
gateway on 127.0.0.1, with its store in a file: a robot message is recorded and its payload kept before
the ACK, marked answered once the reply went out; a message the store cannot keep is not ACKed, and its
redelivery is answered; redeliveries of a message (same frame, or same msgId in another frame) are
answered once."""
from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from aiohttp import web
from test_stream import CASES, CLIENT_ID, CLIENT_SECRET, FakeGateway, wait_for

from bot.server import create_app
from bot.settings import Settings
from knowledge.deliveries import log_path


class HoldingGateway(FakeGateway):
    """The fake gateway whose sessionWebhook holds replies until `released` is set: a held reply whose poster
    died meanwhile never got through (the chat never shows it); `answered` counts those that did."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.answered: dict[str, int] = {}
        self.released = asyncio.Event()

    async def _webhook(self, request):
        body = await request.json()
        if not self.released.is_set():
            await self.released.wait()
            if request.transport is None or request.transport.is_closing():
                return web.json_response({"errcode": 0, "errmsg": "ok"})  # nobody to tell any more
        msg = request.query["session"]
        self.answered[msg] = self.answered.get(msg, 0) + 1
        self.webhook_posts.append((dict(request.query), body))
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def message(gw: FakeGateway, msg_id: str, text: str = "@督办助手 帮助") -> dict:
    """A group @-message whose sessionWebhook is named after its msgId."""
    data = json.loads(CASES["robot_message_group_at"]["server_frame"]["data"])
    data.update(msgId=msg_id, sessionWebhook=gw.session_webhook(msg_id), sessionWebhookExpiredTime=32503680000000,
                text={"content": text})
    return data


def rows(db, msg_id: str) -> list[tuple]:
    """(payload, answered_at) of the message's deliveries, as another process reads them (committed only)."""
    conn = sqlite3.connect(log_path(db))
    try:
        return conn.execute("SELECT payload, answered_at FROM deliveries WHERE msg_id = ? ORDER BY id",
                            [msg_id]).fetchall()
    finally:
        conn.close()


@pytest.fixture
async def gateway():
    gw = await HoldingGateway(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    yield gw
    gw.released.set()
    await gw.stop()


@pytest.fixture
async def served(gateway, tmp_path, aiohttp_server):
    """The app with Stream credentials only (no HTTP robot), connected; yields (socket, store path)."""
    db = tmp_path / "duban.db"
    settings = Settings(db=str(db), load_example=False, reminders_enabled=False,
                        dingtalk_session_hosts=[f"127.0.0.1:{gateway.port}"])
    settings.dingtalk_client_id, settings.dingtalk_client_secret = CLIENT_ID, CLIENT_SECRET
    settings.dingtalk_api_base = gateway.base_url
    await aiohttp_server(create_app(settings))
    yield await gateway.wait_connection(), db


async def test_a_robot_message_is_kept_before_its_ack_and_marked_answered_after_its_reply(gateway, served):
    ws, db = served
    ack = await gateway.send_and_wait_ack(ws, gateway.bot_message_frame(message(gateway, "kept-1"), "f-kept-1"))
    assert ack["code"] == 200
    [(payload, answered_at)] = rows(db, "kept-1")  # committed before the ACK went out
    assert answered_at is None and json.loads(payload)["reply_route"]["session_webhook"].endswith("session=kept-1")
    gateway.released.set()
    await wait_for(lambda: gateway.answered.get("kept-1") == 1)
    await wait_for(lambda: rows(db, "kept-1")[0][1] is not None)
    assert rows(db, "kept-1")[0][0] is None  # answered: the payload is not kept any more


@pytest.mark.parametrize("refusal", [
    "BEFORE INSERT ON deliveries WHEN NEW.msg_id = 'refused-1'",  # the record itself
    "BEFORE UPDATE OF payload ON deliveries WHEN NEW.payload IS NOT NULL AND NEW.msg_id = 'refused-1'",  # its payload
])
async def test_a_message_the_store_cannot_keep_is_not_acked_and_its_redelivery_is_answered(gateway, served,
                                                                                           refusal):
    ws, db = served
    gateway.released.set()
    conn = sqlite3.connect(log_path(db))
    conn.execute(f"CREATE TRIGGER refuse {refusal} BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    conn.commit()
    frame = gateway.bot_message_frame(message(gateway, "refused-1"), "f-refused-1")
    with pytest.raises(asyncio.TimeoutError):  # no ACK: the gateway redelivers it
        await gateway.send_and_wait_ack(ws, frame, timeout=1.5)
    conn.execute("DROP TRIGGER refuse")
    conn.commit()
    conn.close()
    assert (await gateway.send_and_wait_ack(ws, frame))["code"] == 200  # the connection is still served
    await wait_for(lambda: gateway.answered.get("refused-1"))
    await wait_for(lambda: all(answered for _, answered in rows(db, "refused-1")))


async def test_redeliveries_of_a_message_are_answered_once(gateway, served):
    ws, db = served
    gateway.released.set()
    frame = gateway.bot_message_frame(message(gateway, "dup-1"), "f-dup-1")
    again = gateway.bot_message_frame(message(gateway, "dup-1"), "f-dup-1-again")  # same msgId, another frame
    acks = await asyncio.gather(gateway.send_and_wait_ack(ws, frame), gateway.send_and_wait_ack(ws, again))
    assert [a["code"] for a in acks] == [200, 200]
    await wait_for(lambda: gateway.answered.get("dup-1"))
    await wait_for(lambda: rows(db, "dup-1")[0][1] is not None)
    await ws.close()  # after a reconnect the gateway redelivers the frame
    ws2 = await gateway.wait_connection()
    assert (await gateway.send_and_wait_ack(ws2, frame))["code"] == 200
    await gateway.send_and_wait_ack(ws2, gateway.ping_frame("after"))
    await asyncio.sleep(0.2)
    assert gateway.answered == {"dup-1": 1} and len(rows(db, "dup-1")) == 1
