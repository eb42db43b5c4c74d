"""Questions about the documents themselves: 文件列表 a page at a time, and one task across versions
("第七项原来的整改时限是什么"); sized for a province's store of hundreds of plans."""
from __future__ import annotations

import json

import sqlite_utils

from .queries import _rows


def task_versions(db: sqlite_utils.Database, number: int | str, section: str = "list",
                  document: int | None = None, limit: int | None = None) -> tuple[list[tuple[int, list[dict]]], int]:
    """([(document, the same task (by identity) in every version of it, oldest first)], how many documents)
    for the documents (`document` only, when given) that have or had a task numbered so: the first `limit`
    of them, those with several versions first (the ones a question about "原来" is about), then by number."""
    # the index alone (a task row's uid sits after its whole text): the task's id, its uid read for the chosen
    rows = db.execute("SELECT t.document_id, t.id, d.current_version > 1"
                      " FROM tasks t INDEXED BY tasks_number_current JOIN documents d ON d.id = t.document_id"
                      " WHERE t.number = ? AND t.section = ? AND (? IS NULL OR t.document_id = ?)"
                      " AND d.archived_at IS NULL ORDER BY t.document_id, t.version = d.current_version DESC,"
                      " t.version DESC", [str(number), section, document, document]).fetchall()
    uids: dict[int, tuple[int, bool]] = {}
    for doc, task_id, revised in rows:
        uids.setdefault(doc, (task_id, bool(revised)))  # the current version's task, else the latest one numbered so
    out = []
    for doc in sorted(uids, key=lambda d: (not uids[d][1], d))[:limit]:
        versions = []
        for r in _rows(db, "SELECT id, version, number, title, status, deadline_text FROM tasks WHERE uid ="
                           " (SELECT uid FROM tasks WHERE id = ?) ORDER BY version", [uids[doc][0]]):
            ms = db.execute("SELECT due, text FROM milestones WHERE task_id=? ORDER BY position", [r["id"]]).fetchall()
            versions.append({"version": r["version"], "number": r["number"], "title": r["title"],
                             "status": r["status"], "deadline_text": r["deadline_text"],
                             "milestones": [{"due": d, "text": t} for d, t in ms]})
        out.append((doc, versions))
    return out, len(uids)


def document_page(db: sqlite_utils.Database, offset: int, size: int, versions: int = 5) -> tuple[list[dict], int]:
    """The active documents by number, `size` of them from `offset`, each with its latest `versions` versions
    (newest first) and whether it is the bundled example; and how many documents are active."""
    total = db.execute("SELECT count(*) FROM documents WHERE archived_at IS NULL").fetchone()[0]
    docs = [dict(zip(("id", "title", "current_version", "example"), r)) for r in db.execute(
        "SELECT id, title, current_version, example FROM documents WHERE archived_at IS NULL ORDER BY id"
        " LIMIT ? OFFSET ?", [size, offset])]
    by_id = {d["id"]: {**d, "versions": []} for d in docs}
    for doc_id, version, source, at in db.execute(
            "SELECT document_id, version, source_name, ingested_at FROM versions WHERE document_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY document_id, version DESC", [json.dumps(list(by_id))]):
        if len(by_id[doc_id]["versions"]) < versions:
            by_id[doc_id]["versions"].append({"version": version, "source_name": source, "ingested_at": at})
    return list(by_id.values()), total


def removed_documents(db: sqlite_utils.Database, limit: int) -> tuple[list[tuple[int, str]], int]:
    """The first `limit` archived documents (number, title) by number, and how many there are."""
    total = db.execute("SELECT count(*) FROM documents WHERE archived_at IS NOT NULL").fetchone()[0]
    rows = db.execute("SELECT id, title FROM documents WHERE archived_at IS NOT NULL ORDER BY id LIMIT ?",
                      [limit]).fetchall() if total else []
    return [tuple(r) for r in rows], total
