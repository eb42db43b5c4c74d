"""In-process reminder scheduler for `duban serve`: one sweep per working day at the send time,
and a sender that drains the outbox (retries included) in the background."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time

import aiohttp

from knowledge import outbox

from . import clock
from .reminders import enqueue_plan, plan_day
from .sender import Sender
from .settings import Settings
from .workdays import WorkCalendar

log = logging.getLogger("duban.scheduler")


def sweep_if_due(db, settings: Settings, calendar: WorkCalendar, now: datetime) -> int | None:
    """Queue today's digests once, after the send time on a working day; returns how many were queued."""
    today = clock.today(settings.today) if settings.today else now.date()
    hh, mm = (int(x) for x in settings.send_time.split(":"))
    if now.time() < time(hh, mm) or outbox.swept(db, today.isoformat()):
        return None
    plan = plan_day(db, today, calendar, settings.policy())
    if plan.calendar_note:
        log.warning(plan.calendar_note)
    ids = enqueue_plan(db, plan, now)
    outbox.record_sweep(db, today.isoformat(), now)
    if plan.without_channel:
        log.warning("未配置推送渠道的单位：%s", "、".join(plan.without_channel))
    log.info("%s 提醒已排队：%d 条", today, len(ids))
    return len(ids)


async def run(db, settings: Settings, session: aiohttp.ClientSession, poll: float = 60.0) -> None:
    calendar = settings.calendar()  # checked when the server starts
    from .platforms.registry import channel_defaults
    sender = asyncio.create_task(Sender(db, session, channel_defaults=channel_defaults(settings)).run_forever())
    try:
        while True:
            try:
                sweep_if_due(db, settings, calendar, clock.now())
            except Exception:
                log.exception("提醒计算出错")
            await asyncio.sleep(poll)
    finally:
        sender.cancel()
