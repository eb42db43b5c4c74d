"""Backup and restore of a store with SQLite's online backup: a consistent copy while the server writes
(WAL: the copy reads one snapshot and blocks no writer), written beside the target and renamed into place.

The store only: the delivery log beside it (knowledge/deliveries.py) holds recent message ids and answers still
being sent, nothing a restore should bring back. A restore leaves it in place: what it says was received and
answered stays true whatever store is restored, and a backup from before the log had its own file adds its rows
to it (the migration that moves them)."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .db import writable

REQUIRED_TABLES = {"documents", "tasks", "migrations"}


class BackupError(Exception):
    """A backup that cannot be written, or a file that is not a usable duban store."""


@dataclass
class StoreSummary:
    path: Path
    documents: int
    tasks: int
    bytes: int


def _read_uri(path: Path) -> str:
    """Read-only; where nothing can be written beside the file (a read-only snapshot) the file is taken as
    unchanging, else a store in WAL mode could not be opened there (its -shm file cannot be made)."""
    return f"file:{path}?mode=ro" + ("" if writable(path) else "&immutable=1")


def _summary(path: Path) -> StoreSummary:
    conn = sqlite3.connect(_read_uri(path), uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{path} 已损坏（{check}）")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not REQUIRED_TABLES <= tables:
            raise BackupError(f"{path} 不是 duban 数据库（缺少 {'、'.join(sorted(REQUIRED_TABLES - tables))} 表）")
        docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        tasks = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} 不是可用的 SQLite 数据库：{e}") from e
    finally:
        conn.close()
    return StoreSummary(path, docs, tasks, path.stat().st_size)


def _copy(source: Path, target: Path) -> None:
    """source → target.tmp (one online-backup step, one snapshot) → fsync → rename over target."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(_read_uri(source), uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
    except sqlite3.DatabaseError as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"无法读取数据库 {source}：{e}") from e
    finally:
        dst.close()
        src.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def backup(store: Path, target: Path) -> StoreSummary:
    if not store.exists():
        raise BackupError(f"数据库 {store} 不存在")
    if target.resolve() == store.resolve():
        raise BackupError("备份文件不能是数据库本身")
    try:
        _copy(store, target)
    except OSError as e:
        raise BackupError(f"无法写入备份文件 {target}：{e.strerror}") from e
    return _summary(target)


def restore(backup_file: Path, store: Path, now: datetime) -> tuple[StoreSummary, Path | None]:
    """Replace the store with a backup (checked first); the store as it was is kept beside it. Returns the
    restored store's summary and where the previous one was kept (None if there was none)."""
    if not backup_file.exists():
        raise BackupError(f"备份文件 {backup_file} 不存在")
    _summary(backup_file)  # a damaged or foreign file changes nothing
    kept = None
    if store.exists():
        kept = store.with_name(f"{store.name}.before-restore-{now:%Y%m%d-%H%M%S}")
        _copy(store, kept)
    src = sqlite3.connect(_read_uri(backup_file), uri=True)
    dst = sqlite3.connect(store)
    try:
        src.backup(dst)  # through SQLite, so the store's WAL and its readers stay consistent
    finally:
        dst.close()
        src.close()
    return _summary(store), kept
