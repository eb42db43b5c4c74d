"""The delivery log's memory does not grow with the traffic: what is committed is judged from the store
(asked only when the filter says it may be there), what is not committed yet from memory; a week later
a message is new again."""
from __future__ import annotations

import asyncio
import sqlite3
import tracemalloc
from datetime import datetime, timedelta, timezone

from bot.claims import GATHER_S, DeliveryClaims
from knowledge.db import open_db, use_wal
from knowledge.deliveries import KEEP, DeliveryLog, SeenFilter, log_path
from knowledge.writer import StoreWriter

AT = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)


def signed(i: int) -> tuple[str, str]:
    return str(1732783262000 + i), f"sig-{i}"


async def claim_many(claims: DeliveryClaims, first: int, count: int, burst: int = 16) -> None:
    """New signed messages, answered, in bursts as the server gets them."""
    async def one(i: int) -> None:
        assert await claims.claim("dingtalk", f"m{i}", signed(i)) == "new"
        written = claims.answered("dingtalk", f"m{i}")
        if written is not None:
            await written

    for start in range(first, first + count, burst):
        await asyncio.gather(*(one(i) for i in range(start, min(start + burst, first + count))))


def store_reads(db) -> list[str]:
    """The statements that read the log on the judging connection, from now on."""
    seen: list[str] = []
    db.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.lstrip().startswith("SELECT") else None)
    return seen


async def test_memory_stays_flat_while_old_duplicates_and_replays_are_caught_by_the_store(tmp_path):
    path = tmp_path / "duban.db"
    db = open_db(path)
    use_wal(db)
    writer = StoreWriter(log_path(path))
    claims = DeliveryClaims(db, lambda: AT, writer)
    try:
        await claim_many(claims, 0, 500)  # warm: the allocator's pools, the statement cache
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        await claim_many(claims, 500, 4000)
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        # the sets it was once (every message id and signature of a week) took ~600 bytes a message
        assert grown < 400_000, grown
        assert claims.log.held == 0 and not claims.log.rows
        reads = store_reads(db)
        assert await claims.claim("dingtalk", "m0", signed(0)) == "duplicate"  # the platform's retry
        assert await claims.claim("dingtalk", "forged", signed(1)) == "replayed"  # m1's captured header
        assert await claims.claim("dingtalk", "m2", signed(99_999)) == "duplicate"  # a retry, signed anew
        assert reads, "committed messages are judged from the store"
        for _ in range(200):  # the retry's own signature is recorded with the next burst
            await asyncio.sleep(0.01)
            if claims.log.held == 0:
                break
        assert claims.log.held == 0
        assert await claims.claim("dingtalk", "forged", signed(99_999)) == "replayed"
    finally:
        writer.close()
    restarted = DeliveryLog(open_db(path), AT)  # and a restart knows all of it
    assert restarted.judge([("dingtalk", "m4499", None), ("dingtalk", "x", signed(99_999)),
                            ("dingtalk", "m4500", signed(4500))], AT) == ["duplicate", "replayed", "new"]


def test_a_new_message_does_not_ask_the_store_and_a_duplicate_does(tmp_path):
    db = open_db(tmp_path / "duban.db")
    log = DeliveryLog(db, AT)
    old = [("dingtalk", f"m{i}", signed(i)) for i in range(50)] + [("wecom", "7001", None)]
    assert log.judge(old, AT) == ["new"] * len(old)
    log.record(old, AT)
    assert log.held == 0
    reads = store_reads(db)
    assert log.judge([("dingtalk", "fresh", signed(1000)), ("wecom", "7002", None)], AT) == ["new", "new"]
    assert reads == []  # not in the filter: certainly new
    assert log.judge([("wecom", "7001", None)], AT) == ["duplicate"]
    assert len(reads) == 1


async def test_a_duplicate_of_a_pending_record_is_judged_from_memory_and_fails_with_it(tmp_path):
    """Not committed yet, the store cannot tell of it: the retry waits for the record and shares its fate."""
    path = tmp_path / "duban.db"
    db = open_db(path)
    use_wal(db)
    writer = StoreWriter(log_path(path), busy_timeout_ms=0)
    writer.submit(lambda conn: None).result(5)  # its connection is set up before the lock is taken
    claims = DeliveryClaims(db, lambda: AT, writer)
    blocker = sqlite3.connect(log_path(path), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock: the record fails
    try:
        results = await asyncio.gather(claims.claim("dingtalk", "m1", signed(1)),
                                       claims.claim("dingtalk", "m1", signed(2)), return_exceptions=True)
        assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
        blocker.rollback()
        assert await claims.claim("dingtalk", "m1", signed(3)) == "new"  # the redelivery is answered
        assert await claims.claim("dingtalk", "m1", signed(4)) == "duplicate"
    finally:
        blocker.close()
        writer.close()


async def test_an_unanswered_message_whose_redelivery_fails_to_record_is_answered_at_the_next(tmp_path):
    """The store holds its row from the earlier process: still, it is open until answered."""
    path = tmp_path / "duban.db"
    db = open_db(path)
    log = DeliveryLog(db, AT)
    assert log.judge([("wecom", "9", None)], AT) == ["new"]
    log.record([("wecom", "9", None)], AT)  # received, then the process died before answering
    claims = DeliveryClaims(open_db(path), lambda: AT)
    blocker = sqlite3.connect(log_path(path), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    claims.log.db.execute("PRAGMA busy_timeout = 0")
    try:
        results = await asyncio.gather(claims.seen("wecom", "9"), return_exceptions=True)
        assert isinstance(results[0], sqlite3.OperationalError)
    finally:
        blocker.rollback()
        blocker.close()
    assert await claims.seen("wecom", "9") is False  # answered now
    await claims.answered("wecom", "9")
    assert await claims.seen("wecom", "9") is True


def test_the_filter_keeps_what_it_holds_for_a_week_and_no_longer():
    seen = SeenFilter(AT)
    items = [("dingtalk", f"m{i}") for i in range(1000)]
    for item in items:
        seen.add(item)
    seen.rotate(AT + KEEP - timedelta(minutes=1))  # not yet
    seen.rotate(AT + KEEP)
    assert all(item in seen for item in items)  # added within the last week
    seen.add(("wecom", "late"))
    seen.rotate(AT + 2 * KEEP - timedelta(minutes=1))
    assert all(item in seen for item in items) and ("wecom", "late") in seen
    seen.rotate(AT + 2 * KEEP)
    assert sum(item in seen for item in items) < 10  # dropped: all of it older than a week
    assert ("wecom", "late") in seen


def test_a_message_is_a_duplicate_for_a_week_across_the_filter_s_turns_then_new(tmp_path):
    db = open_db(tmp_path / "duban.db")
    log = DeliveryLog(db, AT)
    late = AT + KEEP - timedelta(minutes=1)  # just before the filter's first turn
    message = ("dingtalk", "m1", signed(1))
    assert log.judge([message], late) == ["new"]
    log.record([message], late)
    for at in (AT + KEEP + timedelta(minutes=1), late + KEEP - timedelta(minutes=1)):
        assert log.judge([("dingtalk", "m1", None)], at) == ["duplicate"]
        assert log.judge([("dingtalk", "other", signed(1))], at) == ["replayed"]
    gone = late + KEEP + timedelta(minutes=1)
    assert log.judge([("dingtalk", "m1", signed(1))], gone) == ["new"]


async def test_a_retry_of_an_answered_message_leaves_nothing_to_mark(tmp_path):
    """Its own signature is recorded; its row is not kept in memory to be marked answered (the message is)."""
    path = tmp_path / "duban.db"
    claims = DeliveryClaims(open_db(path), lambda: AT)
    assert await claims.claim("dingtalk", "m1", signed(1)) == "new"
    await claims.answered("dingtalk", "m1")
    for i in range(2, 50):  # DingTalk retries, each signed anew
        assert await claims.claim("dingtalk", "m1", signed(i)) == "duplicate"
    await asyncio.sleep(GATHER_S + 0.05)  # their signatures' write
    assert not claims.log.rows and claims.log.held == 0
    assert await claims.claim("dingtalk", "forged", signed(30)) == "replayed"
    assert DeliveryLog(open_db(path), AT).unanswered == {}  # nor is it open after a restart
