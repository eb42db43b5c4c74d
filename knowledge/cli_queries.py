"""What the command-line reports read (`duban diff`, `duban status`), kept with the rest of the SQL."""
from __future__ import annotations

import sqlite_utils

from .db import current_task


def document_by_ref(db: sqlite_utils.Database, ref: str) -> tuple[int, int] | None:
    """(id, current version) of the document with this number or title."""
    return db.execute("SELECT id, current_version FROM documents WHERE id = ? OR title = ?", [ref, ref]).fetchone()


def version_numbers(db: sqlite_utils.Database, document_id: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT version FROM versions WHERE document_id=?", [document_id])}


def recently_completed(db: sqlite_utils.Database, limit: int = 20) -> list[tuple]:
    """(section, number, title, completed_at, completed_by) of closed tasks, newest first, one line per
    task under its current number."""
    return db.execute("SELECT t.section, t.number, t.title, t.completed_at, t.completed_by FROM tasks t"
                      f" WHERE t.status='completed' AND {current_task()} ORDER BY t.completed_at DESC LIMIT ?", [limit]).fetchall()
