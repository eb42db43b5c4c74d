"""WeCom self-built app callback: GET URL verification and POST messages.

Text messages become an `Inbound`; the answer goes back as an encrypted
passive reply when it is ready within WeCom's 5-second window and short
enough, otherwise through the app message API (`WeComAppClient`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web

from ..base import AnswerFn, ClockFn, Inbound, Platform, ProtocolError, Reply, SeenFn, read_body
from .api import WeComApiError, WeComAppClient
from ..cards import Click, parse_key
from .crypto import WeComCrypto, WeComCryptoError, cdata, parse_xml, text_reply_xml

__all__ = ["WeComPlatform", "WeComAppClient", "WeComApiError", "markdown_to_text"]

log = logging.getLogger(__name__)

PASSIVE_LIMIT_BYTES = 2048  # WeCom text content limit
REPLY_TIMEOUT_S = 4.0  # WeCom waits ~5 s, then retries the same MsgId


class WeComPlatform(Platform):
    name = "wecom"

    def __init__(
        self,
        *,
        answer: AnswerFn,
        seen: SeenFn,
        token: str,
        encoding_aes_key: str,
        corp_id: str,
        app_client: WeComAppClient | None = None,
        now: ClockFn = time.time,
        path: str = "/wecom",
        max_body_bytes: int = 64 * 1024,
        replay_window: int = 0,
        reply_timeout: float = REPLY_TIMEOUT_S,
        passive_limit_bytes: int = PASSIVE_LIMIT_BYTES,
        app_message_type: str = "text",
        on_card=None,
    ):
        super().__init__(answer, seen, now)
        self.crypto = WeComCrypto(token, encoding_aes_key, corp_id)
        self.corp_id = corp_id
        self.app_client = app_client
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.replay_window = replay_window
        self.reply_timeout = reply_timeout
        self.passive_limit_bytes = passive_limit_bytes
        if app_message_type not in ("text", "markdown"):
            raise ValueError("app_message_type must be 'text' or 'markdown'")
        self.app_message_type = app_message_type
        self.on_card = on_card  # Click → the result text (bot.platforms.cards.act on the conversation)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.path, self.handle_get)
        app.router.add_post(self.path, self.handle_post)
        self._register_shutdown(app)

    # -- handlers ----------------------------------------------------------

    async def handle_get(self, request: web.Request) -> web.Response:
        """URL verification: answer the decrypted echostr and nothing else."""
        try:
            sig, ts, nonce = self._signed_params(request)
            echostr = query_param(request, "echostr")
            plain = self.crypto.verify_url(sig, ts, nonce, echostr)
        except ProtocolError as exc:
            return exc.response()
        except WeComCryptoError as exc:
            return crypto_rejection(exc, "GET")
        return web.Response(text=plain, content_type="text/plain")

    async def handle_post(self, request: web.Request) -> web.Response:
        try:
            body = await self._process(request)
        except ProtocolError as exc:
            if exc.status == 413:
                log.warning("wecom POST refused: body over %d bytes", self.max_body_bytes)
            return exc.response()
        except WeComCryptoError as exc:
            return crypto_rejection(exc, "POST")
        if body is None:  # acknowledged, no passive reply
            return web.Response(text="", content_type="text/plain")
        return web.Response(text=body, content_type="text/xml")

    # -- steps -------------------------------------------------------------

    async def _process(self, request: web.Request) -> str | None:
        sig, ts, nonce = self._signed_params(request)  # also checks freshness
        raw = await read_body(request, self.max_body_bytes)
        envelope = parse_xml(raw)
        encrypt = envelope.get("Encrypt")
        if not encrypt:
            raise ProtocolError(400, "missing Encrypt")
        message = parse_xml(self.crypto.decrypt(sig, ts, nonce, encrypt))
        if message.get("MsgType") == "event" and message.get("Event") == "template_card_event":
            return await self._card_click(message, nonce)
        if message.get("MsgType") != "text":
            return None  # events, images, voice...: acknowledge only
        msg_id = message.get("MsgId", "")
        if not msg_id or not message.get("FromUserName"):
            raise ProtocolError(400, "text message without MsgId or sender")
        if await self.is_duplicate(msg_id):
            log.info("wecom duplicate MsgId %s acknowledged", msg_id)
            return None
        return await self._reply(self._to_inbound(message), nonce)

    def _signed_params(self, request: web.Request) -> tuple[str, str, str]:
        return signed_params(request, self.now(), self.replay_window)

    def _to_inbound(self, message: dict[str, str]) -> Inbound:
        return Inbound(
            platform=self.name,
            msg_id=message["MsgId"],
            user_id=message["FromUserName"],
            chat_type="single",  # self-built apps receive 1:1 messages only
            text=message.get("Content", "").strip(),
            reply_route={"to_user": message["FromUserName"], "agent_id": message.get("AgentID")},
            received_at=self.now(),
        )

    async def _reply(self, inbound: Inbound, nonce: str) -> str | None:
        reply, late = await self.answer_within(inbound, self.reply_timeout)
        if late is not None:  # still running: it goes out through the app message API when done
            log.info("wecom answer for %s slower than %.1fs; will push", inbound.msg_id, self.reply_timeout)
            self.spawn(self._push_when_done(late, inbound))
            return None
        if reply is None:
            return None
        text = markdown_to_text(reply.text)
        if len(text.encode("utf-8")) > self.passive_limit_bytes:
            if self.app_client is not None:
                self.spawn(self.push(inbound, reply))
                return None
            # without app credentials the passive reply is the only way back: shorten it, never drop it
            text = shorten(text, self.passive_limit_bytes)
        stamp = str(int(self.now()))
        plain = text_reply_xml(inbound.user_id, self.corp_id, text, int(stamp))
        return self.crypto.passive_reply_xml(plain, nonce, stamp)

    async def _card_click(self, message: dict[str, str], nonce: str) -> str | None:
        """A click on a reminder card, acted on as the clicking member; the button shows the outcome and the
        full answer follows as an app message."""
        parsed = parse_key(message.get("EventKey", ""))
        user = message.get("FromUserName")
        if parsed is None or not user or self.on_card is None:
            return None
        dedupe = f"card:{message.get('TaskId', '')}:{message.get('ResponseCode', '')}:{user}"
        if await self.is_duplicate(dedupe):  # WeCom retries a click it got no answer to
            return None
        result = self.on_card(Click(self.name, user, parsed[0], parsed[1]))
        if self.app_client is not None:
            inbound = Inbound(platform=self.name, msg_id=dedupe, user_id=user, text="", reply_route={"to_user": user})
            self.spawn(self.push(inbound, Reply(result)))
        stamp = str(int(self.now()))
        plain = update_button_xml(user, self.corp_id, button_label(result), int(stamp))
        return self.crypto.passive_reply_xml(plain, nonce, stamp)

    async def _push_when_done(self, task: asyncio.Task, inbound: Inbound) -> None:
        """A slow answer goes out through the app message API (or, without it, is logged as lost)."""
        reply = await task
        if reply is not None:
            await self.push(inbound, reply)

    async def push(self, inbound: Inbound, reply: Reply) -> None:
        """Send a reply through the app message API (split into 2048-byte parts)."""
        to_user = inbound.reply_route.get("to_user") or inbound.user_id
        if self.app_client is None:
            log.warning("wecom answer for %s dropped: no app message client configured", inbound.msg_id)
            return
        try:
            if self.app_message_type == "markdown":
                await self.app_client.send_markdown(to_user, reply.text)
            else:
                await self.app_client.send_text(to_user, markdown_to_text(reply.text))
        except WeComApiError as exc:
            log.error("wecom push for %s failed: errcode %s", inbound.msg_id, exc.errcode)

    async def close(self, timeout: float = 30.0) -> None:
        await super().close(timeout)
        if self.app_client is not None:
            await self.app_client.close()


def signed_params(request: web.Request, now: float, replay_window: int) -> tuple[str, str, str]:
    """(msg_signature, timestamp, nonce) of a WeCom callback (the app's and the AI bot's), the timestamp
    within the replay window when one is set."""
    sig, ts, nonce = (query_param(request, k) for k in ("msg_signature", "timestamp", "nonce"))
    if replay_window > 0:
        if not ts.isascii() or not ts.isdigit():
            raise ProtocolError(400, "bad timestamp")
        if abs(now - int(ts)) > replay_window:
            raise ProtocolError(403, "stale timestamp")
    return sig, ts, nonce


def query_param(request: web.Request, key: str) -> str:
    # request.query has already percent-decoded once (%2B -> +); never decode again.
    value = request.query.get(key)
    if not value:
        raise ProtocolError(400, f"missing {key}")
    return value


def crypto_rejection(exc: WeComCryptoError, method: str, label: str = "wecom") -> web.Response:
    log.warning("%s %s rejected at stage %s", label, method, exc.stage)
    status = 403 if exc.stage == "signature" else 400
    return web.Response(status=status, text=f"rejected: {exc.stage}")


_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")


def markdown_to_text(markdown: str) -> str:
    """Plain-text rendering for WeCom text messages (readable in the WeChat plugin)."""
    text = _HEADING.sub("", markdown)
    text = _BOLD.sub(r"\1", text)
    return _LINK.sub(r"\1 \2", text)


TRUNCATED_NOTE = "\n（内容较长，已截断；请缩小范围，如“本周到期的任务”或“第13项是什么”）"


def shorten(text: str, limit_bytes: int) -> str:
    """Cut at a line boundary to fit a passive reply, and say so."""
    budget = limit_bytes - len(TRUNCATED_NOTE.encode("utf-8"))
    out, used = [], 0
    for line in text.split("\n"):
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        out.append(line)
        used += size
    if not out:  # one very long line: cut on a character boundary
        out = [text.encode("utf-8")[:budget].decode("utf-8", "ignore")]
    return "\n".join(out) + TRUNCATED_NOTE


def button_label(result: str) -> str:
    """What the clicked button turns into: the outcome in a few words."""
    if result.startswith("已提交销号申请"):
        return "已申请销号，待审核"
    if "待审核" in result:
        return "已有待审核申请"
    if "已经销号" in result:
        return "该任务已销号"
    if "花名册" in result or "不是" in result:
        return "无权操作"
    return "已处理，详见消息"


def update_button_xml(to_user: str, from_corp: str, name: str, create_time: int) -> str:
    """Plaintext XML of a passive update_button reply (before encryption)."""
    return (f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_corp)}</FromUserName>"
            f"<CreateTime>{int(create_time)}</CreateTime><MsgType>{cdata('update_button')}</MsgType>"
            f"<Button><ReplaceName>{cdata(name)}</ReplaceName></Button></xml>")
