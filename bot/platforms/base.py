"""Common event, reply and adapter base shared by the chat platforms.

Each platform module turns its wire format into one `Inbound` and sends one
`Reply`; everything after that is platform-free.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

from ..render import split_at_items

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Inbound:
    """One user message, whatever platform it came from (keyword-only)."""

    platform: str  # "dingtalk" | "wecom"
    msg_id: str
    user_id: str  # DingTalk senderStaffId / WeCom FromUserName
    user_name: str | None = None
    chat_id: str | None = None  # DingTalk conversationId; WeCom None
    chat_type: str = "single"  # "group" | "single"
    chat_title: str | None = None
    text: str  # normalised command text
    at_user_ids: list[str] = field(default_factory=list)
    reply_route: dict[str, Any] = field(default_factory=dict)  # opaque to the app
    received_at: float = 0.0


@dataclass
class Reply:
    """One answer: markdown text plus optional @-mentions."""

    text: str
    title: str = "督办"
    at_user_ids: list[str] = field(default_factory=list)
    at_mobiles: list[str] = field(default_factory=list)


class ProtocolError(Exception):
    """A request we refuse. `reason` is short and never contains secrets."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.reason)


# a plain result is used at once; an awaitable (an answer that waits on I/O) gets the reply window
AnswerFn = Callable[[Inbound], "Reply | None | Awaitable[Reply | None]"]
SeenFn = Callable[[str, str], "bool | Awaitable[bool]"]
ClockFn = Callable[[], float]


class Platform(ABC):
    """One chat platform adapter.

    Hooks from the app: `answer` (platform-free), `seen(platform, msg_id)`
    (atomic claim: True if already processed; may be awaitable) and a clock
    `now()` in epoch seconds, injectable for tests.
    """

    name: str = ""

    def __init__(self, answer: AnswerFn, seen: SeenFn, now: ClockFn = time.time):
        self.answer = answer
        self.seen = seen
        self.now = now
        self._tasks: set[asyncio.Task] = set()

    @abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Register HTTP routes (and shutdown of background work) on `app`."""

    def _register_shutdown(self, app: web.Application) -> None:
        async def _on_shutdown(_app: web.Application) -> None:
            await self.close()

        app.on_shutdown.append(_on_shutdown)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        """Run work after the HTTP response, keeping a reference for close()."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s background task failed", self.name, exc_info=task.exception())

    async def close(self, timeout: float = 30.0) -> None:
        """Wait for background replies still in flight (tasks may spawn tasks);
        cancel whatever is still running after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            pending = list(self._tasks)
            _, still_running = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if still_running and loop.time() >= deadline:
                log.warning("%s: cancelling %d unfinished replies at shutdown", self.name, len(still_running))
                for task in still_running:
                    task.cancel()
                await asyncio.gather(*still_running, return_exceptions=True)

    async def is_duplicate(self, msg_id: str) -> bool:
        seen = self.seen(self.name, msg_id)
        return await seen if inspect.isawaitable(seen) else seen

    def _start_answer(self, inbound: Inbound):
        """The app's answer (a Reply, None, or an awaitable of one), failures logged instead of raised."""
        try:
            return self.answer(inbound)
        except Exception:
            log.exception("%s answer failed for message %s", self.name, inbound.msg_id)
            return None

    async def _settle(self, pending: Awaitable[Reply | None], inbound: Inbound) -> Reply | None:
        try:
            return _usable(await pending)
        except Exception:
            log.exception("%s answer failed for message %s", self.name, inbound.msg_id)
            return None

    async def call_answer(self, inbound: Inbound) -> Reply | None:
        """The app's answer, with failures logged instead of raised."""
        reply = self._start_answer(inbound)
        return _usable(reply) if _ready(reply) else await self._settle(reply, inbound)

    async def answer_within(self, inbound: Inbound, timeout: float) -> tuple[Reply | None, asyncio.Task | None]:
        """(reply, None) when the answer is ready within `timeout` seconds, else (None, the task that
        is still computing it). A synchronous answer is used in place: no task, no timer."""
        reply = self._start_answer(inbound)
        if _ready(reply):
            return _usable(reply), None
        task = self.spawn(self._settle(reply, inbound))
        try:
            # shield: on timeout the answer keeps running and the caller sends it another way
            return await asyncio.wait_for(asyncio.shield(task), timeout), None
        except asyncio.TimeoutError:
            return None, task


def _ready(reply) -> bool:
    """A synchronous answer (a Reply or None), not an awaitable of one."""
    return reply is None or isinstance(reply, Reply)


def _usable(reply: Reply | None) -> Reply | None:
    return reply if reply is not None and reply.text and not reply.text.isspace() else None


async def read_body(request: web.Request, limit: int) -> bytes:
    """Read the request body, refusing more than `limit` bytes (413)."""
    check_length(request, limit)
    if request.content_length is not None:  # declared and within the limit: one read
        try:
            return await request.content.readexactly(request.content_length)
        except asyncio.IncompleteReadError:
            raise ProtocolError(400, "incomplete body") from None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16384):
        body += chunk
        if len(body) > limit:
            raise ProtocolError(413, "body too large")
    return bytes(body)


def check_length(request: web.Request, limit: int) -> None:
    """Refuse a declared Content-Length above `limit` before reading anything."""
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(413, "body too large")


def split_markdown(text: str, limit_bytes: int) -> list[str]:
    """Parts of at most `limit_bytes` UTF-8 bytes for a platform's message limit, cut between the items of an
    answer, never inside one (render.split_at_items); blank-only parts are dropped."""
    if limit_bytes < 4:
        raise ValueError("limit_bytes must be at least 4")
    if len(text.encode("utf-8")) <= limit_bytes:  # the usual case: one part
        return [text] if text.strip() else []
    return split_at_items(text, limit_bytes)
