"""DingTalk enterprise-internal robot, HTTP receive mode: POST /dingtalk.

The callback is acknowledged at once with `{}`; the answer is computed in a
background task and POSTed to the message's sessionWebhook. DingTalk's
signature covers only the timestamp, not the body, so the sessionWebhook is
untrusted input: it is used only if its host is on an allowlist.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from typing import Any, Awaitable, Callable, Literal

import aiohttp
import orjson
from aiohttp import web
from yarl import URL

from ..base import (
    AnswerFn,
    ClockFn,
    Inbound,
    Platform,
    ProtocolError,
    Reply,
    SeenFn,
    check_length,
    read_body,
    split_markdown,
)
from .sign import verify_headers

log = logging.getLogger(__name__)

DEFAULT_SESSION_HOSTS = frozenset({"oapi.dingtalk.com", "api.dingtalk.com"})
REPLY_PART_BYTES = 6000  # webhook bodies are capped at 20,000 bytes; long markdown degrades
# (msgId, timestamp, sign) → whether this delivery is new, a retry of a processed message, or a signed
# timestamp that already carried another message (a captured header with a forged body)
ClaimFn = Callable[[str, str, str], Awaitable[Literal["new", "duplicate", "replayed"]]]
_LEADING_MENTION = re.compile(r"@\S+(?:\s+|$)")


class DingTalkPlatform(Platform):
    name = "dingtalk"

    def __init__(
        self,
        *,
        answer: AnswerFn,
        seen: SeenFn,
        app_secret: str,
        now: ClockFn = time.time,
        bot_name: str = "",
        path: str = "/dingtalk",
        max_body_bytes: int = 64 * 1024,
        sign_window: int = 3600,
        session_hosts: frozenset[str] | set[str] = DEFAULT_SESSION_HOSTS,
        reply_in_response: bool = False,
        reply_timeout: float = 4.0,
        reply_part_bytes: int = REPLY_PART_BYTES,
        session: aiohttp.ClientSession | None = None,
        post_timeout: float = 10.0,
        claim: ClaimFn | None = None,
    ):
        super().__init__(answer, seen, now)
        # (msgId, timestamp, sign) → "new" | "duplicate" | "replayed", recorded at once; without it
        # only `seen` de-duplicates and a signed timestamp is not bound to one message
        self.claim = claim
        self._secret = app_secret
        self.bot_name = bot_name
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.sign_window = sign_window
        self.session_hosts = frozenset(h.lower() for h in session_hosts)
        self.reply_in_response = reply_in_response
        self.reply_timeout = reply_timeout
        self.reply_part_bytes = reply_part_bytes
        self._session = session
        self._own_session = session is None
        self._post_timeout = aiohttp.ClientTimeout(total=post_timeout)

    def __repr__(self) -> str:
        return f"DingTalkPlatform(path={self.path!r})"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.handle_post)
        self._register_shutdown(app)

    def now_ms(self) -> int:
        return round(self.now() * 1000)

    # -- handler -----------------------------------------------------------

    async def handle_post(self, request: web.Request) -> web.Response:
        try:
            check_length(request, self.max_body_bytes)
            # Headers first: nothing in the body means anything until they verify.
            timestamp, sign = request.headers.get("timestamp"), request.headers.get("sign")
            verify_headers(timestamp, sign, self._secret, self.now_ms(), self.sign_window)
            body = _parse_json(await read_body(request, self.max_body_bytes))
            inbound = self.to_inbound(body)
            if inbound is not None:
                self._check_created(timestamp, body)
        except ProtocolError as exc:
            log.warning("dingtalk POST refused: %s %s", exc.status, exc.reason)
            return exc.response()
        if inbound is None:  # not a text message: acknowledge only
            return _ack()
        if not self.reply_in_response:
            problem = self.route_problem(inbound)
            if problem:
                log.warning("dingtalk message %s not answered: %s", inbound.msg_id, problem)
                return _ack()
        verdict = await self._claim(inbound.msg_id, timestamp, sign)
        if verdict == "replayed":
            log.warning("dingtalk POST refused: 403 signed timestamp reused for another message")
            return ProtocolError(403, "signed timestamp reused for another message").response()
        if verdict == "duplicate":
            log.info("dingtalk duplicate msgId %s acknowledged", inbound.msg_id)
            return _ack()
        if self.reply_in_response:
            return await self._reply_in_body(inbound)
        self.spawn(self._answer_and_post(inbound))
        return _ack()

    def _check_created(self, timestamp: str, body: dict) -> None:
        """The signature covers only the timestamp, so bind the body to it: the message must have
        been created near that time (and, through `claim`, one signed timestamp carries one message)."""
        created = body.get("createAt")
        if self.sign_window and created is not None:
            try:
                skew = abs(int(created) - int(timestamp)) / 1000
            except (TypeError, ValueError):
                raise ProtocolError(400, "bad createAt") from None
            if skew > self.sign_window:
                raise ProtocolError(403, "createAt does not match timestamp")

    async def _claim(self, msg_id: str, timestamp: str, sign: str) -> str:
        if self.claim is not None:
            return await self.claim(msg_id, timestamp, sign)
        return "duplicate" if await self.is_duplicate(msg_id) else "new"

    async def _reply_in_body(self, inbound: Inbound) -> web.Response:
        """Synchronous reply in the response body (not officially documented); a late or long
        answer goes to the sessionWebhook instead."""
        reply, late = await self.answer_within(inbound, self.reply_timeout)
        if late is not None:
            self.spawn(self._post_when_done(late, inbound))
            return _ack()
        if reply is None:
            return _ack()
        sender = inbound.reply_route.get("sender_staff_id")
        body = _encoded_reply(reply.text, reply.title, (sender,) if sender else (), tuple(reply.at_user_ids),
                              tuple(reply.at_mobiles), self.reply_part_bytes)
        if body is None:  # more than one part
            self.spawn(self.post_reply(inbound, reply))
            return _ack()
        return web.Response(body=body, content_type="application/json")

    # -- parsing -----------------------------------------------------------

    def to_inbound(self, body: dict[str, Any]) -> Inbound | None:
        """The common event for a text message; None for other message types."""
        msg_id = body.get("msgId")
        if not isinstance(msg_id, str) or not msg_id:
            raise ProtocolError(400, "missing msgId")
        if body.get("msgtype", "text") != "text":
            return None
        text = body.get("text")
        content = text.get("content") if isinstance(text, dict) else None
        if not isinstance(content, str):
            raise ProtocolError(400, "missing text.content")
        staff_id = _str_or_none(body.get("senderStaffId"))
        bot_id = body.get("chatbotUserId")
        at_users = body.get("atUsers") if isinstance(body.get("atUsers"), list) else []
        return Inbound(
            platform=self.name,
            msg_id=msg_id,
            # senderStaffId is the org userid; outsiders have only the encrypted senderId
            user_id=staff_id or _str_or_none(body.get("senderId")) or "",
            user_name=_str_or_none(body.get("senderNick")),
            chat_id=_str_or_none(body.get("conversationId")),
            chat_type="group" if str(body.get("conversationType")) == "2" else "single",
            chat_title=_str_or_none(body.get("conversationTitle")),
            text=normalise_text(content, self.bot_name, body.get("isInAtList") is True),
            at_user_ids=[
                u["staffId"]
                for u in at_users
                if isinstance(u, dict) and u.get("staffId") and u.get("dingtalkId") != bot_id
            ],
            reply_route={
                "session_webhook": _str_or_none(body.get("sessionWebhook")),
                "session_webhook_expires_ms": _as_int(body.get("sessionWebhookExpiredTime")),
                "sender_staff_id": staff_id,
                "conversation_id": _str_or_none(body.get("conversationId")),
                "robot_code": _str_or_none(body.get("robotCode")),
                "created_at_ms": _as_int(body.get("createAt")),
            },
            received_at=self.now(),
        )

    # -- replying ----------------------------------------------------------

    def route_problem(self, inbound: Inbound) -> str | None:
        """Why the sessionWebhook cannot be used now, or None if it can."""
        url = inbound.reply_route.get("session_webhook")
        if not url:
            return "no sessionWebhook"
        if not self.webhook_allowed(url):
            return "sessionWebhook host not on the allowlist"
        expires = inbound.reply_route.get("session_webhook_expires_ms")
        if expires is not None and self.now_ms() >= expires:
            return "sessionWebhook expired"
        return None

    def webhook_allowed(self, url: str) -> bool:
        """Host[:port] on the allowlist; DingTalk's own hosts only over https."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError):
            return False
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.user:
            return False
        key = parsed.host if parsed.is_default_port() else f"{parsed.host}:{parsed.port}"
        if key not in self.session_hosts:
            return False
        return parsed.scheme == "https" or key not in DEFAULT_SESSION_HOSTS

    def reply_body(self, inbound: Inbound, reply: Reply, text: str) -> dict[str, Any]:
        """Webhook body in the shape DingTalk's own SDK sends (markdown + at)."""
        sender = inbound.reply_route.get("sender_staff_id")
        return _reply_body(text, reply.title, (sender,) if sender else (), reply.at_user_ids, reply.at_mobiles)

    async def _post_when_done(self, task: asyncio.Task, inbound: Inbound) -> None:
        reply = await task
        if reply is not None:
            await self.post_reply(inbound, reply)

    async def _answer_and_post(self, inbound: Inbound) -> None:
        reply = await self.call_answer(inbound)
        if reply is not None:
            await self.post_reply(inbound, reply)

    answer_and_post = _answer_and_post  # the Stream connection hands its robot messages here too

    async def post_reply(self, inbound: Inbound, reply: Reply) -> None:
        """POST the reply to the sessionWebhook, in parts if long."""
        problem = self.route_problem(inbound)  # checked again: answers can be slow
        if problem:
            log.warning("dingtalk reply to %s not sent: %s", inbound.msg_id, problem)
            return
        url = inbound.reply_route["session_webhook"]
        for part in split_markdown(reply.text, self.reply_part_bytes):
            if not await self._post(url, self.reply_body(inbound, reply, part), inbound.msg_id):
                return

    async def _post(self, url: str, body: dict, msg_id: str) -> bool:
        # The session URL is a bearer credential for the chat: log its host only.
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        host = URL(url).host
        try:
            # never follow a redirect: the allowlist was checked for this URL only
            async with self._session.post(url, json=body, timeout=self._post_timeout, allow_redirects=False) as resp:
                data = await resp.json(content_type=None) if resp.status == 200 else None
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.error("dingtalk reply to %s via %s failed: %s", msg_id, host, type(exc).__name__)
            return False
        errcode = data.get("errcode", 0) if isinstance(data, dict) else None
        if 300 <= status < 400:
            log.error("dingtalk reply to %s via %s: redirect (HTTP %s) not followed", msg_id, host, status)
            return False
        if status != 200 or errcode != 0:
            log.error("dingtalk reply to %s via %s: HTTP %s errcode %s", msg_id, host, status, errcode)
            return False
        return True

    async def close(self, timeout: float = 30.0) -> None:
        await super().close(timeout)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


def normalise_text(content: str, bot_name: str = "", in_at_list: bool = False) -> str:
    """Command text: strip, then drop a leading "@机器人名" mention.

    An empty result stays empty; never fall back to the raw text.
    """
    text = content.strip()
    if bot_name and text.startswith("@" + bot_name):
        return text[len(bot_name) + 1 :].strip()
    if in_at_list:
        match = _LEADING_MENTION.match(text)
        if match:
            return text[match.end() :].strip()
    return text


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)  # every inbound message passes here: a third of json's time
    except orjson.JSONDecodeError:  # also invalid UTF-8
        raise ProtocolError(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError(400, "body is not a JSON object")
    return body


def _as_int(value: Any) -> int | None:
    """createAt and friends arrive as a number or as a string; accept both."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _reply_body(text: str, title: str, sender: tuple[str, ...], at_user_ids, at_mobiles) -> dict[str, Any]:
    body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    at = _at(sender, at_user_ids, at_mobiles)
    if at:
        body["at"] = at
    return body


def _at(sender: tuple[str, ...], at_user_ids, at_mobiles) -> dict[str, Any]:
    at: dict[str, Any] = {}
    at_ids = list(dict.fromkeys([*sender, *at_user_ids]))
    if at_ids:
        at["atUserIds"] = at_ids
    if at_mobiles:
        at["atMobiles"] = list(at_mobiles)
    return at


def _encoded_reply(text: str, title: str, sender: tuple[str, ...], at_user_ids: tuple[str, ...],
                   at_mobiles: tuple[str, ...], part_bytes: int) -> bytes | None:
    """The JSON response body for a one-part reply, None when it needs several parts."""
    head = _encoded_markdown(text, title, part_bytes)
    if head is None:
        return None
    at = _at(sender, at_user_ids, at_mobiles)
    return head[:-1] + b',"at":' + orjson.dumps(at) + b"}" if at else head


@functools.lru_cache(maxsize=2048)  # a day of a province's usual questions, each unit's answer
def _encoded_markdown(text: str, title: str, part_bytes: int) -> bytes | None:
    """{"msgtype", "markdown"} of a one-part reply, as JSON; None when it needs several parts. Cached by the
    answer alone (who is @-mentioned is added to it): the same answers go to many officials, and splitting
    and encoding a long list costs more than answering it."""
    if len(text.strip().encode()) > part_bytes:  # first to last visible character cannot fit one part
        return None
    parts = split_markdown(text, part_bytes)
    if len(parts) != 1:
        return None
    return orjson.dumps(_reply_body(parts[0], title, (), (), ()))  # UTF-8 as is


def _ack() -> web.Response:
    return web.Response(body=b"{}", content_type="application/json")


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
