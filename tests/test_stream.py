"""DingTalk Stream mode against the fake gateway from ../shared/vectors (127.0.0.1 only): open, ping, a group
@-message answered through the sessionWebhook, disconnect → new ticket, a dropped socket, a reused ticket,
a frame with bad JSON, de-duplication across reconnects, the app robot API with its cached token."""
from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import aiohttp
import pytest

from bot.channels.base import OutMessage
from bot.platforms.base import Reply
from bot.platforms.dingtalk import DingTalkPlatform
from bot.platforms.dingtalk.stream import DingTalkStreamClient
from bot.platforms.reconnect import Backoff
from bot.platforms.registry import channel_from_config

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "stream_aibot_cards"
CASES = {c["name"]: c for c in json.loads((VECTORS / "dingtalk_stream_vectors.json").read_text("utf-8"))["cases"]}
CLIENT_ID, CLIENT_SECRET = "dingtestclientid", "test-client-secret"


def _gateway_module():
    spec = importlib.util.spec_from_file_location("fake_dingtalk_stream_gateway",
                                                  VECTORS / "fake_dingtalk_stream_gateway.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FakeGateway = _gateway_module().FakeGateway


class StaleTicketGateway(FakeGateway):
    """Hands out an already used ticket once (as a replayed or expired ticket would be)."""

    stale: str | None = None

    async def _open(self, request):
        if self.stale is not None and self.issued_tickets.get(self.stale) is True:
            body = await request.json()
            self.open_requests.append(body)
            ticket, self.stale = self.stale, None
            return aiohttp.web.json_response({"endpoint": f"ws://{self.host}:{self.port}/connect", "ticket": ticket})
        return await super()._open(request)


class Pauses:
    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0.01)


def robot_message(gw, msg_id: str, text: str = "@督办助手 第13项谁牵头", session: str = "s1") -> dict:
    data = json.loads(CASES["robot_message_group_at"]["server_frame"]["data"])
    data.update(msgId=msg_id, sessionWebhook=gw.session_webhook(session), text={"content": text},
                sessionWebhookExpiredTime=32503680000000)
    return data


@pytest.fixture
async def gateway():
    gw = await (StaleTicketGateway(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)).start()
    yield gw
    await gw.stop()


@pytest.fixture
async def stream(gateway):
    """A Stream client whose robot answers "收到：<text>" (the conversation itself is tested in test_stream_serve)."""
    pauses = Pauses()
    answered: list[str] = []

    def answer(inbound):
        answered.append(inbound.msg_id)
        return Reply(f"收到：{inbound.text}")

    seen_ids: set[str] = set()

    def seen(platform: str, msg_id: str) -> bool:  # the server's delivery claims, here in memory
        if msg_id in seen_ids:
            return True
        seen_ids.add(msg_id)
        return False

    robot = DingTalkPlatform(answer=answer, seen=seen, app_secret=CLIENT_SECRET,
                             session_hosts={f"127.0.0.1:{gateway.port}"}, bot_name="督办助手")
    client = DingTalkStreamClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, robot=robot,
                                  api_base=gateway.base_url, backoff=Backoff(jitter=lambda: 0.5, sleep=pauses))
    client.pauses, client.answered = pauses, answered
    task = asyncio.create_task(client.run())
    yield client
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await robot.close()


async def wait_for(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.01)


async def test_open_sends_credentials_and_subscriptions_then_answers_a_ping(gateway, stream):
    ws = await gateway.wait_connection()
    body = gateway.open_requests[0]
    expected = CASES["open_connection_request"]["observed_request_body"]
    assert (body["clientId"], body["clientSecret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert body["subscriptions"] == expected["subscriptions"]
    frame = CASES["system_ping"]["server_frame"]
    ack = await gateway.send_and_wait_ack(ws, frame)
    assert ack["code"] == 200 and ack["headers"]["messageId"] == frame["headers"]["messageId"]
    assert json.loads(ack["data"])["opaque"] == json.loads(frame["data"])["opaque"]
    assert stream.health()["state"] == "connected" and "secret" not in repr(stream)


async def test_a_group_at_message_is_acked_and_answered_through_the_session_webhook(gateway, stream):
    ws = await gateway.wait_connection()
    ack = await gateway.send_and_wait_ack(ws, gateway.bot_message_frame(robot_message(gateway, "m1"), "f1"))
    assert ack["code"] == 200 and ack["headers"] == {"messageId": "f1", "contentType": "application/json"}
    assert isinstance(ack["data"], str) and json.loads(ack["data"]) == {"response": None}
    await wait_for(lambda: gateway.webhook_posts)
    query, body = gateway.webhook_posts[0]
    assert query == {"session": "s1"}
    assert body["msgtype"] == "markdown" and body["markdown"]["text"] == "收到：第13项谁牵头"  # "@督办助手" stripped
    assert body["at"]["atUserIds"] == ["manager4321"]


async def test_disconnect_means_a_new_ticket_and_a_new_socket(gateway, stream):
    ws = await gateway.wait_connection()
    await ws.send_str(json.dumps(CASES["system_disconnect_then_reconnect"]["server_frame"]))
    ws2 = await gateway.wait_connection()
    assert len(gateway.open_requests) == 2
    assert list(gateway.issued_tickets.values()) == [True, True]  # two tickets, each used once
    ack = await gateway.send_and_wait_ack(ws2, gateway.ping_frame("op-2"))
    assert json.loads(ack["data"])["opaque"] == "op-2"
    assert ws.closed and stream.state.connects == 2


async def test_a_dropped_socket_reconnects_after_a_backoff(gateway, stream):
    ws = await gateway.wait_connection()
    await ws.close()  # no disconnect frame: the socket just goes away
    ws2 = await gateway.wait_connection()
    assert len(gateway.open_requests) == 2 and stream.pauses.delays == [0.75]  # 1 s step, jitter at one half
    ack = await gateway.send_and_wait_ack(ws2, gateway.ping_frame("op-3"))
    assert ack["code"] == 200


async def test_a_reused_ticket_is_refused_and_the_client_asks_for_a_new_one(gateway, stream):
    ws = await gateway.wait_connection()
    gateway.stale = next(iter(gateway.issued_tickets))  # the next open hands out the ticket already used
    await ws.close()
    ws2 = await gateway.wait_connection()
    assert len(gateway.open_requests) == 3  # the stale one refused at the WebSocket, then a fresh one
    assert stream.pauses.delays == [0.75, 1.5]  # doubling while it fails
    assert "401" in (stream.state.last_error or "")
    assert (await gateway.send_and_wait_ack(ws2, gateway.ping_frame("op-4")))["code"] == 200


async def test_a_frame_with_bad_json_is_acked_400_and_the_connection_kept(gateway, stream):
    ws = await gateway.wait_connection()
    frame = gateway.bot_message_frame({}, "bad-1")
    frame["data"] = "{not json"
    ack = await gateway.send_and_wait_ack(ws, frame)
    assert ack["code"] == 400 and ack["headers"]["messageId"] == "bad-1"
    assert (await gateway.send_and_wait_ack(ws, gateway.ping_frame("still-here")))["code"] == 200
    assert len(gateway.open_requests) == 1 and not ws.closed


async def test_an_event_is_acked_in_the_documented_form(gateway, stream):
    ws = await gateway.wait_connection()
    case = CASES["event_push"]
    ack = await gateway.send_and_wait_ack(ws, case["server_frame"])
    assert ack == case["protocol_doc_ack"] | {"data": ack["data"]}
    assert json.loads(ack["data"]) == json.loads(case["protocol_doc_ack"]["data"])


async def test_a_message_redelivered_after_a_reconnect_is_answered_once(gateway, stream):
    ws = await gateway.wait_connection()
    frame = gateway.bot_message_frame(robot_message(gateway, "m-dup"), "f-dup")
    assert (await gateway.send_and_wait_ack(ws, frame))["code"] == 200
    await ws.close()
    ws2 = await gateway.wait_connection()
    assert (await gateway.send_and_wait_ack(ws2, frame))["code"] == 200  # acked again…
    await gateway.send_and_wait_ack(ws2, gateway.ping_frame())
    await asyncio.sleep(0.1)
    assert stream.answered == ["m-dup"] and len(gateway.webhook_posts) == 1  # …answered once


async def test_the_app_robot_channel_sends_to_a_group_with_one_cached_token(gateway):
    async with aiohttp.ClientSession() as session:
        cfg = {"kind": "dingtalk_app", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
               "api_base": gateway.base_url, "open_conversation_id": "cidTestGroup001=="}
        group = channel_from_config(cfg, session)
        people = channel_from_config({**cfg, "open_conversation_id": None, "user_ids": "u1|u2"}, session)
        for channel in (group, people, group):
            outcome = await channel.send(OutMessage(title="督办提醒：邵阳县", markdown="第13项 明天到期"))
            assert outcome.ok, outcome
    calls = [(m, p) for m, p, _, _ in gateway.openapi_calls]
    assert calls == [("POST", "/v1.0/oauth2/accessToken"), ("POST", "/v1.0/robot/groupMessages/send"),
                     ("POST", "/v1.0/robot/oToMessages/batchSend"), ("POST", "/v1.0/robot/groupMessages/send")]
    token_body = gateway.openapi_calls[0][3]
    assert token_body == {"appKey": CLIENT_ID, "appSecret": CLIENT_SECRET}
    _, _, headers, body = gateway.openapi_calls[1]
    assert headers["x-acs-dingtalk-access-token"] == "fake-token"
    assert body["robotCode"] == CLIENT_ID and body["openConversationId"] == "cidTestGroup001=="
    assert body["msgKey"] == "sampleMarkdown"
    assert json.loads(body["msgParam"]) == {"title": "督办提醒：邵阳县", "text": "第13项 明天到期"}
    assert gateway.openapi_calls[2][3]["userIds"] == ["u1", "u2"]
