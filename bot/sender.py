"""Sending what the outbox holds: paced per channel, retried with backoff, never forgotten.

A digest is marked `posting` (committed) before the request and `sent` right after the platform
accepts it; a process killed in between sends that one digest again after restart.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Callable

import aiohttp

from knowledge import outbox

from . import clock
from .store_lock import StoreLock
from .platforms.registry import channel_from_config
from .channels.base import ChannelConfigError, OutMessage
from .channels.pacing import RateLimiter

log = logging.getLogger("duban.sender")


class Sender:
    def __init__(self, db, session: aiohttp.ClientSession, *, now: Callable[[], datetime] = clock.now,
                 clock_s: Callable[[], float] | None = None, max_attempts: int = 8, base_backoff: float = 30.0,
                 max_backoff: float = 3600.0, gap: float = 0.0,
                 max_inline_wait: float = 60.0, unknown_retry_delay: float = 300.0,
                 channel_defaults: dict[str, dict] | None = None):
        self.db = db
        self.session = session
        self.now = now
        self.clock_s = clock_s
        self.limiters: dict[int, RateLimiter] = {}  # one per platform limit (robots 20/min, app 30/min)
        # per channel kind, what the settings supply (app credentials) under a unit's own config
        self.channel_defaults = dict(channel_defaults or {})
        self.lock = StoreLock(db, "sender")  # one sender per store: serve, or a manual `duban remind`
        self.channels: dict[str, object] = {}
        self.keep_lock = False
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.gap = gap  # extra pause between two messages (pacing on top of the per-minute limit)
        self.max_inline_wait = max_inline_wait  # longer pacing waits are rescheduled in the outbox instead
        self.unknown_retry_delay = unknown_retry_delay  # pause before the one retry of a push with no answer

    def _channel(self, config: dict):
        """One channel object per configuration, so a WeCom app's access token is fetched once, not per digest."""
        key = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
        if key not in self.channels:
            self.channels[key] = channel_from_config(config, self.session)
        return self.channels[key]

    def limiter_for(self, per_minute: int) -> RateLimiter:
        if per_minute not in self.limiters:
            kw = {"clock": self.clock_s} if self.clock_s else {}
            self.limiters[per_minute] = RateLimiter(max_per_minute=per_minute, **kw)
        return self.limiters[per_minute]

    def backoff(self, attempts: int) -> float:
        return min(self.max_backoff, self.base_backoff * 2 ** max(0, attempts - 1))

    async def send_one(self, row: outbox.OutboxRow, channels: dict[str, dict]) -> str:
        cfg = channels.get(row.unit)
        if cfg is None:
            outbox.mark_failed(self.db, row.id, "该单位未配置推送渠道")
            return "failed"
        if cfg.get("broken_reason"):
            outbox.mark_failed(self.db, row.id, f"渠道不可用：{cfg['broken_reason']}")
            return "failed"
        config = {k: v for k, v in cfg.items() if k != "broken_reason"}
        defaults = {k: v for k, v in (self.channel_defaults.get(config.get("kind")) or {}).items() if v}
        config = {**defaults, **config}
        try:
            channel = self._channel(config)
        except ChannelConfigError as e:
            outbox.mark_failed(self.db, row.id, str(e))
            return "failed"
        msg = OutMessage(title=row.title, markdown=row.body, at_mobiles=row.at_mobiles, at_user_ids=row.at_user_ids,
                         kind=row.kind, ref=str(row.id))
        if channel.kind != "console":
            limiter = self.limiter_for(channel.max_per_minute)
            keys, count = channel.pacing_keys(msg), channel.message_count(msg)
            wait = max((limiter.delay_for(k, count) for k in keys), default=0.0)
            if wait > self.max_inline_wait:  # a blocked robot (130101: 10 min) must not hold up the others
                outbox.mark_retry(self.db, row.id, "等待推送限流解除", self.now() + timedelta(seconds=wait))
                return "retry"
            await limiter.acquire_many(keys, count)
        if not outbox.claim(self.db, row.id, self.now()):
            return "skipped"  # another sender (serve and a manual remind) got there first
        outcome = await channel.send(msg)
        if outcome.status == "sent":
            outbox.mark_sent(self.db, row.id, self.now())
            return "sent"
        if outcome.unknown:
            return self._unknown(row, outcome.detail)
        if outcome.status == "retry" and row.attempts + 1 < self.max_attempts:
            wait = outcome.retry_after if outcome.retry_after is not None else self.backoff(row.attempts + 1)
            if outcome.retry_after:
                for key in channel.pacing_keys(msg):
                    self.limiter_for(channel.max_per_minute).block(key, outcome.retry_after)
            outbox.mark_retry(self.db, row.id, outcome.detail, self.now() + timedelta(seconds=wait))
            log.warning("推送暂缓（%s），%s 秒后重试：%s", row.unit, int(wait), outcome.detail)
            return "retry"
        outbox.mark_failed(self.db, row.id, outcome.detail)
        if outcome.status == "failed":
            outbox.mark_channel_broken(self.db, row.unit, outcome.detail, self.now())
        log.error("推送失败（%s）：%s", row.unit, outcome.detail)
        return "failed"

    def _unknown(self, row: outbox.OutboxRow, detail: str) -> str:
        """Sent without an answer: it may have arrived. Try once more after a pause, then leave it to the operator
        rather than flood a group that did receive it."""
        detail = f"{outbox.UNKNOWN_MARK}：{detail}"
        if outbox.outcome_was_unknown(self.db, row.id):
            outbox.mark_failed(self.db, row.id, f"{detail}（已重试一次，请人工确认是否送达）")
            log.error("推送结果未知（%s），不再重试", row.unit)
            return "unknown"
        outbox.mark_retry(self.db, row.id, detail, self.now() + timedelta(seconds=self.unknown_retry_delay))
        log.warning("推送结果未知（%s），%s 秒后重试一次", row.unit, int(self.unknown_retry_delay))
        return "retry"

    async def drain(self, budget_s: float | None = None) -> dict[str, int]:
        """Send everything due now (retries scheduled later stay queued); with `budget_s`, start no new
        message after that many seconds: counts["left"] says how many due messages wait for the next run."""
        counts = {"sent": 0, "retry": 0, "failed": 0}
        if not self.lock.acquire():
            counts["deferred"] = len(outbox.due_messages(self.db, self.now()))  # the running sender delivers them
            return counts
        outbox.recover(self.db)
        loop = asyncio.get_running_loop()
        deadline = None if budget_s is None else loop.time() + budget_s
        try:
            await self._send_due(counts, deadline)
        finally:
            if not self.keep_lock:
                self.lock.release()
        return counts

    async def _send_due(self, counts: dict[str, int], deadline: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            rows = outbox.due_messages(self.db, self.now())
            if not rows:
                return
            if deadline is not None and loop.time() >= deadline:
                counts["left"] = outbox.count_due(self.db, self.now())
                return
            channels = outbox.channels(self.db)
            for row in rows:
                if deadline is not None and loop.time() >= deadline:
                    break
                result = await self.send_one(row, channels)
                counts[result] = counts.get(result, 0) + 1
                if self.gap:
                    await asyncio.sleep(self.gap)

    async def run_forever(self, poll: float = 30.0) -> None:
        self.keep_lock = True  # the server is the sender for as long as it runs
        while True:
            try:
                await self.drain()
            except Exception:  # a broken row must not stop reminders for everyone else
                log.exception("发送队列出错")
            wake = outbox.next_wakeup(self.db)
            delay = poll if wake is None else max(1.0, min(poll, (wake - self.now()).total_seconds()))
            await asyncio.sleep(delay)
