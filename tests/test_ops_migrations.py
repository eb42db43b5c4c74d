"""Migrations: one explicit order of unique names, whatever the import order; a store made before the
newer migrations existed is brought up to the schema of a fresh store, its rows kept."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from knowledge import db as store

ROOT = Path(__file__).resolve().parents[1]
# the migrations of the release before documents, reviews, the workbench and answered deliveries
OLD_RELEASE = {"_m001_plans", "_m002_indexes", "_m003_covering_number_index", "_m008_assignments_by_unit",
               "_m009_task_units", "_m012_assignments_by_unit_with_role", "_m015_task_state_indexes",
               "_m016_title_index", "_m002_people", "_m006_signed_requests", "_m007_claims_without_rowid",
               "_m003_progress", "_m004_outbox", "_m005_inbox", "_m011_delivery_log", "_m013_due_index",
               "_m014_generation"}


def schema(path: Path) -> dict[str, set]:
    conn = sqlite3.connect(path)
    try:
        objects = {(t, n) for t, n in conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
        columns = {(t, c[1]) for _, t in objects if _ == "table" for c in conn.execute(f"PRAGMA table_info('{t}')")}
    finally:
        conn.close()
    return {"objects": objects, "columns": columns}


def test_every_migration_is_listed_once_in_the_one_order():
    store._import_migration_modules()
    names = [m.__name__ for m in store.MIGRATIONS]
    assert len(names) == len(set(names)) and len(store.ORDER) == len(set(store.ORDER))
    assert set(names) <= set(store.ORDER), set(names) - set(store.ORDER)
    assert [m.__name__ for m in store.ordered(store.MIGRATIONS)] == [n for n in store.ORDER if n in names]


def test_the_order_does_not_depend_on_the_import_order(tmp_path):
    """A process that imports only the delivery log first builds the same store as one importing everything."""
    script = ("import sys; sys.path.insert(0, {root!r}); import knowledge.{first}; from knowledge.db import open_db; "
              "open_db({path!r}).conn.close()")
    for first in ("deliveries", "generation"):
        path = tmp_path / f"{first}.db"
        subprocess.run([sys.executable, "-c", script.format(root=str(ROOT), first=first, path=str(path))], check=True,
                       timeout=60)
    assert schema(tmp_path / "deliveries.db") == schema(tmp_path / "generation.db")
    applied = [r[0] for r in sqlite3.connect(tmp_path / "deliveries.db").execute("SELECT name FROM migrations ORDER BY rowid")]
    assert applied == [n for n in store.ORDER if n in applied]


def test_an_old_store_upgrades_to_the_fresh_schema_and_keeps_its_rows(tmp_path, monkeypatch):
    old = tmp_path / "old.db"
    with monkeypatch.context() as m:
        store._import_migration_modules()
        m.setattr(store, "MIGRATIONS", [f for f in store.MIGRATIONS if f.__name__ in OLD_RELEASE])
        from knowledge import deliveries
        m.setattr(deliveries, "_add_answer_columns", lambda db: None)  # the old log had no such columns
        db = store.open_db(old)
        with db.atomic():  # what the old server wrote: a plan and an answered message
            db.execute("INSERT INTO documents (title, current_version, created_at) VALUES ('旧方案', 1, '2026-01-01')")
            db.execute("INSERT INTO deliveries (platform, msg_id, seen_at) VALUES ('dingtalk', 'old-1', ?)",
                       ["2026-12-01T09:00:00+08:00"])
        db.conn.close()
    assert "answered_at" not in {c for _, c in schema(old)["columns"]}
    upgraded = store.open_db(old)
    upgraded.conn.close()
    fresh = tmp_path / "fresh.db"
    store.open_db(fresh).conn.close()
    upgraded_schema, fresh_schema = schema(old), schema(fresh)
    assert upgraded_schema["columns"] == fresh_schema["columns"]
    assert upgraded_schema["objects"] == fresh_schema["objects"]
    conn = sqlite3.connect(old)
    assert conn.execute("SELECT title FROM documents").fetchall() == [("旧方案",)]
    conn.close()
    conn = sqlite3.connect(deliveries.log_path(old))  # the delivery log's own file
    # the old server answered what it recorded: not answered again after the upgrade
    assert conn.execute("SELECT answered_at FROM deliveries WHERE msg_id = 'old-1'").fetchone()[0] is not None
    conn.close()
