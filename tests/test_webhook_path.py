"""The delivery log's writes on the webhook path: committed in place when the log's lock is free, on the writer's
thread when it is not; answered marks ride with the next write (or follow within MARK_DELAY_S); the log's WAL
stays bounded; the one-part DingTalk reply body is the JSON of the reply."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from test_ops_writer import hold_write_lock

from bot import claims as claims_module
from bot.claims import DeliveryClaims
from bot.platforms.dingtalk.robot import _encoded_reply, _reply_body
from knowledge.db import open_db, use_wal
from knowledge.deliveries import DeliveryLog, log_path
from knowledge.writer import CHECKPOINT_EVERY, StoreWriter

AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def log_rows(path: Path) -> list[tuple[str, str | None]]:
    """(msg_id, answered_at) as another process reads them (committed only)."""
    conn = sqlite3.connect(log_path(path))
    try:
        return conn.execute("SELECT msg_id, answered_at FROM deliveries ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path):
    """(claims, writer, store path) as the server has them; the writer closed after the test."""
    path = tmp_path / "duban.db"
    db = open_db(path)
    use_wal(db)
    writer = StoreWriter(log_path(path))
    yield DeliveryClaims(db, lambda: AT, writer), writer, path
    writer.close()


async def test_a_message_is_recorded_in_place_when_the_log_is_free(served):
    claims, writer, path = served
    assert await claims.claim("dingtalk", "m1", ("1", "s1")) == "new"
    assert log_rows(path) == [("m1", None)]  # committed before the verdict
    assert writer.pending == 0 and writer._submitted == 0  # no hand-over to the writer's thread


async def test_a_message_is_recorded_by_the_writer_thread_while_another_connection_holds_the_log(served):
    claims, writer, path = served
    assert await claims.claim("dingtalk", "m0", ("0", "s0")) == "new"  # the connections are set up
    holder = hold_write_lock(log_path(path), 0.5)
    assert await asyncio.wait_for(claims.claim("dingtalk", "m1", ("1", "s1")), 10) == "new"
    holder.join()
    assert writer._submitted == 1 and [m for m, _ in log_rows(path)] == ["m0", "m1"]


async def test_answered_marks_ride_with_the_next_record(served):
    claims, writer, path = served
    assert await claims.claim("dingtalk", "m1", ("1", "s1")) == "new"
    claims.answered_soon("dingtalk", "m1")
    assert log_rows(path) == [("m1", None)]  # not written on its own
    assert await claims.claim("dingtalk", "m2", ("2", "s2")) == "new"
    assert [(m, a is not None) for m, a in log_rows(path)] == [("m1", True), ("m2", False)]  # one commit


async def test_an_answered_mark_is_written_soon_without_other_traffic(served):
    claims, writer, path = served
    assert await claims.claim("wecom", "7001") == "new"
    claims.answered_soon("wecom", "7001")
    await asyncio.sleep(claims_module.MARK_DELAY_S + 0.2)
    assert [(m, a is not None) for m, a in log_rows(path)] == [("7001", True)]


async def test_a_mark_lost_with_the_process_leaves_the_message_to_be_answered_again(served):
    """At least once: a mark not yet written when the process dies means the message is answered again."""
    claims, writer, path = served
    assert await claims.claim("wecom", "7001") == "new"
    claims.answered_soon("wecom", "7001")
    restarted = DeliveryLog(open_db(path), AT)  # as a restart reads the file now
    assert restarted.judge([("wecom", "7001", None)], AT) == ["new"]
    assert claims.flush_marks() is not None  # a clean stop writes it
    await asyncio.sleep(0.1)
    assert DeliveryLog(open_db(path), AT).judge([("wecom", "7001", None)], AT) == ["duplicate"]


async def test_the_log_wal_stays_bounded_under_in_place_commits(served):
    claims, writer, path = served
    for i in range(CHECKPOINT_EVERY * 10):  # one commit after the other, as under load
        assert await claims.claim("dingtalk", f"m{i}", (str(i), f"s{i}")) == "new"
        claims.answered_soon("dingtalk", f"m{i}")
    wal = Path(f"{log_path(path)}-wal")
    # started over after each checkpoint: about one interval of commits (a few pages each), not all of them
    assert wal.stat().st_size < CHECKPOINT_EVERY * 8 * 4096
    assert len(log_rows(path)) == CHECKPOINT_EVERY * 10


def test_the_one_part_reply_body_is_the_json_of_the_reply():
    for args in [("第13项由**市生态环境局**牵头", "督办", ("u1",), ("u2", "u1"), ("13800000000",)),
                 ("帮助", "督办", (), (), ())]:
        assert orjson.loads(_encoded_reply(*args, 6000)) == _reply_body(*args)
    assert _encoded_reply("长" * 3000, "督办", (), (), (), 6000) is None  # more than one part
