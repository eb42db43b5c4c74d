"""What /healthz and `duban doctor` read from the store: its contents, the last reminder sweep, the
reminder queue and the channels that fail."""
from __future__ import annotations

import sqlite_utils

LOW_DISK_MB = 200  # below this /healthz says "degraded" and doctor warns: SQLite needs room for its journal


def store_report(db: sqlite_utils.Database) -> dict:
    docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    last = db.execute("SELECT day, done_at FROM sweeps ORDER BY done_at DESC LIMIT 1").fetchone()
    queue = dict(db.execute("SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'posting', 'failed')"
                            " GROUP BY status").fetchall())
    return {"documents": docs, "tasks": tasks,
            "last_sweep": {"day": last[0], "at": last[1]} if last else None,
            "outbox": {k: queue.get(k, 0) for k in ("pending", "posting", "failed")},
            "failing_channels": failing_channels(db)}


def failing_channels(db: sqlite_utils.Database) -> list[dict]:
    """Units whose channel is marked broken, or whose last reminder failed for good."""
    out = {u: {"unit": u, "reason": r} for u, r in db.execute(
        "SELECT unit, broken_reason FROM channels WHERE broken_reason IS NOT NULL")}
    for unit, error in db.execute("SELECT unit, last_error FROM outbox o WHERE status = 'failed' AND id ="
                                  " (SELECT max(id) FROM outbox WHERE unit = o.unit)"):
        out.setdefault(unit, {"unit": unit, "reason": error or "发送失败"})
    return sorted(out.values(), key=lambda c: c["unit"])
