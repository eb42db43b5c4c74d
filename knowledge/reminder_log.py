"""Which reminders each queued message carries: the record that keeps a reminder from being queued twice.

A busy day queues a hundred thousand reminders (every unit of every milestone due, ahead or overdue
by whole weeks) in a few dozen digests. They are kept as one row per message — its unit, the range of
their nominal dates and the items as one JSON array — rather than one row per reminder: writing that
many rows, with their keys indexed, took longer than the rest of the day's job together.

Item: [item_uid, milestone_id, recurring_id, task_id, kind, nominal_date]. A reminder's key is
"item_uid|unit|kind|nominal_date" (knowledge.sweep.Reminder.key). The view `reminders` still shows one
row per reminder with its key; deleting a message's rows from it releases that message's keys
(callers always cancel whole messages).
"""
from __future__ import annotations

import json
from datetime import datetime
from json.encoder import encode_basestring as _string

import sqlite_utils

from .db import register_migration

Item = tuple  # (item_uid, milestone_id, recurring_id, task_id, kind, nominal_date)

_VIEW = """CREATE VIEW IF NOT EXISTS reminders (key, item_uid, milestone_id, recurring_id, task_id, unit, kind,
    nominal_date, message_id, created_at) AS
SELECT (i.value ->> 0) || '|' || b.unit || '|' || (i.value ->> 4) || '|' || (i.value ->> 5), i.value ->> 0,
       i.value ->> 1, i.value ->> 2, i.value ->> 3, b.unit, i.value ->> 4, i.value ->> 5, b.message_id, b.created_at
FROM reminder_batches b, json_each(b.items) i"""


def _reminders_kept_per_message(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS reminder_batches (message_id INTEGER PRIMARY KEY REFERENCES outbox(id),"
               " unit TEXT NOT NULL, first_nominal TEXT NOT NULL, last_nominal TEXT NOT NULL, created_at TEXT NOT NULL,"
               " items TEXT NOT NULL)")
    # a day's check reads the messages whose reminders may fall on its dates: the latest ones
    db.execute("CREATE INDEX IF NOT EXISTS reminder_batches_last ON reminder_batches(last_nominal)")
    if db.execute("SELECT type FROM sqlite_master WHERE name = 'reminders'").fetchone() == ("table",):
        # the earlier layout, one row per reminder: its rows move into their messages' records
        db.execute("""INSERT OR IGNORE INTO reminder_batches
            SELECT message_id, min(unit), min(nominal_date), max(nominal_date), min(created_at),
                   json_group_array(json_array(item_uid, milestone_id, recurring_id, task_id, kind, nominal_date))
            FROM (SELECT * FROM reminders WHERE message_id IS NOT NULL ORDER BY message_id, rowid) GROUP BY message_id""")
        db.execute("DROP TABLE reminders")
    db.execute(_VIEW)
    db.execute("CREATE TRIGGER IF NOT EXISTS reminders_release INSTEAD OF DELETE ON reminders BEGIN"
               " DELETE FROM reminder_batches WHERE message_id = old.message_id; END")


register_migration(_reminders_kept_per_message)


def key_of(item: Item, unit: str) -> str:
    return f"{item[0]}|{unit}|{item[4]}|{item[5]}"


def recorded_keys(db: sqlite_utils.Database, first: str, last: str) -> set[str]:
    """Keys of the queued reminders whose nominal date is in first..last (ISO dates)."""
    out: set[str] = set()
    for unit, items in db.execute("SELECT unit, items FROM reminder_batches WHERE last_nominal >= ?"
                                  " AND first_nominal <= ?", [first, last]):
        out.update(key_of(i, unit) for i in json.loads(items) if first <= i[5] <= last)
    return out


def record(db: sqlite_utils.Database, message_id: int, unit: str, items: list[Item], at: datetime,
           encoded: dict[Item, str] | None = None) -> None:
    """Record a message's reminders (in the caller's transaction). `encoded` caches each item's JSON:
    the same milestone goes to many units' messages."""
    encoded = {} if encoded is None else encoded
    parts = []
    for item in items:
        part = encoded.get(item)
        if part is None:
            part = encoded[item] = _json(item)
        parts.append(part)
    nominal = [i[5] for i in items]
    db.execute("INSERT INTO reminder_batches VALUES (?,?,?,?,?,?)",
               [message_id, unit, min(nominal), max(nominal), at.isoformat(timespec="seconds"),
                "[" + ",".join(parts) + "]"])


def _json(item: Item) -> str:
    """json.dumps(item), a few times faster for this one shape."""
    uid, milestone_id, recurring_id, task_id, kind, nominal = item
    ids = ",".join("null" if i is None else str(int(i)) for i in (milestone_id, recurring_id, task_id))
    return f"[{_string(uid)},{ids},{_string(kind)},{_string(nominal)}]"


def release(db: sqlite_utils.Database, message_id: int) -> None:
    """Forget a (cancelled) message's reminders, so the next planning may queue them again."""
    db.execute("DELETE FROM reminder_batches WHERE message_id = ?", [message_id])
