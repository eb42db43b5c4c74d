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
