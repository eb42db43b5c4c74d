"""The real duban app (create_app) on 127.0.0.1: signed DingTalk and encrypted WeCom messages in,
answers from the seed plan out; forged, stale, duplicate, oversized and hostile requests refused."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

from fakes import session_webhook_server

from bot.platforms.dingtalk.sign import sign
from bot.platforms.wecom.crypto import WeComCrypto, parse_xml
from bot.server import create_app, make_conversation
from bot.settings import Settings
from knowledge import people
from knowledge.db import open_db
from knowledge.deliveries import claim_delivery, log_path
from knowledge.ingest import ingest_plan, sha256_of
from parser.plan import parse_document
from conftest import copy_store

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
DT = json.loads((SHARED / "vectors" / "dingtalk_inbound.json").read_text(encoding="utf-8"))
WC = json.loads((SHARED / "vectors" / "wecom_crypto.json").read_text(encoding="utf-8"))
WEBHOOK_PREFIX = "https://oapi.dingtalk.com/robot/sendBySession"


@pytest.fixture(scope="module")
def seed_db_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "seed.db"
    db = open_db(path)
    data = SEED.read_bytes()
    ingest_plan(db, parse_document(data, SEED.name), sha256_of(data))
    db.conn.close()
    return path


@pytest.fixture
def db_path(seed_db_file, tmp_path):
    path = tmp_path / "duban.db"
    copy_store(seed_db_file, path)
    return path


@pytest.fixture
async def session_webhook(aiohttp_server):
    return await session_webhook_server(aiohttp_server)


def settings_for(db_path, **kw) -> Settings:
    s = Settings(db=str(db_path), today="2021-12-01", replay_window=0, reminders_enabled=False,
                 dingtalk_app_secret=DT["app_secret"], dingtalk_bot_name="整改助手",
                 wecom_token=WC["config"]["token"], wecom_aes_key=WC["config"]["encoding_aes_key"],
                 wecom_corp_id=WC["config"]["receiveid_corpid"])
    for k, v in kw.items():
        setattr(s, k, v)
    return s


async def start(aiohttp_client, settings, now_s: float):
    conv = make_conversation(settings)
    client = await aiohttp_client(create_app(settings, conv, platform_clock=lambda: now_s))
    return client, conv


def dingtalk_body(case: dict, webhook_base: str, **changes) -> bytes:
    body = json.loads(case["request"]["body_raw_utf8"].replace(WEBHOOK_PREFIX, webhook_base))
    body.update(changes)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def case(name: str) -> dict:
    return next(c for c in DT["requests"] if c["id"] == name)


def receiver_now(c: dict) -> float:
    return c["expected"]["signature_valid_at_receiver_now_ms"] / 1000


async def post_dingtalk(client, c, body: bytes, headers: dict | None = None):
    return await client.post("/dingtalk", data=body, headers=headers or dict(c["request"]["headers"]))


def add_roster(db_path, **person):
    db = open_db(db_path)
    people.replace_roster(db, [{"name": "张伟", "unit": "邵阳县", "role": "联络员", **person}])
    db.conn.close()


async def test_unbound_dingtalk_asker_is_told_how_to_bind(aiohttp_client, db_path, session_webhook):
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path, dingtalk_session_hosts=[session_webhook.host]),
                            receiver_now(c))
    resp = await post_dingtalk(client, c, dingtalk_body(c, session_webhook.base))
    assert resp.status == 200
    await asyncio.wait_for(session_webhook.got.wait(), 5)
    reply = session_webhook.posts[0][1]
    assert "绑定" in reply["markdown"]["text"]
    assert reply["at"]["atUserIds"] == c["expected"]["reply_at_user_ids"]


async def test_rostered_dingtalk_asker_gets_their_units_deadlines(aiohttp_client, db_path, session_webhook):
    c = case("group_at_bot_leading_space")
    add_roster(db_path, dingtalk_id=c["request"]["body_json"]["senderStaffId"])
    client, _ = await start(aiohttp_client, settings_for(db_path, dingtalk_session_hosts=[session_webhook.host]),
                            receiver_now(c))
    resp = await post_dingtalk(client, c, dingtalk_body(c, session_webhook.base))
    assert resp.status == 200
    await asyncio.wait_for(session_webhook.got.wait(), 5)
    text = session_webhook.posts[0][1]["markdown"]["text"]
    # 邵阳县 as of 2021-12-01: list-8's county-bound item due 12-31 is listed; list-13's 2021-09-30 item,
    # overdue, is counted after the window asked about
    assert "邵阳县" in text and "第8项" in text and "另有1项已逾期" in text
    assert text.index("第8项") < text.index("已逾期")


async def test_redelivered_dingtalk_message_is_answered_once(aiohttp_client, db_path, session_webhook):
    c = case("group_at_bot_leading_space")
    client, conv = await start(aiohttp_client, settings_for(db_path, dingtalk_session_hosts=[session_webhook.host]),
                               receiver_now(c))
    body = dingtalk_body(c, session_webhook.base)
    for _ in range(3):
        assert (await post_dingtalk(client, c, body)).status == 200
    await asyncio.wait_for(session_webhook.got.wait(), 5)
    await asyncio.sleep(0.2)
    assert len(session_webhook.posts) == 1
    # persisted: a new process on the same store still knows the message id
    assert claim_delivery(open_db(db_path), "dingtalk", c["expected"]["dedup_key"], conv.now()) == "duplicate"


async def test_forged_or_stale_dingtalk_requests_are_refused(aiohttp_client, db_path, session_webhook):
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path, replay_window=3600,
                                                          dingtalk_session_hosts=[session_webhook.host]),
                            receiver_now(c))
    body = dingtalk_body(c, session_webhook.base)
    headers = dict(c["request"]["headers"])
    forged = {**headers, "sign": sign("not the secret", int(headers["timestamp"]))}
    assert (await post_dingtalk(client, c, body, forged)).status in (401, 403)
    stale_ts = int(headers["timestamp"]) - 2 * 3600 * 1000
    stale = {**headers, "timestamp": str(stale_ts), "sign": sign(DT["app_secret"], stale_ts)}
    assert (await post_dingtalk(client, c, body, stale)).status in (401, 403)
    assert (await client.post("/dingtalk", data=body)).status in (400, 401, 403)
    big = dingtalk_body(c, session_webhook.base, text={"content": "我" * 70000})
    assert (await post_dingtalk(client, c, big)).status == 413
    await asyncio.sleep(0.2)
    assert session_webhook.posts == []
    assert sqlite3.connect(log_path(db_path)).execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


async def test_session_webhook_off_allowlist_is_never_called(aiohttp_client, db_path, session_webhook):
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path), receiver_now(c))  # default hosts only
    assert (await post_dingtalk(client, c, dingtalk_body(c, session_webhook.base))).status == 200
    await asyncio.sleep(0.3)
    assert session_webhook.posts == []


def wecom_vector(name: str) -> dict:
    return next(v for v in WC["inbound_messages"] if v["id"] == name)


def wecom_crypto() -> WeComCrypto:
    cfg = WC["config"]
    return WeComCrypto(cfg["token"], cfg["encoding_aes_key"], cfg["receiveid_corpid"])


async def post_wecom(client, v: dict):
    return await client.post("/wecom?" + v["request"]["query_string_percent_encoded"],
                             data=v["request"]["body"].encode("utf-8"), headers={"Content-Type": "text/xml"})


def decrypt_reply(body: str) -> dict:
    outer = parse_xml(body)
    plain = wecom_crypto().decrypt(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return parse_xml(plain)


async def test_wecom_url_verification_answers_the_plain_echostr(aiohttp_client, db_path):
    v = WC["url_verification"][0]
    client, _ = await start(aiohttp_client, settings_for(db_path), time.time())
    resp = await client.get("/wecom?" + v["request"]["query_string_percent_encoded"])
    assert resp.status == 200
    assert await resp.text() == v["expected_response_body"]


async def test_wecom_question_gets_an_encrypted_passive_reply(aiohttp_client, db_path):
    v = wecom_vector("text_tasks_due")
    user = v["expected_fields"]["FromUserName"]
    add_roster(db_path, wecom_id=user)
    client, _ = await start(aiohttp_client, settings_for(db_path), int(v["request"]["query_params_decoded"]["timestamp"]))
    resp = await post_wecom(client, v)
    assert resp.status == 200
    reply = decrypt_reply(await resp.text())
    assert reply["ToUserName"] == user and reply["MsgType"] == "text"
    assert "邵阳县" in reply["Content"] and "第13项" in reply["Content"]
    again = await post_wecom(client, v)  # WeCom retries the same MsgId: answered once
    assert again.status == 200 and "Encrypt" not in await again.text()


async def test_wecom_bind_is_checked_against_the_roster(aiohttp_client, db_path):
    v = wecom_vector("text_bind_org_with_space")  # 绑定 市生态环境局
    user = v["expected_fields"]["FromUserName"]
    add_roster(db_path, wecom_id=user)  # the roster says 邵阳县
    client, _ = await start(aiohttp_client, settings_for(db_path), int(v["request"]["query_params_decoded"]["timestamp"]))
    reply = decrypt_reply(await (await post_wecom(client, v)).text())
    assert "不能绑定" in reply["Content"] and "邵阳县" in reply["Content"]
    db = open_db(db_path)
    assert db.execute("SELECT allowed FROM audit WHERE action='绑定'").fetchall() == [(0,)]
    assert people.bound_unit(db, "wecom", "user", user) is None


async def test_wecom_entity_bomb_and_forged_signature_are_refused(aiohttp_client, db_path):
    v = wecom_vector("text_tasks_due")
    client, _ = await start(aiohttp_client, settings_for(db_path), time.time())
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            '<xml><ToUserName>&b;</ToUserName><Encrypt>x</Encrypt></xml>')
    q = v["request"]["query_string_percent_encoded"]
    resp = await client.post("/wecom?" + q, data=bomb.encode(), headers={"Content-Type": "text/xml"})
    assert 400 <= resp.status < 500
    forged = q.replace(v["request"]["query_params_decoded"]["msg_signature"], "0" * 40)
    resp = await client.post("/wecom?" + forged, data=v["request"]["body"].encode())
    assert 400 <= resp.status < 500
    assert sqlite3.connect(log_path(db_path)).execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


async def test_platform_without_secrets_answers_404(aiohttp_client, db_path):
    s = settings_for(db_path, dingtalk_app_secret=None, wecom_token=None)
    client, _ = await start(aiohttp_client, s, time.time())
    assert (await client.post("/dingtalk", data=b"{}")).status == 404
    assert (await client.get("/wecom")).status == 404
    health = await (await client.get("/healthz")).json()
    assert health["status"] == "ok" and health["tasks"] == 38


async def test_a_replayed_dingtalk_header_cannot_carry_a_new_message(aiohttp_client, db_path, session_webhook):
    """The signature covers only the timestamp: a captured header with a forged body (another msgId,
    another sender) is refused, while DingTalk's own retry of the same message is acknowledged."""
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path, dingtalk_session_hosts=[session_webhook.host]),
                            receiver_now(c))
    assert (await post_dingtalk(client, c, dingtalk_body(c, session_webhook.base))).status == 200
    forged = dingtalk_body(c, session_webhook.base, msgId="forged-1", senderStaffId="admin01", text={"content": "销号 13"})
    assert (await post_dingtalk(client, c, forged)).status == 403
    assert (await post_dingtalk(client, c, dingtalk_body(c, session_webhook.base))).status == 200  # a retry
    await asyncio.wait_for(session_webhook.got.wait(), 5)
    await asyncio.sleep(0.2)
    assert len(session_webhook.posts) == 1


async def test_the_server_answers_from_what_another_process_just_changed(aiohttp_client, db_path):
    """Answers and askers' units are kept between messages, and dropped as soon as the store changes,
    also when another process (the command line) changed it."""
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path, dingtalk_reply_in_response=True),
                            receiver_now(c))
    ts = int(c["request"]["headers"]["timestamp"])

    async def ask(n: int) -> str:
        headers = {**c["request"]["headers"], "timestamp": str(ts + n), "sign": sign(DT["app_secret"], ts + n)}
        resp = await post_dingtalk(client, c, dingtalk_body(c, "http://127.0.0.1:9", msgId=f"again-{n}"), headers)
        assert resp.status == 200
        return (await resp.json())["markdown"]["text"]

    assert "绑定" in await ask(1) and "绑定" in await ask(2)
    add_roster(db_path, dingtalk_id=c["request"]["body_json"]["senderStaffId"])  # its own connection
    assert "**邵阳县**" in await ask(3)
    add_roster(db_path, unit="市生态环境局", dingtalk_id=c["request"]["body_json"]["senderStaffId"])
    assert "**市生态环境局**" in await ask(4)
