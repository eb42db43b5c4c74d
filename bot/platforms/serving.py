"""The platforms inside the server: every configured platform's routes and long connections on the app, their
start and stop, and the state file `duban status` reads (registry.read_states). Kept apart from the registry so
commands that only read settings or build channels do not load the server's modules."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path

from aiohttp import web

from .registry import PLATFORMS, state_file
from .spec import InstallContext

log = logging.getLogger("duban.platforms")
CONNECTIONS = web.AppKey("connections", list)


def install_platforms(app: web.Application, settings, *, answer, claims, clock, actions=None) -> InstallContext:
    """Every configured platform's routes and long connections, on `app`. Connections start with the app and
    are cancelled when it stops; their state is kept in a small file next to the store for `duban status`."""
    ctx = InstallContext(app=app, settings=settings, answer=answer, seen=claims.seen, claim=claims.claim,
                         clock=clock, actions=actions, claims=claims)
    for spec in PLATFORMS:
        spec.install(ctx)
    app[CONNECTIONS] = ctx.connections
    app.cleanup_ctx.append(_lifecycle(ctx, state_file(settings.db)))
    return ctx


def _lifecycle(ctx: InstallContext, path: Path | None):
    async def run(app: web.Application):
        tasks = [asyncio.create_task(c.run()) for c in ctx.connections]
        writer = asyncio.create_task(_write_states(ctx.connections, path)) if tasks and path else None
        yield
        for task in [*tasks, *([writer] if writer else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for close in ctx.closers:
            with contextlib.suppress(Exception):
                await close()
        if path and tasks:
            _save(path, ctx.connections)
    return run


def connection_health(app: web.Application) -> list[dict]:
    return [c.health() for c in app.get(CONNECTIONS, [])]




async def _write_states(connections, path: Path, every: float = 0.5) -> None:
    last = None
    while True:
        states = [c.health() for c in connections]
        if states != last:
            await asyncio.get_running_loop().run_in_executor(None, _save, path, connections, states)
            last = states
        await asyncio.sleep(every)


def _save(path: Path, connections, states=None) -> None:
    states = states if states is not None else [c.health() for c in connections]
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps({"pid": os.getpid(), "connections": states}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only folder must not stop the bot
        log.warning("cannot write connection state %s: %s", path.name, exc.strerror)
