"""The aiohttp application: webhooks for DingTalk and WeCom, /healthz, shared state via AppKeys."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

import aiohttp
from aiohttp import web

from knowledge import deliveries, health
from knowledge.db import store_path
from knowledge.writer import StoreWriter

from . import answer_tracking, clock
from .claims import DeliveryClaims
from .resend import answer_unanswered
from .conversation import Conversation, Turn, make_conversation  # noqa: F401  (make_conversation: the serve API)
from .inbox import watch as watch_inbox
from .intent import preload
from .scheduler import run as run_scheduler
from .platforms.base import Inbound, Reply
from .platforms.serving import connection_health, install_platforms
from .settings import Settings
from . import workbench

log = logging.getLogger("duban.server")

SETTINGS = web.AppKey("settings", Settings)
CONVERSATION = web.AppKey("conversation", Conversation)
CLAIMS = web.AppKey("claims", DeliveryClaims)


async def healthz(request: web.Request) -> web.Response:
    """The store, the writer queue, the last sweep, failing channels and free disk, for monitoring."""
    conv, claims = request.app[CONVERSATION], request.app[CLAIMS]
    try:
        report = health.store_report(conv.db)
    except Exception as exc:  # the store cannot be read: say so, do not fail with a traceback
        return web.json_response({"status": "error", "store": type(exc).__name__}, status=503)
    writer = claims.writer
    path = store_path(conv.db)
    free_mb = shutil.disk_usage(Path(path).parent).free // (1024 * 1024) if path else None
    problems = [p for p, bad in (("writer", writer is not None and writer.last_error),
                                 ("disk", free_mb is not None and free_mb < health.LOW_DISK_MB),
                                 ("channels", report["failing_channels"])) if bad]
    connections = connection_health(request.app)  # DingTalk Stream / WeCom AI bot long connections, when configured
    return web.json_response({"status": "degraded" if problems else "ok", "problems": problems, **report,
                              "store": path or ":memory:", "free_disk_mb": free_mb,
                              "writer": {"queued": writer.pending if writer else 0,
                                         "last_error": writer.last_error if writer else None},
                              "unanswered": len(claims.log.rows),
                              **({"connections": connections} if connections else {})})


def create_app(settings: Settings, conversation: Conversation | None = None,
               platform_clock: Callable[[], float] = time.time) -> web.Application:
    """The webhook server. `platform_clock` (epoch seconds) is injectable so recorded requests replay."""
    conv = conversation or make_conversation(settings)
    deliveries.attach_log(conv.db)  # the serving connection reads the delivery log; the writer thread writes it
    claims = DeliveryClaims(conv.db, clock.now)  # de-duplication, one commit per burst of messages
    claims.on_new = answer_tracking.claimed  # received → answered → marked answered (at least once)
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[answer_tracking.middleware(claims)])
    app[SETTINGS] = settings
    app[CONVERSATION] = conv
    app[CLAIMS] = claims

    def answer(inbound: Inbound) -> Reply | None:  # synchronous: the platforms use it in place
        # every message answered here was recorded first: its burst read the store's generation
        answer_tracking.keep_payload(claims, inbound)
        turn = Turn(inbound.platform, inbound.user_id, inbound.text, inbound.chat_id, inbound.chat_type,
                    stamp=claims.generation)
        result = conv.handle(turn)
        return Reply(result.reply, title="督办")

    app.router.add_get("/healthz", healthz)
    workbench.add_routes(app, settings, conv.db)  # the dashboard (/, /login, /tasks, …) and /calendar/<token>.ics
    # every platform's routes and long connections (DingTalk HTTP/Stream, WeCom app/AI bot): bot/platforms/serving.py
    install_platforms(app, settings, answer=answer, claims=claims, clock=platform_clock, actions=conv)

    app.cleanup_ctx.append(_housekeeping(conv, settings))
    app.cleanup_ctx.append(_writer_and_tracking(conv, claims, settings, answer))
    return app


def _writer_and_tracking(conv: Conversation, claims: DeliveryClaims, settings: Settings, answer):
    """The delivery log's writer and the at-least-once tracking, for the server's lifetime."""

    async def writer_and_tracking(app: web.Application):
        path = store_path(conv.db)
        # the delivery log's writes leave the event loop, on a connection to the log's file alone
        claims.writer = StoreWriter(deliveries.log_path(path)) if path else None
        restore = answer_tracking.track_spawned_tasks(asyncio.get_running_loop())
        resend = asyncio.create_task(answer_unanswered(claims, settings, answer))
        yield
        resend.cancel()
        restore()
        if (marks := claims.flush_marks()) is not None:  # a clean stop leaves no answered message open
            with contextlib.suppress(Exception):
                await marks
        writer, claims.writer = claims.writer, None  # what is written from now on is written in place
        if writer is not None:
            await asyncio.to_thread(writer.close)

    return writer_and_tracking


def _housekeeping(conv: Conversation, settings: Settings):
    """The delivery log's pruning, jieba's dictionary, the reminder scheduler and the inbox, for the server's
    lifetime."""

    async def housekeeping(app: web.Application):
        deliveries.prune(conv.db, clock.now() - deliveries.KEEP)  # redeliveries come within minutes
        # jieba's dictionary takes about a second to load: do it now, not inside WeCom's 5-second reply window
        asyncio.get_running_loop().run_in_executor(None, preload, conv.directory.all_names())
        session = aiohttp.ClientSession()
        background: list[asyncio.Task] = []

        def report(task: asyncio.Task) -> None:  # a background loop that dies must not do so silently
            if not task.cancelled() and task.exception():
                log.error("后台任务异常退出：%r", task.exception())
        if settings.reminders_enabled:
            background.append(asyncio.create_task(run_scheduler(conv.db, settings, session)))
        if conv.inbox is not None:
            conv.inbox.folder.mkdir(parents=True, exist_ok=True)
            background.append(asyncio.create_task(watch_inbox(conv.inbox, conv.db, units_file=settings.units_file)))
        for task in background:
            task.add_done_callback(report)
        yield
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await session.close()

    return housekeeping
