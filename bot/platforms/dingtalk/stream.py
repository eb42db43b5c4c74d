"""DingTalk Stream mode: an outbound WebSocket, so no public address is needed.

connections/open (clientId, clientSecret, subscriptions) → endpoint + single-use ticket → WebSocket. Every
frame is acknowledged by its messageId; SYSTEM ping is echoed; SYSTEM disconnect (or a dropped socket) means a
new ticket and a new socket after a backoff. Robot messages carry the same JSON as the HTTP robot and go to
the same `DingTalkPlatform` (same parsing, same conversation, same sessionWebhook reply with its host
allowlist). Card clicks go to `on_card`. All I/O is aiohttp on the server's own event loop: nothing blocks it.

Inside the server (`claims` given) a robot message is answered at least once, as a webhook's is
(bot/answer_tracking.py): it is recorded and its payload kept before its ACK goes out; if the payload cannot
be kept it is not ACKed (the gateway redelivers it); a restart answers what was ACKed and not answered
(bot/resend.py, through the sessionWebhook). Redeliveries are told by msgId from that store: answered once.
Each data frame is handled in a task of its own, so that a burst shares the store's commits.
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any, Awaitable, Callable
from urllib.parse import quote_plus

import aiohttp

from ...answer_tracking import NotKept, handle_once
from ..base import ProtocolError
from .openapi import DEFAULT_API_BASE
from .robot import DingTalkPlatform
from ..reconnect import Backoff, ConnectionState, RecentIds

log = logging.getLogger(__name__)

OPEN_PATH = "/v1.0/gateway/connections/open"
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
SUBSCRIPTIONS = [{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": ROBOT_TOPIC},
                 {"type": "CALLBACK", "topic": CARD_TOPIC}]
USER_AGENT = "duban-stream/1.0"
MAX_FRAME_BYTES = 1 << 20
# a card click → the ACK's "response" (card data that updates the card at once), or None
CardFn = Callable[[dict], Awaitable[dict | None]]


class StreamRefused(Exception):
    """connections/open or the WebSocket upgrade was refused; the text is safe to show."""


class DingTalkStreamClient:
    def __init__(self, *, client_id: str, client_secret: str, robot: DingTalkPlatform,
                 api_base: str = DEFAULT_API_BASE, session: aiohttp.ClientSession | None = None,
                 on_card: CardFn | None = None, backoff: Backoff | None = None, heartbeat: float = 60.0,
                 timeout_s: float = 10.0, claims=None):
        self.client_id = client_id
        self._secret = client_secret
        self.robot = robot
        self.api_base = api_base.rstrip("/")
        self._session = session
        self._own_session = session is None
        self.on_card = on_card
        self.backoff = backoff or Backoff()
        self.heartbeat = heartbeat
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.state = ConnectionState("dingtalk_stream")
        self.recent = RecentIds()  # messageIds of events and card clicks across reconnects
        self.claims = claims  # bot.claims.DeliveryClaims inside the server: kept before the ACK
        self._frames: set[asyncio.Task] = set()  # data frames being handled
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    def __repr__(self) -> str:  # the secret never appears
        return f"DingTalkStreamClient(client_id={self.client_id!r}, state={self.state.state!r})"

    # -- connection loop ---------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve frames, reconnect for ever (until cancelled)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            while True:
                try:
                    await self.connect_once()
                except asyncio.CancelledError:
                    raise
                except StreamRefused as exc:
                    self.state.set("backoff", str(exc))
                    log.warning("dingtalk stream refused: %s", exc)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
                    self.state.set("backoff", type(exc).__name__)
                    log.warning("dingtalk stream connection failed: %s", type(exc).__name__)
                else:
                    self.state.set("backoff")
                delay = await self.backoff.wait()
                log.info("dingtalk stream reconnecting after %.1fs", delay)
        finally:
            self.state.set("stopped")
            for task in self._frames:  # not ACKed: redelivered, or answered after a restart if kept
                task.cancel()
            await self.close()

    async def connect_once(self) -> None:
        """One ticket, one socket, served until it closes or the gateway says disconnect."""
        self.state.set("connecting")
        endpoint, ticket = await self.open_connection()
        url = f"{endpoint}?ticket={quote_plus(ticket)}"
        try:
            ws = await self._session.ws_connect(url, heartbeat=self.heartbeat, max_msg_size=MAX_FRAME_BYTES,
                                                timeout=aiohttp.ClientWSTimeout(ws_close=5.0))
        except aiohttp.WSServerHandshakeError as exc:  # e.g. a used or expired ticket: next time, a new one
            raise StreamRefused(f"WebSocket HTTP {exc.status}") from None
        self._ws = ws
        self.state.connects += 1
        self.state.set("connected")
        self.backoff.reset()
        log.info("dingtalk stream connected")
        try:
            await self.serve(ws)
        finally:
            self._ws = None
            await ws.close()

    async def open_connection(self) -> tuple[str, str]:
        local_ip = await asyncio.get_running_loop().run_in_executor(None, _local_ip)  # may ask DNS: off the loop
        body = {"clientId": self.client_id, "clientSecret": self._secret, "subscriptions": SUBSCRIPTIONS,
                "ua": USER_AGENT, "localIp": local_ip}
        async with self._session.post(self.api_base + OPEN_PATH, json=body, timeout=self.timeout,
                                      allow_redirects=False, headers={"Accept": "application/json"}) as resp:
            if resp.status != 200:
                raise StreamRefused(f"connections/open HTTP {resp.status}")
            data = await resp.json(content_type=None)
        endpoint, ticket = (data or {}).get("endpoint"), (data or {}).get("ticket")
        if not isinstance(endpoint, str) or not isinstance(ticket, str) or not endpoint.startswith(("wss://", "ws://")):
            raise StreamRefused("connections/open: no endpoint or ticket")
        return endpoint, ticket

    async def serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            self.state.frames += 1
            frame = _frame(msg.data)
            if frame is None:
                log.warning("dingtalk stream: a frame that is not a JSON object, ignored")
                continue
            headers = frame.get("headers") if isinstance(frame.get("headers"), dict) else {}
            if frame.get("type") == "SYSTEM" and headers.get("topic") == "disconnect":
                log.info("dingtalk stream: gateway asked to reconnect")
                self.backoff.reset()
                return
            if frame.get("type") == "SYSTEM":
                await _send(ws, await self.handle(frame, headers))
                continue
            task = asyncio.create_task(self._answer_frame(ws, frame, headers))
            self._frames.add(task)
            task.add_done_callback(self._frames.discard)

    async def _answer_frame(self, ws: aiohttp.ClientWebSocketResponse, frame: dict, headers: dict) -> None:
        """One data frame, ACKed once what it brought is kept; then its answer counts as handed on."""
        try:
            ack_frame, handed_on = await handle_once(self.claims, lambda: self.handle(frame, headers))
        except NotKept:
            return  # no ACK: the gateway redelivers it, and the redelivery is answered
        except Exception as exc:  # e.g. the store refused the record: nothing was claimed, likewise
            log.error("dingtalk stream frame %s not acknowledged: %s", headers.get("messageId"), type(exc).__name__)
            return
        try:
            await _send(ws, ack_frame)
        finally:
            if handed_on is not None:  # the answer is on its way whether or not this ACK got out
                handed_on()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- frames --------------------------------------------------------------------------

    async def handle(self, frame: dict, headers: dict) -> dict | None:
        """The ACK for one frame (None for a frame without messageId, which cannot be acknowledged)."""
        mid = headers.get("messageId")
        if not isinstance(mid, str) or not mid:
            return None
        kind, topic = frame.get("type"), headers.get("topic")
        if kind == "SYSTEM":
            if topic == "ping":
                return ack(mid, 200, frame.get("data") or "{}")
            return ack(mid, 200, "{}")
        try:
            data = json.loads(frame.get("data") or "")
            if not isinstance(data, dict):
                raise ValueError("data is not an object")
        except ValueError:
            return ack(mid, 400, json.dumps({"response": None}), "bad data")
        if kind == "CALLBACK" and topic == ROBOT_TOPIC:  # de-duplicated by msgId, once recorded
            return await self._robot_message(mid, data)
        if not self.recent.add(mid):  # a redelivery after a reconnect: acknowledged, not acted on twice
            return ack(mid, 200, json.dumps({"response": None}))
        if kind == "EVENT":
            return ack(mid, 200, json.dumps({"status": "SUCCESS", "message": "success"}))
        if topic == CARD_TOPIC and self.on_card is not None:
            return ack(mid, 200, json.dumps({"response": await self.on_card(data)}, ensure_ascii=False))
        return ack(mid, 404, json.dumps({"response": None}), "no handler")

    async def _robot_message(self, mid: str, data: dict) -> dict:
        try:
            inbound = self.robot.to_inbound(data)
        except ProtocolError as exc:
            return ack(mid, 400, json.dumps({"response": None}), exc.reason)
        problem = self.robot.route_problem(inbound) if inbound is not None else None
        if problem:  # checked first, as the HTTP robot does: nothing is recorded that cannot be answered
            log.warning("dingtalk stream message %s not answered: %s", inbound.msg_id, problem)
        elif inbound is not None and not await self.robot.is_duplicate(inbound.msg_id):  # claims it in the server
            self.robot.spawn(self.robot.answer_and_post(inbound))
        return ack(mid, 200, json.dumps({"response": None}))

    def health(self) -> dict:
        return self.state.as_dict()


def ack(message_id: str, code: int, data: str, message: str = "OK") -> dict[str, Any]:
    return {"code": code, "headers": {"messageId": message_id, "contentType": "application/json"},
            "message": message, "data": data}


async def _send(ws: aiohttp.ClientWebSocketResponse, ack_frame: dict | None) -> None:
    """An ACK; on a socket gone meanwhile it is lost, and the gateway redelivers the frame."""
    if ack_frame is None:
        return
    try:
        await ws.send_str(json.dumps(ack_frame, ensure_ascii=False))
    except (aiohttp.ClientError, ConnectionError) as exc:
        log.info("dingtalk stream ACK %s not sent: %s", ack_frame["headers"]["messageId"], type(exc).__name__)


def _frame(text: str) -> dict | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


def _local_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"
