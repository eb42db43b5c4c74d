"""The aiohttp application: webhooks for DingTalk and WeCom, /healthz, shared state via AppKeys."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Callable

import aiohttp
from aiohttp import web

from knowledge import deliveries
from knowledge.db import open_db
from parser.units import UnitDirectory

from . import clock
from .claims import DeliveryClaims
from .conversation import Conversation, Turn
from .inbox import Inbox, watch as watch_inbox
from .intent import preload
from .scheduler import run as run_scheduler
from .platforms.base import Inbound, Reply
from .platforms.dingtalk import DingTalkPlatform
from .platforms.wecom import WeComAppClient, WeComPlatform
from .settings import Settings

log = logging.getLogger("duban.server")

SETTINGS = web.AppKey("settings", Settings)
CONVERSATION = web.AppKey("conversation", Conversation)


def make_conversation(settings: Settings, db=None) -> Conversation:
    directory = UnitDirectory.load(settings.units_file) if settings.units_file else UnitDirectory.load()
    if db is None:
        db = open_db(settings.db)
        # the server commits on every message (de-duplication): WAL keeps that off the disk's sync path
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    inbox = Inbox(Path(settings.inbox_dir)) if settings.inbox_dir else None
    return Conversation(db, directory, today=lambda: clock.today(settings.today), now=clock.now, inbox=inbox,
                        calendar=settings.calendar(), policy=settings.policy())


async def healthz(request: web.Request) -> web.Response:
    db = request.app[CONVERSATION].db
    docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    return web.json_response({"status": "ok", "documents": docs, "tasks": tasks})


def create_app(settings: Settings, conversation: Conversation | None = None,
               platform_clock: Callable[[], float] = time.time) -> web.Application:
    """The webhook server. `platform_clock` (epoch seconds) is injectable so recorded requests replay."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    conv = conversation or make_conversation(settings)
    app[SETTINGS] = settings
    app[CONVERSATION] = conv

    claims = DeliveryClaims(conv.db, clock.now)  # de-duplication, one commit per burst of messages

    def answer(inbound: Inbound) -> Reply | None:  # synchronous: the platforms use it in place
        # every message answered here was recorded first: its burst read the store's generation
        turn = Turn(inbound.platform, inbound.user_id, inbound.text, inbound.chat_id, inbound.chat_type,
                    stamp=claims.generation)
        result = conv.handle(turn)
        return Reply(result.reply, title="督办")

    app.router.add_get("/healthz", healthz)
    session_holder: dict = {}
    if settings.dingtalk_enabled:
        DingTalkPlatform(answer=answer, seen=claims.seen, app_secret=settings.dingtalk_app_secret,
                         bot_name=settings.dingtalk_bot_name, now=platform_clock, max_body_bytes=settings.max_body_bytes,
                         sign_window=settings.replay_window, session_hosts=set(settings.dingtalk_session_hosts),
                         reply_in_response=settings.dingtalk_reply_in_response,
                         claim=lambda mid, ts, sign: claims.claim("dingtalk", mid, (ts, sign))).add_routes(app)
    if settings.wecom_enabled:
        client = None
        if settings.wecom_secret and settings.wecom_agent_id:
            client = WeComAppClient(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id,
                                    base_url=settings.wecom_api_base)
            session_holder["wecom"] = client
        WeComPlatform(answer=answer, seen=claims.seen, token=settings.wecom_token,
                      encoding_aes_key=settings.wecom_aes_key, corp_id=settings.wecom_corp_id,
                      app_client=client, now=platform_clock, max_body_bytes=settings.max_body_bytes,
                      replay_window=settings.replay_window).add_routes(app)

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
            background.append(asyncio.create_task(watch_inbox(conv.inbox, conv.db, conv.directory)))
        for task in background:
            task.add_done_callback(report)
        yield
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await session.close()
        for c in session_holder.values():
            await c.close()

    app.cleanup_ctx.append(housekeeping)
    return app
