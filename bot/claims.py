"""Group commit for inbound deliveries.

Every webhook message is recorded (msgId de-duplication, DingTalk's signed timestamps) before it is
answered, so a restart never answers twice. The messages that arrive in one turn of the event loop
share one SQLite transaction: each handler still waits for its own commit, but a burst pays for one.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

from knowledge import people


class DeliveryClaims:
    def __init__(self, db, now: Callable[[], datetime]):
        self.db = db
        self.now = now
        self._pending: list[tuple[people.Delivery, asyncio.Future]] = []

    async def claim(self, platform: str, msg_id: str, signed: tuple[str, str] | None = None) -> str:
        """"new", "duplicate" or "replayed" (see knowledge.people.claim_deliveries), once committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)  # after the handlers already scheduled for this turn
        self._pending.append(((platform, msg_id, signed), future))
        return await future

    async def seen(self, platform: str, msg_id: str) -> bool:
        return await self.claim(platform, msg_id) == "duplicate"

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            verdicts = people.claim_deliveries(self.db, [d for d, _ in batch], self.now())
        except Exception as exc:  # nothing was recorded: every waiting handler fails (HTTP 500, redelivered)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), verdict in zip(batch, verdicts):
            if not future.done():  # its request may have been cancelled (client gone)
                future.set_result(verdict)
