"""One writer per serving process: the server's SQLite writes never wait for a lock on the event loop.

The server gives it the delivery log's file (knowledge/deliveries.py log_path) as its one database: its
BEGIN IMMEDIATE takes the write lock of every database on its connection, so with the store attached an
ingest holding the store's lock would hold up every message's record. A write is first tried in place
(`write_now`, on the caller's own connection, which never waits for the lock): when the lock is free, as it
almost always is, the commit costs no hand-over to another thread. A write that would wait goes to the
writer's thread (`submit`) and delays only the requests that wait for it, never the loop that serves
everyone else. Jobs queued together share one transaction (one commit for a burst); if that transaction
fails, each job is run again alone, so one bad job fails only itself.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

Job = Callable[[sqlite3.Connection], Any]

BUSY_TIMEOUT_MS = 30_000  # waits for another connection's transaction on its file (a chat command's, doctor's: short)
# commits made in place between two checkpoints on the thread: the in-place connection never checkpoints
# (that copies the WAL's pages into the file and syncs it, too long for the event loop)
CHECKPOINT_EVERY = 200
CHECKPOINT_WAIT_MS = 100
_STOP = object()
_CHECKPOINT = object()


class StoreWriter:
    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = str(path)  # the file it writes, opened as its main database
        self.busy_timeout_ms = busy_timeout_ms
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="duban-store-writer", daemon=True)
        self._submitted = 0  # written by the submitting thread only
        self._completed = 0  # written by the writer thread only
        self.last_error: str | None = None
        self._failed: BaseException | None = None  # why the thread stopped serving, if it did
        self._here: sqlite3.Connection | None = None  # write_now's, used by one thread (the event loop's)
        self._written_here = 0
        self._checkpointing = False  # a checkpoint is queued: writes go to the thread, behind it, meanwhile
        self._thread.start()

    def write_now(self, job: Job) -> tuple[bool, Any]:
        """Run `job(conn)` in a transaction of its own, here, if the file's write lock is free at once:
        (True, its result) once committed. (False, None) when another connection holds the lock: nothing
        was written, `submit` the job instead. Any other failure is raised, nothing written."""
        if self._checkpointing and self._failed is None:  # else under load it might never get the lock
            return False, None
        conn = self._here or self._connect_here()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return False, None
            raise
        try:
            result = job(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
                return False, None
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        self.last_error = None
        self._written_here += 1
        if self._written_here % CHECKPOINT_EVERY == 0:
            self._checkpointing = True
            self._queue.put(_CHECKPOINT)
        return True, result

    def _connect_here(self) -> sqlite3.Connection:
        conn = self._here = self._connect(busy_timeout_ms=0)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn

    def submit(self, job: Job) -> Future:
        """Run `job(conn)` in the writer's transaction; the future has its result once committed."""
        future: Future = Future()
        if self._failed is not None:  # the thread is gone: fail at once rather than wait forever
            future.set_exception(self._failed)
            return future
        self._submitted += 1
        self._queue.put((job, future))
        if self._failed is not None:  # it died between the check and the put: settle what it left
            self._drain(self._failed)
        return future

    @property
    def pending(self) -> int:
        """Jobs queued or running (for /healthz)."""
        return self._submitted - self._completed

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._here is not None:
            self._here.close()
            self._here = None

    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # no connection, no writes: every job fails at once, none waits forever
            self._stop_serving(exc)
            return
        try:
            self._serve(conn)
        except BaseException as exc:
            self._stop_serving(exc)
        finally:
            conn.close()

    def _connect(self, busy_timeout_ms: int | None = None) -> sqlite3.Connection:
        busy = self.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
        # the busy timeout from the first statement on: a start-up PRAGMA may meet another process's lock
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy)}")
            conn.execute("PRAGMA foreign_keys = ON")
            # as the serving connection: in WAL mode a commit survives the process dying (kill -9) without a
            # sync to disk per commit; only a power cut may take the last commits back
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _serve(self, conn: sqlite3.Connection) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # everything already queued joins this transaction
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            jobs = [item for item in batch if isinstance(item, tuple)]
            if jobs:
                self._commit(conn, jobs)
            if any(item is _CHECKPOINT for item in batch):
                _checkpoint(conn, self.busy_timeout_ms)
                self._checkpointing = False
            if stop:
                return

    def _stop_serving(self, exc: BaseException) -> None:
        self.last_error = f"写入线程已停止：{type(exc).__name__}: {exc}"
        self._failed = exc
        self._drain(exc)

    def _drain(self, exc: BaseException) -> None:
        """Fail every job still queued (the thread that would run them is gone)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, tuple):
                self._settle(item[1], exc=exc)

    def _commit(self, conn: sqlite3.Connection, jobs: list) -> None:
        try:
            results = self._transaction(conn, [job for job, _ in jobs])
        except Exception as exc:
            if len(jobs) > 1:  # one bad job must not fail the others: each again, alone
                for item in jobs:
                    self._commit(conn, [item])
                return
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._settle(jobs[0][1], exc=exc)
            return
        self.last_error = None
        for (_, future), result in zip(jobs, results):
            self._settle(future, result=result)

    def _settle(self, future: Future, result: Any = None, exc: BaseException | None = None) -> None:
        self._completed += 1
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, jobs: list[Job]) -> list:
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = [job(conn) for job in jobs]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds a lock (SQLITE_BUSY, or SQLITE_LOCKED; their extended codes too)."""
    return (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _checkpoint(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Copy what the WAL holds into the file and have it start over (a checkpoint that runs beside the
    loop's writes never catches up with them: the WAL would grow without end). The writes wait for it, on
    the thread; it waits at most CHECKPOINT_WAIT_MS for another process's reader, else the next one tries."""
    try:
        conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
    except sqlite3.Error:
        pass
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
