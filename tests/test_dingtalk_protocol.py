"""DingTalk robot protocol against the shared vectors, through a real aiohttp
server on 127.0.0.1 and a fake sessionWebhook server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from fakes import session_webhook_server

from bot.platforms.base import Inbound, ProtocolError, Reply, split_markdown
from bot.platforms.dingtalk import DEFAULT_SESSION_HOSTS, DingTalkPlatform, normalise_text
from bot.platforms.dingtalk.sign import custom_robot_url, sign, verify_headers

SHARED = Path(__file__).resolve().parents[2] / "shared"
SIGN = json.loads((SHARED / "vectors" / "dingtalk_sign.json").read_text(encoding="utf-8"))
INBOUND = json.loads((SHARED / "vectors" / "dingtalk_inbound.json").read_text(encoding="utf-8"))
SECRET = INBOUND["app_secret"]
REQUESTS = INBOUND["requests"]
VECTOR_WEBHOOK_PREFIX = "https://oapi.dingtalk.com/robot/sendBySession"
MARKDOWN_REPLY = REQUESTS[0]["dingtalk_stream_reply_requests"][1]["body"]["markdown"]


class Recorder:
    """The app's hooks: records answer calls; in-memory `seen`."""

    def __init__(self, reply: Reply | None = None, on_answer=None):
        self.reply = reply or Reply(text=MARKDOWN_REPLY["text"], title=MARKDOWN_REPLY["title"])
        self.on_answer = on_answer
        self.calls: list[Inbound] = []
        self.seen_calls: list[tuple[str, str]] = []
        self._done: set[tuple[str, str]] = set()

    async def answer(self, inbound: Inbound) -> Reply | None:
        self.calls.append(inbound)
        if self.on_answer:
            self.on_answer()
        return self.reply

    def seen(self, platform: str, msg_id: str) -> bool:
        self.seen_calls.append((platform, msg_id))
        if (platform, msg_id) in self._done:
            return True
        self._done.add((platform, msg_id))
        return False


class Clock:
    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture
async def webhook(aiohttp_server):
    return await session_webhook_server(aiohttp_server)


async def start(aiohttp_client, recorder: Recorder, clock: Clock, **kwargs):
    kwargs.setdefault("bot_name", "整改助手")
    platform = DingTalkPlatform(answer=recorder.answer, seen=recorder.seen, app_secret=SECRET, now=clock, **kwargs)
    app = web.Application()
    platform.add_routes(app)
    return await aiohttp_client(app), platform


def vector_request(case: dict, webhook_base: str | None = None) -> tuple[dict, bytes]:
    """Headers and raw body; the signature covers only the timestamp, so the
    body's sessionWebhook may be pointed at the fake server."""
    raw = case["request"]["body_raw_utf8"]
    if webhook_base:
        raw = raw.replace(VECTOR_WEBHOOK_PREFIX, webhook_base)
    return dict(case["request"]["headers"]), raw.encode("utf-8")


def clock_for(case: dict) -> Clock:
    return Clock(case["expected"]["signature_valid_at_receiver_now_ms"])


# -- signing -----------------------------------------------------------------


def test_sign_vectors():
    for v in SIGN["outgoing_robot_header_check"]["sign_vectors"]:
        assert sign(v["app_secret"], v["timestamp"]) == v["expected_sign"], v["id"]
        assert sign(v["app_secret"], int(v["timestamp"])) == v["expected_sign"]


def test_verification_cases_decisions():
    for case in SIGN["outgoing_robot_header_check"]["verification_cases"]:
        headers = case["request_headers"]
        args = (headers.get("timestamp"), headers.get("sign"), case["app_secret_configured"], case["receiver_now_ms"], 3600)
        if case["expected"] == "reject":
            with pytest.raises(ProtocolError) as info:
                verify_headers(*args)
            assert 400 <= info.value.status < 500, case["id"]
        else:  # "accept", and the exactly-1-hour boundary, which we accept like alicebot
            verify_headers(*args)
            assert case["observed"]["alicebot_DingTalkAdapter_handler"] == "accepted"


def test_header_check_refuses_malformed_timestamps_and_ignores_freshness_when_window_is_zero():
    good = sign(SECRET, "1732783262128")
    for bad in ("", " 1732783262128", "+1732783262128", "1732783262128.0", "１７３２"):
        with pytest.raises(ProtocolError):
            verify_headers(bad, good, SECRET, 1732783262128, 3600)
    verify_headers("1732783262128", good, SECRET, 0, 0)  # window 0: signature only


def test_custom_robot_url_vectors():
    for v in SIGN["custom_robot_url_signing"]["sign_vectors"]:
        webhook = f"https://oapi.dingtalk.com/robot/send?access_token={v['access_token']}"
        assert custom_robot_url(webhook, v["secret"], v["timestamp"]) == v["expected_url"], v["id"]
        assert custom_robot_url(webhook, v["secret"], int(v["timestamp"])) == v["expected_url"]
        assert sign(v["secret"], v["timestamp"]) == v["sign_base64"]


def test_normalise_text_strips_leading_bot_mention_only():
    for case in REQUESTS:
        body = case["request"]["body_json"]
        expected = case["expected"]["command_text_after_normalising"]
        assert normalise_text(body["text"]["content"], "整改助手", body.get("isInAtList") is True) == expected
        # without a configured bot name, a leading @token is still dropped when the bot was @-ed
        assert normalise_text(body["text"]["content"], "", body.get("isInAtList") is True) == expected
    assert normalise_text("@整改助手", "整改助手", True) == ""  # never fall back to the raw text
    assert normalise_text("@整改助手\u2005到期", "", True) == "到期"


def test_split_markdown_respects_utf8_byte_limit_and_lines():
    text = "### 即将到期\n" + "\n".join(f"- 任务{i}：黑臭水体整治" for i in range(200))
    parts = split_markdown(text, 500)
    assert all(len(p.encode("utf-8")) <= 500 for p in parts)
    assert "\n".join(parts) == text
    long_line = "整改" * 1000
    parts = split_markdown(long_line, 301)
    assert all(len(p.encode("utf-8")) <= 301 for p in parts) and "".join(parts) == long_line
    assert split_markdown("  \n", 100) == []


# -- inbound requests through the handler -------------------------------------


@pytest.mark.parametrize("case", REQUESTS, ids=[c["id"] for c in REQUESTS])
async def test_inbound_vector_is_answered_via_session_webhook(aiohttp_client, webhook, case):
    recorder = Recorder()
    client, platform = await start(
        aiohttp_client, recorder, clock_for(case), session_hosts=DEFAULT_SESSION_HOSTS | {webhook.host}
    )
    headers, raw = vector_request(case, webhook.base)
    resp = await client.post("/dingtalk", data=raw, headers=headers)
    assert resp.status == 200 and await resp.json() == {}
    await platform.close()

    body, expected = case["request"]["body_json"], case["expected"]
    [inbound] = recorder.calls
    assert inbound.platform == "dingtalk"
    assert inbound.msg_id == expected["dedup_key"]
    assert inbound.text == expected["command_text_after_normalising"]
    assert inbound.user_id == body["senderStaffId"] and inbound.user_name == body["senderNick"]
    assert inbound.chat_id == body["conversationId"]
    assert inbound.chat_type == ("group" if expected["conversation_type"] == "2" else "single")
    assert inbound.chat_title == body.get("conversationTitle")
    mentioned = [u["staffId"] for u in body.get("atUsers", []) if u.get("staffId")]
    assert inbound.at_user_ids == mentioned

    want = case["dingtalk_stream_reply_requests"][1]
    [(path_qs, posted)] = webhook.posts
    assert path_qs == want["url"].removeprefix("https://oapi.dingtalk.com")
    assert posted == want["body"]
    assert posted["at"]["atUserIds"] == expected["reply_at_user_ids"]


async def test_created_at_as_string_and_missing_optional_fields_are_accepted(aiohttp_client, webhook):
    case = REQUESTS[3]
    body = dict(case["request"]["body_json"], createAt=str(case["request"]["body_json"]["createAt"]))
    body["sessionWebhook"] = body["sessionWebhook"].replace(VECTOR_WEBHOOK_PREFIX, webhook.base)
    body["sessionWebhookExpiredTime"] = str(body["sessionWebhookExpiredTime"])
    recorder = Recorder()
    client, platform = await start(aiohttp_client, recorder, clock_for(case), session_hosts={webhook.host})
    resp = await client.post("/dingtalk", data=json.dumps(body, ensure_ascii=False).encode(), headers=case["request"]["headers"])
    assert resp.status == 200
    await platform.close()
    assert len(recorder.calls) == 1 and len(webhook.posts) == 1


async def test_webhook_host_not_on_allowlist_gets_no_post(aiohttp_client, webhook):
    case = REQUESTS[0]
    recorder = Recorder()
    client, platform = await start(aiohttp_client, recorder, clock_for(case))  # default allowlist
    headers, raw = vector_request(case, webhook.base)
    resp = await client.post("/dingtalk", data=raw, headers=headers)
    assert resp.status == 200
    await platform.close()
    assert webhook.posts == [] and recorder.calls == []


def test_webhook_allowlist_rules():
    platform = DingTalkPlatform(answer=Recorder().answer, seen=Recorder().seen, app_secret=SECRET)
    assert platform.webhook_allowed("https://oapi.dingtalk.com/robot/sendBySession?session=x")
    assert platform.webhook_allowed("https://api.dingtalk.com/v1.0/x")
    assert not platform.webhook_allowed("http://oapi.dingtalk.com/robot/sendBySession")  # https only
    assert not platform.webhook_allowed("https://oapi.dingtalk.com:8443/robot/sendBySession")
    assert not platform.webhook_allowed("https://oapi.dingtalk.com.evil.example/robot")
    assert not platform.webhook_allowed("https://oapi.dingtalk.com@evil.example/robot")
    assert not platform.webhook_allowed("file:///etc/passwd")
    assert not platform.webhook_allowed("not a url")


async def test_expired_session_webhook_gets_no_post(aiohttp_client, webhook):
    case = REQUESTS[0]
    expires = case["request"]["body_json"]["sessionWebhookExpiredTime"]
    recorder = Recorder()
    client, platform = await start(
        aiohttp_client, recorder, Clock(expires + 1), sign_window=0, session_hosts={webhook.host}
    )
    headers, raw = vector_request(case, webhook.base)
    resp = await client.post("/dingtalk", data=raw, headers=headers)
    assert resp.status == 200
    await platform.close()
    assert webhook.posts == []


async def test_webhook_expiring_while_answering_gets_no_post(aiohttp_client, webhook):
    case = REQUESTS[1]
    clock = clock_for(case)
    expires = case["request"]["body_json"]["sessionWebhookExpiredTime"]

    def slow_answer():  # the answer took longer than the session's lifetime
        clock.ms = expires

    recorder = Recorder(on_answer=slow_answer)
    client, platform = await start(aiohttp_client, recorder, clock, session_hosts={webhook.host})
    headers, raw = vector_request(case, webhook.base)
    assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 200
    await platform.close()
    assert len(recorder.calls) == 1 and webhook.posts == []


async def test_bad_headers_get_4xx_and_nothing_is_processed(aiohttp_client, webhook):
    case = REQUESTS[0]
    headers, raw = vector_request(case, webhook.base)
    now_ms = case["expected"]["signature_valid_at_receiver_now_ms"]
    forged = dict(headers, sign=sign("not-the-secret", headers["timestamp"]))
    no_sign = {k: v for k, v in headers.items() if k != "sign"}
    no_timestamp = {k: v for k, v in headers.items() if k != "timestamp"}
    url_encoded = dict(headers, sign=headers["sign"].replace("=", "%3D").replace("+", "%2B").replace("/", "%2F"))
    for bad_headers, clock in [
        (forged, Clock(now_ms)),
        (headers, Clock(now_ms + 3_600_001)),  # stale, with the default one-hour window
        (no_sign, Clock(now_ms)),
        (no_timestamp, Clock(now_ms)),
        (dict(headers, timestamp="abc"), Clock(now_ms)),
        (url_encoded, Clock(now_ms)),
    ]:
        recorder = Recorder()
        client, platform = await start(aiohttp_client, recorder, clock, session_hosts={webhook.host})
        resp = await client.post("/dingtalk", data=raw, headers=bad_headers)
        assert 400 <= resp.status < 500
        await platform.close()
        assert recorder.calls == [] and recorder.seen_calls == []
    assert webhook.posts == []


async def test_duplicate_msgid_is_answered_once(aiohttp_client, webhook):
    case = REQUESTS[2]
    recorder = Recorder()
    client, platform = await start(aiohttp_client, recorder, clock_for(case), session_hosts={webhook.host})
    headers, raw = vector_request(case, webhook.base)
    for _ in range(3):  # DingTalk redelivers when it thinks the ack was slow
        assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 200
    await platform.close()
    assert len(recorder.calls) == 1 and len(webhook.posts) == 1


async def test_oversized_body_gets_413(aiohttp_client, webhook):
    case = REQUESTS[0]
    recorder = Recorder()
    client, platform = await start(aiohttp_client, recorder, clock_for(case), max_body_bytes=1024)
    headers, _ = vector_request(case)
    resp = await client.post("/dingtalk", data=b"{" + b" " * 2000 + b"}", headers=headers)
    assert resp.status == 413
    assert recorder.calls == [] and recorder.seen_calls == []


async def test_malformed_bodies_get_400(aiohttp_client):
    case = REQUESTS[0]
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder, clock_for(case))
    headers, _ = vector_request(case)
    for raw in (b"not json", b"[1, 2]", b'{"msgtype": "text", "text": {"content": "x"}}', "\xff".encode("latin-1")):
        assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 400
    assert recorder.calls == [] and recorder.seen_calls == []


async def test_non_text_messages_are_acknowledged_without_answer(aiohttp_client, webhook):
    case = REQUESTS[0]
    body = dict(case["request"]["body_json"], msgtype="picture", content={"downloadCode": "x"})
    del body["text"]
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder, clock_for(case), session_hosts={webhook.host})
    resp = await client.post("/dingtalk", data=json.dumps(body).encode(), headers=case["request"]["headers"])
    assert resp.status == 200 and await resp.json() == {}
    assert recorder.calls == []


async def test_reply_in_response_body_when_enabled(aiohttp_client, webhook):
    case = REQUESTS[0]
    recorder = Recorder()
    client, platform = await start(aiohttp_client, recorder, clock_for(case), reply_in_response=True)
    headers, raw = vector_request(case)
    resp = await client.post("/dingtalk", data=raw, headers=headers)
    assert resp.status == 200
    assert await resp.json() == case["dingtalk_stream_reply_requests"][1]["body"]
    await platform.close()


async def test_long_reply_is_posted_in_parts(aiohttp_client, webhook):
    case = REQUESTS[3]
    text = "### 即将到期的任务\n" + "\n".join(f"- 任务{i}：黑臭水体整治（12月5日）" for i in range(300))
    recorder = Recorder(reply=Reply(text=text, title="任务提醒"))
    client, platform = await start(aiohttp_client, recorder, clock_for(case), session_hosts={webhook.host})
    headers, raw = vector_request(case, webhook.base)
    assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 200
    await platform.close()
    bodies = [body for _, body in webhook.posts]
    assert len(bodies) > 1
    assert all(len(b["markdown"]["text"].encode("utf-8")) <= 6000 for b in bodies)
    assert "\n".join(b["markdown"]["text"] for b in bodies) == text
    assert all(b["at"] == {"atUserIds": ["wangqiang03"]} for b in bodies)


async def test_close_waits_for_answers_in_flight(aiohttp_client, webhook):
    case = REQUESTS[0]
    gate = asyncio.Event()

    class Slow(Recorder):
        async def answer(self, inbound):
            await gate.wait()
            return await super().answer(inbound)

    recorder = Slow()
    client, platform = await start(aiohttp_client, recorder, clock_for(case), session_hosts={webhook.host})
    headers, raw = vector_request(case, webhook.base)
    assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 200
    assert webhook.posts == []
    asyncio.get_running_loop().call_later(0.05, gate.set)
    await platform.close()
    assert len(webhook.posts) == 1


async def test_close_cancels_answers_that_never_finish(aiohttp_client, webhook):
    case = REQUESTS[0]

    class Hung(Recorder):
        async def answer(self, inbound):
            await asyncio.Event().wait()

    client, platform = await start(aiohttp_client, Hung(), clock_for(case), session_hosts={webhook.host})
    headers, raw = vector_request(case, webhook.base)
    assert (await client.post("/dingtalk", data=raw, headers=headers)).status == 200
    await asyncio.wait_for(platform.close(timeout=0.1), 2)
    assert webhook.posts == []
