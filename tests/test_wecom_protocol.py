"""WeCom callback protocol against the shared interoperability vectors,
through a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from bot.platforms.base import Inbound, Reply
from bot.platforms.wecom import WeComAppClient, WeComPlatform
from bot.platforms.wecom.crypto import (
    WeComCrypto,
    WeComCryptoError,
    derive_aes_key,
    parse_xml,
    sha1_signature,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
VEC = json.loads((SHARED / "vectors" / "wecom_crypto.json").read_text(encoding="utf-8"))
CFG = VEC["config"]
CORP = CFG["receiveid_corpid"]

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(2, 10)).replace(
        "&lol1;", "&lol;"
    )
    + "]>\n"
)


def crypto(corp_id: str = CORP) -> WeComCrypto:
    return WeComCrypto(CFG["token"], CFG["encoding_aes_key"], corp_id)


class Recorder:
    """The app's hooks: records answer calls; in-memory `seen`."""

    def __init__(self, reply_text: str | None = "已收到", delay: float = 0.0):
        self.reply_text = reply_text
        self.delay = delay
        self.calls: list[Inbound] = []
        self.seen_calls: list[tuple[str, str]] = []
        self._done: set[tuple[str, str]] = set()

    async def answer(self, inbound: Inbound) -> Reply | None:
        self.calls.append(inbound)
        if self.delay:
            await asyncio.sleep(self.delay)
        return None if self.reply_text is None else Reply(text=self.reply_text)

    def seen(self, platform: str, msg_id: str) -> bool:
        self.seen_calls.append((platform, msg_id))
        if (platform, msg_id) in self._done:
            return True
        self._done.add((platform, msg_id))
        return False


async def start(aiohttp_client, recorder: Recorder, corp_id: str = CORP, **kwargs):
    platform = WeComPlatform(
        answer=recorder.answer,
        seen=recorder.seen,
        token=CFG["token"],
        encoding_aes_key=CFG["encoding_aes_key"],
        corp_id=corp_id,
        **kwargs,
    )
    app = web.Application()
    platform.add_routes(app)
    return await aiohttp_client(app), platform


def decrypt_reply(body: str, c: WeComCrypto | None = None) -> dict[str, str]:
    envelope = parse_xml(body)
    plain = (c or crypto()).decrypt(
        envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    return parse_xml(plain)


def signed_post(c: WeComCrypto, plain_xml: str, timestamp: str = "1732783261", nonce: str = "408715530"):
    encrypt_b64, signature = c.encrypt(plain_xml, nonce, timestamp)
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt_b64}]]></Encrypt></xml>"
    return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body


# -- crypto, no HTTP ---------------------------------------------------------


def test_key_derivation_is_lenient_about_unused_bits():
    for case in VEC["key_derivation"]["cases"]:
        key = derive_aes_key(case["encoding_aes_key"])
        assert key.hex() == case["aes_key_hex"]
        assert key[:16].hex() == case["iv_hex"]
    assert derive_aes_key(CFG["encoding_aes_key"]).hex() == CFG["aes_key_hex"]


def test_signature_matches_vector_inputs():
    for m in VEC["inbound_messages"]:
        q = m["request"]["query_params_decoded"]
        assert sha1_signature(CFG["token"], q["timestamp"], q["nonce"], m["encrypt"]) == q["msg_signature"]


def test_inbound_vectors_decrypt_byte_for_byte():
    for m in VEC["inbound_messages"]:
        q = m["request"]["query_params_decoded"]
        encrypt = parse_xml(m["request"]["body"])["Encrypt"]
        assert encrypt == m["encrypt"]
        plain = crypto().decrypt(q["msg_signature"], q["timestamp"], q["nonce"], encrypt)
        assert plain == m["expected_decrypted_xml"], m["id"]


def test_vector_passive_replies_decrypt_to_expected_xml():
    for r in VEC["passive_replies"]:
        envelope = parse_xml(r["response_body"])
        assert envelope["MsgSignature"] == r["msg_signature"]
        plain = crypto().decrypt(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
        assert plain == r["expected_decrypted_xml"], r["id"]


def test_tencent_published_samples_decrypt():
    for case in VEC["tencent_published_samples"]["cases"]:
        c = WeComCrypto(case["token"], case["encoding_aes_key"], case["receiveid_corpid"])
        uv = case["url_verification"]
        assert c.verify_url(uv["msg_signature"], uv["timestamp"], uv["nonce"], uv["echostr"]) == uv["expected_response_body"]
        inbound = case["inbound"]
        encrypt = parse_xml(inbound["body"])["Encrypt"]
        plain = c.decrypt(inbound["msg_signature"], inbound["timestamp"], inbound["nonce"], encrypt)
        assert plain == inbound["expected_decrypted_xml"], case["id"]


def test_negative_cases_rejected_at_their_stage():
    for case in VEC["negative_cases"]:
        q = case["request"]["query_params_decoded"]
        if case["request"]["method"] == "GET":
            encrypt = q["echostr"]
        else:
            encrypt = parse_xml(case["request"]["body"])["Encrypt"]
        c = crypto(case.get("receiver_corpid", CORP))
        with pytest.raises(WeComCryptoError) as info:
            c.decrypt(q["msg_signature"], q["timestamp"], q["nonce"], encrypt)
        assert info.value.stage in case["expected_reject_stage"].split("/"), case["id"]


def test_own_encryption_round_trips_for_every_padding_length():
    c = crypto()
    for n in range(0, 70):  # covers pad values 1..32, including a full 32-byte block
        plain = "<xml>" + "a" * n + "</xml>"
        encrypt_b64, signature = c.encrypt(plain, "123", "1700000000")
        assert c.decrypt(signature, "1700000000", "123", encrypt_b64) == plain


def test_entity_declarations_are_refused():
    bomb = BILLION_LAUGHS + "<xml><Content>&lol9;</Content></xml>"
    with pytest.raises(WeComCryptoError) as info:
        parse_xml(bomb)
    assert info.value.stage == "xml"


# -- HTTP --------------------------------------------------------------------


async def test_url_verification_answers_exactly_the_plaintext(aiohttp_client):
    client, _ = await start(aiohttp_client, Recorder())
    for case in VEC["url_verification"]:
        resp = await client.get("/wecom?" + case["request"]["query_string_percent_encoded"])
        assert resp.status == case["expected_status"]
        assert await resp.read() == case["expected_response_body"].encode("utf-8")
        assert resp.content_type == "text/plain"


async def test_tencent_sample_url_verification_over_http(aiohttp_client):
    for case in VEC["tencent_published_samples"]["cases"]:
        platform = WeComPlatform(
            answer=Recorder().answer,
            seen=Recorder().seen,
            token=case["token"],
            encoding_aes_key=case["encoding_aes_key"],
            corp_id=case["receiveid_corpid"],
        )
        app = web.Application()
        platform.add_routes(app)
        client = await aiohttp_client(app)
        uv = case["url_verification"]
        resp = await client.get("/wecom", params={k: uv[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")})
        assert await resp.read() == uv["expected_response_body"].encode()


async def test_inbound_vectors_become_inbound_and_get_passive_reply(aiohttp_client):
    recorder = Recorder(reply_text="已收到")
    client, _ = await start(aiohttp_client, recorder)
    for m in VEC["inbound_messages"]:
        fields = m.get("expected_fields") or parse_xml(m["expected_decrypted_xml"])
        resp = await client.post(
            "/wecom?" + m["request"]["query_string_percent_encoded"],
            data=m["request"]["body"].encode("utf-8"),
            headers={"Content-Type": "text/xml"},
        )
        assert resp.status == 200, m["id"]
        inbound = recorder.calls[-1]
        assert inbound.platform == "wecom"
        assert inbound.msg_id == fields["MsgId"]
        assert inbound.user_id == fields["FromUserName"]
        assert inbound.text == fields["Content"].strip()
        assert (inbound.chat_type, inbound.chat_id) == ("single", None)
        reply = decrypt_reply(await resp.text())  # our decrypt also checks the signature
        assert reply["ToUserName"] == fields["FromUserName"]
        assert reply["FromUserName"] == CORP
        assert reply["MsgType"] == "text"
        assert reply["Content"] == "已收到"
    assert len(recorder.calls) == len(VEC["inbound_messages"])


async def test_passive_reply_envelope_has_valid_signature(aiohttp_client):
    client, _ = await start(aiohttp_client, Recorder(reply_text="到期任务：\n1. 黑臭水体整治 ]]> <b>&"))
    m = VEC["inbound_messages"][0]
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    envelope = parse_xml(await resp.text())
    assert envelope["Nonce"] == m["request"]["query_params_decoded"]["nonce"]
    assert envelope["MsgSignature"] == sha1_signature(
        CFG["token"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    assert decrypt_reply(await resp.text())["Content"] == "到期任务：\n1. 黑臭水体整治 ]]> <b>&"


async def test_negative_cases_get_4xx_and_nothing_is_processed(aiohttp_client):
    for case in VEC["negative_cases"]:
        recorder = Recorder()
        client, _ = await start(aiohttp_client, recorder, corp_id=case.get("receiver_corpid", CORP))
        q = case["request"]["query_params_decoded"]
        if case["request"]["method"] == "GET":
            resp = await client.get("/wecom", params=q)
        else:
            resp = await client.post("/wecom", params=q, data=case["request"]["body"].encode("utf-8"))
        assert 400 <= resp.status < 500, case["id"]
        assert recorder.calls == [] and recorder.seen_calls == [], case["id"]


async def test_duplicate_msgid_is_answered_once(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder)
    m = VEC["inbound_messages"][1]
    url = "/wecom?" + m["request"]["query_string_percent_encoded"]
    first = await client.post(url, data=m["request"]["body"])
    second = await client.post(url, data=m["request"]["body"])
    assert first.status == second.status == 200
    assert "<Encrypt>" in await first.text()
    assert await second.text() == ""
    assert len(recorder.calls) == 1


async def test_oversized_body_gets_413(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder, max_body_bytes=1024)
    q = VEC["inbound_messages"][2]["request"]["query_params_decoded"]
    resp = await client.post("/wecom", params=q, data=b"<xml>" + b"a" * 2000 + b"</xml>")
    assert resp.status == 413

    async def chunks():  # no Content-Length: the cap applies while reading
        for _ in range(4):
            yield b"a" * 512

    resp = await client.post("/wecom", params=q, data=chunks())
    assert resp.status == 413
    assert recorder.calls == [] and recorder.seen_calls == []


async def test_default_body_cap_accepts_the_2000_char_vector(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder)  # 64 KiB default
    m = VEC["inbound_messages"][2]
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    assert resp.status == 200 and len(recorder.calls) == 1


async def test_entity_bomb_in_envelope_is_rejected(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder)
    q = VEC["inbound_messages"][0]["request"]["query_params_decoded"]
    body = BILLION_LAUGHS + "<xml><ToUserName>x</ToUserName><Encrypt>&lol9;</Encrypt></xml>"
    resp = await client.post("/wecom", params=q, data=body.encode())
    assert resp.status == 400 and await resp.text() == "rejected: xml"
    assert recorder.calls == [] and recorder.seen_calls == []


async def test_entity_bomb_inside_decrypted_xml_is_rejected(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder)
    bomb = (
        BILLION_LAUGHS
        + f"<xml><ToUserName>{CORP}</ToUserName><FromUserName>ZhangWei</FromUserName>"
        "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
    )
    params, body = signed_post(crypto(), bomb)
    resp = await client.post("/wecom", params=params, data=body.encode())
    assert resp.status == 400 and await resp.text() == "rejected: xml"  # signature and AES passed
    assert recorder.calls == [] and recorder.seen_calls == []


async def test_events_are_acknowledged_without_answer(aiohttp_client):
    recorder = Recorder()
    client, _ = await start(aiohttp_client, recorder)
    event = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[ZhangWei]]></FromUserName>"
        "<CreateTime>1732783300</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[enter_agent]]></Event><AgentID>1000002</AgentID></xml>"
    )
    params, body = signed_post(crypto(), event)
    resp = await client.post("/wecom", params=params, data=body.encode())
    assert resp.status == 200 and await resp.text() == ""
    assert recorder.calls == []


async def test_replay_window_refuses_stale_timestamps(aiohttp_client):
    recorder = Recorder()
    m = VEC["inbound_messages"][0]
    stamp = int(m["request"]["query_params_decoded"]["timestamp"])
    client, _ = await start(aiohttp_client, recorder, replay_window=300, now=lambda: stamp + 301)
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    assert resp.status == 403
    assert recorder.calls == [] and recorder.seen_calls == []

    client, _ = await start(aiohttp_client, recorder, replay_window=300, now=lambda: stamp + 299)
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    assert resp.status == 200 and len(recorder.calls) == 1


async def test_missing_query_parameters_get_400(aiohttp_client):
    client, _ = await start(aiohttp_client, Recorder())
    q = dict(VEC["url_verification"][0]["request"]["query_params_decoded"])
    del q["echostr"]
    assert (await client.get("/wecom", params=q)).status == 400
    assert (await client.post("/wecom", data=b"<xml/>")).status == 400


# -- app message API -----------------------------------------------------------


class FakeWeComApi:
    """Implements /cgi-bin/gettoken and /cgi-bin/message/send on 127.0.0.1."""

    def __init__(self, corp_id: str, secret: str):
        self.corp_id, self.secret = corp_id, secret
        self.token_calls = 0
        self.valid_token: str | None = None
        self.sent: list[dict] = []
        self.rejected = 0

    async def gettoken(self, request: web.Request) -> web.Response:
        if request.query.get("corpid") != self.corp_id or request.query.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.token_calls += 1
        self.valid_token = f"token-{self.token_calls}"
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": self.valid_token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self.valid_token:
            self.rejected += 1
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        self.sent.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": str(len(self.sent))})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.send)
        return app


async def test_long_answer_goes_through_app_message_api(aiohttp_client, aiohttp_server):
    api = FakeWeComApi(CORP, "app-secret")
    server = await aiohttp_server(api.app())
    app_client = WeComAppClient(CORP, "app-secret", 1000002, base_url=str(server.make_url("")))
    long_text = "\n".join(f"{i}. 黑臭水体整治任务进展情况说明，请按时报送。" for i in range(150))
    recorder = Recorder(reply_text=long_text)
    client, platform = await start(aiohttp_client, recorder, app_client=app_client)

    m = VEC["inbound_messages"][0]
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    assert resp.status == 200 and await resp.text() == ""  # too long for a passive reply
    await platform.close()

    assert api.token_calls == 1  # fetched once, cached across the parts
    assert len(api.sent) >= 3
    for msg in api.sent:
        assert msg["touser"] == "ZhangWei" and msg["msgtype"] == "text" and msg["agentid"] == 1000002
        assert len(msg["text"]["content"].encode("utf-8")) <= 2048
    assert "\n".join(msg["text"]["content"] for msg in api.sent) == long_text

    # a token is cached; when WeCom invalidates it early (42001): one refresh, then success
    fresh = WeComAppClient(CORP, "app-secret", 1000002, base_url=str(server.make_url("")))
    try:
        await fresh.send_text("ZhangWei", "第一条")
        await fresh.send_text("ZhangWei", "第二条")
        assert api.token_calls == 2 and api.rejected == 0
        api.valid_token = "invalidated-by-server"
        await fresh.send_text("ZhangWei", "第三条")
        assert api.token_calls == 3 and api.rejected == 1
        assert [m["text"]["content"] for m in api.sent[-3:]] == ["第一条", "第二条", "第三条"]
    finally:
        await fresh.close()


async def test_slow_answer_is_pushed_after_an_empty_acknowledgement(aiohttp_client, aiohttp_server):
    api = FakeWeComApi(CORP, "app-secret")
    server = await aiohttp_server(api.app())
    app_client = WeComAppClient(CORP, "app-secret", "1000002", base_url=str(server.make_url("")))
    recorder = Recorder(reply_text="### 即将到期\n**黑臭水体整治**", delay=0.5)
    client, platform = await start(aiohttp_client, recorder, app_client=app_client, reply_timeout=0.1)

    m = VEC["inbound_messages"][0]
    resp = await client.post("/wecom?" + m["request"]["query_string_percent_encoded"], data=m["request"]["body"])
    assert resp.status == 200 and await resp.text() == ""
    assert api.sent == []
    await platform.close()
    assert [msg["text"]["content"] for msg in api.sent] == ["即将到期\n黑臭水体整治"]
    assert len(recorder.calls) == 1
