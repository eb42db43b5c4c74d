"""A document's identity and lifecycle: its number (the same everywhere), archiving, the example plan.

A document's number is its row id: 文件列表 shows it as [N], answers label its items 〔文件N〕, chat
commands take "N-M" (document N, item M), the CLI takes `--doc N`, and the JSON output carries it as
"document". Ids are never reused, so a number stays the same across restarts and new documents.

An archived document (`duban remove DOC`) has no current version (current_version = 0): every
"current tasks" condition in the store (answers, the due index, the reminder sweep, the outbox's
stale check) leaves it out, while its versions, tasks, progress and audit rows stay. The version it
had is kept in archived_version, so ingesting it again restores it.

The bundled example plan is marked `example`: no reminder is ever planned for it, and the first real
ingest archives it (knowledge.ingest reports that it did).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from . import due_index
from .db import register_migration

# who may apply for 销号 on a document's tasks, unless set otherwise for that document; a task that
# names none of these roles falls back to its 责任单位. 配合单位 never may.
DEFAULT_CLOSERS = ("lead_units", "principal_units")
CLOSER_ROLES = ("lead_units", "principal_units", "responsible_units")


def _m017_document_lifecycle(db: sqlite_utils.Database) -> None:
    columns = db["documents"].columns_dict
    for name, decl in (("archived_at", "TEXT"), ("archived_version", "INTEGER"),
                       ("example", "INTEGER NOT NULL DEFAULT 0"), ("closers", "TEXT")):
        if name not in columns:
            db.execute(f"ALTER TABLE documents ADD COLUMN {name} {decl}")


register_migration(_m017_document_lifecycle)


@dataclass
class Document:
    id: int
    title: str
    current_version: int
    archived_at: str | None
    archived_version: int | None
    example: bool
    closers: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.archived_at is None

    @property
    def label(self) -> str:
        """How answers tag this document's items."""
        return f"文件{self.id}"


_COLUMNS = "id, title, current_version, archived_at, archived_version, example, closers"


def _document(row) -> Document:
    closers = tuple(json.loads(row[6])) if row[6] else DEFAULT_CLOSERS
    return Document(row[0], row[1], row[2], row[3], row[4], bool(row[5]), closers)


def get(db: sqlite_utils.Database, doc_id: int) -> Document | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [doc_id]).fetchone()
    return _document(row) if row else None


def all_documents(db: sqlite_utils.Database, *, archived: bool = False) -> list[Document]:
    """Documents by number; the archived ones only when asked for."""
    where = "" if archived else " WHERE archived_at IS NULL"
    return [_document(r) for r in db.execute(f"SELECT {_COLUMNS} FROM documents{where} ORDER BY id")]


def resolve(db: sqlite_utils.Database, ref: int | str) -> Document:
    """A document by its number or its exact title; LookupError (with a message for officials) if none."""
    text = str(ref).strip().strip("[]〔〕").removeprefix("文件")
    row = None
    if text.isdigit():
        row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [int(text)]).fetchone()
    if row is None:
        row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE title = ?", [str(ref).strip()]).fetchone()
    if row is None:
        raise LookupError(f"没有编号或标题为“{ref}”的文件（发送“文件列表”或运行 duban status 查看编号）")
    return _document(row)


def archive(db: sqlite_utils.Database, ref: int | str, *, at: datetime, by: str = "cli") -> Document:
    """Take a document out of answers and reminders; its history and audit stay. Idempotent."""
    doc = resolve(db, ref)
    if not doc.active:
        return doc
    from .outbox import cancel_stale_reminders
    from .people import record
    with db.atomic():
        db.execute("UPDATE documents SET archived_at = ?, archived_version = current_version, current_version = 0"
                   " WHERE id = ?", [at.isoformat(timespec="seconds"), doc.id])
        due_index.reindex(db, document_id=doc.id)  # its rows leave every unit's due lists
        cancel_stale_reminders(db)  # unsent digests that mention its items
        record(db, at, by, None, "移除文件", f"[{doc.id}] {doc.title}", True)
    return get(db, doc.id)


def restore(db: sqlite_utils.Database, doc_id: int) -> None:
    """Bring an archived document back as it was (in the caller's transaction); no-op if it is not archived."""
    if db.execute("SELECT archived_at FROM documents WHERE id = ?", [doc_id]).fetchone()[0] is None:
        return
    db.execute("UPDATE documents SET current_version = archived_version, archived_at = NULL, archived_version = NULL"
               " WHERE id = ? AND archived_at IS NOT NULL", [doc_id])
    due_index.reindex(db, document_id=doc_id)


def mark_example(db: sqlite_utils.Database, doc_id: int) -> None:
    db.execute("UPDATE documents SET example = 1 WHERE id = ?", [doc_id])


def examples(db: sqlite_utils.Database) -> list[Document]:
    """Example documents still in answers (asked on every ingest: not by reading every document)."""
    return [_document(r) for r in db.execute(f"SELECT {_COLUMNS} FROM documents WHERE example = 1"
                                             " AND archived_at IS NULL ORDER BY id")]


def set_closers(db: sqlite_utils.Database, doc_id: int, roles: list[str] | tuple[str, ...]) -> None:
    """Which roles may apply for 销号 on this document's tasks (some of CLOSER_ROLES)."""
    bad = [r for r in roles if r not in CLOSER_ROLES]
    if bad or not roles:
        raise ValueError(f"销号申请角色应为 {'/'.join(CLOSER_ROLES)} 中的一个或多个")
    with db.atomic():
        db.execute("UPDATE documents SET closers = ? WHERE id = ?", [json.dumps(list(roles)), doc_id])


def _m018_same_content_files(db: sqlite_utils.Database) -> None:
    # a file whose content equals a stored version (the same plan as .pdf after .docx, or re-spaced)
    # is no new version; its digest is remembered here so that it is recognised at once next time
    db.execute("CREATE TABLE IF NOT EXISTS same_content_files (sha256 TEXT PRIMARY KEY, document_id INTEGER NOT NULL"
               " REFERENCES documents(id), version INTEGER NOT NULL, source_name TEXT NOT NULL, seen_at TEXT NOT NULL)")


register_migration(_m018_same_content_files)


def known_file(db: sqlite_utils.Database, sha256: str) -> tuple[int, int] | None:
    """(document, version) a file with this digest was stored as, or found to be the same content as."""
    return (db.execute("SELECT document_id, version FROM versions WHERE sha256 = ?", [sha256]).fetchone()
            or db.execute("SELECT document_id, version FROM same_content_files WHERE sha256 = ?", [sha256]).fetchone())


def record_same_content(db: sqlite_utils.Database, sha256: str, doc_id: int, version: int, source_name: str,
                        at: datetime) -> None:
    db.execute("INSERT OR IGNORE INTO same_content_files VALUES (?,?,?,?,?)",
               [sha256, doc_id, version, source_name, at.isoformat(timespec="seconds")])


def retire_examples(db: sqlite_utils.Database, keep: int, at: datetime) -> list[str]:
    """Archive the example documents once a real one (`keep`) is stored; notes saying so."""
    notes = []
    for doc in examples(db):
        if doc.id != keep:
            archive(db, doc.id, at=at, by="ingest")
            notes.append(f"已移除示例文件《{doc.title}》（文件{doc.id}），示例任务不再出现在回答和提醒中")
    return notes
