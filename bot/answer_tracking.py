"""At-least-once answers for the webhook routes and the long connections, whatever the platform adapter
does inside.

A request (or a long connection's message) that claims a new message runs in a `Handling` (a context
variable): the answer keeps the message's payload there, and every task the adapter spawns while handling it
(a reply POSTed to the sessionWebhook, a push through the app API) is tracked by a task factory. The platform
is told the message arrived (its HTTP 200, a Stream ACK, a first reply frame) only once the payload is kept
(dying before that, the platform redelivers; dying after, the restart answers from the payload), and the
message is marked answered once that acknowledgement is written and every tracked task is done.
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from typing import Awaitable, Callable, TypeVar

import orjson

from aiohttp import web

from .claims import DeliveryClaims
from .platforms.base import Inbound

log = logging.getLogger("duban.answers")

KEEP_TIMEOUT_S = 30.0  # past this the message is not acknowledged (HTTP 503, no ACK): the store is stuck
R = TypeVar("R")
CURRENT: contextvars.ContextVar["Handling | None"] = contextvars.ContextVar("duban_handling", default=None)


class Handling:
    """One webhook request or long-connection message: the message it claimed, its kept payload, the tasks it spawned.
    Callbacks, not tasks: every message passes here."""

    __slots__ = ("key", "inbound", "handler_done", "kept", "tasks", "_waiter", "_on_idle")

    def __init__(self) -> None:
        self.key: tuple[str, str] | None = None
        self.inbound: Inbound | None = None  # the message being answered (its payload, if it must be kept)
        self.handler_done = False
        self.kept: asyncio.Future | None = None  # the payload's write, once the answer started
        self.tasks: set[asyncio.Task] = set()
        self._waiter: asyncio.Future | None = None
        self._on_idle: Callable[[], None] | None = None

    def keep(self, write: asyncio.Future | None) -> None:
        self.kept = write
        self._wake()

    def busy(self) -> bool:
        return any(not t.done() for t in self.tasks)

    def task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not self.busy():
            self._wake()
            if self._on_idle is not None:
                self._on_idle, callback = None, self._on_idle
                callback()

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call back once every task spawned for this request (and by those tasks) is done."""
        if self.busy():
            self._on_idle = callback
        else:
            callback()

    async def payload_kept(self, timeout: float) -> bool:
        """True once the payload is kept, or when the request's work ended without an answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.kept is None and self.busy():  # the answer runs in a task spawned by the adapter
            self._waiter = loop.create_future()
            done, _ = await asyncio.wait({self._waiter}, timeout=max(0.0, deadline - loop.time()))
            if not done:
                return False
        if self.kept is None:
            return True
        if not self.kept.done():
            done, _ = await asyncio.wait({self.kept}, timeout=max(0.0, deadline - loop.time()))
            if not done:
                self.kept.add_done_callback(_retrieve)  # a late failure: seen here, logged by the writer
                return False
        return self.kept.exception() is None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def claimed(key: tuple[str, str]) -> None:
    """The request being handled claimed this message as new."""
    handling = CURRENT.get()
    if handling is not None:
        handling.key = key


def payload_of(inbound: Inbound) -> str:
    return orjson.dumps(inbound).decode()  # a dataclass of plain values: orjson's own fast path


def inbound_of(payload: str) -> Inbound:
    return Inbound(**json.loads(payload))


def keep_payload(claims: DeliveryClaims, inbound: Inbound) -> None:
    """Called by the answer. A reply that goes back in the HTTP response needs no payload kept (if the
    process dies first, the platform redelivers); one answered after the response (a task of the adapter)
    has its payload kept before the platform gets its 200."""
    handling = CURRENT.get()
    if handling is not None and handling.key == (inbound.platform, inbound.msg_id):
        handling.inbound = inbound
        if handling.handler_done:  # the acknowledgement is waiting for this answer: keep it now
            handling.keep(claims.keep(inbound.platform, inbound.msg_id, payload_of(inbound)))


def track_spawned_tasks(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Install the task factory; returns what restores the previous one."""
    previous = loop.get_task_factory()

    def factory(loop, coro, **kwargs):
        task = previous(loop, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop, **kwargs)
        handling = CURRENT.get()  # the creator's context
        if handling is not None:
            handling.tasks.add(task)
            task.add_done_callback(handling.task_done)
        return task

    loop.set_task_factory(factory)
    return lambda: loop.set_task_factory(previous)


class NotKept(Exception):
    """The message's payload could not be kept: it is not to be acknowledged (the platform redelivers)."""


async def handle_once(claims: DeliveryClaims | None,
                      handler: Callable[[], Awaitable[R]]) -> tuple[R, Callable[[], None] | None]:
    """Run `handler` (which may claim a new message and start its answer) in a Handling: its result, and
    what to call once the platform has been told the message arrived (None when no new message was
    claimed, or with no `claims`: a connection outside the server). Returns once the payload of an answer
    still running is kept; raises NotKept if it cannot be."""
    if claims is None:
        return await handler(), None
    handling = Handling()
    token = CURRENT.set(handling)
    try:
        result = await handler()
    finally:
        CURRENT.reset(token)
    if handling.key is None:  # nothing new claimed: a duplicate, a refusal, not a text message
        return result, None
    handling.handler_done = True
    busy = handling.busy()
    if busy and handling.inbound is not None:  # the reply goes out after the acknowledgement
        handling.keep(claims.keep(*handling.key, payload_of(handling.inbound)))
    # answered in the handler's own response (the usual case): nothing was to be kept, nothing to wait for
    if (busy or handling.kept is not None) and not await handling.payload_kept(KEEP_TIMEOUT_S):
        claims.release(*handling.key)
        log.error("消息 %s 未能记录，等待平台重发", handling.key[1])
        raise NotKept(handling.key[1])
    key = handling.key
    return result, lambda: handling.when_idle(lambda: _mark_answered(claims, key))


def middleware(claims: DeliveryClaims):
    @web.middleware
    async def at_least_once(request: web.Request, handler):
        if request.method != "POST":  # messages arrive by POST; the claim tells which POST carried one
            return await handler(request)
        try:
            response, handed_on = await handle_once(claims, lambda: handler(request))
        except NotKept:
            return web.Response(status=503, text="try again")
        if handed_on is None:
            return response
        await response.prepare(request)  # on the wire before it counts as answered
        await response.write_eof()
        handed_on()
        return response

    return at_least_once


def _mark_answered(claims: DeliveryClaims, key: tuple[str, str]) -> None:
    claims.answered_soon(*key)  # if it is lost, the message stays open: a restart answers it again (allowed)
