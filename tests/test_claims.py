"""Group commit of inbound deliveries on a real SQLite store: messages that arrive together share one
transaction, and each still gets its own verdict only once it is committed."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone


from bot import claims as claims_module
from bot.claims import GATHER_S, DeliveryClaims
from knowledge.db import open_db
from knowledge.deliveries import log_path

AT = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)


def committed(path) -> set[tuple[str, str]]:
    """What another connection sees: only committed rows."""
    conn = sqlite3.connect(log_path(path))
    try:
        return set(conn.execute("SELECT platform, msg_id FROM deliveries"))
    finally:
        conn.close()


async def test_a_burst_shares_one_commit_and_keeps_each_verdict(tmp_path):
    path = tmp_path / "duban.db"
    db = open_db(path)
    claims = DeliveryClaims(db, lambda: AT)
    commits = []
    db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    verdicts = await asyncio.gather(
        claims.claim("dingtalk", "m1", ("1732783262128", "sig-a")),
        claims.claim("dingtalk", "m1", ("1732783262128", "sig-a")),  # the platform's retry, same signature
        claims.claim("dingtalk", "m2", ("1732783262128", "sig-a")),  # a captured header on another body
        claims.claim("dingtalk", "m3", ("1732783262999", "sig-b")),
        claims.seen("wecom", "7001"),
        claims.seen("wecom", "7001"),
    )
    assert verdicts == ["new", "duplicate", "replayed", "new", False, True]
    assert len(commits) == 1
    assert committed(path) == {("dingtalk", "m1"), ("dingtalk", "m3"), ("wecom", "7001")}
    # later turns: a restart reads the same answers from the file (m3 answered, m1 not: it is answered again)
    await claims.answered("dingtalk", "m3")
    again = DeliveryClaims(open_db(path), lambda: AT)
    assert await again.claim("dingtalk", "m3", ("1732783263000", "sig-c")) == "duplicate"
    assert await again.claim("dingtalk", "m1", ("1732783262128", "sig-a")) == "new"
    assert await again.claim("dingtalk", "m4", ("1732783262999", "sig-b")) == "replayed"


async def test_a_failed_commit_fails_every_waiting_message_and_records_none(tmp_path):
    path = tmp_path / "duban.db"
    db = open_db(path)
    claims = DeliveryClaims(db, lambda: AT)
    blocker = sqlite3.connect(log_path(path), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    db.execute("PRAGMA busy_timeout = 0")
    # the second "9" is a retry of the first: acknowledging it while the first one's record fails would
    # leave the message unanswered, so it fails with it
    results = await asyncio.gather(claims.claim("dingtalk", "m1", ("1", "s")), claims.seen("wecom", "9"),
                                   claims.seen("wecom", "9"), return_exceptions=True)
    assert len(results) == 3 and all(isinstance(r, sqlite3.OperationalError) for r in results)
    blocker.rollback()
    blocker.close()
    assert committed(path) == set()
    assert await claims.seen("wecom", "9") is False  # the redelivery is answered, once


async def test_duplicates_and_replays_are_told_at_once_without_a_commit(tmp_path):
    db = open_db(tmp_path / "duban.db")
    claims = DeliveryClaims(db, lambda: AT)
    assert await claims.claim("dingtalk", "m1", ("1732783262128", "sig-a")) == "new"
    commits = []
    db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    assert await claims.claim("dingtalk", "m1", ("1732783262555", "sig-b")) == "duplicate"
    assert await claims.claim("dingtalk", "m9", ("1732783262128", "sig-a")) == "replayed"
    assert commits == []


async def test_under_load_what_arrives_soon_after_a_write_shares_the_next_commit(tmp_path, monkeypatch):
    """A busy server commits at most once per GATHER_S: messages of later turns of the loop, and a payload
    to keep, join the write that is waiting; an idle log is written at once."""
    monkeypatch.setattr(claims_module, "GATHER_S", 0.2)  # wide enough for a slow test machine
    db = open_db(tmp_path / "duban.db")
    claims = DeliveryClaims(db, lambda: AT)
    commits = []
    db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await claims.claim("dingtalk", "m1", ("1", "s1")) == "new"
    assert len(commits) == 1 and loop.time() - started < 0.2  # the log was idle: no wait
    second = asyncio.ensure_future(claims.claim("dingtalk", "m2", ("2", "s2")))
    await asyncio.sleep(0.01)  # a later turn of the loop
    kept = claims.keep("dingtalk", "m1", '{"text": "第十三项谁牵头"}')
    third = asyncio.ensure_future(claims.claim("dingtalk", "m3", ("3", "s3")))
    assert await second == "new" and await third == "new" and await kept is None
    assert len(commits) == 2
    rows = sqlite3.connect(log_path(tmp_path / "duban.db")).execute(
        "SELECT msg_id, payload IS NOT NULL FROM deliveries ORDER BY id").fetchall()
    assert rows == [("m1", 1), ("m2", 0), ("m3", 0)]


def test_the_log_forgets_after_a_week_in_memory_and_in_the_store(tmp_path):
    from datetime import timedelta

    from knowledge.deliveries import KEEP, DeliveryLog, mark_answered, prune

    db = open_db(tmp_path / "duban.db")
    log = DeliveryLog(db, AT)
    assert log.judge([("wecom", "7001", None)], AT) == ["new"]
    mark_answered(db.conn, log.record([("wecom", "7001", None)], AT), AT)
    db.conn.commit()
    later = AT + KEEP - timedelta(minutes=1)
    assert log.judge([("wecom", "7001", None)], later) == ["duplicate"]
    assert DeliveryLog(db, later).judge([("wecom", "7001", None)], later) == ["duplicate"]  # read back on start
    much_later = AT + KEEP + timedelta(minutes=1)
    assert log.judge([("wecom", "7001", None)], much_later) == ["new"]
    prune(db, much_later - KEEP)
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


async def test_a_retry_s_own_signature_cannot_carry_another_message_later(tmp_path):
    """DingTalk signs each delivery anew: the retry's header, captured, must not bring a forged body."""
    path = tmp_path / "duban.db"
    claims = DeliveryClaims(open_db(path), lambda: AT)
    assert await claims.claim("dingtalk", "m1", ("1732783262128", "sig-a")) == "new"
    assert await claims.claim("dingtalk", "m1", ("1732783262555", "sig-retry")) == "duplicate"
    assert await claims.claim("dingtalk", "forged", ("1732783262555", "sig-retry")) == "replayed"
    await asyncio.sleep(GATHER_S + 0.05)  # the retry's signature is recorded in the next commit
    again = DeliveryClaims(open_db(path), lambda: AT)  # and known after a restart
    assert await again.claim("dingtalk", "forged", ("1732783262555", "sig-retry")) == "replayed"
