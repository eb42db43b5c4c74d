"""Inbound deliveries the server has accepted: de-duplication by message id and DingTalk's signed
timestamps, judged from the store's log (what is committed) and from memory (what is not yet).

Every webhook message passes here before it is answered. The log is appended to (one page per burst
of messages) on the writer's thread; two indexes find a signed timestamp in it (at the index's end, as
timestamps grow) and a message id (anywhere: a page per message). The verdicts ask them only about what
a fixed-size filter says may be there: for a new message, almost never.
Memory does not grow with the traffic: the filter, the records not committed yet (the store cannot
tell of them, and a duplicate of one waits for it), the messages received but not answered. One server
process owns a store's log (another process's records are not in its filter until it restarts).

The log is a file of its own beside the store (log_path), attached as schema `log` by the connections that
use it (attach_log): the writer's commit per message then leaves the store's file alone (a commit there
empties every other connection's page cache of it), and an ingest holding the store's write lock for seconds
does not delay the record of every message meanwhile. Not part of a backup: it holds only recent message ids
and the answers still being sent.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from .db import register_migration, run_script, store_path

KEEP = timedelta(days=7)  # platforms redeliver within minutes; a week is plenty

Delivery = tuple[str, str, "tuple[str, str] | None"]  # (platform, msg_id, signed (timestamp, sign) or None)


def _m011_delivery_log(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY, platform TEXT NOT NULL, msg_id TEXT NOT NULL, timestamp TEXT, sign TEXT,
        seen_at TEXT NOT NULL)
    """)
    tables = set(db.table_names())
    if "signed_requests" in tables:  # the keyed tables of earlier versions: their claims carry over
        db.execute("INSERT INTO deliveries (platform, msg_id, timestamp, sign, seen_at)"
                   " SELECT 'dingtalk', msg_id, timestamp, sign, seen_at FROM signed_requests")
        db.execute("DROP TABLE signed_requests")
    if "seen_messages" in tables:
        db.execute("INSERT INTO deliveries (platform, msg_id, seen_at) SELECT platform, msg_id, seen_at"
                   " FROM seen_messages")
        db.execute("DROP TABLE seen_messages")
    _add_answer_columns(db)
    _add_lookup_indexes(db)


def _add_answer_columns(db: sqlite_utils.Database) -> None:
    # received → answered: a message recorded but not answered when the process died is answered after
    # the restart, from its payload (cleared once answered). Rows of earlier versions were answered.
    columns = {c[1] for c in db.execute("PRAGMA table_info(deliveries)")}
    if "answered_at" not in columns:
        db.execute("ALTER TABLE deliveries ADD COLUMN answered_at TEXT")
        db.execute("UPDATE deliveries SET answered_at = seen_at")
    if "payload" not in columns:
        db.execute("ALTER TABLE deliveries ADD COLUMN payload TEXT")


def delivery_answers(db: sqlite_utils.Database) -> None:
    _add_answer_columns(db)  # a store whose log predates answers: what it recorded was answered


def _add_lookup_indexes(db: sqlite_utils.Database) -> None:
    # the verdicts ask the log itself (memory holds only what is not committed): a message id, and a signed
    # timestamp (DingTalk's only; near the index's end, as timestamps grow) whose row then shows its sign
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_msg_id ON deliveries(msg_id)")
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_timestamp ON deliveries(timestamp) WHERE timestamp IS NOT NULL")


def _m023_delivery_lookup(db: sqlite_utils.Database) -> None:
    if "deliveries" in db.table_names():  # else the log's own migration makes them with it
        _add_lookup_indexes(db)


COLUMNS = "platform, msg_id, timestamp, sign, seen_at, answered_at, payload"


def log_path(store: str | Path) -> Path:
    """The delivery log's file beside the store: X.db → X.deliveries.db; any other name gets .deliveries.db."""
    store = Path(store)
    if store.suffix == ".db":
        return store.with_suffix(".deliveries.db")
    return store.with_name(store.name + ".deliveries.db")


def attach_log(db: sqlite_utils.Database) -> None:
    """Attach the delivery log as schema `log` (made if missing), once per connection; unqualified
    `deliveries` is then the log's. Only connections that use it attach it: an ingest's long transaction
    must not hold the log's lock. Not inside a transaction (SQLite cannot attach there)."""
    conn = db.conn
    if _log_attached(conn):
        return
    path = store_path(db)
    conn.execute("ATTACH DATABASE ? AS log", [str(log_path(path)) if path else ":memory:"])
    conn.execute("PRAGMA log.journal_mode = WAL")  # as the store: readers never wait for the writer thread
    conn.execute("PRAGMA log.synchronous = NORMAL")  # a commit survives the process dying, not a power cut
    conn.execute("CREATE TABLE IF NOT EXISTS log.deliveries (id INTEGER PRIMARY KEY, platform TEXT NOT NULL,"
                 " msg_id TEXT NOT NULL, timestamp TEXT, sign TEXT, seen_at TEXT NOT NULL, answered_at TEXT,"
                 " payload TEXT)")
    conn.execute("CREATE INDEX IF NOT EXISTS log.deliveries_msg_id ON deliveries(msg_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS log.deliveries_timestamp ON deliveries(timestamp)"
                 " WHERE timestamp IS NOT NULL")


def _log_attached(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "log" for row in conn.execute("PRAGMA database_list"))


def _m025_delivery_log_file(db: sqlite_utils.Database) -> None:
    # the store's log moves to its own file (see the module's docstring). Copied, committed, then dropped: a
    # crash in between copies again at the next start (a message's second row changes no verdict), none is
    # lost. Row ids are not kept: a restored old backup meets a log that has its own.
    conn = db.conn
    if not conn.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'deliveries'").fetchone():
        return
    attached = not _log_attached(conn)
    attach_log(db)
    conn.execute(f"INSERT INTO log.deliveries ({COLUMNS}) SELECT {COLUMNS} FROM main.deliveries ORDER BY id")
    conn.commit()
    conn.execute("DROP TABLE main.deliveries")
    conn.commit()
    if attached:
        conn.execute("DETACH DATABASE log")


register_migration(_m011_delivery_log)
register_migration(delivery_answers)
register_migration(_m023_delivery_lookup)
register_migration(_m025_delivery_log_file)


def insert_rows(conn: sqlite3.Connection, deliveries: list[Delivery], seen_at: str) -> list[int]:
    """Append deliveries as received (not yet answered); their row ids, in order. No commit."""
    ids = []
    for platform, msg_id, signed in deliveries:
        ts, sign = signed or (None, None)
        ids.append(conn.execute("INSERT INTO deliveries (platform, msg_id, timestamp, sign, seen_at)"
                                " VALUES (?,?,?,?,?)", (platform, msg_id, ts, sign, seen_at)).lastrowid)
    return ids


def keep_payloads(conn: sqlite3.Connection, payloads: list[tuple[int, str]]) -> None:
    """(row id, the message as JSON): what a restart needs to answer it. No commit."""
    conn.executemany("UPDATE deliveries SET payload = ? WHERE id = ?", [(p, i) for i, p in payloads])


def mark_answered(conn: sqlite3.Connection, ids: list[int], at: datetime) -> None:
    """Answered: the payload (the message's text and reply route) is no longer kept. No commit."""
    stamp = at.isoformat(timespec="seconds")
    conn.executemany("UPDATE deliveries SET answered_at = ?, payload = NULL WHERE id = ?", [(stamp, i) for i in ids])


_FILTER_BITS = 1 << 23  # per array; a power of two, so that a position is some bits of the item's hash
_MASK = _FILTER_BITS - 1


def _positions(item: tuple) -> tuple[int, int, int]:
    h = hash(item)  # this process's own hash: the filter is rebuilt from the store on start
    p, step = h & _MASK, (h >> 23) | 1
    return p, (p + step) & _MASK, (p + 2 * step) & _MASK


class SeenFilter:
    """What the log may hold, in a fixed 2 MiB: the message ids and signed timestamps of the last KEEP, as
    a Bloom filter. "Not here" is certain, so a new message is judged without asking the store; "here" is
    asked (a duplicate, or a false "here": about 3 in 10,000 at 50,000 messages a week, 4 in 100 at 300,000).
    Additions go to this generation's bits and to the union of it and the one before, which answers;
    every KEEP the union becomes this generation's, so what is dropped is older than KEEP."""

    def __init__(self, now: datetime):
        self._union, self._current = bytearray(_FILTER_BITS // 8), bytearray(_FILTER_BITS // 8)
        self._current_since = now

    def rotate(self, now: datetime) -> None:
        if now - self._current_since >= KEEP:
            self._union, self._current = self._current, bytearray(_FILTER_BITS // 8)
            self._current_since = now

    def add(self, item: tuple) -> None:
        union, current = self._union, self._current
        for p in _positions(item):
            byte, bit = p >> 3, 1 << (p & 7)
            union[byte] |= bit
            current[byte] |= bit

    def __contains__(self, item: tuple) -> bool:
        p, q, r = _positions(item)
        bits = self._union
        return bool(bits[p >> 3] >> (p & 7) & bits[q >> 3] >> (q & 7) & bits[r >> 3] >> (r & 7) & 1)


class DeliveryLog:
    """judge() gives each delivery its verdict; record() appends the new ones in one transaction (or the
    caller does, on the writer's thread, and tells note_rows()); forget() takes back what a failed record
    had judged new.

    A message id or signed timestamp not in the SeenFilter is new; one in it is looked up in the log, on
    `db`'s connection, the one of the thread that judges (the event loop's): in WAL mode it sees every
    commit, the writer thread's included, once made. What is judged but not committed yet is held here
    until it is (note_rows, record) or fails (forget)."""

    def __init__(self, db: sqlite_utils.Database, now: datetime):
        attach_log(db)
        self.db = db
        # (platform, msg_id) → (its delivery, taken from `unanswered`) of new messages not committed yet
        self._pending: dict[tuple[str, str], tuple[Delivery, bool]] = {}
        # signed (timestamp, sign) → msg_id, not committed yet (a failed duplicate's stays: see forget)
        self._signed: dict[tuple[str, str], str] = {}
        self._unrecorded: list[Delivery] = []  # duplicates that brought a signature of their own
        self._retries: set[Delivery] = set()  # those, until their rows are noted
        self._since: tuple[datetime | None, str] = (None, "")  # the last `at` and the start of its KEEP
        self.rows: dict[tuple[str, str], list[int]] = {}  # unanswered messages' row ids, to mark them answered
        # received by an earlier process and not answered (with the payload when it was kept): a redelivery
        # of one of these is answered, and the server answers those it can on start
        self.unanswered: dict[tuple[str, str], str | None] = {}
        since = (now - KEEP).isoformat(timespec="seconds")
        self._seen = SeenFilter(now)
        for platform, msg_id, ts, sign in db.execute(
                "SELECT platform, msg_id, timestamp, sign FROM deliveries WHERE seen_at >= ?", [since]):
            self._seen.add((platform, msg_id))
            if ts is not None:
                self._seen.add((ts, sign))
        for row_id, platform, msg_id, payload in db.execute(
                "SELECT id, platform, msg_id, payload FROM deliveries d WHERE seen_at >= ? AND answered_at IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM deliveries a WHERE a.msg_id = d.msg_id AND a.platform = d.platform"
                " AND a.answered_at IS NOT NULL AND a.seen_at >= ?) ORDER BY id", [since, since]):
            key = (platform, msg_id)
            self.rows.setdefault(key, []).append(row_id)
            if payload is not None or key not in self.unanswered:
                self.unanswered[key] = payload

    def judge(self, deliveries: list[Delivery], at: datetime) -> list[str]:
        """Per delivery, in order: "replayed" if its signed (timestamp, sign) already carried a different
        message (a captured header with a forged body), else "duplicate" if its message id was seen
        (a platform retry, or the same message earlier in this list), else "new" (held until recorded).
        Seen means within KEEP of `at`."""
        if self._since[0] is not at:  # a burst shares one `at`
            self._since = (at, (at - KEEP).isoformat(timespec="seconds"))
            self._seen.rotate(at)
        since = self._since[1]
        verdicts = []
        for d in deliveries:
            platform, msg_id, signed = d
            key = (platform, msg_id)
            owner = None if signed is None else self._signed.get(signed)
            if owner is None and signed is not None and signed in self._seen:
                owner = self._signer(signed, since)
            if owner is not None and owner != msg_id:
                verdicts.append("replayed")
            elif key in self.unanswered:  # an earlier process died before answering it
                del self.unanswered[key]
                self._hold(d, taken=True)
                verdicts.append("new")
            elif key in self._pending or (key in self._seen and self._stored(key, since)):
                if signed is not None and owner is None:
                    # a retry's own signature: its captured header must not carry another body later
                    self._signed[signed] = msg_id
                    self._seen.add(signed)
                    self._unrecorded.append(d)
                    self._retries.add(d)
                verdicts.append("duplicate")
            else:
                self._hold(d, taken=False)
                verdicts.append("new")
        return verdicts

    def record(self, deliveries: list[Delivery], at: datetime) -> list[int]:
        """Append deliveries judged new, committed before this returns; their row ids."""
        conn = self.db.conn
        try:
            ids = insert_rows(conn, deliveries, at.isoformat(timespec="seconds"))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self._committed(deliveries)
        return ids

    def note_rows(self, deliveries: list[Delivery], ids: list[int]) -> None:
        """Recorded (committed): the log answers for them now. Remember where they are, to mark them answered."""
        self._committed(deliveries)
        for d, row_id in zip(deliveries, ids):
            key = (d[0], d[1])
            if d in self._retries:
                self._retries.discard(d)
                if key not in self.rows:  # its message is answered: a restart knows it by that row
                    continue
            self.rows.setdefault(key, []).append(row_id)

    def take_rows(self, platform: str, msg_id: str) -> list[int]:
        """The rows to mark answered (forgotten here: a message is answered once)."""
        return self.rows.pop((platform, msg_id), [])

    def take_unrecorded(self) -> list[Delivery]:
        """Duplicates judged since the last call whose signatures are new: to be recorded too."""
        out, self._unrecorded = self._unrecorded, []
        return out

    def forget(self, deliveries: list[Delivery]) -> None:
        """Not recorded after all: a redelivery must be answered. (A duplicate's signature in the failed
        transaction stays held, unrecorded: its captured header still cannot carry another body.)"""
        for d in deliveries:
            platform, msg_id, signed = d
            key = (platform, msg_id)
            self.rows.pop(key, None)
            self.unanswered.pop(key, None)
            held = self._pending.get(key)
            if held is not None and held[0] == d:
                del self._pending[key]
                if held[1]:  # the log holds its earlier, unanswered rows: only this tells it is still open
                    self.unanswered[key] = None
            if signed is not None and self._signed.get(signed) == msg_id:
                del self._signed[signed]

    @property
    def held(self) -> int:
        """Messages and signatures held in memory until committed (not what the log holds)."""
        return len(self._pending) + len(self._signed)

    def _hold(self, d: Delivery, taken: bool) -> None:
        platform, msg_id, signed = d
        self._pending[(platform, msg_id)] = (d, taken)
        self._seen.add((platform, msg_id))
        if signed is not None:
            self._signed[signed] = msg_id
            self._seen.add(signed)

    def _committed(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            platform, msg_id, signed = d
            held = self._pending.get((platform, msg_id))
            if held is not None and held[0] == d:
                del self._pending[(platform, msg_id)]
            if signed is not None and self._signed.get(signed) == msg_id:
                del self._signed[signed]

    def _signer(self, signed: tuple[str, str], since: str) -> str | None:
        """The message a committed signed (timestamp, sign) carried, if any."""
        row = self.db.conn.execute("SELECT msg_id FROM deliveries WHERE timestamp = ? AND sign = ? AND seen_at >= ?"
                                   " LIMIT 1", (signed[0], signed[1], since)).fetchone()
        return None if row is None else row[0]

    def _stored(self, key: tuple[str, str], since: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM deliveries WHERE msg_id = ? AND platform = ? AND seen_at >= ?"
                                    " LIMIT 1", (key[1], key[0], since)).fetchone() is not None


def claim_delivery(db: sqlite_utils.Database, platform: str, msg_id: str, at: datetime,
                   signed: tuple[str, str] | None = None) -> str:
    """Judge one delivery and record it, from what the store holds (a process without a live log)."""
    log = DeliveryLog(db, at)
    delivery = (platform, msg_id, signed)
    verdict = log.judge([delivery], at)[0]
    new = [delivery] if verdict == "new" else []
    ids = log.record(new + log.take_unrecorded(), at)
    with db.conn:  # this process answers at once: nothing is left for a restart
        mark_answered(db.conn, ids[:len(new)], at)
    return verdict


def prune(db: sqlite_utils.Database, before: datetime) -> None:
    """Forget what is older than `before`. A deferred transaction: its DELETE locks the log only, where
    BEGIN IMMEDIATE would take the store's write lock as well."""
    attach_log(db)
    with db.conn:
        db.execute("DELETE FROM log.deliveries WHERE seen_at < ?", [before.isoformat(timespec="seconds")])
