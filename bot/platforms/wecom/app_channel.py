"""WeCom self-built app messages (应用消息) to members, through WeComAppClient.

Used where a group robot is not available or a reminder must reach named
people. Sent as *text*: markdown app messages show "暂不支持此消息类型" to
members reading through the WeChat plugin (protocols.md §1.8), so the markdown
is flattened to readable plain text and split into 2048-byte parts.

Recipients: the configured `to_users` plus the message's `at_user_ids`
(WeCom userids), deduplicated, sent as one `touser` "a|b" call per part.

Pacing: WeCom silently *drops* (does not reject) app messages beyond 30 per
minute or 1000 per hour to one member, so pacing is per recipient:
`pacing_keys` returns one key per member and `max_per_minute` is 30.
"""

from __future__ import annotations

import re

import aiohttp

from ..base import split_markdown
from .api import TEXT_LIMIT_BYTES, WeComApiError, WeComAppClient
from .cards import template_card

from bot.channels.base import (Channel, ChannelConfigError, OutMessage, SendOutcome, classify, failed, host_of,
                   redirect_refused, retry, sent, timeout_from, unknown)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
MAX_RECIPIENTS = 1000  # touser limit per call
RATE_LIMIT_RETRY_AFTER_S = 60.0
RATE_LIMITED = {45009: RATE_LIMIT_RETRY_AFTER_S, 45033: RATE_LIMIT_RETRY_AFTER_S}  # 45033: concurrent calls

# errcode → (status, meaning). protocols.md §1.9. Token errors 40014/41001/42001
# reach us only after WeComAppClient already refreshed the token and retried once.
ERRCODES: dict[int, tuple[str, str]] = {
    45009: ("retry", "接口调用频率超限"),
    45033: ("retry", "接口并发调用超限"),
    -1: ("retry", "企业微信系统繁忙或网络错误"),
    40001: ("failed", "应用 Secret 无效，请检查配置"),
    40013: ("failed", "CorpID 无效，请检查配置"),
    40014: ("failed", "access_token 刷新后仍无效"),
    41001: ("failed", "access_token 缺失"),
    42001: ("failed", "access_token 刷新后仍过期"),
    40058: ("failed", "参数无效或内容过长"),
    44004: ("failed", "消息内容为空"),
    60020: ("failed", "服务器 IP 不在应用的可信 IP 列表中"),
    81013: ("failed", "接收人全部无效或不在应用可见范围"),
    48002: ("failed", "接口权限被禁止"),
    60011: ("failed", "应用无权限"),
}

_HTTP_STATUS = re.compile(r"^HTTP (\d{3}) ")


class WeComAppChannel(Channel):
    kind = "wecom_app"
    max_per_minute = 30  # per recipient; excess is dropped silently by WeCom

    def __init__(self, client: WeComAppClient, to_users: list[str] | None = None, cards: bool = False,
                 dashboard_url: str | None = None):
        self._client = client
        self._to_users = [u for u in (to_users or []) if u]
        # opt-in: members reading WeCom through the WeChat plugin cannot open template cards
        self.cards = cards
        self.dashboard_url = dashboard_url

    @classmethod
    def from_config(cls, cfg: dict, session: aiohttp.ClientSession) -> "WeComAppChannel":
        missing = [k for k in ("corp_id", "secret", "agent_id") if not cfg.get(k)]
        if missing:
            raise ChannelConfigError(f"企业微信应用消息缺少配置：{', '.join(missing)}")
        try:
            agent_id = int(cfg["agent_id"])
        except (TypeError, ValueError):
            raise ChannelConfigError("企业微信应用 agent_id 必须是数字") from None
        to_users = cfg.get("to_users") or []
        if isinstance(to_users, str):
            to_users = [u for u in re.split(r"[|,\s]+", to_users) if u]
        client = WeComAppClient(
            str(cfg["corp_id"]),
            str(cfg["secret"]),
            agent_id,
            base_url=str(cfg.get("api_base") or DEFAULT_API_BASE),
            session=session,
            timeout_s=timeout_from(cfg),
        )
        return cls(client, list(to_users), cards=bool(cfg.get("cards")), dashboard_url=cfg.get("dashboard_url"))

    def describe(self) -> str:
        return f"企业微信应用消息 {host_of(self._client.base_url)} agentid={self._client.agent_id}"

    def recipients(self, msg: OutMessage) -> list[str]:
        return list(dict.fromkeys([*self._to_users, *msg.at_user_ids]))

    def pacing_keys(self, msg: OutMessage) -> list[str]:
        prefix = f"{self.kind}:{self._client.corp_id}:{self._client.agent_id}"
        return [f"{prefix}:{user}" for user in self.recipients(msg)]

    def message_count(self, msg: OutMessage) -> int:
        return 1 if self._card(msg) else len(_parts(msg))

    def _card(self, msg: OutMessage) -> dict | None:
        return template_card(msg, self.dashboard_url) if self.cards else None

    async def send(self, msg: OutMessage) -> SendOutcome:
        users = self.recipients(msg)
        if not users:
            return failed("企业微信应用消息没有接收人（to_users / at_user_ids 均为空）")
        if len(users) > MAX_RECIPIENTS:
            return failed(f"接收人超过 {MAX_RECIPIENTS} 个，请分批发送")
        card = self._card(msg)
        parts = [card] if card else _parts(msg)
        if not parts:
            return failed("消息内容为空")
        invalid: set[str] = set()
        for index, part in enumerate(parts, start=1):
            try:
                data = await (self._client.send("|".join(users), "template_card", part) if card else
                              self._client.send("|".join(users), "text", {"content": part}))
            except WeComApiError as exc:
                outcome = classify_error(exc)
                if len(parts) > 1:
                    outcome.detail = f"第 {index}/{len(parts)} 条：{outcome.detail}"
                return outcome
            invalid.update(u for u in str(data.get("invaliduser") or "").split("|") if u)
        if invalid:
            # Delivered to the others; the roster needs fixing for these userids.
            return sent(f"ok，无效接收人：{'|'.join(sorted(invalid))}")
        return sent("ok" if len(parts) == 1 else f"ok（分 {len(parts)} 条发送）")


def classify_error(exc: WeComApiError) -> SendOutcome:
    code = exc.errcode
    if exc.redirect:
        return redirect_refused("企业微信", int(_HTTP_STATUS.match(exc.errmsg).group(1)))
    if exc.unknown:
        return unknown(f"企业微信 请求已发出但未收到答复（{exc.errmsg[:60]}，请求超时）")
    if code == -1:
        # WeComAppClient reports transport trouble as -1 "HTTP <status> from <path>"
        # or "<ExceptionType> calling <path>"; busy is -1 too. 4xx is permanent.
        match = _HTTP_STATUS.match(exc.errmsg)
        if match and 400 <= int(match.group(1)) < 500 and match.group(1) != "429":
            return failed(f"企业微信 {exc.errmsg[:60]}，请检查 api_base")
        if match and match.group(1) == "429":
            return retry(f"企业微信 {exc.errmsg[:60]}", RATE_LIMIT_RETRY_AFTER_S)
        return retry(f"企业微信 {exc.errmsg[:80] or '系统繁忙'}")
    return classify(code, ERRCODES, "企业微信", retry_after=RATE_LIMITED)


def _parts(msg: OutMessage) -> list[str]:
    text = markdown_to_text(msg.markdown)
    if msg.title:
        text = f"【{msg.title}】\n{text}"
    return split_markdown(text.strip(), TEXT_LIMIT_BYTES)


def markdown_to_text(markdown: str) -> str:
    """Plain text a WeChat-plugin reader can read: drop markup, keep link URLs."""
    text = re.sub(r"<font[^>]*>(.*?)</font>", r"\1", markdown, flags=re.S)
    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", r"\1 \2", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r"\1（\2）", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text, flags=re.M)
    text = re.sub(r"^\s{0,3}>\s?", "", text, flags=re.M)
    text = re.sub(r"^(\s*)[-*+]\s+", r"\1· ", text, flags=re.M)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text
