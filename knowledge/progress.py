"""Progress reports and 销号 (closing a task), with an audit trail of who did what and when."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from . import due_index
from .db import register_migration, run_script


def _m003_progress(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS progress (
        id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id), at TEXT NOT NULL,
        kind TEXT NOT NULL, text TEXT NOT NULL DEFAULT '', unit TEXT, official TEXT,
        platform TEXT, user_id TEXT);
    CREATE INDEX IF NOT EXISTS progress_task ON progress(task_id, at)
    """)


register_migration(_m003_progress)

KINDS = {"progress": "进展", "complete": "销号", "reopen": "撤销销号"}


@dataclass
class ProgressEntry:
    at: str
    kind: str
    text: str
    unit: str | None
    official: str | None


def task_units(db: sqlite_utils.Database, task_id: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for role, unit in db.execute("SELECT role, unit FROM assignments WHERE task_id=? ORDER BY position", [task_id]):
        out.setdefault(role, []).append(unit)
    return out


def unit_answers_for(db: sqlite_utils.Database, unit: str, task_id: int, *, closing: bool) -> bool:
    """May `unit` report on this task? Any responsible unit (collectives resolved) may report progress;
    销号 needs a unit named on the task itself (not only through 各县市区), or a 牵头 unit."""
    units = task_units(db, task_id)
    direct = {u for r, us in units.items() if r != "supervising_leaders" for u in us}
    if unit in direct:
        return True
    if closing:
        return False
    mine = {r[0] for r in db.execute("SELECT collective FROM collective_members WHERE member=?", [unit])}
    return bool(mine & direct)


def add_entry(db: sqlite_utils.Database, task_id: int, kind: str, text: str, *, unit: str | None,
              official: str | None, platform: str | None, user_id: str | None, at: datetime) -> None:
    """Record progress / 销号 / 撤销销号; closing and reopening change the task's status in the same transaction."""
    with db.atomic():
        db.execute("INSERT INTO progress (task_id, at, kind, text, unit, official, platform, user_id)"
                   " VALUES (?,?,?,?,?,?,?,?)",
                   [task_id, at.isoformat(timespec="seconds"), kind, text, unit, official, platform, user_id])
        if kind == "complete":
            db.execute("UPDATE tasks SET status='completed', completed_at=?, completed_by=? WHERE id=?",
                       [at.isoformat(timespec="seconds"), official or unit, task_id])
        elif kind == "reopen":
            db.execute("UPDATE tasks SET status='open', completed_at=NULL, completed_by=NULL WHERE id=?", [task_id])
        if kind in ("complete", "reopen"):
            due_index.reindex(db, task_ids=[task_id])  # a closed task's milestones are nobody's due


def history(db: sqlite_utils.Database, task_id: int, limit: int = 10) -> list[ProgressEntry]:
    """Entries for this task in every version of its document (the same uid): a new version's row
    has a new id, but what was reported on the task carries over."""
    rows = db.execute("SELECT at, kind, text, unit, official FROM progress WHERE task_id IN ("
                      " SELECT t.id FROM tasks t JOIN tasks me ON me.id = ? WHERE t.id = me.id OR t.uid = me.uid)"
                      " ORDER BY at DESC, id DESC LIMIT ?", [task_id, limit]).fetchall()
    return [ProgressEntry(*r) for r in rows]


def status_summary(db: sqlite_utils.Database) -> list[dict]:
    """Per current document: tasks open / completed / withdrawn, and the latest report."""
    rows = db.execute("""
        SELECT d.id, d.title, d.current_version,
               sum(t.status = 'open'), sum(t.status = 'completed'), sum(t.status = 'withdrawn'),
               (SELECT max(p.at) FROM progress p JOIN tasks t2 ON t2.id = p.task_id WHERE t2.document_id = d.id)
        FROM documents d JOIN tasks t ON t.document_id = d.id AND t.version = d.current_version
        GROUP BY d.id ORDER BY d.id""").fetchall()
    return [dict(zip(("document_id", "title", "version", "open", "completed", "withdrawn", "last_report"), r))
            for r in rows]
