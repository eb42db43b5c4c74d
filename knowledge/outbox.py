"""The reminder outbox: every reminder is recorded (with its idempotency key) before anything is sent.

Tables: channels (where a unit's messages go), outbox (one digest message per unit per send, with status,
attempts and next attempt time), and each message's reminders (one per item/unit/kind/date, unique; see
knowledge.reminder_log).
Lifecycle of an outbox row: pending → posting → sent | pending (retry) | failed (permanent).
A row left in `posting` by a killed process goes back to pending on restart.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from . import reminder_log
from .db import current_task, register_migration, run_script


def _m004_outbox(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS channels (
        unit TEXT PRIMARY KEY, kind TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}',
        broken_at TEXT, broken_reason TEXT);
    CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY, unit TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'reminder',
        title TEXT NOT NULL, body TEXT NOT NULL, at_mobiles TEXT NOT NULL DEFAULT '[]',
        at_user_ids TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, last_error TEXT,
        created_at TEXT NOT NULL, sent_at TEXT);
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(status, next_attempt_at);
    CREATE TABLE IF NOT EXISTS reminders (
        key TEXT PRIMARY KEY, item_uid TEXT NOT NULL, milestone_id INTEGER, recurring_id INTEGER,
        task_id INTEGER NOT NULL,
        unit TEXT NOT NULL, kind TEXT NOT NULL, nominal_date TEXT NOT NULL,
        message_id INTEGER REFERENCES outbox(id), created_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS reminders_message ON reminders(message_id);
    CREATE TABLE IF NOT EXISTS sweeps (day TEXT PRIMARY KEY, done_at TEXT NOT NULL)
    """)


register_migration(_m004_outbox)


@dataclass
class OutboxRow:
    id: int
    unit: str
    kind: str
    title: str
    body: str
    at_mobiles: list[str]
    at_user_ids: list[str]
    status: str
    attempts: int


_CURRENT = current_task()


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def set_channel(db: sqlite_utils.Database, unit: str, kind: str, config: dict, now: datetime | None = None) -> int:
    """Set a unit's channel; its digests of the last two days that failed or had nowhere to go are queued again."""
    now = now or datetime.now(ZoneInfo("Asia/Shanghai"))  # timestamps here are all Asia/Shanghai
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO channels (unit, kind, config) VALUES (?,?,?)",
                   [unit, kind, json.dumps(config, ensure_ascii=False)])
        return db.execute("UPDATE outbox SET status='pending', attempts=0, next_attempt_at=? WHERE unit=?"
                          " AND status IN ('failed', 'no_channel') AND created_at >= ?",
                          [_ts(now), unit, _ts(now - timedelta(days=2))]).rowcount


def channels(db: sqlite_utils.Database) -> dict[str, dict]:
    return {u: {"kind": k, **json.loads(c), "broken_reason": b}
            for u, k, c, b in db.execute("SELECT unit, kind, config, broken_reason FROM channels")}


def mark_channel_broken(db: sqlite_utils.Database, unit: str, reason: str, at: datetime) -> None:
    with db.atomic():
        db.execute("UPDATE channels SET broken_at=?, broken_reason=? WHERE unit=?", [_ts(at), reason, unit])


def new_reminder_keys(db: sqlite_utils.Database, keys: list[str]) -> set[str]:
    """Keys not yet recorded (already recorded ones were queued by an earlier sweep)."""
    dates = [k.rsplit("|", 1)[-1] for k in keys]
    if not dates:
        return set()
    return set(keys) - reminder_log.recorded_keys(db, min(dates), max(dates))


def enqueue(db: sqlite_utils.Database, messages: list[dict], at: datetime) -> list[int]:
    """Write digests and their reminder keys in one transaction; keys already present are skipped.

    Each message: {unit, kind, title, body, at_mobiles, at_user_ids, reminders: [{key, item_uid, milestone_id,
    recurring_id, task_id, kind, nominal_date}]}. A message whose reminders are all known is dropped.
    A reminder's key is item_uid|unit|kind|nominal_date.
    """
    return enqueue_items(db, [{**msg, "reminders": [
        (r["item_uid"], r.get("milestone_id"), r.get("recurring_id"), r["task_id"], r["kind"], r["nominal_date"])
        for r in msg["reminders"]]} for msg in messages], at)


def enqueue_items(db: sqlite_utils.Database, messages: list[dict], at: datetime) -> list[int]:
    """`enqueue`, with each reminder as an item tuple (item_uid, milestone_id, recurring_id, task_id, kind,
    nominal_date): a busy day's digests carry a hundred thousand of them."""
    ids: list[int] = []
    dates = [i[5] for msg in messages for i in msg["reminders"]]
    units = Counter(msg["unit"] for msg in messages)
    taken: dict[str, set] = {}  # for a unit with several messages in this call: what its earlier ones took
    encoded: dict = {}
    with db.atomic():
        known = reminder_log.recorded_keys(db, min(dates), max(dates)) if dates else set()
        for msg in messages:
            unit = msg["unit"]
            fresh = list(dict.fromkeys(msg["reminders"]))
            if known:
                fresh = [i for i in fresh if reminder_log.key_of(i, unit) not in known]
            if units[unit] > 1:
                fresh = [i for i in fresh if i not in taken.setdefault(unit, set())]
                taken[unit].update(fresh)
            if msg["reminders"] and not fresh:
                continue
            mid = db.execute(
                "INSERT INTO outbox (unit, kind, title, body, at_mobiles, at_user_ids, next_attempt_at, created_at,"
                " status) VALUES (?,?,?,?,?,?,?,?,?)",
                [unit, msg.get("kind", "reminder"), msg["title"], msg["body"],
                 json.dumps(msg.get("at_mobiles", [])), json.dumps(msg.get("at_user_ids", [])), _ts(at), _ts(at),
                 msg.get("status", "pending")],
            ).lastrowid
            if fresh:
                reminder_log.record(db, mid, unit, fresh, at, encoded)
            ids.append(mid)
    return ids


def record_sweep(db: sqlite_utils.Database, day: str, at: datetime) -> None:
    with db.atomic():
        db.execute("INSERT OR IGNORE INTO sweeps VALUES (?,?)", [day, _ts(at)])


def swept(db: sqlite_utils.Database, day: str) -> bool:
    return db.execute("SELECT 1 FROM sweeps WHERE day=?", [day]).fetchone() is not None


def recover(db: sqlite_utils.Database) -> int:
    """After a crash: rows left mid-send are sent again (at-least-once for that one message).
    Only the process holding the sender lock may call this (no other sender is alive then)."""
    with db.atomic():
        return db.execute("UPDATE outbox SET status='pending' WHERE status='posting'").rowcount


_DUE = "status='pending' AND next_attempt_at <= ?"


def due_messages(db: sqlite_utils.Database, now: datetime, limit: int = 50) -> list[OutboxRow]:
    rows = db.execute("SELECT id, unit, kind, title, body, at_mobiles, at_user_ids, status, attempts FROM outbox"
                      f" WHERE {_DUE} ORDER BY id LIMIT ?", [_ts(now), limit]).fetchall()
    return [OutboxRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), r[7], r[8]) for r in rows]


def count_due(db: sqlite_utils.Database, now: datetime) -> int:
    """How many messages due_messages would give without a limit."""
    return db.execute(f"SELECT count(*) FROM outbox WHERE {_DUE}", [_ts(now)]).fetchone()[0]


def next_wakeup(db: sqlite_utils.Database) -> datetime | None:
    row = db.execute("SELECT min(next_attempt_at) FROM outbox WHERE status='pending'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def claim(db: sqlite_utils.Database, msg_id: int, now: datetime) -> bool:
    """Take a pending row for sending; False if another sender took it first."""
    with db.atomic():
        return db.execute("UPDATE outbox SET status='posting', attempts=attempts+1, next_attempt_at=? WHERE id=?"
                          " AND status='pending'", [_ts(now), msg_id]).rowcount == 1


def mark_sent(db: sqlite_utils.Database, msg_id: int, at: datetime) -> None:
    with db.atomic():
        db.execute("UPDATE outbox SET status='sent', sent_at=?, last_error=NULL WHERE id=?", [_ts(at), msg_id])


def mark_retry(db: sqlite_utils.Database, msg_id: int, error: str, when: datetime) -> None:
    with db.atomic():
        db.execute("UPDATE outbox SET status='pending', last_error=?, next_attempt_at=? WHERE id=?",
                   [error, _ts(when), msg_id])


def mark_failed(db: sqlite_utils.Database, msg_id: int, error: str) -> None:
    with db.atomic():
        db.execute("UPDATE outbox SET status='failed', last_error=? WHERE id=?", [error, msg_id])


def cancel_stale_reminders(db: sqlite_utils.Database) -> int:
    """After a new version: unsent digests that mention an item no longer current (date moved, task
    withdrawn or closed) are cancelled, and all their reminder keys released so the next sweep
    re-plans whatever still applies."""
    pending = [(mid, json.loads(items)) for mid, items in db.execute(
        "SELECT b.message_id, b.items FROM reminder_batches b JOIN outbox o ON o.id = b.message_id"
        " WHERE o.status = 'pending'")]
    if not pending:
        return 0
    # which of their items are still current: one pass over milestones and duties for all of them (a busy
    # day's unsent digests mention a hundred thousand items; asking once per item scanned the tasks each time)
    uids = json.dumps(sorted({i[0] for _, items in pending for i in items}))
    current = {r[0] for r in db.execute(f"""
        SELECT m.uid FROM milestones m JOIN tasks t ON t.id = m.task_id
        WHERE m.uid IN (SELECT value FROM json_each(:uids)) AND t.status = 'open' AND {_CURRENT}
        UNION SELECT rc.uid FROM recurring rc JOIN tasks t ON t.id = rc.task_id
        WHERE rc.uid IN (SELECT value FROM json_each(:uids)) AND t.status = 'open' AND {_CURRENT}""", {"uids": uids})}
    stale = [mid for mid, items in pending if any(i[0] not in current for i in items)]
    for mid in stale:
        reminder_log.release(db, mid)
        db.execute("UPDATE outbox SET status='cancelled' WHERE id=?", [mid])
    return len(stale)


def summary(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


UNKNOWN_MARK = "结果未知"  # last_error prefix of a push that went out and got no answer


def outcome_was_unknown(db: sqlite_utils.Database, msg_id: int) -> bool:
    """Whether this message's last attempt went out without an answer (it is retried only once)."""
    row = db.execute("SELECT last_error FROM outbox WHERE id=?", [msg_id]).fetchone()
    return bool(row and row[0] and row[0].startswith(UNKNOWN_MARK))


def unknown_outcomes(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """(unit, title, last_error) of pushes given up with an unknown outcome: the operator checks whether they arrived."""
    return db.execute("SELECT unit, title, last_error FROM outbox WHERE status = 'failed' AND last_error LIKE ?"
                      " ORDER BY id", [UNKNOWN_MARK + "%"]).fetchall()
