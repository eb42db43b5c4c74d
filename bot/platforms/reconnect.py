"""Reconnect pacing and connection state shared by the outbound long connections (DingTalk Stream, WeCom AI bot).

Backoff: 1 s doubling to 60 s, with jitter so that many servers cut off together do not return together.
The random source and the sleep are injectable so tests run in milliseconds.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Awaitable, Callable


@dataclass
class Backoff:
    base: float = 1.0
    cap: float = 60.0
    jitter: Callable[[], float] = random.random  # 0..1
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    failures: int = 0

    def next_delay(self) -> float:
        """The pause before the next attempt: half of the doubled step fixed, half random ("equal jitter")."""
        step = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        return step / 2 + step / 2 * self.jitter()

    async def wait(self) -> float:
        delay = self.next_delay()
        await self.sleep(delay)
        return delay

    def reset(self) -> None:
        self.failures = 0


@dataclass
class ConnectionState:
    """What /healthz and `duban status` show about one long connection (never a secret or a ticket)."""

    name: str
    state: str = "starting"  # starting | connecting | connected | backoff | stopped | failed
    since: float = field(default_factory=time.time)
    connects: int = 0
    frames: int = 0
    last_error: str | None = None

    def set(self, state: str, error: str | None = None) -> None:
        if state != self.state:
            self.state, self.since = state, time.time()
        if error is not None:
            self.last_error = error[:120]

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state, "since": round(self.since), "connects": self.connects,
                "frames": self.frames, "last_error": self.last_error}


class RecentIds:
    """The last `capacity` message ids: a redelivery after a reconnect is recognised without the store."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, msg_id: str) -> bool:
        """True if new; False if already seen."""
        if msg_id in self._ids:
            self._ids.move_to_end(msg_id)
            return False
        self._ids[msg_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def discard(self, msg_id: str) -> None:
        """Forget an id whose message was not answered after all: its redelivery is new again."""
        self._ids.pop(msg_id, None)
