"""Pacing: stay under each destination's per-minute limit instead of hitting it.

Platform limits (protocols.md §1.8, §2, §4.3; pitfalls.md):
* DingTalk custom robot: 20 messages/minute per robot; the 21st gets 130101
  and the robot is blocked for 10 minutes — hitting the limit is expensive.
* WeCom group robot: 20 messages/minute per robot; over it, 45009.
* WeCom app messages: 30/minute (and 1000/hour) per app *per recipient*;
  excess messages are dropped silently, with no error to react to. Use a
  separate RateLimiter(max_per_minute=30) keyed by recipient
  (`WeComAppChannel.pacing_keys`).

A key is one limited destination (`Channel.pacing_keys(msg)`); a sliding
window over the last 60 s counts what each key already sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Awaitable, Callable

WINDOW_S = 60.0


class RateLimiter:
    def __init__(
        self,
        max_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        window_s: float = WINDOW_S,
    ):
        if max_per_minute < 1:
            raise ValueError("max_per_minute must be at least 1")
        self.max_per_minute = max_per_minute
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def delay_for(self, key: str, count: int = 1) -> float:
        """Seconds to wait before `count` more messages may go to `key` (0 = now).

        A batch larger than the limit cannot fit in any window: it waits for an
        empty window instead of raising (so a sender loop survives it); the
        platform may then throttle its tail, which the channel reports as retry.
        """
        count = max(1, min(count, self.max_per_minute))
        now = self._clock()
        self._prune(key, now)
        delay = max(0.0, self._blocked_until.get(key, 0.0) - now)
        times = self._sent.get(key, ())
        over = len(times) + count - self.max_per_minute
        if over > 0:
            # The over-th oldest send must leave the window first.
            delay = max(delay, times[over - 1] + self.window_s - now)
        return delay

    async def acquire(self, key: str, count: int = 1) -> float:
        """Wait until `count` messages may go to `key`, then record them; returns seconds waited."""
        return await self.acquire_many([key], count)

    async def acquire_many(self, keys: list[str], count: int = 1) -> float:
        """Like `acquire`, for a send limited under several keys at once (WeCom app:
        one key per recipient): waits for the slowest, then records all.

        Check-and-record happens without an await in between, so concurrent
        callers on one event loop cannot both take the last slot.
        """
        waited = 0.0
        while (delay := max((self.delay_for(k, count) for k in keys), default=0.0)) > 0:
            await self._sleep(delay)
            waited += delay
        self.record(keys, count)
        return waited

    def record(self, keys: list[str], count: int = 1) -> None:
        """Count `count` messages as sent now under each key (sends made without acquire)."""
        now = self._clock()
        for key in keys:
            self._sent.setdefault(key, deque()).extend([now] * count)

    def block(self, key: str, seconds: float) -> None:
        """Honour a platform's retry_after (DingTalk 130101: 10 minutes) for this key."""
        until = self._clock() + max(0.0, seconds)
        self._blocked_until[key] = max(until, self._blocked_until.get(key, 0.0))

    def _prune(self, key: str, now: float) -> None:
        times = self._sent.get(key)
        if times is not None:
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self._sent[key]
        if key in self._blocked_until and self._blocked_until[key] <= now:
            del self._blocked_until[key]
