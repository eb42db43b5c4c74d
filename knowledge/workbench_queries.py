"""What the 督办 workbench reads and keeps: task facts for the 台账 and the dashboard, the milestones of a
calendar feed, unit links (calendar and read-only dashboard tokens) and dashboard accounts."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from . import counts, due_index
from .db import register_migration, run_script


def _m_workbench_links_and_accounts(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS unit_links (
        token TEXT PRIMARY KEY, unit TEXT NOT NULL, purpose TEXT NOT NULL, created_at TEXT NOT NULL,
        revoked_at TEXT);
    CREATE INDEX IF NOT EXISTS unit_links_unit ON unit_links(unit, purpose);
    CREATE TABLE IF NOT EXISTS dashboard_accounts (
        name TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL, params TEXT NOT NULL,
        changed_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS dashboard_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS milestones_task_open_due ON milestones(task_id, done, due)
    """)


register_migration(_m_workbench_links_and_accounts)



# ---- task facts ----------------------------------------------------------------------------------

@dataclass
class TaskFact:
    id: int
    document_id: int
    status: str
    ongoing: bool
    next_due: str | None  # the earliest open milestone, ISO date


# current tasks from the covering index tasks_state: a task row holds its whole text, and status and ongoing
# come after it (overflow pages); reading 34,000 rows costs several times the index
_CURRENT = ("FROM documents d JOIN tasks t INDEXED BY tasks_state ON t.document_id = d.id"
            " AND t.version = d.current_version WHERE t.status != 'withdrawn'")


def _involving(role: str | None) -> str:
    """SQL: the (current) task names one of :mine in `role` (any role but 督办领导 when None), from the units'
    kept lists (knowledge.counts)."""
    bits = counts.ROLE_BITS.get(role, 0) if role else counts.ANSWERS
    return (" AND t.id IN (SELECT u.task_id FROM unit_tasks u WHERE u.unit IN (SELECT value FROM json_each(:mine))"
            f" AND u.roles & {bits})")


def task_facts(db: sqlite_utils.Database, *, document: int | None = None, unit: str | None = None,
               role: str | None = None, task_ids: list[int] | None = None, ordered: bool = False) -> list[TaskFact]:
    """Current tasks (of a document; naming `unit` or a collective it belongs to, in `role` when given) with
    their earliest open milestone; in document order when `ordered` (that reads the task rows)."""
    sql = ("SELECT t.id, t.document_id, t.status, t.ongoing,"
           " (SELECT min(m.due) FROM milestones m WHERE m.task_id = t.id AND m.done = 0) " + _CURRENT)
    params: dict = {"doc": document, "role": role, "ids": json.dumps(task_ids or [])}
    if document is not None:
        sql += " AND d.id = :doc"
    if task_ids is not None:
        sql += " AND t.id IN (SELECT value FROM json_each(:ids))"
    if unit:
        params["mine"] = json.dumps(due_index.units_answering_as(db, unit), ensure_ascii=False)
        sql += _involving(role)
    if ordered:
        sql = sql.replace(" INDEXED BY tasks_state", "")
        sql += " ORDER BY t.document_id, t.section DESC, t.number_int IS NULL, t.number_int, t.id"
    return [TaskFact(r[0], r[1], r[2], bool(r[3]), r[4]) for r in db.execute(sql, params)]


def tasks_by_unit(db: sqlite_utils.Database, *, document: int | None = None, role: str | None = None
                  ) -> dict[str, set[int]]:
    """{unit: its current task ids} for every unit a task counts for: the units named on it (督办领导 aside,
    or in `role`) and the members of the collectives named (各县市区 → 邵阳县, …). Grouped by SQLite: 600,000
    pairs for 34,000 tasks come back as one row per unit."""
    cond = "a.role = :role" if role else "a.role != 'supervising_leaders'"
    scope = "a.task_id IN (SELECT t.id " + _CURRENT + (" AND d.id = :doc)" if document is not None else ")")
    sql = (f"SELECT unit, group_concat(task_id) FROM (SELECT a.unit, a.task_id FROM assignments a WHERE {cond}"
           f" AND {scope} UNION ALL SELECT cm.member, a.task_id FROM assignments a JOIN collective_members cm"
           f" ON cm.collective = a.unit WHERE {cond} AND {scope}) GROUP BY unit")
    return {unit: set(map(int, ids.split(","))) for unit, ids in db.execute(sql, {"doc": document, "role": role})}


def plans_fingerprint(db: sqlite_utils.Database) -> tuple:
    """Changes whenever which units a current task counts for can change (a document ingested, a new version,
    an archived or restored document, the directory's collectives), not with progress reports."""
    return db.execute("SELECT (SELECT count(*) FROM documents), (SELECT max(id) FROM documents),"
                      " (SELECT total(current_version) FROM documents), (SELECT max(rowid) FROM assignments),"
                      " (SELECT count(*) FROM collective_members)").fetchone()


def unit_task_pairs(db: sqlite_utils.Database, *, document: int | None = None, role: str | None = None
                    ) -> list[tuple[str, int]]:
    """(unit, task id) pairs of tasks_by_unit."""
    return [(u, t) for u, ids in tasks_by_unit(db, document=document, role=role).items() for t in sorted(ids)]


def task_rows(db: sqlite_utils.Database, task_ids: list[int]) -> dict[int, dict]:
    """Title, texts, closing and units by role of these tasks, by id."""
    rows = db.execute("SELECT t.id, t.document_id, t.version, t.uid, t.section, t.number, t.title, t.deadline_text,"
                      " t.goal_text, t.problem_text, t.ongoing, t.status, t.completed_at, t.completed_by,"
                      " t.cite_section, t.cite_page, coalesce(u.units_json, '{}') FROM tasks t"
                      " LEFT JOIN task_units u ON u.task_id = t.id"
                      " WHERE t.id IN (SELECT value FROM json_each(?))", [json.dumps(task_ids)])
    keys = ("id", "document_id", "version", "uid", "section", "number", "title", "deadline_text", "goal_text",
            "problem_text", "ongoing", "status", "completed_at", "completed_by", "cite_section", "cite_page")
    out = {}
    for r in rows:
        out[r[0]] = {**dict(zip(keys, r[:-1])), "units": json.loads(r[-1])}
    return out


def milestones_by_task(db: sqlite_utils.Database, task_ids: list[int]) -> dict[int, list[dict]]:
    """Every milestone of these tasks in position order, with the units it is bound to."""
    out: dict[int, list[dict]] = {t: [] for t in task_ids}
    rows = db.execute("SELECT m.task_id, m.id, m.position, m.due, m.text, m.source, m.done,"
                      " (SELECT json_group_array(b.unit) FROM milestone_units b WHERE b.milestone_id = m.id)"
                      " FROM milestones m WHERE m.task_id IN (SELECT value FROM json_each(?))"
                      " ORDER BY m.task_id, m.position", [json.dumps(task_ids)])
    for task_id, mid, pos, due, text, source, done, units in rows:
        out[task_id].append({"id": mid, "position": pos, "due": due, "text": text, "source": source,
                             "done": bool(done), "units": json.loads(units)})
    return out


def reports_by_task(db: sqlite_utils.Database, task_ids: list[int], kinds=("progress",)) -> dict[int, list[dict]]:
    """Reports on these tasks (and on the same task in earlier versions), oldest first."""
    out: dict[int, list[dict]] = {t: [] for t in task_ids}
    rows = db.execute("SELECT me.id, p.at, p.kind, p.text, p.unit, p.official FROM tasks me JOIN tasks t"
                      " ON t.uid = me.uid OR t.id = me.id JOIN progress p ON p.task_id = t.id"
                      " WHERE me.id IN (SELECT value FROM json_each(?)) AND p.kind IN (SELECT value FROM json_each(?))"
                      " GROUP BY p.id ORDER BY p.at, p.id", [json.dumps(task_ids), json.dumps(list(kinds))])
    for task_id, at, kind, text, unit, official in rows:
        out[task_id].append({"at": at, "kind": kind, "text": text, "unit": unit, "official": official})
    return out


def documents(db: sqlite_utils.Database) -> list[dict]:
    rows = db.execute("SELECT d.id, d.title, d.doc_number, d.current_version, v.ingested_at, v.source_name"
                      " FROM documents d LEFT JOIN versions v ON v.document_id = d.id AND v.version = d.current_version"
                      " WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.document_id = d.id AND t.version = d.current_version"
                      " AND t.status != 'withdrawn') ORDER BY d.id").fetchall()
    return [dict(zip(("id", "title", "doc_number", "version", "ingested_at", "source_name"), r)) for r in rows]


def closing_events(db: sqlite_utils.Database, task_ids: list[int]) -> dict[int, tuple[int, str | None]]:
    """{task id: (how many 销号 / 撤销销号 it has had, the latest one's time)} — a calendar event's revision."""
    rows = db.execute("SELECT me.id, count(DISTINCT p.id), max(p.at) FROM tasks me JOIN tasks t ON t.uid = me.uid"
                      " OR t.id = me.id JOIN progress p ON p.task_id = t.id AND p.kind IN ('complete', 'reopen')"
                      " WHERE me.id IN (SELECT value FROM json_each(?)) GROUP BY me.id", [json.dumps(task_ids)])
    return {r[0]: (r[1], r[2]) for r in rows}


def timeline(db: sqlite_utils.Database, document: int, *, offset: int, limit: int, unit: str | None = None
             ) -> tuple[int, list[tuple]]:
    """A document's milestones by date (of the tasks `unit` answers for, when given): (how many,
    [(due, text, done, task id, section, number, title, status)])."""
    base = (" FROM milestones m JOIN tasks t ON t.id = m.task_id JOIN documents d ON d.id = t.document_id"
            " AND t.version = d.current_version WHERE d.id = :doc AND t.status != 'withdrawn'")
    params = {"doc": document, "lim": limit, "off": offset}
    if unit:
        params["mine"] = json.dumps(due_index.units_answering_as(db, unit), ensure_ascii=False)
        base += _involving(None)
    total = db.execute("SELECT count(*)" + base, params).fetchone()[0]
    rows = db.execute("SELECT m.due, m.text, m.done, t.id, t.section, t.number, t.title, t.status" + base +
                      " ORDER BY m.due, t.section DESC, t.number_int, m.position LIMIT :lim OFFSET :off",
                      params).fetchall()
    return total, rows


# ---- unit links ----------------------------------------------------------------------------------

PURPOSES = ("calendar", "dashboard")


def new_link(db: sqlite_utils.Database, unit: str, purpose: str, at: datetime) -> str:
    token = secrets.token_urlsafe(24)  # 192 bits: unguessable
    with db.atomic():
        db.execute("INSERT INTO unit_links VALUES (?,?,?,?,NULL)", [token, unit, purpose, at.isoformat(timespec="seconds")])
    return token


def link_unit(db: sqlite_utils.Database, token: str, purpose: str) -> str | None:
    """The unit of a live (not revoked) link, else None."""
    row = db.execute("SELECT unit FROM unit_links WHERE token = ? AND purpose = ? AND revoked_at IS NULL",
                            [token, purpose]).fetchone()
    return row[0] if row else None


def links(db: sqlite_utils.Database, purpose: str) -> list[dict]:
    rows = db.execute("SELECT token, unit, created_at, revoked_at FROM unit_links WHERE purpose = ?"
                             " ORDER BY unit, created_at", [purpose]).fetchall()
    return [dict(zip(("token", "unit", "created_at", "revoked_at"), r)) for r in rows]


def revoke_links(db: sqlite_utils.Database, token_or_unit: str, purpose: str, at: datetime) -> int:
    """Revoke one link (by token) or every live link of a unit; how many were revoked."""
    with db.atomic():
        cur = db.execute("UPDATE unit_links SET revoked_at = ? WHERE purpose = ? AND revoked_at IS NULL"
                         " AND (token = ? OR unit = ?)", [at.isoformat(timespec="seconds"), purpose, token_or_unit,
                                                         token_or_unit])
    return cur.rowcount


# ---- dashboard accounts --------------------------------------------------------------------------

def admin_names(db: sqlite_utils.Database) -> set[str]:
    """Officials with the roster role 管理员: the only ones who may hold a dashboard account."""
    return {r[0] for r in db.execute("SELECT name FROM officials WHERE role = '管理员'")}


def set_account(db: sqlite_utils.Database, name: str, salt: bytes, digest: bytes, params: dict, at: datetime) -> None:
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO dashboard_accounts VALUES (?,?,?,?,?)",
                   [name, salt, digest, json.dumps(params), at.isoformat(timespec="microseconds")])


def account(db: sqlite_utils.Database, name: str) -> dict | None:
    row = db.execute("SELECT salt, hash, params, changed_at FROM dashboard_accounts WHERE name = ?",
                            [name]).fetchone()
    return {"salt": row[0], "hash": row[1], "params": json.loads(row[2]), "changed_at": row[3]} if row else None


def signing_key(db: sqlite_utils.Database) -> bytes:
    """The key that signs dashboard cookies, made once per store (sessions survive a restart)."""
    row = db.execute("SELECT value FROM dashboard_keys WHERE name = 'cookie'").fetchone()
    if row:
        return row[0]
    with db.atomic():
        db.execute("INSERT OR IGNORE INTO dashboard_keys VALUES ('cookie', ?)", [secrets.token_bytes(32)])
    return db.execute("SELECT value FROM dashboard_keys WHERE name = 'cookie'").fetchone()[0]


def admin_unit(db: sqlite_utils.Database, name: str) -> str | None:
    """The unit of the roster 管理员 called `name`."""
    row = db.execute("SELECT unit FROM officials WHERE name = ? AND role = '管理员' ORDER BY id LIMIT 1",
                     [name]).fetchone()
    return row[0] if row else None
