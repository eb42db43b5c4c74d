"""Group commit for inbound deliveries.

Every webhook message is judged (msgId de-duplication, DingTalk's signed timestamps) and recorded
before it is answered, so a restart never answers twice. The verdict comes at once from the delivery
log's memory; a new message then waits for its record, and the messages that arrive in one turn of
the event loop share one SQLite transaction: a burst pays for one commit, one clock reading and one
read of the store's generation, which the burst's answers use to tell whether what they keep is still
current (it is read after the burst is recorded, so it covers every change made before any of its
messages is answered). A duplicate of a message whose record is still pending waits for that record:
if it fails, both fail, and the platform's next retry is answered.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

from knowledge import generation
from knowledge.deliveries import Delivery, DeliveryLog


class DeliveryClaims:
    def __init__(self, db, now: Callable[[], datetime]):
        self.now = now
        self.log = DeliveryLog(db, now())
        self.generation: int | None = generation.current(db)  # as of the last burst recorded
        self._burst_at = now()
        self._pending: list[tuple[Delivery, asyncio.Future | None]] = []  # None: a duplicate's new signature
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}  # new messages not yet recorded

    async def claim(self, platform: str, msg_id: str, signed: tuple[str, str] | None = None) -> str:
        """"new" (once recorded), "duplicate" or "replayed" (see DeliveryLog.judge)."""
        delivery = (platform, msg_id, signed)
        if not self._pending:  # the first message of a burst reads the clock for all of it
            self._burst_at = self.now()
        verdict = self.log.judge([delivery], self._burst_at)[0]
        if verdict == "replayed":
            return verdict
        if verdict == "duplicate":
            for extra in self.log.take_unrecorded():
                self._queue(extra, None)
            original = self._inflight.get((platform, msg_id))
            if original is not None:
                await asyncio.shield(original)  # its record failing fails this one too
            return verdict
        future = asyncio.get_running_loop().create_future()
        self._inflight[(platform, msg_id)] = future
        self._queue(delivery, future)
        try:
            return await future
        finally:
            self._inflight.pop((platform, msg_id), None)

    async def seen(self, platform: str, msg_id: str) -> bool:
        return await self.claim(platform, msg_id) == "duplicate"

    def _queue(self, delivery: Delivery, future: asyncio.Future | None) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)  # after the handlers already scheduled this turn
        self._pending.append((delivery, future))

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            self.log.record([d for d, _ in batch], self._burst_at)
        except Exception as exc:  # nothing was recorded: every waiting handler fails (HTTP 500, redelivered)
            self.log.forget([d for d, f in batch if f is not None])
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        try:
            self.generation = generation.current(self.log.db)
        except Exception:  # the answers read it themselves
            self.generation = None
        for _, future in batch:
            if future is not None and not future.done():  # its request may have been cancelled (client gone)
                future.set_result("new")
