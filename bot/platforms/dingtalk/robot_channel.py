"""DingTalk custom group robot (自定义机器人): markdown pushes to one group.

POST {"msgtype":"markdown","markdown":{"title","text"},"at":{…}} to the
webhook URL (the access_token is in its query). With 加签 configured the URL
gets fresh `timestamp`/`sign` params on every request: a sign older than an
hour is refused (310000), so it is never computed once at start-up.

Size: DingTalk caps the whole request body at 20,000 bytes (460101 above it;
protocols.md §4.3). We keep one message and truncate the body with a notice
rather than split: the reminder digests are already bounded by the caller,
several messages would eat the 20/min budget, and a half-delivered split would
be repeated on retry.
"""

from __future__ import annotations

import time
from typing import Callable

import aiohttp

from .sign import custom_robot_url

from bot.channels.base import (
    Channel,
    ChannelConfigError,
    OutMessage,
    SendOutcome,
    classify,
    dump_json,
    errcode_of,
    fingerprint,
    host_of,
    post_json,
    redact,
    timeout_from,
)

BODY_LIMIT_BYTES = 20_000  # protocols.md §4.3: whole request body
TRUNCATED_NOTICE = "\n\n…（内容过长，已截断）"
DEFAULT_TITLE = "督办提醒"
BLOCKED_RETRY_AFTER_S = 600.0  # 130101: the robot is throttled for 10 minutes
THROTTLED_RETRY_AFTER_S = 60.0

# errcode → (status, what to tell the operator). protocols.md §4.4.
ERRCODES: dict[int, tuple[str, str]] = {
    # over 20 messages/minute: DingTalk blocks this robot for 10 minutes
    130101: ("retry", "发送过快，机器人被限流 10 分钟"),
    # 410100 "throttled" appears only in older error tables [unverified]: treat as transient
    410100: ("retry", "机器人被限流"),
    # system busy
    -1: ("retry", "钉钉系统繁忙"),
    # sign not match / sign expired (clock skew > 1 h) / keyword missing / IP not allowed.
    # We sign per request, so a stale sign means the server clock is wrong: config, not retry.
    310000: ("failed", "安全设置校验失败（加签密钥、服务器时钟、关键词或 IP 白名单）"),
    # token does not exist: wrong/deleted access_token, often the whole URL pasted as token
    300001: ("failed", "access_token 不存在，请检查 webhook 地址"),
    300005: ("failed", "access_token 不存在（外部群），请检查 webhook 地址"),
    # body too large: cannot happen after truncation, but retrying unchanged never helps
    460101: ("failed", "消息超过 20000 字节"),
    101002: ("failed", "消息过长"),
    # older-table codes [unverified]: group disbanded, token missing, robot disabled,
    # type unsupported, robot missing, unsafe link/content — all need a human
    400013: ("failed", "群已解散"),
    400101: ("failed", "access_token 缺失"),
    400102: ("failed", "机器人已停用"),
    400105: ("failed", "不支持的消息类型"),
    400106: ("failed", "机器人不存在"),
    430101: ("failed", "消息含不安全外链"),
    430102: ("failed", "消息含不安全内容"),
    430103: ("failed", "消息含不安全内容"),
    430104: ("failed", "消息含不安全内容"),
    # monthly quota by org edition [unverified]: lasts till month end, so not a retry
    90030: ("failed", "机器人月度调用额度已用完"),
}


class DingTalkRobotChannel(Channel):
    kind = "dingtalk_robot"

    def __init__(
        self,
        webhook_url: str,
        session: aiohttp.ClientSession,
        secret: str | None = None,
        timeout_s: float = 10.0,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ):
        if not webhook_url.startswith(("https://", "http://")) or "access_token=" not in webhook_url:
            raise ChannelConfigError("钉钉群机器人 webhook_url 应为 https://oapi.dingtalk.com/robot/send?access_token=…")
        self._webhook_url = webhook_url
        self._secret = secret or None
        self._session = session
        self._timeout_s = timeout_s
        self._now_ms = now_ms
        self._host = host_of(webhook_url)

    @classmethod
    def from_config(cls, cfg: dict, session: aiohttp.ClientSession) -> "DingTalkRobotChannel":
        url = str(cfg.get("webhook_url") or "").strip()
        if not url:
            raise ChannelConfigError("钉钉群机器人缺少 webhook_url")
        secret = str(cfg.get("secret") or "").strip() or None
        return cls(url, session, secret=secret, timeout_s=timeout_from(cfg))

    def describe(self) -> str:
        return f"钉钉群机器人 {self._host}" + ("（加签）" if self._secret else "")

    @property
    def pacing_key(self) -> str:
        return f"{self.kind}:{fingerprint(self._webhook_url)}"

    def signed_url(self, timestamp_ms: int | str) -> str:
        """The URL to POST to: the webhook, plus timestamp/sign when 加签 is configured."""
        if not self._secret:
            return self._webhook_url
        return custom_robot_url(self._webhook_url, self._secret, timestamp_ms)

    async def send(self, msg: OutMessage) -> SendOutcome:
        body = build_body(msg)
        url = self.signed_url(self._now_ms())
        label = f"钉钉 {self._host}"
        data = await post_json(self._session, url, body, self._timeout_s, label)
        if isinstance(data, SendOutcome):
            return data
        errmsg = redact(str(data.get("errmsg", "")), self._secret, _token_of(self._webhook_url))
        return classify(errcode_of(data), ERRCODES, label, errmsg,
                        {130101: BLOCKED_RETRY_AFTER_S, 410100: THROTTLED_RETRY_AFTER_S})


def build_body(msg: OutMessage) -> bytes:
    """The markdown request body, at most BODY_LIMIT_BYTES, @-mentions intact."""
    title = (msg.title or DEFAULT_TITLE).strip()[:64] or DEFAULT_TITLE
    suffix = mention_suffix(msg.markdown, msg.at_mobiles, msg.at_user_ids)
    at = {"atMobiles": list(msg.at_mobiles), "atUserIds": list(msg.at_user_ids), "isAtAll": False}

    def encode(text: str) -> bytes:
        return dump_json({"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at})

    body = encode(msg.markdown + suffix)
    if len(body) <= BODY_LIMIT_BYTES:
        return body
    # Longest prefix that fits with the notice; binary search because JSON
    # escaping makes the byte cost of a character depend on the character.
    lo, hi = 0, len(msg.markdown)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(encode(msg.markdown[:mid] + TRUNCATED_NOTICE + suffix)) <= BODY_LIMIT_BYTES:
            lo = mid
        else:
            hi = mid - 1
    return encode(msg.markdown[:lo].rstrip() + TRUNCATED_NOTICE + suffix)


def mention_suffix(text: str, at_mobiles: list[str], at_user_ids: list[str]) -> str:
    """"@mobile"/"@userid" for each mention missing from the text.

    DingTalk only notifies (and highlights) a mention whose "@…" also appears in
    the content; atMobiles alone may notify nobody.
    """
    missing = [f"@{who}" for who in [*at_mobiles, *at_user_ids] if who and f"@{who}" not in text]
    return ("\n\n" + " ".join(missing)) if missing else ""


def _token_of(webhook_url: str) -> str | None:
    marker = "access_token="
    if marker not in webhook_url:
        return None
    return webhook_url.split(marker, 1)[1].split("&", 1)[0] or None
