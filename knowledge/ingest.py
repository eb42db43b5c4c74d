"""Writing a parsed Plan into the store, in one transaction.

The same file again (same sha256) changes nothing. A file whose title matches a stored
document becomes that document's next version; its tasks replace the current ones.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from parser.model import ROLES, Plan, Task

from .directory import sync_directory

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class IngestResult:
    document_id: int
    version: int
    status: str  # "new", "new_version" or "unchanged"
    title: str
    tasks: int
    milestones: int
    warnings: list[str]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _insert_task(db: sqlite_utils.Database, doc_id: int, version: int, t: Task) -> tuple[int, int]:
    cur = db.execute(
        "INSERT INTO tasks (document_id, version, section, number, number_int, title, deadline_text, goal_text,"
        " problem_text, full_text, ongoing, measures_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [doc_id, version, t.section, str(t.number), t.number if isinstance(t.number, int) else None, t.title,
         t.deadline_text, t.goal_text, t.problem_text, t.full_text or t.title, int(t.ongoing), len(t.measures)])
    task_id = cur.lastrowid
    rows = [(task_id, role, unit, i) for role in ROLES for i, unit in enumerate(getattr(t, role) or [])]
    db.conn.executemany("INSERT OR IGNORE INTO assignments VALUES (?,?,?,?)", rows)
    groups = [g.unit for g in t.measure_groups for _ in range(g.count)]
    db.conn.executemany("INSERT INTO measures VALUES (?,?,?,?)",
                        [(task_id, i, text, groups[i] if i < len(groups) else None)
                         for i, text in enumerate(t.measures)])
    for i, m in enumerate(t.milestones):
        mid = db.execute("INSERT INTO milestones (task_id, position, due, text, source, done) VALUES (?,?,?,?,?,?)",
                         [task_id, i, m.due.isoformat(), m.text, m.source, int(m.done)]).lastrowid
        db.conn.executemany("INSERT OR IGNORE INTO milestone_units VALUES (?,?)", [(mid, u) for u in m.units])
    db.conn.executemany("INSERT INTO recurring (task_id, every, text, units) VALUES (?,?,?,?)",
                        [(task_id, r.every, r.text, json.dumps(r.units, ensure_ascii=False)) for r in t.recurring])
    return task_id, len(t.milestones)


def ingest_plan(db: sqlite_utils.Database, plan: Plan, sha256: str, directory=None,
                now: datetime | None = None) -> IngestResult:
    """Store one parsed document; all or nothing."""
    now = now or datetime.now(TZ)
    row = db.execute("SELECT document_id, version FROM versions WHERE sha256 = ?", [sha256]).fetchone()
    if row:
        n = db.execute("SELECT count(*) FROM tasks WHERE document_id=? AND version=?", row).fetchone()[0]
        m = db.execute("SELECT count(*) FROM milestones JOIN tasks ON tasks.id = milestones.task_id"
                       " WHERE document_id=? AND version=?", row).fetchone()[0]
        return IngestResult(row[0], row[1], "unchanged", plan.title, n, m, plan.warnings)
    with db.atomic():
        if directory is not None:
            sync_directory(db, directory)
        doc = db.execute("SELECT id, current_version FROM documents WHERE title = ?", [plan.title]).fetchone()
        if doc:
            doc_id, version, status = doc[0], doc[1] + 1, "new_version"
            db.execute("UPDATE documents SET current_version=?, doc_number=?, year=? WHERE id=?",
                       [version, plan.doc_number, plan.year, doc_id])
        else:
            doc_id = db.execute("INSERT INTO documents (title, doc_number, year, current_version, created_at)"
                                " VALUES (?,?,?,1,?)", [plan.title, plan.doc_number, plan.year,
                                                        now.isoformat(timespec="seconds")]).lastrowid
            version, status = 1, "new"
        db.execute("INSERT INTO versions (document_id, version, source_name, sha256, ingested_at,"
                   " declared_task_count, warnings) VALUES (?,?,?,?,?,?,?)",
                   [doc_id, version, plan.source_name, sha256, now.isoformat(timespec="seconds"),
                    plan.declared_task_count, json.dumps(plan.warnings, ensure_ascii=False)])
        n_ms = 0
        for t in plan.tasks:
            n_ms += _insert_task(db, doc_id, version, t)[1]
        for u in plan.unknown_units:
            db.execute("INSERT OR IGNORE INTO units (name, kind, known) VALUES (?, 'unknown', 0)", [u])
    return IngestResult(doc_id, version, status, plan.title, len(plan.tasks), n_ms, plan.warnings)
