"""The store's generation: a counter that every change an answer could depend on moves forward.

Triggers keep it, so no writer can forget it and a write from another process (an ingest from the
command line while the server runs) moves it too. The server reads it once per question (one row by
its key) and keeps answers and askers' units for as long as it stays the same. The delivery log and
the reminder outbox change with every message and do not move it.
"""
from __future__ import annotations

import sqlite_utils

from .db import register_migration, run_script

# plans (a new version always inserts into versions; tasks also change status on 销号), the unit
# directory, progress, and who speaks for which unit
WATCHED = ("documents", "versions", "tasks", "units", "unit_aliases", "collective_members", "progress",
           "officials", "official_accounts", "bindings")


def _m014_generation(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
    INSERT OR IGNORE INTO generation VALUES (1, 0)
    """)
    tables = set(db.table_names())
    watch(db, [t for t in WATCHED if t in tables])  # a table made later asks for its triggers itself


register_migration(_m014_generation)


def current(db: sqlite_utils.Database) -> int:
    """The store's generation now (committed changes of any connection)."""
    return db.conn.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0]


def watch(db: sqlite_utils.Database, tables) -> None:
    """Count every change to these tables into the generation (nothing before the generation table exists:
    its own migration then watches them)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='generation'").fetchone():
        return
    for table in tables:
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(f"CREATE TRIGGER IF NOT EXISTS generation_{table}_{event.lower()} AFTER {event} ON {table}"
                       " BEGIN UPDATE generation SET value = value + 1 WHERE id = 1; END")
