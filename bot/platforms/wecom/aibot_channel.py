"""Reminders through the WeCom AI bot's long connection (aibot_send_msg) into a group (chatid) or to one
member (userid). Only the serving process holds the connection: elsewhere the message waits for it."""
from __future__ import annotations

import asyncio

from bot.channels.base import Channel, ChannelConfigError, OutMessage, SendOutcome, failed, fingerprint, retry, sent
from bot.channels.base import unknown

from .aibot import fit
from .aibot_ws import ACTIVE
from .cards import template_card


class AibotChannel(Channel):
    kind = "wecom_aibot"

    def __init__(self, chat_id: str, bot_id: str | None = None):
        self.chat_id = chat_id
        self.bot_id = bot_id

    @classmethod
    def from_config(cls, cfg: dict, session=None) -> "AibotChannel":
        chat = str(cfg.get("chatid") or cfg.get("userid") or "").strip()
        if not chat:
            raise ChannelConfigError("企业微信智能机器人渠道需要 chatid（群）或 userid（成员）")
        return cls(chat, str(cfg.get("bot_id") or "") or None)

    def describe(self) -> str:
        return "企业微信智能机器人（长连接）"

    @property
    def pacing_key(self) -> str:
        return f"{self.kind}:{fingerprint(self.chat_id)}"

    async def send(self, msg: OutMessage) -> SendOutcome:
        conn = ACTIVE.get(self.bot_id) if self.bot_id else next(iter(ACTIVE.values()), None)
        if conn is None or conn.state.state != "connected":
            return retry("企业微信智能机器人长连接未建立（由 duban serve 的长连接发送）", 300.0)
        card = template_card(msg, conn.bot.dashboard_url)
        content = f"**{msg.title}**\n{msg.markdown}" if msg.title else msg.markdown
        body = ({"msgtype": "template_card", "template_card": card} if card else
                {"msgtype": "markdown", "markdown": {"content": fit(content)}})
        try:
            ack = await conn.send_msg(self.chat_id, body)
        except asyncio.TimeoutError:
            return unknown("企业微信智能机器人 已发出，未收到确认（超时）")
        except ConnectionError as exc:
            return retry(f"企业微信智能机器人 {exc}")
        code = ack.get("errcode")
        if code == 0:
            return sent()
        return failed(f"企业微信智能机器人 errcode {code}：{str(ack.get('errmsg') or '')[:60]}")
