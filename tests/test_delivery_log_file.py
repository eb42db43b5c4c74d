"""The delivery log is a file of its own beside the store: a fresh store has it there only, an older store's
log moves there on upgrade, and recording a message neither waits for the store's write lock (an ingest)
nor changes the store's file (which would empty the serving connection's page cache)."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from test_ops_writer import hold_write_lock
from test_server import case, db_path, dingtalk_body, post_dingtalk, receiver_now, seed_db_file  # noqa: F401
from test_server import settings_for, start

from knowledge import backup
from knowledge import db as store
from knowledge.deliveries import DeliveryLog, claim_delivery, log_path

AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
SEEN = AT.isoformat(timespec="seconds")


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def log_rows(store_file: Path, sql: str = "SELECT msg_id, answered_at, payload FROM deliveries ORDER BY id"):
    conn = sqlite3.connect(log_path(store_file))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_log_is_named_after_the_store():
    assert log_path("/var/lib/duban/duban.db") == Path("/var/lib/duban/duban.deliveries.db")
    assert log_path("/srv/store") == Path("/srv/store.deliveries.db")


def test_a_fresh_store_keeps_its_deliveries_in_the_log_file_only(tmp_path):
    path = tmp_path / "duban.db"
    db = store.open_db(path)
    assert claim_delivery(db, "wecom", "7001", AT) == "new"
    db.conn.close()
    assert "deliveries" not in tables(path)
    assert [m for m, _, _ in log_rows(path)] == ["7001"]
    assert claim_delivery(store.open_db(path), "wecom", "7001", AT) == "duplicate"  # a restart reads it back


def old_store(path: Path, monkeypatch) -> None:
    """A store of the release before the log's own file: its log in the store, one message answered and one
    received but not answered (its payload kept)."""
    store._import_migration_modules()
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", [f for f in store.MIGRATIONS if f.__name__ != "_m025_delivery_log_file"])
        db = store.open_db(path)
        with db.atomic():
            db.execute("INSERT INTO deliveries (platform, msg_id, timestamp, sign, seen_at, answered_at)"
                       " VALUES ('dingtalk', 'done-1', '1732783262128', 'sig', ?, ?)", [SEEN, SEEN])
            db.execute("INSERT INTO deliveries (platform, msg_id, seen_at, payload) VALUES ('wecom', 'open-1', ?,"
                       " '{\"text\": \"帮助\"}')", [SEEN])
        db.conn.close()
    assert "deliveries" in tables(path) and not log_path(path).exists()


def test_an_old_store_s_deliveries_move_to_the_log_file(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    old_store(path, monkeypatch)
    db = store.open_db(path)
    assert "deliveries" not in tables(path)
    assert log_rows(path) == [("done-1", SEEN, None), ("open-1", None, '{"text": "帮助"}')]
    fresh = tmp_path / "fresh.db"
    store.open_db(fresh).conn.close()
    indexes = "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'deliveries' ORDER BY name"
    assert log_rows(path, indexes) == log_rows(fresh, indexes)  # the same table and indexes as a fresh log
    log = DeliveryLog(db, AT)
    assert log.unanswered == {("wecom", "open-1"): '{"text": "帮助"}'}  # still answered after the upgrade
    assert log.judge([("dingtalk", "done-1", None), ("dingtalk", "forged", ("1732783262128", "sig"))], AT) == [
        "duplicate", "replayed"]


def test_a_restore_keeps_the_log_and_an_old_backup_s_deliveries_join_it(tmp_path, monkeypatch):
    """The log is not in a backup; a restored store goes on with the log beside it (a message answered before
    the restore is not answered again), and a backup made before the log had its own file adds its rows."""
    path, old = tmp_path / "duban.db", tmp_path / "old-backup.db"
    assert claim_delivery(store.open_db(path), "wecom", "7001", AT) == "new"
    old_store(old, monkeypatch)
    backup.restore(old, path, AT)
    db = store.open_db(path)
    assert "deliveries" not in tables(path)
    assert sorted(m for m, _, _ in log_rows(path)) == ["7001", "done-1", "open-1"]
    assert claim_delivery(db, "wecom", "7001", AT) == "duplicate"
    assert DeliveryLog(db, AT).unanswered == {("wecom", "open-1"): '{"text": "帮助"}'}


def data_version(conv) -> int:
    return conv.db.execute("PRAGMA main.data_version").fetchone()[0]


async def wait_answered(path: Path, timeout: float = 5.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = log_rows(path)
        if rows and all(answered for _, answered, _ in rows):
            return rows
        await asyncio.sleep(0.02)
    return log_rows(path)


async def test_a_message_is_recorded_and_answered_while_an_ingest_holds_the_store(aiohttp_client, db_path):  # noqa: F811
    c = case("group_at_bot_leading_space")
    client, _ = await start(aiohttp_client, settings_for(db_path, dingtalk_reply_in_response=True,
                                                          dingtalk_session_hosts=[]), receiver_now(c))
    holder = hold_write_lock(db_path, 3.0)  # as an ingest does, for seconds
    try:
        started = time.monotonic()
        resp = await post_dingtalk(client, c, dingtalk_body(c, "http://127.0.0.1:9", msgId="while-held-1"))
        assert resp.status == 200 and "绑定" in await resp.text()  # answered (the asker is told how to bind)
        assert time.monotonic() - started < 1.5 and holder.is_alive()  # without waiting for the lock
        assert [m for m, _, _ in await wait_answered(db_path)] == ["while-held-1"]  # recorded, marked answered
        assert holder.is_alive()
    finally:
        holder.join()


async def test_recording_a_message_leaves_the_store_file_alone(aiohttp_client, db_path):  # noqa: F811
    """The serving connection's page cache of the store stays valid: no other connection committed to it."""
    c = case("group_at_bot_leading_space")
    client, conv = await start(aiohttp_client, settings_for(db_path, dingtalk_reply_in_response=True,
                                                             dingtalk_session_hosts=[]), receiver_now(c))
    wal = Path(f"{db_path}-wal")
    before = data_version(conv), wal.stat().st_size
    resp = await post_dingtalk(client, c, dingtalk_body(c, "http://127.0.0.1:9", msgId="quiet-1"))
    assert resp.status == 200
    rows = await wait_answered(db_path)
    assert [(m, p) for m, _, p in rows] == [("quiet-1", None)]  # recorded, its payload kept, answered
    assert (data_version(conv), wal.stat().st_size) == before
