"""WeCom AI bot, long-connection mode: an outbound WebSocket for deployments without a public address.

Frames are {cmd, headers:{req_id}, body}. After connecting: aibot_subscribe {bot_id, secret} (errcode 0 or
the credentials are wrong); a ping every 30 s (two unanswered: the socket is dead); aibot_msg_callback →
aibot_respond_msg stream frames under the callback's req_id; aibot_event_callback with a card click →
aibot_respond_update_msg; aibot_send_msg pushes reminders into a group. Reconnects as DingTalk Stream does
(backoff 1 s doubling to 60 s with jitter) — except after disconnected_event: another connection for the
same bot took over, and fighting it would make both flap.

Inside the server (`claims` given) a message is answered at least once, as a webhook's is
(bot/answer_tracking.py): recorded, and the payload of an answer still running kept, before the first frame
goes out; marked answered once the last frame went out. What a restart finds kept is answered through the
platform's late reply (bot/resend.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid

import aiohttp

from ...answer_tracking import NotKept, handle_once
from ..reconnect import Backoff, ConnectionState
from .aibot import AibotBot, parse_message

log = logging.getLogger(__name__)

DEFAULT_WS_URL = "wss://openws.work.weixin.qq.com"
PING_EVERY_S = 30.0
MISSED_PINGS = 2
ACK_TIMEOUT_S = 10.0
ACTIVE: dict[str, "AibotConnection"] = {}  # bot id → its live connection (for the wecom_aibot push channel)


class Replaced(Exception):
    """disconnected_event: a newer connection for this bot exists."""


class AibotConnection:
    def __init__(self, bot: AibotBot, *, bot_id: str, secret: str, ws_url: str = DEFAULT_WS_URL,
                 session: aiohttp.ClientSession | None = None, backoff: Backoff | None = None,
                 ping_every: float = PING_EVERY_S, claims=None):
        self.bot = bot
        self.bot_id = bot_id
        self._secret = secret
        self.ws_url = ws_url
        self._session = session
        self._own_session = session is None
        self.backoff = backoff or Backoff()
        self.ping_every = ping_every
        self.state = ConnectionState("wecom_aibot")
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[str, asyncio.Future] = {}
        self._send_lock = asyncio.Lock()
        self.claims = claims  # bot.claims.DeliveryClaims inside the server (the install context's)

    def __repr__(self) -> str:
        return f"AibotConnection(bot_id={self.bot_id!r}, state={self.state.state!r})"

    def health(self) -> dict:
        return self.state.as_dict()

    async def run(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        ACTIVE[self.bot_id] = self
        try:
            while True:
                try:
                    await self.connect_once()
                    self.state.set("backoff")
                except Replaced:
                    self.state.set("stopped", "另一个连接接管了该机器人（disconnected_event），不再重连")
                    log.warning("wecom aibot: replaced by another connection; not reconnecting")
                    return
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ConnectionError, ValueError) as exc:
                    self.state.set("backoff", str(exc) if isinstance(exc, ConnectionError) else type(exc).__name__)
                    log.warning("wecom aibot connection failed: %s", self.state.last_error)
                await self.backoff.wait()
        finally:
            ACTIVE.pop(self.bot_id, None)
            if self._own_session and self._session is not None:
                await self._session.close()

    async def connect_once(self) -> None:
        self.state.set("connecting")
        async with self._session.ws_connect(self.ws_url, heartbeat=None, max_msg_size=1 << 20) as ws:
            self._ws = ws
            reader = asyncio.create_task(self._read(ws))
            try:
                ack = await self.request("aibot_subscribe", {"bot_id": self.bot_id, "secret": self._secret})
                if ack.get("errcode") != 0:
                    raise ConnectionError(f"订阅失败 errcode {ack.get('errcode')}")
                self.state.connects += 1
                self.state.set("connected")
                self.backoff.reset()
                await self._ping_until_dead(reader)
            finally:
                self._ws = None
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                for fut in self._acks.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("连接已断开"))
                self._acks.clear()

    async def _ping_until_dead(self, reader: asyncio.Task) -> None:
        missed = 0
        while not reader.done():
            done, _ = await asyncio.wait({reader}, timeout=self.ping_every)
            if done:
                break
            try:
                await self.request("ping", None, timeout=min(ACK_TIMEOUT_S, self.ping_every))
                missed = 0
            except asyncio.TimeoutError:
                missed += 1
                if missed >= MISSED_PINGS:
                    raise ConnectionError("心跳无应答")
        exc = reader.exception() if not reader.cancelled() else None
        if exc is not None:
            raise exc

    async def request(self, cmd: str, body: dict | None, req_id: str | None = None,
                      timeout: float = ACK_TIMEOUT_S) -> dict:
        """Send a frame and wait for the server's ack {headers:{req_id}, errcode}."""
        req_id = req_id or f"{cmd}_{uuid.uuid4().hex[:16]}"
        fut = asyncio.get_running_loop().create_future()
        self._acks[req_id] = fut
        try:
            await self._send({"cmd": cmd, "headers": {"req_id": req_id}, **({"body": body} if body is not None else {})})
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._acks.pop(req_id, None)

    async def _send(self, frame: dict) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError("长连接未建立")
        async with self._send_lock:  # replies for one req_id go out in order
            await ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            self.state.frames += 1
            try:
                frame = json.loads(msg.data)
            except ValueError:
                log.warning("wecom aibot: a frame that is not JSON, ignored")
                continue
            if not isinstance(frame, dict):
                continue
            req_id = (frame.get("headers") or {}).get("req_id")
            cmd = frame.get("cmd")
            if not cmd:  # an ack of something we sent
                fut = self._acks.get(req_id)
                if fut is not None and not fut.done():
                    fut.set_result(frame)
                continue
            body = frame.get("body") if isinstance(frame.get("body"), dict) else {}
            if cmd == "aibot_event_callback" and (body.get("event") or {}).get("eventtype") == "disconnected_event":
                raise Replaced()
            if cmd in ("aibot_msg_callback", "aibot_event_callback") and req_id:
                self.bot.spawn(self._answer(cmd, req_id, body))

    async def _answer(self, cmd: str, req_id: str, body: dict) -> None:
        msg = parse_message(body)
        try:
            if cmd == "aibot_event_callback":
                update = self.bot.card_click(msg)
                if update is not None:
                    await self.request("aibot_respond_update_msg", update, req_id)
                return
            await self._answer_message(msg, req_id)
        except (ConnectionError, asyncio.TimeoutError) as exc:  # left open: a restart or a redelivery answers it
            log.error("wecom aibot reply to %s not delivered: %s", msg.msgid, type(exc).__name__)

    async def _answer_message(self, msg, req_id: str) -> None:
        """A message's stream frames: the first once the message is recorded (and kept, if its answer is still
        running), the finished one when the answer is ready; then it counts as answered."""
        try:
            (first, late), handed_on = await handle_once(self.claims, lambda: self.bot.first_reply(msg))
        except NotKept:
            return  # no frame: a redelivery is answered
        if first is None:
            return
        try:
            await self.request("aibot_respond_msg", first, req_id)
        except (ConnectionError, asyncio.TimeoutError):
            self._not_answered(msg.msgid, handed_on is not None)
            raise
        if late is not None:
            await asyncio.shield(late)
            await self.request("aibot_respond_msg", self.bot.refresh(first["stream"]["id"]), req_id)
        if handed_on is not None:
            handed_on()

    def _not_answered(self, msg_id: str, claimed: bool) -> None:
        """The first frame never reached WeCom: its redelivery (after the reconnect) is a new message again, in
        this process and in the store."""
        self.bot.recent.discard(msg_id)
        if claimed:
            self.claims.release(self.bot.name, msg_id)

    async def send_msg(self, chat_id: str, body: dict) -> dict:
        """aibot_send_msg: a proactive message (a reminder) into a group or to a user (chatid = userid)."""
        return await self.request("aibot_send_msg", {"chatid": chat_id, **body})
