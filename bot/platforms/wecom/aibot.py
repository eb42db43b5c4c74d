"""WeCom 智能机器人 (AI bot): what a message means and what the answer looks like, for both ways in —
the HTTP callback (aibot_http.py) and the long connection (aibot_ws.py).

Group chats reach the bot only when it is @-mentioned; the text starts with "@机器人名", stripped here. The
user id is the WeCom userid, so the roster, bindings ("绑定 市生态环境局" in a group binds the chatid) and
permissions are those of the platform "wecom". Answers are `stream` messages: a first frame, then
finish:true with the answer (the callback mode is refreshed by WeCom; the long connection pushes it).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import dataclass

from ..base import AnswerFn, ClockFn, Inbound, Platform, SeenFn, split_markdown
from ..cards import Click, act, detail_url, parse_key
from ..reconnect import RecentIds

log = logging.getLogger(__name__)

STREAM_LIMIT_BYTES = 20480
FIRST_WAIT_S = 1.0  # an answer ready this soon goes out in the first frame, finished
STREAM_KEEP_S = 360.0  # WeCom refreshes a stream for at most 6 minutes from the user's message
WORKING = "正在查询，请稍候…"
_MENTION = re.compile(r"^\s*@\S+\s*")


@dataclass
class AibotMessage:
    msgid: str
    msgtype: str  # text | mixed | stream | event | image | …
    user_id: str
    chat_id: str | None
    chat_type: str  # "group" | "single"
    text: str = ""
    stream_id: str | None = None  # msgtype stream: a refresh
    event_type: str | None = None
    event_key: str | None = None  # template_card_event
    card_task_id: str | None = None
    response_url: str | None = None


def parse_message(data: dict) -> AibotMessage:
    sender = data.get("from") if isinstance(data.get("from"), dict) else {}
    msgtype = str(data.get("msgtype") or "")
    chat_type = "group" if data.get("chattype") == "group" else "single"
    msg = AibotMessage(msgid=str(data.get("msgid") or ""), msgtype=msgtype, user_id=str(sender.get("userid") or ""),
                       chat_id=data.get("chatid") if chat_type == "group" else None, chat_type=chat_type,
                       response_url=data.get("response_url"))
    if msgtype == "text":
        msg.text = str((data.get("text") or {}).get("content") or "")
    elif msgtype == "mixed":
        items = (data.get("mixed") or {}).get("msg_item") or []
        msg.text = "".join(str((i.get("text") or {}).get("content") or "") for i in items
                           if isinstance(i, dict) and i.get("msgtype") == "text")
    elif msgtype == "stream":
        msg.stream_id = str((data.get("stream") or {}).get("id") or "")
    elif msgtype == "event":
        event = data.get("event") if isinstance(data.get("event"), dict) else {}
        msg.event_type = event.get("eventtype")
        card = event.get("template_card_event") if isinstance(event.get("template_card_event"), dict) else event
        msg.event_key, msg.card_task_id = card.get("event_key"), card.get("task_id")  # both nestings occur
    return msg


def strip_mention(text: str, bot_name: str = "", group: bool = True) -> str:
    text = text.strip()
    if bot_name and text.startswith("@" + bot_name):
        return text[len(bot_name) + 1:].strip()
    return _MENTION.sub("", text, count=1).strip() if group else text


def stream_body(stream_id: str, finish: bool, content: str) -> dict:
    return {"msgtype": "stream", "stream": {"id": stream_id, "finish": finish, "content": fit(content)}}


def fit(content: str) -> str:
    parts = split_markdown(content, STREAM_LIMIT_BYTES - 64)
    return parts[0] + ("\n…（内容较长，请缩小范围）" if len(parts) > 1 else "") if parts else ""


def card_update_body(task_id: str, result: str, url: str | None) -> dict:
    card = {"card_type": "text_notice", "main_title": {"title": "督办提醒", "desc": result[:120]}, "task_id": task_id}
    if url:
        card["card_action"] = {"type": 1, "url": url}
    return {"response_type": "update_template_card", "template_card": card}


class AibotBot(Platform):
    """The answering side shared by both ways in: de-duplication, the conversation, streams, card clicks."""

    name = "wecom"

    def __init__(self, *, answer: AnswerFn, seen: SeenFn, now: ClockFn = time.time, bot_name: str = "",
                 conversation=None, dashboard_url: str | None = None, first_wait: float = FIRST_WAIT_S):
        super().__init__(answer, seen, now)
        self.bot_name = bot_name
        self.conversation = conversation  # for card clicks (acted on as the clicking person)
        self.dashboard_url = dashboard_url
        self.first_wait = first_wait
        self.streams: dict[str, tuple[float, asyncio.Task]] = {}  # stream id → (started, answer still running)
        self.recent = RecentIds()

    def add_routes(self, app) -> None:
        """No routes of its own (aibot_http.AibotCallback has them): only its replies' shutdown."""
        self._register_shutdown(app)

    async def first_reply(self, msg: AibotMessage) -> tuple[dict | None, asyncio.Task | None]:
        """The first stream frame for a new text message, and the task still computing the answer (if any)."""
        if msg.msgtype not in ("text", "mixed") or not msg.msgid or not msg.user_id:
            return None, None
        # the store first: if claiming fails, the retry is still new (answered at least once)
        if await self.is_duplicate(msg.msgid) or not self.recent.add(msg.msgid):
            log.info("wecom aibot duplicate msgid %s acknowledged", msg.msgid)
            return None, None
        stream_id = "duban-" + hashlib.sha1(msg.msgid.encode()).hexdigest()[:16]
        inbound = Inbound(platform=self.name, msg_id=msg.msgid, user_id=msg.user_id, chat_id=msg.chat_id,
                          chat_type=msg.chat_type, text=strip_mention(msg.text, self.bot_name, msg.chat_type == "group"),
                          reply_route={"stream_id": stream_id, "response_url": msg.response_url},
                          received_at=self.now())
        reply, late = await self.answer_within(inbound, self.first_wait)
        if late is None:
            return stream_body(stream_id, True, reply.text if reply else "（没有可回答的内容）"), None
        self._forget_old()
        self.streams[stream_id] = (self.now(), late)
        return stream_body(stream_id, False, WORKING), late

    def refresh(self, stream_id: str) -> dict:
        """A refresh of a stream: the answer once ready (finish:true), else the same "working" frame."""
        started, task = self.streams.get(stream_id, (None, None))
        if task is None:
            return stream_body(stream_id, True, "")
        if not task.done():
            return stream_body(stream_id, False, WORKING)
        del self.streams[stream_id]
        reply = None if task.cancelled() or task.exception() else task.result()
        return stream_body(stream_id, True, reply.text if reply else "（没有可回答的内容）")

    def card_click(self, msg: AibotMessage) -> dict | None:
        """update_template_card for a click on one of our reminder cards (acted on as the clicking person)."""
        parsed = parse_key(msg.event_key or "")
        if msg.event_type != "template_card_event" or parsed is None or not msg.card_task_id or not msg.user_id:
            return None
        if self.conversation is None:
            return None
        if not self.recent.add(f"click:{msg.msgid}"):
            return None
        action, task = parsed
        result = act(self.conversation, Click("wecom", msg.user_id, action, task, msg.chat_id, msg.chat_type))
        return card_update_body(msg.card_task_id, result, detail_url(self.dashboard_url))

    def _forget_old(self) -> None:
        cutoff = self.now() - STREAM_KEEP_S
        for sid in [s for s, (t, _) in self.streams.items() if t < cutoff]:
            self.streams.pop(sid)[1].cancel()
