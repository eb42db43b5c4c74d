"""WeCom group robot (群机器人) webhook: markdown pushes to one group.

POST {"msgtype":"markdown","markdown":{"content"}} to …/cgi-bin/webhook/send?key=….
The key is the only credential, so the whole URL is a secret.

Length: markdown content is capped at 4096 bytes (40058 above it), so long
bodies are split on line boundaries into several messages, title first.

Mentions (protocols.md §2): `mentioned_list`/`mentioned_mobile_list` do not
apply to markdown, and whether `<@userid>` works inside markdown is disputed.
So when there are mentions we send one short follow-up *text* message that
carries them in mentioned_list / mentioned_mobile_list — the documented,
uncontested way, and the only one that works for phone numbers.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp

from ..base import split_markdown

from bot.channels.base import (
    Channel,
    ChannelConfigError,
    OutMessage,
    SendOutcome,
    classify,
    dump_json,
    errcode_of,
    failed,
    fingerprint,
    host_of,
    post_json,
    redact,
    sent,
    timeout_from,
)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
MARKDOWN_LIMIT_BYTES = 4096
TEXT_LIMIT_BYTES = 2048
RATE_LIMIT_RETRY_AFTER_S = 60.0  # the robot's window is one minute
RATE_LIMITED = {45009: RATE_LIMIT_RETRY_AFTER_S, 45033: RATE_LIMIT_RETRY_AFTER_S}

# errcode → (status, meaning). protocols.md §2 "Errors a sender must handle" and §1.9.
ERRCODES: dict[int, tuple[str, str]] = {
    # frequency limit (likely the robot's over-20/min code; unverified for robots)
    45009: ("retry", "发送频率超限"),
    # concurrent-call limit: transient like 45009
    45033: ("retry", "并发调用超限"),
    # system busy
    -1: ("retry", "企业微信系统繁忙"),
    # invalid webhook url: bad/removed key, or the whole URL pasted as the key
    93000: ("failed", "webhook key 无效（机器人已移除或 key 填写错误）"),
    # invalid parameter, e.g. content over 4096 bytes: retrying unchanged cannot help
    40058: ("failed", "参数无效或内容过长"),
    44004: ("failed", "消息内容为空"),
    40008: ("failed", "消息类型无效"),
}


class WeComRobotChannel(Channel):
    kind = "wecom_robot"

    def __init__(self, webhook_url: str, session: aiohttp.ClientSession, timeout_s: float = 10.0):
        self._webhook_url = webhook_url
        self._key = _key_of(webhook_url)
        if not webhook_url.startswith(("https://", "http://")) or not self._key:
            raise ChannelConfigError("企业微信群机器人 webhook_url 应为 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")
        self._session = session
        self._timeout_s = timeout_s
        self._host = host_of(webhook_url)

    @classmethod
    def from_config(cls, cfg: dict, session: aiohttp.ClientSession) -> "WeComRobotChannel":
        url = str(cfg.get("webhook_url") or "").strip()
        key = str(cfg.get("key") or "").strip()
        if key.startswith(("https://", "http://")):
            url, key = key, ""  # the whole URL pasted as the key: the classic 93000
        if not url and key:
            base = str(cfg.get("api_base") or DEFAULT_API_BASE).rstrip("/")
            url = f"{base}/cgi-bin/webhook/send?key={key}"
        if not url:
            raise ChannelConfigError("企业微信群机器人缺少 webhook_url 或 key")
        return cls(url, session, timeout_s=timeout_from(cfg))

    def describe(self) -> str:
        return f"企业微信群机器人 {self._host}"

    @property
    def pacing_key(self) -> str:
        return f"{self.kind}:{fingerprint(self._key)}"

    def message_count(self, msg: OutMessage) -> int:
        return len(build_bodies(msg))

    async def send(self, msg: OutMessage) -> SendOutcome:
        bodies = build_bodies(msg)
        label = f"企业微信 {self._host}"
        if not bodies:
            return failed(f"{label} 消息内容为空")
        for index, body in enumerate(bodies, start=1):
            outcome = await self._post(body, label)
            if not outcome.ok:
                if len(bodies) > 1:
                    outcome.detail = f"第 {index}/{len(bodies)} 条：{outcome.detail}"
                return outcome
        return sent("ok" if len(bodies) == 1 else f"ok（分 {len(bodies)} 条发送）")

    async def _post(self, body: bytes, label: str) -> SendOutcome:
        data = await post_json(self._session, self._webhook_url, body, self._timeout_s, label)
        if isinstance(data, SendOutcome):
            return data
        errmsg = redact(str(data.get("errmsg", "")), self._key)
        return classify(errcode_of(data), ERRCODES, label, errmsg, RATE_LIMITED)


def build_bodies(msg: OutMessage) -> list[bytes]:
    """Markdown parts of at most 4096 bytes, then one text message for mentions."""
    content = f"**{msg.title}**\n{msg.markdown}" if msg.title else msg.markdown
    bodies = [
        dump_json({"msgtype": "markdown", "markdown": {"content": part}})
        for part in split_markdown(content, MARKDOWN_LIMIT_BYTES)
    ]
    if msg.at_mobiles or msg.at_user_ids:
        notice = f"请注意查收：{msg.title}" if msg.title else "请注意查收以上督办提醒"
        notice = split_markdown(notice, TEXT_LIMIT_BYTES)[0]
        text = {"content": notice, "mentioned_list": list(msg.at_user_ids), "mentioned_mobile_list": list(msg.at_mobiles)}
        bodies.append(dump_json({"msgtype": "text", "text": text}))
    return bodies


def _key_of(webhook_url: str) -> str:
    try:
        return (parse_qs(urlsplit(webhook_url).query).get("key") or [""])[0]
    except ValueError:
        return ""
