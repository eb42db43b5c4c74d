"""Group commit for inbound deliveries.

Every webhook message is judged (msgId de-duplication, DingTalk's signed timestamps) and recorded
before it is answered, so a restart never answers twice. The verdict comes at once from the delivery
log's memory; a new message then waits for its record, and the messages that arrive in one turn of
the event loop share one SQLite transaction: a burst pays for one commit.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

from knowledge.deliveries import Delivery, DeliveryLog


class DeliveryClaims:
    def __init__(self, db, now: Callable[[], datetime]):
        self.now = now
        self.log = DeliveryLog(db, now())
        self._pending: list[tuple[Delivery, asyncio.Future]] = []

    async def claim(self, platform: str, msg_id: str, signed: tuple[str, str] | None = None) -> str:
        """"new" (once recorded), "duplicate" or "replayed" (see DeliveryLog.judge)."""
        delivery = (platform, msg_id, signed)
        verdict = self.log.judge([delivery], self.now())[0]
        if verdict != "new":
            return verdict
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)  # after the handlers already scheduled for this turn
        self._pending.append((delivery, future))
        return await future

    async def seen(self, platform: str, msg_id: str) -> bool:
        return await self.claim(platform, msg_id) == "duplicate"

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        deliveries = [d for d, _ in batch]
        try:
            self.log.record(deliveries, self.now())
        except Exception as exc:  # nothing was recorded: every waiting handler fails (HTTP 500, redelivered)
            self.log.forget(deliveries)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():  # its request may have been cancelled (client gone)
                future.set_result("new")
