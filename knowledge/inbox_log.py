"""What happened to each file dropped into the watched inbox."""
from __future__ import annotations

from datetime import datetime

import sqlite_utils

from .db import register_migration, run_script


def _m005_inbox(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS inbox_log (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, file TEXT NOT NULL, status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '', document_id INTEGER, version INTEGER)
    """)


register_migration(_m005_inbox)


def log(db: sqlite_utils.Database, at: datetime, file: str, status: str, message: str = "",
        document_id: int | None = None, version: int | None = None) -> None:
    with db.atomic():
        db.execute("INSERT INTO inbox_log (at, file, status, message, document_id, version) VALUES (?,?,?,?,?,?)",
                   [at.isoformat(timespec="seconds"), file, status, message, document_id, version])


def recent(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    rows = db.execute("SELECT at, file, status, message FROM inbox_log ORDER BY id DESC LIMIT ?", [limit]).fetchall()
    return [dict(zip(("at", "file", "status", "message"), r)) for r in rows]


def documents(db: sqlite_utils.Database) -> list[dict]:
    """Stored documents with their versions, newest version first."""
    out = []
    for doc_id, title, current in db.execute("SELECT id, title, current_version FROM documents ORDER BY id"):
        vs = db.execute("SELECT version, source_name, ingested_at FROM versions WHERE document_id=?"
                        " ORDER BY version DESC", [doc_id]).fetchall()
        out.append({"id": doc_id, "title": title, "current_version": current,
                    "versions": [dict(zip(("version", "source_name", "ingested_at"), v)) for v in vs]})
    return out
