"""Reminder cards with buttons on the seed plan: a digest goes out as a DingTalk interactive card
(createAndDeliver, STREAM callback) or a WeCom template_card; a click is an action by the clicking person —
checked against the roster and the task's units by the same 申请销号 path as chat (knowledge.review), recorded
in the audit log, answered on the card; a repeated click changes nothing; a closed task says so."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from conftest import SEED_TXT
from test_aibot import AES_KEY, TOKEN, decrypt_reply
from test_stream import CLIENT_ID, CLIENT_SECRET, FakeGateway, Pauses

from bot.channels.base import OutMessage
from bot.conversation import Conversation, Turn
from bot.ingest_cli import ingest_one
from bot.platforms.base import Reply
from bot.platforms.cards import Click, act, buttons_for, digest_tasks
from bot.platforms.dingtalk import DingTalkPlatform
from bot.platforms.dingtalk.cards import CardClicks
from bot.platforms.dingtalk.stream import DingTalkStreamClient
from bot.platforms.reconnect import Backoff
from bot.platforms.registry import channel_from_config
from bot.platforms.wecom import WeComPlatform
from bot.platforms.wecom.aibot import AibotBot
from bot.platforms.wecom.aibot_http import AibotCallback
from bot.platforms.wecom.cards import template_card
from bot.platforms.wecom.crypto import WeComCrypto, parse_xml
from bot.reminders import plan_day
from bot.workdays import WorkCalendar
from knowledge import people
from knowledge.db import open_db
from parser.units import UnitDirectory

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 12, 1, 10, 0, tzinfo=TZ)
ROSTER = [
    {"name": "张三", "dingtalk_id": "sy", "wecom_id": "sy-wx", "unit": "邵阳县", "role": "联络员"},  # 13: 主体责任单位
    {"name": "钱七", "dingtalk_id": "eco", "unit": "市生态环境局", "role": "联络员"},  # 13: 配合单位 only
    {"name": "孙八", "dingtalk_id": "db", "unit": "市委督查室", "role": "督办"},
]


@pytest.fixture
def conv(tmp_path):
    db = open_db(tmp_path / "duban.db")
    ingest_one(SEED_TXT, db, UnitDirectory.load())
    people.replace_roster(db, ROSTER)
    return Conversation(db, UnitDirectory.load(), today=lambda: NOW.date(), now=lambda: NOW)


def digest_of(conv, unit: str) -> OutMessage:
    d = next(d for d in plan_day(conv.db, date(2021, 12, 1), WorkCalendar()).digests if d.unit == unit)
    return OutMessage(title=f"督办提醒：{unit}", markdown=d.body(date(2021, 12, 1)), kind="reminder", ref="7")


def reviews(conv) -> list[tuple]:
    return conv.db.execute("SELECT kind, unit, user_id, status FROM reviews ORDER BY id").fetchall()


def test_a_click_is_the_clicking_persons_application_checked_like_chat(conv):
    click = Click("dingtalk", "sy", "close", "13")
    assert act(conv, click).startswith("已提交销号申请，待督办办审核：第13项")
    assert "已有待审核的销号申请" in act(conv, click)  # a repeated click changes nothing
    assert reviews(conv) == [("close", "邵阳县", "sy", "pending")]
    assert "不在花名册" in act(conv, Click("dingtalk", "stranger", "close", "13"))
    assert "不是第13项的牵头单位或主体责任单位" in act(conv, Click("dingtalk", "eco", "close", "13"))
    assert reviews(conv) == [("close", "邵阳县", "sy", "pending")]
    audit = conv.db.execute("SELECT user_id, allowed FROM audit WHERE action LIKE '%销号%' ORDER BY id").fetchall()
    assert ("sy", 1) in audit and ("eco", 0) in audit
    conv.handle(Turn("dingtalk", "db", "审核通过 13"))
    assert "已经销号" in act(conv, click)  # a click on a card of a closed task says so
    assert "申请延期 13" in act(conv, Click("dingtalk", "sy", "extend", "13"))  # a date is needed: say how


def test_a_click_on_a_withdrawn_task_says_so(conv):
    conv.db.execute("UPDATE tasks SET status = 'withdrawn' WHERE section = 'list' AND number = '13'")  # as a new
    conv.db.conn.commit()  # version that drops it leaves it
    assert "已不在现行方案中（已撤销）" in act(conv, Click("dingtalk", "sy", "close", "13"))
    assert reviews(conv) == []


def test_the_digest_card_carries_buttons_for_its_tasks(conv):
    msg = digest_of(conv, "邵阳县")
    tasks = digest_tasks(msg.markdown)
    assert "13" in tasks and "2" in tasks
    card = template_card(msg, "https://duban.example.gov.cn/", now=lambda: 1767225600)
    assert card["card_type"] == "button_interaction" and card["task_id"] == "duban_7_1767225600"
    assert [b["key"] for b in card["button_list"]] == [k for _, k, _ in buttons_for(tasks)]
    assert len(card["button_list"]) <= 6 and len(card["sub_title_text"]) <= 112
    assert card["card_action"] == {"type": 1, "url": "https://duban.example.gov.cn/tasks"}
    assert template_card(OutMessage("t", msg.markdown), None) is None  # not a digest: stays text


async def test_dingtalk_digest_card_and_click_over_stream(conv):
    gw = await FakeGateway(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    robot = DingTalkPlatform(answer=lambda i: Reply("x"), seen=lambda p, m: False, app_secret=CLIENT_SECRET)
    client = DingTalkStreamClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, robot=robot, api_base=gw.base_url,
                                  on_card=CardClicks(conv).on_click, backoff=Backoff(sleep=Pauses()))
    task = asyncio.create_task(client.run())
    try:
        async with aiohttp.ClientSession() as session:
            channel = channel_from_config({"kind": "dingtalk_app", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                           "api_base": gw.base_url, "open_conversation_id": "cidGroup==",
                                           "card_template_id": "tpl.schema"}, session)
            assert (await channel.send(digest_of(conv, "邵阳县"))).ok
        method, path, _, body = gw.openapi_calls[-1]
        assert (method, path) == ("POST", "/v1.0/card/instances/createAndDeliver")
        assert body["callbackType"] == "STREAM" and body["openSpaceId"] == "dtv1.card//IM_GROUP.cidGroup=="
        assert body["cardTemplateId"] == "tpl.schema" and body["outTrackId"].startswith("duban-7-")
        assert "13" in json.loads(body["cardData"]["cardParamMap"]["tasks"])
        ws = await gw.wait_connection()

        async def click(user: str, mid: str) -> str:
            content = json.dumps({"cardPrivateData": {"actionIds": ["close"], "params": {"action": "close", "task": "13"}}})
            data = {"outTrackId": body["outTrackId"], "userId": user, "type": "actionCallback", "spaceType": "IM_GROUP",
                    "spaceId": "cidGroup==", "content": content}
            ack = await gw.send_and_wait_ack(ws, gw.card_callback_frame(data, mid))
            assert ack["code"] == 200
            return json.loads(ack["data"])["response"]["cardData"]["cardParamMap"]["status"]

        assert (await click("sy", "c1")).startswith("已提交销号申请，待督办办审核")
        assert "已有待审核" in await click("sy", "c2")
        assert "不在花名册" in await click("nobody", "c3")
        assert reviews(conv) == [("close", "邵阳县", "sy", "pending")]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await gw.stop()


async def test_wecom_app_card_click_updates_the_button(conv, aiohttp_client):
    corp = "wx5823bf96d3bd56c7"
    crypto = WeComCrypto(TOKEN, AES_KEY, corp)
    platform = WeComPlatform(answer=lambda i: None, seen=lambda p, m: False, token=TOKEN, encoding_aes_key=AES_KEY,
                             corp_id=corp, on_card=lambda c: act(conv, c))
    app = web.Application()
    platform.add_routes(app)
    client = await aiohttp_client(app)

    async def click(user: str, code: str) -> str:
        plain = (f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                 "<CreateTime>1767225700</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                 "<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[duban:close:13]]></EventKey>"
                 f"<TaskId><![CDATA[duban_7_1]]></TaskId><ResponseCode><![CDATA[{code}]]></ResponseCode></xml>")
        encrypt, sig = crypto.encrypt(plain, "n1", "1767225700")
        resp = await client.post("/wecom", params={"msg_signature": sig, "timestamp": "1767225700", "nonce": "n1"},
                                 data=f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
        env = parse_xml(await resp.text())
        plain_reply = crypto.decrypt(env["MsgSignature"], env["TimeStamp"], env["Nonce"], env["Encrypt"])
        reply = parse_xml(plain_reply)
        assert reply["MsgType"] == "update_button" and reply["ToUserName"] == user
        return plain_reply  # <Button><ReplaceName>…</ReplaceName></Button>

    assert "已申请销号，待审核" in await click("sy-wx", "RC1")
    assert "已有待审核申请" in await click("sy-wx", "RC2")
    assert reviews(conv) == [("close", "邵阳县", "sy-wx", "pending")]


async def test_wecom_aibot_card_click_updates_the_card(conv, aiohttp_client):
    bot = AibotBot(answer=lambda i: None, seen=lambda p, m: False, now=lambda: 1767225604, conversation=conv)
    app = web.Application()
    AibotCallback(bot, token=TOKEN, encoding_aes_key=AES_KEY).add_routes(app)
    client = await aiohttp_client(app)
    plain = json.dumps({"msgid": "ev1", "chatid": "wrG", "chattype": "group", "from": {"userid": "sy-wx"},
                        "msgtype": "event", "event": {"eventtype": "template_card_event", "template_card_event": {
                            "card_type": "button_interaction", "event_key": "duban:close:13", "task_id": "duban_7_1"}}})
    encrypt, sig = WeComCrypto(TOKEN, AES_KEY, "").encrypt(plain, "n", "1767225604")
    resp = await client.post("/wecom/aibot", params={"msg_signature": sig, "timestamp": "1767225604", "nonce": "n"},
                             data=json.dumps({"encrypt": encrypt}))
    update = decrypt_reply(await resp.json())
    assert update["response_type"] == "update_template_card"
    assert update["template_card"]["task_id"] == "duban_7_1"
    assert update["template_card"]["main_title"]["desc"].startswith("已提交销号申请，待督办办审核")
    assert reviews(conv) == [("close", "邵阳县", "sy-wx", "pending")]
