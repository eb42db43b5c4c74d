"""Outbound push channels against fake DingTalk / WeCom servers on 127.0.0.1.

The fakes check what the real platforms check (加签 and its 1-hour window,
tokens and keys, payload shape, byte limits, 20/min per robot) and answer
with the platforms' error codes, so each test proves one classification.
"""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from fakes import (  # shared with the reminder tests
    AGENT_ID,
    CORP_ID,
    CORP_SECRET,
    DT_SECRET,
    DT_TOKEN,
    WX_KEY,
    Clock,
    FakeDingTalk,
    FakeWeComApp,
    FakeWeComRobot,
    serve,
)

from bot.channels import ChannelConfigError, OutMessage, RateLimiter
from bot.platforms.registry import channel_from_config
from bot.channels.console import ConsoleChannel
from bot.platforms.dingtalk.robot_channel import BODY_LIMIT_BYTES, TRUNCATED_NOTICE, DingTalkRobotChannel, build_body
from bot.platforms.wecom.app_channel import markdown_to_text
from bot.platforms.wecom.robot_channel import MARKDOWN_LIMIT_BYTES

SHARED = Path(__file__).resolve().parents[2] / "shared"
SIGN_VECTORS = json.loads((SHARED / "vectors" / "dingtalk_sign.json").read_text(encoding="utf-8"))[
    "custom_robot_url_signing"
]["sign_vectors"]

DIGEST = OutMessage(
    title="今日到期提醒",
    markdown="### 今日到期 2 项\n\n- 黑臭水体整治（区生态环境局）\n- 老旧小区改造（区住建局）",
    at_mobiles=["13800001111"],
)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def dingtalk_channel(aiohttp_server, session, fake: FakeDingTalk, secret=DT_SECRET, **kw):
    server = await serve(aiohttp_server, [("POST", "/robot/send", fake.handle)])
    cfg = {"kind": "dingtalk_robot", "webhook_url": str(server.make_url(f"/robot/send?access_token={DT_TOKEN}")), **kw}
    if secret:
        cfg["secret"] = secret
    return channel_from_config(cfg, session)


async def wecom_robot_channel(aiohttp_server, session, fake: FakeWeComRobot, key=WX_KEY, **kw):
    server = await serve(aiohttp_server, [("POST", "/cgi-bin/webhook/send", fake.handle)])
    base = str(server.make_url("")).rstrip("/")
    return channel_from_config({"kind": "wecom_robot", "key": key, "api_base": base, **kw}, session)


async def wecom_app_channel(aiohttp_server, session, fake: FakeWeComApp, secret=CORP_SECRET, **kw):
    server = await serve(
        aiohttp_server, [("GET", "/cgi-bin/gettoken", fake.gettoken), ("POST", "/cgi-bin/message/send", fake.send)]
    )
    cfg = {"kind": "wecom_app", "corp_id": CORP_ID, "secret": secret, "agent_id": str(AGENT_ID),
           "api_base": str(server.make_url("")).rstrip("/"), **kw}
    return channel_from_config(cfg, session)


def assert_no_secrets(text: str) -> None:
    for secret in (DT_TOKEN, DT_SECRET, WX_KEY, CORP_SECRET, "TOKEN1", "access_token=", "key="):
        assert secret not in text


# ---- DingTalk custom group robot ----------------------------------------------


@pytest.mark.parametrize("vector", SIGN_VECTORS, ids=[v["id"] for v in SIGN_VECTORS])
def test_dingtalk_signed_url_matches_vectors(vector):
    webhook = f"https://oapi.dingtalk.com/robot/send?access_token={vector['access_token']}"
    channel = DingTalkRobotChannel(webhook, None, secret=vector["secret"])
    assert channel.signed_url(vector["timestamp"]) == vector["expected_url"]


async def test_dingtalk_signed_markdown_is_sent_with_mobile_mentions_in_text(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    outcome = await channel.send(DIGEST)
    assert (outcome.status, outcome.retry_after) == ("sent", None)
    body = fake.received[0]
    assert body["markdown"]["title"] == "今日到期提醒"
    assert body["markdown"]["text"].startswith(DIGEST.markdown)
    assert body["markdown"]["text"].endswith("@13800001111")
    assert body["at"] == {"atMobiles": ["13800001111"], "atUserIds": [], "isAtAll": False}
    assert set(fake.queries[0]) == {"access_token", "timestamp", "sign"}


async def test_dingtalk_each_request_is_signed_with_a_fresh_timestamp(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    channel._now_ms = iter([1732783262123, 1732783262139]).__next__
    fake.now_ms = lambda: 1732783262200
    assert (await channel.send(DIGEST)).status == "sent"
    assert (await channel.send(DIGEST)).status == "sent"
    assert [q["timestamp"] for q in fake.queries] == ["1732783262123", "1732783262139"]


def test_dingtalk_mentions_already_in_text_are_not_repeated():
    msg = OutMessage("t", "请 @13800001111 牵头办理", at_mobiles=["13800001111", "13900002222"], at_user_ids=["zhangwei01"])
    text = json.loads(build_body(msg))["markdown"]["text"]
    assert text.count("@13800001111") == 1
    assert text.endswith("\n\n@13900002222 @zhangwei01")


async def test_dingtalk_robot_without_secret_posts_unsigned(aiohttp_server, session):
    fake = FakeDingTalk(secret=None)
    channel = await dingtalk_channel(aiohttp_server, session, fake, secret=None)
    assert (await channel.send(DIGEST)).status == "sent"
    assert set(fake.queries[0]) == {"access_token"}
    assert "加签" not in channel.describe()


async def test_dingtalk_wrong_secret_fails_permanently_without_leaking_it(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake, secret="SECwrong")
    outcome = await channel.send(DIGEST)
    assert outcome.status == "failed" and "310000" in outcome.detail
    assert "SECwrong" not in outcome.detail
    assert_no_secrets(outcome.detail)


async def test_dingtalk_timestamp_older_than_an_hour_is_refused_as_permanent(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    channel._now_ms = lambda: int(time.time() * 1000) - 2 * 3600 * 1000  # server clock two hours slow
    outcome = await channel.send(DIGEST)
    assert outcome.status == "failed"
    assert "310000" in outcome.detail and "invalid timestamp" in outcome.detail


async def test_dingtalk_unknown_access_token_fails_permanently(aiohttp_server, session):
    fake = FakeDingTalk()
    server = await serve(aiohttp_server, [("POST", "/robot/send", fake.handle)])
    url = str(server.make_url("/robot/send?access_token=deleted-robot-token"))
    channel = channel_from_config({"kind": "dingtalk_robot", "webhook_url": url, "secret": DT_SECRET}, session)
    outcome = await channel.send(DIGEST)
    assert outcome.status == "failed" and "300001" in outcome.detail
    assert "deleted-robot-token" not in outcome.detail


async def test_dingtalk_21st_message_in_a_minute_is_retry_after_ten_minutes(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    outcomes = [await channel.send(DIGEST) for _ in range(21)]
    assert [o.status for o in outcomes[:20]] == ["sent"] * 20
    assert outcomes[20].status == "retry" and outcomes[20].retry_after == 600
    assert "130101" in outcomes[20].detail


async def test_dingtalk_busy_errcode_is_retry(aiohttp_server, session):
    fake = FakeDingTalk()
    fake.mode = "busy"
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    outcome = await channel.send(DIGEST)
    assert (outcome.status, outcome.retry_after) == ("retry", None)


async def test_dingtalk_http_5xx_is_retry(aiohttp_server, session):
    fake = FakeDingTalk()
    fake.mode = "http503"
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    outcome = await channel.send(DIGEST)
    assert outcome.status == "retry" and "503" in outcome.detail
    assert_no_secrets(outcome.detail)


async def test_http_429_is_retry_after_the_retry_after_header(aiohttp_server, session):
    fake = FakeDingTalk()
    fake.mode = "http429"
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    outcome = await channel.send(DIGEST)
    assert (outcome.status, outcome.retry_after) == ("retry", 7.0)


async def test_http_404_is_permanent_failure(aiohttp_server, session):
    fake = FakeDingTalk()
    fake.mode = "http404"
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    assert (await channel.send(DIGEST)).status == "failed"


async def test_dingtalk_timeout_is_retry(aiohttp_server, session):
    fake = FakeDingTalk()
    fake.mode = "slow"
    channel = await dingtalk_channel(aiohttp_server, session, fake, timeout_s=0.1)
    outcome = await channel.send(DIGEST)
    assert outcome.status == "retry" and "超时" in outcome.detail
    assert_no_secrets(outcome.detail)


async def test_connection_refused_is_retry_without_leaking_the_url(session, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}/robot/send?access_token={DT_TOKEN}"
    channel = channel_from_config({"kind": "dingtalk_robot", "webhook_url": url, "secret": DT_SECRET}, session)
    outcome = await channel.send(DIGEST)
    assert outcome.status == "retry"
    assert_no_secrets(outcome.detail)


async def test_dingtalk_oversized_digest_is_truncated_below_20000_bytes_keeping_mentions(aiohttp_server, session):
    fake = FakeDingTalk()
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    long = OutMessage("到期清单", "\n".join(f"- 第{i}项：“黑臭水体”整治任务" for i in range(2000)), at_mobiles=["13800001111"])
    body = build_body(long)
    assert BODY_LIMIT_BYTES - 200 < len(body) <= BODY_LIMIT_BYTES
    assert (await channel.send(long)).status == "sent"
    text = fake.received[0]["markdown"]["text"]
    assert TRUNCATED_NOTICE.strip() in text and text.endswith("@13800001111")


# ---- WeCom group robot --------------------------------------------------------


async def test_wecom_robot_markdown_is_sent_to_the_keyed_webhook(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake)
    outcome = await channel.send(OutMessage("今日到期提醒", DIGEST.markdown))
    assert outcome.status == "sent"
    assert fake.received == [{"msgtype": "markdown", "markdown": {"content": "**今日到期提醒**\n" + DIGEST.markdown}}]


async def test_wecom_robot_mentions_go_in_a_followup_text_message(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake)
    msg = OutMessage("今日到期提醒", DIGEST.markdown, at_mobiles=["13800001111"], at_user_ids=["ZhangWei"])
    assert channel.message_count(msg) == 2
    assert (await channel.send(msg)).status == "sent"
    assert [b["msgtype"] for b in fake.received] == ["markdown", "text"]
    assert fake.received[1]["text"]["mentioned_mobile_list"] == ["13800001111"]
    assert fake.received[1]["text"]["mentioned_list"] == ["ZhangWei"]


async def test_wecom_robot_long_markdown_is_split_into_4096_byte_parts_in_order(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake)
    lines = [f"- 第{i}项 区生态环境局 黑臭水体整治 2025年6月30日前完成" for i in range(300)]
    outcome = await channel.send(OutMessage("到期清单", "\n".join(lines)))
    assert outcome.status == "sent" and "分" in outcome.detail
    parts = [b["markdown"]["content"] for b in fake.received]
    assert len(parts) >= 4 and all(len(p.encode("utf-8")) <= MARKDOWN_LIMIT_BYTES for p in parts)
    assert "\n".join(parts) == "**到期清单**\n" + "\n".join(lines)


async def test_wecom_robot_unknown_key_fails_permanently_without_echoing_it(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake, key="removed-robot-key")
    outcome = await channel.send(DIGEST)
    assert outcome.status == "failed" and "93000" in outcome.detail
    assert "removed-robot-key" not in outcome.detail and "removed-robot-key" not in repr(channel)


async def test_wecom_robot_rate_limit_is_retry_after_a_minute(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake)
    msg = OutMessage("提醒", "今日无到期任务")
    outcomes = [await channel.send(msg) for _ in range(21)]
    assert [o.status for o in outcomes[:20]] == ["sent"] * 20
    assert (outcomes[20].status, outcomes[20].retry_after) == ("retry", 60)
    assert "45009" in outcomes[20].detail


async def test_wecom_robot_timeout_and_5xx_are_retry(aiohttp_server, session):
    fake = FakeWeComRobot()
    channel = await wecom_robot_channel(aiohttp_server, session, fake, timeout_s=0.1)
    fake.mode = "slow"
    assert (await channel.send(DIGEST)).status == "retry"
    fake.mode = "http503"
    assert (await channel.send(DIGEST)).status == "retry"


async def test_wecom_robot_accepts_the_whole_webhook_url_pasted_as_key(aiohttp_server, session):
    fake = FakeWeComRobot()
    server = await serve(aiohttp_server, [("POST", "/cgi-bin/webhook/send", fake.handle)])
    url = str(server.make_url(f"/cgi-bin/webhook/send?key={WX_KEY}"))
    channel = channel_from_config({"kind": "wecom_robot", "key": url}, session)
    assert (await channel.send(DIGEST)).status == "sent"


# ---- WeCom app messages ---------------------------------------------------------


async def test_wecom_app_sends_plain_text_to_joined_userids(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake, to_users=["ZhangWei"])
    msg = OutMessage("今日到期提醒", "### 今日到期\n- **黑臭水体整治**", at_user_ids=["LiNa", "ZhangWei"])
    outcome = await channel.send(msg)
    assert outcome.status == "sent"
    body = fake.received[0]
    assert body["touser"] == "ZhangWei|LiNa" and body["msgtype"] == "text"
    assert body["text"]["content"] == "【今日到期提醒】\n今日到期\n· 黑臭水体整治"
    assert channel.pacing_keys(msg) == [f"wecom_app:{CORP_ID}:{AGENT_ID}:ZhangWei", f"wecom_app:{CORP_ID}:{AGENT_ID}:LiNa"]
    assert channel.max_per_minute == 30


async def test_wecom_app_long_text_is_split_into_2048_byte_parts(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake, to_users=["LiNa"])
    msg = OutMessage("到期清单", "\n".join(f"- 第{i}项 区住建局 老旧小区改造" for i in range(200)))
    assert (await channel.send(msg)).status == "sent"
    assert len(fake.received) == channel.message_count(msg) > 1
    assert fake.tokens_issued == 1  # the token is cached across parts


async def test_wecom_app_reports_invalid_userids_but_counts_as_sent(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake)
    outcome = await channel.send(OutMessage("提醒", "正文", at_user_ids=["LiNa", "Ghost"]))
    assert outcome.status == "sent" and "Ghost" in outcome.detail


async def test_wecom_app_all_recipients_invalid_fails_permanently(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake)
    outcome = await channel.send(OutMessage("提醒", "正文", at_user_ids=["Ghost"]))
    assert outcome.status == "failed" and "81013" in outcome.detail


async def test_wecom_app_bad_secret_fails_permanently_without_leaking_it(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake, secret="wrong-secret-value", to_users=["LiNa"])
    outcome = await channel.send(DIGEST)
    assert outcome.status == "failed" and "40001" in outcome.detail
    assert "wrong-secret-value" not in outcome.detail + repr(channel) + channel.describe()


async def test_wecom_app_revoked_token_is_refreshed_once_then_sent(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake, to_users=["LiNa"])
    assert (await channel.send(DIGEST)).status == "sent"
    fake.valid_tokens.clear()  # WeCom may invalidate a token before expires_in
    assert (await channel.send(DIGEST)).status == "sent"
    assert fake.tokens_issued == 2


async def test_wecom_app_rate_limit_is_retry_after_a_minute(aiohttp_server, session):
    fake = FakeWeComApp()
    fake.mode = "ratelimit"
    channel = await wecom_app_channel(aiohttp_server, session, fake, to_users=["LiNa"])
    outcome = await channel.send(DIGEST)
    assert (outcome.status, outcome.retry_after) == ("retry", 60)


async def test_wecom_app_5xx_and_timeout_are_retry_but_404_fails(aiohttp_server, session):
    fake = FakeWeComApp()
    channel = await wecom_app_channel(aiohttp_server, session, fake, to_users=["LiNa"], timeout_s=0.1)
    for mode, status in (("http503", "retry"), ("slow", "retry"), ("http404", "failed")):
        fake.mode = mode
        outcome = await channel.send(DIGEST)
        assert outcome.status == status, (mode, outcome)
        assert_no_secrets(outcome.detail)


async def test_wecom_app_without_recipients_fails(aiohttp_server, session):
    channel = await wecom_app_channel(aiohttp_server, session, FakeWeComApp())
    assert (await channel.send(OutMessage("提醒", "正文"))).status == "failed"


def test_markdown_is_flattened_to_readable_text_for_the_wechat_plugin():
    md = '## 标题\n> 引用\n- **加粗** `代码`\n[详情](https://example.cn/t/1)\n<font color="warning">逾期</font>'
    assert markdown_to_text(md) == "标题\n引用\n· 加粗 代码\n详情（https://example.cn/t/1）\n逾期"


# ---- console and factory ----------------------------------------------------------


async def test_console_channel_writes_title_body_and_mentions_and_is_always_sent():
    stream = io.StringIO()
    channel = channel_from_config({"kind": "console", "stream": stream, "name": "区住建局"}, None)
    outcome = await channel.send(DIGEST)
    assert outcome.status == "sent"
    out = stream.getvalue()
    assert "今日到期提醒" in out and "黑臭水体整治" in out and "@13800001111" in out and "区住建局" in out


async def test_console_channel_can_write_to_a_logger(caplog):
    channel = ConsoleChannel(logger=logging.getLogger("duban.push"))
    with caplog.at_level(logging.INFO, logger="duban.push"):
        assert (await channel.send(DIGEST)).status == "sent"
    assert "黑臭水体整治" in caplog.text


async def test_factory_descriptions_name_the_platform_and_host_but_no_secret(session):
    channels = [
        channel_from_config({"kind": "dingtalk_robot", "secret": DT_SECRET,
                             "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}"}, session),
        channel_from_config({"kind": "wecom_robot", "key": WX_KEY}, session),
        channel_from_config({"kind": "wecom_app", "corp_id": CORP_ID, "secret": CORP_SECRET, "agent_id": AGENT_ID}, session),
        channel_from_config({"kind": "console"}, None),
    ]
    assert [c.describe() for c in channels] == [
        "钉钉群机器人 oapi.dingtalk.com（加签）",
        "企业微信群机器人 qyapi.weixin.qq.com",
        f"企业微信应用消息 qyapi.weixin.qq.com agentid={AGENT_ID}",
        "控制台输出",
    ]
    for c in channels:
        assert_no_secrets(c.describe() + repr(c) + " ".join(c.pacing_keys(DIGEST)))


@pytest.mark.parametrize(
    "cfg",
    [
        {"kind": "feishu_robot"},
        {"kind": "dingtalk_robot"},
        {"kind": "dingtalk_robot", "webhook_url": "oapi.dingtalk.com/robot/send"},
        {"kind": "wecom_robot"},
        {"kind": "wecom_app", "corp_id": CORP_ID, "agent_id": AGENT_ID},
        {"kind": "wecom_app", "corp_id": CORP_ID, "secret": "s", "agent_id": "abc"},
    ],
)
async def test_unusable_config_raises_a_config_error(cfg, session):
    with pytest.raises(ChannelConfigError):
        channel_from_config(cfg, session)


# ---- pacing -------------------------------------------------------------------------


def test_rate_limiter_allows_20_per_minute_then_waits_for_the_oldest_to_leave_the_window():
    clock = Clock(1000.0)
    limiter = RateLimiter(max_per_minute=20, clock=clock)
    for i in range(20):
        assert limiter.delay_for("robot-a") == 0
        limiter.record(["robot-a"])
        clock.now += 1.0  # one message a second: t = 1000 … 1019
    assert clock.now == 1020.0
    assert limiter.delay_for("robot-a") == pytest.approx(40.0)  # first send leaves at 1060
    assert limiter.delay_for("robot-a", count=3) == pytest.approx(42.0)  # third-oldest leaves at 1062
    assert limiter.delay_for("robot-b") == 0  # keys are independent
    clock.now = 1060.0
    assert limiter.delay_for("robot-a") == 0


async def test_rate_limiter_acquire_sleeps_exactly_until_a_slot_frees():
    clock = Clock(0.0)
    limiter = RateLimiter(max_per_minute=20, clock=clock, sleep=clock.sleep)
    waits = [await limiter.acquire("robot-a") for _ in range(21)]
    assert waits[:20] == [0.0] * 20
    assert waits[20] == pytest.approx(60.0) and clock.now == pytest.approx(60.0)
    # 21 sends in a sliding window never exceed 20 within any 60 s
    assert await limiter.acquire("robot-a", count=19) == pytest.approx(0.0)
    assert limiter.delay_for("robot-a") == pytest.approx(60.0)


async def test_rate_limiter_block_honours_a_platform_retry_after():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.block("robot-a", 600)  # DingTalk 130101: blocked for 10 minutes
    assert limiter.delay_for("robot-a") == 600
    assert await limiter.acquire("robot-a") == 600
    assert limiter.delay_for("robot-a") == 0


async def test_rate_limiter_acquire_many_waits_for_the_busiest_recipient():
    clock = Clock(0.0)
    limiter = RateLimiter(max_per_minute=30, clock=clock, sleep=clock.sleep)  # WeCom app: 30/min per member
    for _ in range(30):
        await limiter.acquire("LiNa")
    clock.now = 10.0
    assert await limiter.acquire_many(["ZhangWei", "LiNa"]) == pytest.approx(50.0)
    assert limiter.delay_for("ZhangWei") == 0  # one of 30 used


async def test_rate_limiter_batch_larger_than_the_limit_waits_for_an_empty_window():
    clock = Clock(0.0)
    limiter = RateLimiter(max_per_minute=20, clock=clock, sleep=clock.sleep)
    await limiter.acquire("robot-a")
    clock.now = 5.0
    assert limiter.delay_for("robot-a", count=25) == pytest.approx(55.0)
    assert await limiter.acquire("robot-a", count=25) == pytest.approx(55.0)


async def test_paced_sends_never_trip_the_dingtalk_rate_limit(aiohttp_server, session):
    clock = Clock(0.0)
    fake = FakeDingTalk(clock=clock)  # the fake's 60 s window runs on the same clock
    channel = await dingtalk_channel(aiohttp_server, session, fake)
    limiter = RateLimiter(max_per_minute=channel.max_per_minute, clock=clock, sleep=clock.sleep)
    for _ in range(45):
        await limiter.acquire(channel.pacing_key, channel.message_count(DIGEST))
        assert (await channel.send(DIGEST)).status == "sent"
    assert len(fake.received) == 45 and clock.now == pytest.approx(120.0)
