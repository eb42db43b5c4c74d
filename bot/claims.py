"""Group commit for inbound deliveries.

Every webhook message is judged (msgId de-duplication, DingTalk's signed timestamps) and recorded
before it is answered, so a redelivery is never taken for a new message. The verdict comes at once from
the delivery log's memory (its index, when the filter says "maybe"); a new message then waits for its
record, and the messages that arrive in one turn of the event loop (under load: within GATHER_S of the last
write) share one SQLite transaction with the payloads and answered marks waiting: a burst pays for one commit,
one clock reading and one read of the store's generation, which the burst's answers use to tell whether what
they keep is still current (it is read after the burst is recorded, so it covers every change made before any
of its messages is answered). A duplicate of a message whose record is still pending waits for that record:
if it fails, both fail, and the platform's next retry is answered.

Answers are at least once: a message is recorded as received, its payload kept (`keep`), and it is
marked answered once its reply went out (`answered`, or `answered_soon`: the mark rides with the next
write, as a message's 200 does not wait for it). A message an earlier process received but did not answer
is answered when the platform redelivers it, or on start from its payload (`unanswered`).
With a `StoreWriter` a write is made in place when the log's lock is free at once, else on its thread:
the event loop never waits for a lock. Without one, in place.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime
from typing import Callable

from knowledge import deliveries, generation
from knowledge.deliveries import Delivery, DeliveryLog
from knowledge.writer import StoreWriter

log = logging.getLogger("duban.claims")

MARK_DELAY_S = 0.2  # the longest an answered mark waits for another write to ride with
# under load the log commits at most once in this time: the messages, payloads and marks that arrive meanwhile
# share the commit (its fixed cost, not the wait, is what a busy server runs out of)
GATHER_S = 0.001


class DeliveryClaims:
    def __init__(self, db, now: Callable[[], datetime], writer: StoreWriter | None = None):
        self.now = now
        self.writer = writer
        self.on_new: Callable[[tuple[str, str]], None] | None = None  # told of each message claimed as new
        self.log = DeliveryLog(db, now())
        self.generation: int | None = generation.current(db)  # as of the last burst recorded
        self._burst_at = now()
        self._pending: list[tuple[Delivery, asyncio.Future | None]] = []  # None: a duplicate's new signature
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}  # new messages not yet recorded
        self._ops: list[tuple[tuple, asyncio.Future]] = []  # payloads to keep, answered marks, of this turn
        self._marks: list[int] = []  # rows answered, written with the next write (answered_soon)
        self._marks_timer: asyncio.TimerHandle | None = None
        self._turn: asyncio.Handle | None = None  # the next write, scheduled
        self._last_write = float("-inf")  # loop time of the last write started

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
            verdict = await future
        finally:
            self._inflight.pop((platform, msg_id), None)
        if self.on_new is not None:
            self.on_new((platform, msg_id))
        return verdict

    async def seen(self, platform: str, msg_id: str) -> bool:
        return await self.claim(platform, msg_id) == "duplicate"

    def _queue(self, delivery: Delivery, future: asyncio.Future | None) -> None:
        self._pending.append((delivery, future))
        self._schedule()

    def _schedule(self) -> None:
        """The next write: after the handlers already scheduled this turn of the loop; under load (the last write
        began less than GATHER_S ago) when GATHER_S has passed since it, so that what arrives meanwhile shares it."""
        if self._turn is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_write + GATHER_S - loop.time()
        self._turn = loop.call_later(wait, self._write_turn) if wait > 0 else loop.call_soon(self._write_turn)

    def _write_turn(self) -> None:
        """One transaction for everything waiting: new messages' records, payloads, answered marks."""
        self._turn = None
        self._last_write = asyncio.get_running_loop().time()
        batch, self._pending = self._pending, []
        ops, self._ops = self._ops, []
        marks, marked_at = self._take_marks()
        recorded = [d for d, _ in batch]
        seen_at = self._burst_at.isoformat(timespec="seconds")
        payloads = [arg for (kind, arg), _ in ops if kind == "keep"]
        answered = [row for (kind, arg), _ in ops if kind == "answered" for row in arg]
        at = marked_at or (self.now() if answered else None)

        def job(conn):  # on the log's file alone (the writer's connection has no store)
            ids = deliveries.insert_rows(conn, recorded, seen_at) if recorded else []
            if payloads:
                deliveries.keep_payloads(conn, payloads)
            if answered:
                deliveries.mark_answered(conn, answered, at)
            _mark_riding(conn, marks, at)
            return ids

        def done(ids, exc: BaseException | None) -> None:
            if exc is not None:
                self._failed(batch, exc)
            elif batch:
                self._recorded(batch, ids, self._generation())
            for _, future in ops:
                if not future.done():
                    future.set_exception(exc) if exc else future.set_result(None)

        if self.writer is not None:
            self._write(job, done)
            return
        conn = self.log.db.conn
        try:
            ids = job(conn)
            conn.commit()
        except Exception as exc:
            conn.rollback()
            done(None, exc)
            return
        done(ids, None)

    def _write(self, job, done: Callable[[object, BaseException | None], None]) -> None:
        """Run `job` on the log's file: here when its write lock is free at once (no hand-over to the writer's
        thread), else on that thread; `done(result, exception)` on the loop once it is committed or failed."""
        try:
            written, result = self.writer.write_now(job)
        except Exception as exc:
            done(None, exc)
            return
        if written:
            done(result, None)
            return
        future = asyncio.wrap_future(self.writer.submit(job))
        future.add_done_callback(lambda f: done(None, f.exception()) if f.exception() else done(f.result(), None))

    def _generation(self) -> int | None:
        """The store's generation, read once the burst is recorded (the writer's connection has only the log)."""
        try:
            return generation.current(self.log.db)
        except Exception:  # the answers read it themselves
            return None

    def _failed(self, batch, exc: BaseException) -> None:
        """Nothing was recorded: every waiting handler fails (HTTP 500, redelivered)."""
        self.log.forget([d for d, f in batch if f is not None])
        for _, future in batch:
            if future is not None and not future.done():
                future.set_exception(exc)

    def _recorded(self, batch, ids: list[int], stamp: int | None) -> None:
        self.log.note_rows([d for d, _ in batch], ids)
        self.generation = stamp
        for _, future in batch:
            if future is not None and not future.done():  # its request may have been cancelled (client gone)
                future.set_result("new")

    # -- received → answered ----------------------------------------------

    def keep(self, platform: str, msg_id: str, payload: str) -> asyncio.Future | None:
        """Keep a recorded message's payload until it is answered (what a restart needs to answer it);
        the future is done once it is committed."""
        rows = self.log.rows.get((platform, msg_id), [])
        if not rows:
            return None
        return self._op(("keep", (rows[-1], payload)))

    def answered(self, platform: str, msg_id: str) -> asyncio.Future | None:
        """The message's reply went out: a restart will not answer it again."""
        rows = self.log.take_rows(platform, msg_id)
        if not rows:
            return None
        return self._op(("answered", rows))

    def answered_soon(self, platform: str, msg_id: str) -> None:
        """As `answered`, without a write of its own: the mark rides with the next record or payload, or is
        written within MARK_DELAY_S. If the process dies first, a restart answers the message again (at least
        once); nothing waits for it, so a burst's marks cost no round trip to the writer."""
        rows = self.log.take_rows(platform, msg_id)
        if not rows:
            return
        self._marks += rows
        if self._marks_timer is None:
            self._marks_timer = asyncio.get_running_loop().call_later(MARK_DELAY_S, self._marks_due)

    def flush_marks(self) -> asyncio.Future | None:
        """Write the answered marks still waiting (when they are due, and on shutdown); None if there are none."""
        return self._op(("answered", [])) if self._marks else None

    def _marks_due(self) -> None:
        self._marks_timer = None
        written = self.flush_marks()
        if written is not None:  # a failure is logged by the writer; the messages stay open (allowed)
            written.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _take_marks(self) -> tuple[list[int], datetime | None]:
        marks, self._marks = self._marks, []
        return marks, self.now() if marks else None

    def release(self, platform: str, msg_id: str) -> None:
        """Its reply could not be handed on: the platform's redelivery is to be answered."""
        if self.log.rows.get((platform, msg_id)):
            self.log.unanswered[(platform, msg_id)] = None

    def take_unanswered(self) -> list[tuple[str, str, str]]:
        """(platform, msg_id, payload) of messages an earlier process received and did not answer,
        handed to the caller to answer now (a redelivery of one of them is then a duplicate)."""
        out = [(p, m, payload) for (p, m), payload in self.log.unanswered.items() if payload is not None]
        for p, m, _ in out:
            del self.log.unanswered[(p, m)]
        return out

    def _op(self, op: tuple) -> asyncio.Future:
        """Queue a payload or an answered mark for the next write."""
        future = asyncio.get_running_loop().create_future()
        self._ops.append((op, future))
        self._schedule()
        return future


def _mark_riding(conn: sqlite3.Connection, marks: list[int], at: datetime | None) -> None:
    """Answered marks riding with another write must not fail it: unmarked, a message is only answered again
    after a restart. An error that ended the transaction (the disk, the lock) fails the write as well."""
    if not marks:
        return
    try:
        deliveries.mark_answered(conn, marks, at)
    except sqlite3.Error as exc:
        if not conn.in_transaction or isinstance(exc, sqlite3.OperationalError):  # the transaction's own trouble
            raise
        log.error("event=mark_answered_failed rows=%d error=%s", len(marks), type(exc).__name__)
