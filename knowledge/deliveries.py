"""Inbound deliveries the server has accepted: de-duplication by message id and DingTalk's signed
timestamps, kept in memory for the verdicts and appended to the store so a restart knows them.

Every webhook message passes here before it is answered. Keyed tables (one b-tree per key, message
ids at random places in it) cost a page write per message at every commit; an append-only log costs
one page per burst, and the verdicts come from the sets it was loaded into. One server process owns
a store's log (a second one would not see the first one's messages until it restarts).
"""
from __future__ import annotations

import sqlite3
from collections import deque
from datetime import datetime, timedelta

import sqlite_utils

from .db import register_migration, run_script

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


register_migration(_m011_delivery_log)
register_migration(delivery_answers)


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


class DeliveryLog:
    """judge() gives each delivery its verdict from memory; record() appends the new ones in one
    transaction; forget() takes back what a failed record() had judged new."""

    def __init__(self, db: sqlite_utils.Database, now: datetime):
        self.db = db
        self._ids: set[tuple[str, str]] = set()
        self._signed: dict[tuple[str, str], str] = {}
        self._order: deque[tuple[str, Delivery]] = deque()  # (seen_at, delivery), oldest first, for expiry
        self._unrecorded: list[Delivery] = []  # duplicates that brought a signature of their own
        self._next_expiry = now  # expiry runs at most once a minute: every message passes here
        self._stamped: tuple[datetime | None, str] = (None, "")  # the last `at` and its text (bursts share one)
        self.rows: dict[tuple[str, str], list[int]] = {}  # unanswered messages' row ids, to mark them answered
        # received by an earlier process and not answered (with the payload when it was kept): a redelivery
        # of one of these is answered, and the server answers those it can on start
        self.unanswered: dict[tuple[str, str], str | None] = {}
        answered: set[tuple[str, str]] = set()
        since = (now - KEEP).isoformat(timespec="seconds")
        for row_id, platform, msg_id, ts, sign, seen_at, answered_at, payload in db.execute(
                "SELECT id, platform, msg_id, timestamp, sign, seen_at, answered_at, payload FROM deliveries"
                " WHERE seen_at >= ? ORDER BY id", [since]):
            key = (platform, msg_id)
            self._remember((platform, msg_id, (ts, sign) if ts is not None else None), seen_at)
            if answered_at is not None:
                answered.add(key)
            else:
                self.rows.setdefault(key, []).append(row_id)
                if payload is not None or key not in self.unanswered:
                    self.unanswered[key] = payload
        for key in answered:
            self.unanswered.pop(key, None)
            self.rows.pop(key, None)

    def judge(self, deliveries: list[Delivery], at: datetime) -> list[str]:
        """Per delivery, in order: "replayed" if its signed (timestamp, sign) already carried a different
        message (a captured header with a forged body), else "duplicate" if its message id was seen
        (a platform retry, or the same message earlier in this list), else "new" (remembered now)."""
        if at >= self._next_expiry:
            self._expire(at)
            self._next_expiry = at + timedelta(minutes=1)
        if self._stamped[0] is not at:
            self._stamped = (at, at.isoformat(timespec="seconds"))
        seen_at = self._stamped[1]
        verdicts = []
        for d in deliveries:
            platform, msg_id, signed = d
            if signed is not None and self._signed.get(signed, msg_id) != msg_id:
                verdicts.append("replayed")
            elif (platform, msg_id) in self.unanswered:  # an earlier process died before answering it
                del self.unanswered[(platform, msg_id)]
                if signed is not None:
                    self._signed[signed] = msg_id
                verdicts.append("new")
            elif (platform, msg_id) in self._ids:
                if signed is not None and signed not in self._signed:
                    # a retry's own signature: its captured header must not carry another body later
                    self._signed[signed] = msg_id
                    self._order.append((seen_at, d))
                    self._unrecorded.append(d)
                verdicts.append("duplicate")
            else:
                self._remember(d, seen_at)
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
        return ids

    def note_rows(self, deliveries: list[Delivery], ids: list[int]) -> None:
        """Remember where recorded deliveries are, to mark them answered."""
        for (platform, msg_id, _), row_id in zip(deliveries, ids):
            self.rows.setdefault((platform, msg_id), []).append(row_id)

    def take_rows(self, platform: str, msg_id: str) -> list[int]:
        """The rows to mark answered (forgotten here: a message is answered once)."""
        return self.rows.pop((platform, msg_id), [])

    def take_unrecorded(self) -> list[Delivery]:
        """Duplicates judged since the last call whose signatures are new: to be recorded too."""
        out, self._unrecorded = self._unrecorded, []
        return out

    def forget(self, deliveries: list[Delivery]) -> None:
        """Not recorded after all: a redelivery must be answered."""
        for platform, msg_id, signed in deliveries:
            self._ids.discard((platform, msg_id))
            self.rows.pop((platform, msg_id), None)
            self.unanswered.pop((platform, msg_id), None)
            if signed is not None and self._signed.get(signed) == msg_id:
                del self._signed[signed]

    def _remember(self, d: Delivery, seen_at: str) -> None:
        platform, msg_id, signed = d
        self._ids.add((platform, msg_id))
        if signed is not None:
            self._signed[signed] = msg_id
        self._order.append((seen_at, d))

    def _expire(self, now: datetime) -> None:
        cutoff = (now - KEEP).isoformat(timespec="seconds")
        while self._order and self._order[0][0] < cutoff:
            _, d = self._order.popleft()
            self.forget([d])


def claim_delivery(db: sqlite_utils.Database, platform: str, msg_id: str, at: datetime,
                   signed: tuple[str, str] | None = None) -> str:
    """Judge one delivery and record it, from what the store holds (a process without a live log)."""
    log = DeliveryLog(db, at)
    delivery = (platform, msg_id, signed)
    verdict = log.judge([delivery], at)[0]
    new = [delivery] if verdict == "new" else []
    ids = log.record(new + log.take_unrecorded(), at)
    with db.atomic():  # this process answers at once: nothing is left for a restart
        mark_answered(db.conn, ids[:len(new)], at)
    return verdict


def prune(db: sqlite_utils.Database, before: datetime) -> None:
    with db.atomic():
        db.execute("DELETE FROM deliveries WHERE seen_at < ?", [before.isoformat(timespec="seconds")])
