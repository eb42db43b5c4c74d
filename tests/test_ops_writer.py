"""The server's writes leave the event loop: while another process holds the store's write lock (an ingest), the
loop keeps running and the message is recorded once the lock is free; one bad job fails alone."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import datetime, timezone

import pytest

from bot.claims import DeliveryClaims
from knowledge.db import open_db, use_wal
from knowledge.deliveries import log_path
from knowledge.writer import StoreWriter

AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def hold_write_lock(path, seconds: float) -> threading.Thread:
    started = threading.Event()

    def run():
        conn = sqlite3.connect(path, timeout=0)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.rollback()
        conn.close()
    thread = threading.Thread(target=run)
    thread.start()
    started.wait(5)
    return thread


async def ticks_while(coro) -> tuple[object, int]:
    """The coroutine's result, and how often a 10 ms ticker ran meanwhile (the loop's liveness)."""
    count = 0

    async def ticker():
        nonlocal count
        while True:
            await asyncio.sleep(0.01)
            count += 1
    task = asyncio.create_task(ticker())
    try:
        return await coro, count
    finally:
        task.cancel()


@pytest.mark.parametrize("with_writer", [True, False])
async def test_a_held_write_lock_does_not_stall_the_loop(tmp_path, with_writer):
    path = tmp_path / "d.db"
    db = open_db(path)
    use_wal(db)
    writer = StoreWriter(log_path(path)) if with_writer else None
    claims = DeliveryClaims(db, lambda: AT, writer)
    holder = hold_write_lock(log_path(path), 0.6)  # where the record is written
    try:
        verdict, ticks = await ticks_while(claims.claim("dingtalk", "m1", ("1", "s")))
    finally:
        holder.join()
        if writer:
            writer.close()
    assert verdict == "new"
    if with_writer:
        assert ticks >= 30  # the loop ran on (about 60 ticks in 0.6 s)
    else:
        assert ticks <= 5  # in place, the loop waited for the lock: what the writer thread is for


def test_one_bad_job_fails_alone(tmp_path):
    path = tmp_path / "d.db"
    open_db(path).conn.close()
    writer = StoreWriter(path)
    try:
        good = writer.submit(lambda c: c.execute("INSERT INTO inbox_log (at, file, status) VALUES ('t', 'a', 'ok')"))
        bad = writer.submit(lambda c: c.execute("INSERT INTO no_such_table VALUES (1)"))
        assert good.result(5) is not None
        with pytest.raises(sqlite3.OperationalError):
            bad.result(5)
        assert writer.pending == 0 and "no_such_table" in writer.last_error
    finally:
        writer.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM inbox_log").fetchone()[0] == 1


def test_a_writer_that_cannot_open_its_store_fails_every_job_at_once(tmp_path):
    writer = StoreWriter(tmp_path)  # a directory: no store can be opened there
    try:
        first = writer.submit(lambda c: c.execute("SELECT 1"))
        with pytest.raises(sqlite3.OperationalError):
            first.result(5)  # not queued for ever behind a thread that is gone
        later = writer.submit(lambda c: c.execute("SELECT 1"))
        assert later.done()
        with pytest.raises(sqlite3.OperationalError):
            later.result(0)
        assert writer.pending == 0 and writer.last_error.startswith("写入线程已停止")
    finally:
        writer.close()

