"""WeCom 智能机器人, HTTP callback mode: every vector in wecom_aibot_callback_vectors.json (decrypt, verify,
encrypt byte for byte with the given random prefix), the /wecom/aibot route on 127.0.0.1 (URL verification,
@-mention stripped, group and single chats, de-dup by msgid, stream first frame and refreshes), and group →
unit binding through the real server with the roster, as in DingTalk."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from bot.platforms.base import Reply
from bot.platforms.wecom.aibot import AibotBot, parse_message, strip_mention
from bot.platforms.wecom.aibot_http import AibotCallback
from bot.platforms.wecom.crypto import WeComCrypto, sha1_signature
from bot.settings import Settings

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "shared" / "vectors" / "stream_aibot_cards"
                      / "wecom_aibot_callback_vectors.json").read_text("utf-8"))
TOKEN, AES_KEY = VECTORS["token"], VECTORS["encoding_aes_key"]
CASES = {c["name"]: c for c in VECTORS["cases"]}
ENCRYPTED = [c for c in VECTORS["cases"] if "encrypt" in c]


def crypto() -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, VECTORS["receiveid"])


@pytest.mark.parametrize("case", ENCRYPTED, ids=[c["name"] for c in ENCRYPTED])
def test_every_vector_decrypts_verifies_and_encrypts_byte_for_byte(case):
    c = crypto()
    assert sha1_signature(TOKEN, case["timestamp"], case["nonce"], case["encrypt"]) == case["msg_signature"]
    assert c.decrypt(case["msg_signature"], case["timestamp"], case["nonce"], case["encrypt"]) == case["plaintext"]
    encrypt, signature = c.encrypt(case["plaintext"], case["nonce"], case["timestamp"],
                                   case["random16_ascii"].encode("ascii"))
    assert (encrypt, signature) == (case["encrypt"], case["msg_signature"])


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "response_body_official_lib_form" in c])
def test_reply_envelopes_match_the_official_library_form(name):
    case = CASES[name]
    callback = AibotCallback(bot(), token=TOKEN, encoding_aes_key=AES_KEY,
                             random16=case["random16_ascii"].encode("ascii"))
    reply = json.loads(case["plaintext"])
    assert json.dumps(reply, ensure_ascii=False, separators=(",", ":")) == case["plaintext"]  # our serialisation
    assert callback.envelope(reply, case["nonce"], case["timestamp"]) == case["response_body_official_lib_form"]


def test_messages_parse_with_the_mention_stripped():
    text = parse_message(json.loads(CASES["text_group_at"]["plaintext"]))
    assert (text.user_id, text.chat_id, text.chat_type) == ("zhangsan", "wrTEST_group_chatid", "group")
    assert strip_mention(text.text, "提醒助手") == "明天9点提醒我交周报"
    assert strip_mention(text.text) == "明天9点提醒我交周报"  # name unknown: the leading mention goes anyway
    mixed = parse_message(json.loads(CASES["mixed_group_at"]["plaintext"]))
    assert strip_mention(mixed.text) == "这张图里的会议帮我设个提醒"
    card = parse_message(json.loads(CASES["template_card_event_button_click"]["plaintext"]))
    assert (card.event_type, card.event_key, card.card_task_id) == \
        ("template_card_event", "reminder_done", "reminder_42_1767225600")
    flat = parse_message({"msgtype": "event", "event": {"eventtype": "template_card_event", "event_key": "k",
                                                         "task_id": "t"}})
    assert (flat.event_key, flat.card_task_id) == ("k", "t")  # the other nesting seen in an SDK example


# ---- the route, on 127.0.0.1 ---------------------------------------------------------------------


class Answers:
    def __init__(self, delay: float = 0.0):
        self.delay, self.seen_ids, self.inbounds = delay, set(), []

    def seen(self, platform, msg_id):
        new = (platform, msg_id) not in self.seen_ids
        self.seen_ids.add((platform, msg_id))
        return not new

    async def answer(self, inbound):
        self.inbounds.append(inbound)
        await asyncio.sleep(self.delay)
        return Reply(f"收到：{inbound.text}")


def bot(answers: Answers | None = None, **kw) -> AibotBot:
    answers = answers or Answers()
    return AibotBot(answer=answers.answer, seen=answers.seen, now=lambda: 1767225601, **kw)


async def client_for(aiohttp_client, answers: Answers, first_wait: float = 1.0):
    app = web.Application()
    AibotCallback(bot(answers, bot_name="提醒助手", first_wait=first_wait), token=TOKEN,
                  encoding_aes_key=AES_KEY).add_routes(app)
    return await aiohttp_client(app)


def decrypt_reply(body: dict) -> dict:
    plain = crypto().decrypt(body["msgsignature"], str(body["timestamp"]), body["nonce"], body["encrypt"])
    return json.loads(plain)


async def post_case(client, case: dict, body: str | None = None):
    return await client.post("/wecom/aibot", params=case["request"]["query"], data=body or case["request"]["body"],
                             headers={"Content-Type": "application/json"})


async def test_url_verification_answers_the_plain_echostr(aiohttp_client):
    client = await client_for(aiohttp_client, Answers())
    case = CASES["url_verification_get"]
    resp = await client.get(f"/wecom/aibot?{case['request']['query_string']}")
    assert resp.status == 200 and await resp.text() == case["expected_response"]["body"]
    bad = dict(case["request"]["query"], msg_signature="0" * 40)
    assert (await client.get("/wecom/aibot", params=bad)).status == 403


async def test_a_group_at_message_is_answered_in_one_finished_stream_frame(aiohttp_client):
    answers = Answers()
    client = await client_for(aiohttp_client, answers)
    resp = await post_case(client, CASES["text_group_at"])
    assert resp.status == 200
    body = await resp.json()
    assert body["nonce"] == "556677" and body["timestamp"] == "1767225601"
    reply = decrypt_reply(body)
    assert reply["msgtype"] == "stream" and reply["stream"]["finish"] is True
    assert reply["stream"]["content"] == "收到：明天9点提醒我交周报"
    inbound = answers.inbounds[0]
    assert (inbound.platform, inbound.user_id, inbound.chat_id, inbound.chat_type) == \
        ("wecom", "zhangsan", "wrTEST_group_chatid", "group")
    again = await post_case(client, CASES["text_group_at"])  # WeCom's retry of the same msgid
    assert again.status == 200 and await again.text() == "" and len(answers.inbounds) == 1


async def test_a_slow_answer_streams_then_finishes_on_a_refresh(aiohttp_client):
    answers = Answers(delay=0.3)
    client = await client_for(aiohttp_client, answers, first_wait=0.05)
    first = decrypt_reply(await (await post_case(client, CASES["mixed_group_at"])).json())
    assert first["stream"]["finish"] is False and first["stream"]["content"]
    stream_id = first["stream"]["id"]
    c = crypto()
    refresh = json.dumps({"msgid": "r1", "msgtype": "stream", "stream": {"id": stream_id},
                          "from": {"userid": "zhangsan"}, "chattype": "group", "chatid": "wrTEST_group_chatid"})
    encrypt, sig = c.encrypt(refresh, "n1", "1767225601")
    query = {"msg_signature": sig, "timestamp": "1767225601", "nonce": "n1"}
    frames = []
    for _ in range(50):
        resp = await client.post("/wecom/aibot", params=query, data=json.dumps({"encrypt": encrypt}))
        frames.append(decrypt_reply(await resp.json())["stream"])
        if frames[-1]["finish"]:
            break
        await asyncio.sleep(0.05)
    assert frames[-1] == {"id": stream_id, "finish": True, "content": "收到：这张图里的会议帮我设个提醒"}
    assert all(f["id"] == stream_id for f in frames)


async def test_a_forged_or_unreadable_body_is_refused(aiohttp_client):
    client = await client_for(aiohttp_client, Answers())
    case = CASES["text_group_at"]
    forged = dict(case["request"]["query"], msg_signature="a" * 40)
    assert (await client.post("/wecom/aibot", params=forged, data=case["request"]["body"])).status == 403
    assert (await post_case(client, case, body="not json")).status == 400
    big = json.dumps({"encrypt": "A" * 70_000})
    assert (await post_case(client, case, body=big)).status == 413


async def test_a_click_on_someone_elses_card_changes_nothing(aiohttp_client):
    client = await client_for(aiohttp_client, Answers())
    resp = await post_case(client, CASES["template_card_event_button_click"])  # key "reminder_done": not ours
    assert resp.status == 200 and await resp.text() == ""


# ---- through the real server: roster, group binding ------------------------------------------------


async def test_binding_a_wecom_group_to_a_unit_as_in_dingtalk(aiohttp_client, tmp_path):
    from bot.serve_cli import load_example_if_empty
    from bot.server import create_app, make_conversation
    from knowledge import people

    settings = Settings(db=str(tmp_path / "duban.db"), reminders_enabled=False, replay_window=0, today="2026-06-01")
    settings.wecom_aibot_token, settings.wecom_aibot_aes_key = TOKEN, AES_KEY  # the wecom package's own settings
    settings.wecom_aibot_name = "督办助手"
    conv = make_conversation(settings)
    load_example_if_empty(conv.db, conv.directory)
    people.replace_roster(conv.db, [{"name": "李娜", "unit": "市生态环境局", "role": "联络员", "wecom_id": "lina"}])
    client = await aiohttp_client(create_app(settings, conv, platform_clock=lambda: 1767225601))

    async def say(user: str, text: str, msgid: str) -> str:
        plain = json.dumps({"msgid": msgid, "aibotid": "aib_TEST_0001", "chatid": "wrGroup1", "chattype": "group",
                            "from": {"userid": user}, "msgtype": "text", "text": {"content": f"@督办助手 {text}"}},
                           ensure_ascii=False)
        encrypt, sig = crypto().encrypt(plain, "n", "1767225601")
        resp = await client.post("/wecom/aibot", params={"msg_signature": sig, "timestamp": "1767225601", "nonce": "n"},
                                 data=json.dumps({"encrypt": encrypt}))
        return decrypt_reply(await resp.json())["stream"]["content"]

    assert "不在花名册" in await say("stranger", "绑定 市生态环境局", "m1")
    assert "已绑定：本群 → 市生态环境局" in await say("lina", "绑定 市生态环境局", "m2")
    answer = await say("stranger", "我单位哪些任务即将到期", "m3")  # the group's unit answers for anyone in it
    assert "市生态环境局" in answer and "还不知道您是哪个单位" not in answer
    audit = conv.db.execute("SELECT platform, user_id, action, allowed FROM audit ORDER BY id").fetchall()
    assert audit == [("wecom", "stranger", "绑定", 0), ("wecom", "lina", "绑定", 1)]
