"""Every store is in write-ahead-log mode, and a command leaves its store as one self-contained file."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

from conftest import SEED_TXT, run_cli


def test_a_store_is_in_wal_mode_from_its_first_opening(tmp_path):
    from knowledge.db import open_db

    db = open_db(tmp_path / "d.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a committed ingest survives a power cut
    db.conn.close()


def test_after_a_command_the_file_alone_holds_the_plan(tmp_path):
    db = tmp_path / "d.db"
    assert run_cli(["--db", str(db), "ingest", str(SEED_TXT)])[0] == 0
    assert not (tmp_path / "d.db-wal").exists()  # checkpointed into the file when the command closed it
    copy = tmp_path / "copied.db"
    shutil.copyfile(db, copy)  # as an operator might copy it, by hand
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM tasks").fetchone()[0] == 38


def test_a_reader_is_not_blocked_by_a_writer_holding_its_transaction(tmp_path):
    db = tmp_path / "d.db"
    assert run_cli(["--db", str(db), "ingest", str(SEED_TXT)])[0] == 0
    writer = sqlite3.connect(db, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE tasks SET title = title || '' WHERE id = 1")
    try:
        done = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(db), "ask", "第十三项谁牵头"],
                              capture_output=True, text=True, timeout=60)
    finally:
        writer.rollback()
        writer.close()
    assert done.returncode == 0 and "牵头" in done.stdout


def test_a_store_where_nothing_may_be_written_is_read_as_it_is(tmp_path, monkeypatch):
    """A read-only mount or snapshot (simulated: these tests run as root, whom file modes do not stop): the
    store is read without switching its journal or migrating, and nothing is made beside it."""
    from knowledge import db as store

    path = tmp_path / "d.db"
    assert run_cli(["--db", str(path), "ingest", str(SEED_TXT)])[0] == 0
    before = sorted(p.name for p in tmp_path.iterdir()), path.read_bytes()
    monkeypatch.setattr(store, "_read_only", lambda p: True)
    code, out, err = run_cli(["--db", str(path), "ask", "第十三项谁牵头"])
    assert code == 0 and "牵头" in out
    assert (sorted(p.name for p in tmp_path.iterdir()), path.read_bytes()) == before


def test_a_read_only_store_that_needs_upgrading_says_so(tmp_path, monkeypatch):
    from knowledge import db as store

    path = tmp_path / "d.db"
    assert run_cli(["--db", str(path), "ingest", str(SEED_TXT)])[0] == 0
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM migrations WHERE name = '_m025_delivery_log_file'")
    conn.commit()
    conn.close()
    monkeypatch.setattr(store, "_read_only", lambda p: True)
    code, _, err = run_cli(["--db", str(path), "status"])
    assert code == 2 and "只读" in err and "升级" in err


def test_a_backup_is_taken_from_a_read_only_snapshot(tmp_path, monkeypatch):
    from knowledge import backup

    path = tmp_path / "d.db"
    assert run_cli(["--db", str(path), "ingest", str(SEED_TXT)])[0] == 0
    real_access = backup.os.access
    monkeypatch.setattr(backup.os, "access", lambda p, mode: False if mode == backup.os.W_OK else real_access(p, mode))
    assert "immutable=1" in backup._read_uri(path)
    summary = backup.backup(path, tmp_path / "copy.db")
    assert (summary.documents, summary.tasks) == (1, 38)
