"""Where each stored task and milestone comes from: section path, page and the verbatim clause, kept beside
the task and the milestone so an answer can say "见附件第13项 整改时限，第31页"."""
from __future__ import annotations

import json

import sqlite_utils

from .db import register_migration

COLUMNS = ("cite_section", "cite_page", "cite_text")


def _m020_citations(db: sqlite_utils.Database) -> None:
    for table in ("tasks", "milestones"):
        have = {c.name for c in db[table].columns}
        for name, kind in zip(COLUMNS, ("TEXT", "INTEGER", "TEXT")):
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


register_migration(_m020_citations)


def values(origin) -> list:
    """The three column values of a parser Source (None: not cited)."""
    return [origin.section, origin.page, origin.text] if origin is not None else [None, None, None]


def source(row) -> dict | None:
    """A row's citation columns as a source {"page", "section", "text"} (None: not cited)."""
    return _source(row["cite_section"], row["cite_page"], row["cite_text"])


def _source(section, page, text) -> dict | None:
    return {"page": page, "section": section, "text": text} if section is not None else None


def with_titles(db: sqlite_utils.Database, task_ids, milestone_ids) -> tuple[dict, dict, dict]:
    """({document id: title} of these tasks' plans, {task id: source}, {milestone id: source}) in one read;
    the uncited are left out."""
    rows = db.execute(
        "SELECT 0, t.id, t.cite_section, t.cite_page, t.cite_text, t.document_id, d.title FROM tasks t"
        " LEFT JOIN documents d ON d.id = t.document_id WHERE t.id IN (SELECT value FROM json_each(:t))"
        " UNION ALL SELECT 1, m.id, m.cite_section, m.cite_page, m.cite_text, NULL, NULL FROM milestones m"
        " WHERE m.id IN (SELECT value FROM json_each(:m))",
        {"t": json.dumps(sorted(set(task_ids))), "m": json.dumps(sorted(set(milestone_ids)))}).fetchall()
    titles = {r[5]: r[6] for r in rows if r[0] == 0 and r[6] is not None}
    sources: tuple[dict, dict] = ({}, {})
    for kind, key, section, page, text, _, _ in rows:
        if section is not None:
            sources[kind][key] = _source(section, page, text)
    return titles, *sources
