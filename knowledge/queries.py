"""Read-only questions to the store: what is due, for whom, and what a task says."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlite_utils

from parser.model import ROLES

CURRENT = "tasks.version = (SELECT current_version FROM documents d WHERE d.id = tasks.document_id)"
# The units a unit answers for: itself and every collective it belongs to (各县市区 → 邵阳县).
_MINE = "WITH mine(unit) AS (SELECT :unit UNION SELECT collective FROM collective_members WHERE member = :unit)"
_UNIT_FILTER = """(
    EXISTS (SELECT 1 FROM milestone_units mu WHERE mu.milestone_id = m.id AND mu.unit IN (SELECT unit FROM mine))
    OR (NOT EXISTS (SELECT 1 FROM milestone_units mu WHERE mu.milestone_id = m.id)
        AND EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.role != 'supervising_leaders'
                    AND a.unit IN (SELECT unit FROM mine))))"""


@dataclass
class TaskRow:
    id: int
    document_id: int
    section: str
    number: str
    title: str
    deadline_text: str | None
    ongoing: bool
    status: str
    units: dict[str, list[str]] = field(default_factory=dict)

    @property
    def number_value(self):
        return int(self.number) if self.section == "list" and self.number.isdigit() else self.number


@dataclass
class DueItem:
    milestone_id: int
    task: TaskRow
    due: date
    text: str
    source: str
    units: list[str]  # bound units; [] = the whole task's units
    done: bool


def _task(db: sqlite_utils.Database, row) -> TaskRow:
    t = TaskRow(row["id"], row["document_id"], row["section"], row["number"], row["title"],
                row["deadline_text"], bool(row["ongoing"]), row["status"])
    t.units = {r: [] for r in ROLES}
    for a in db.execute("SELECT role, unit FROM assignments WHERE task_id=? ORDER BY role, position", [t.id]):
        t.units[a[0]].append(a[1])
    return t


def _rows(db, sql, params):
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def due_items(db: sqlite_utils.Database, *, start: date | None = None, end: date | None = None,
              unit: str | None = None, include_done: bool = False) -> list[DueItem]:
    """Open milestones with start <= due <= end, for a unit (collectives resolved) or everyone."""
    where = [CURRENT, "t.status = 'open'"]
    params: dict = {}
    if not include_done:
        where.append("m.done = 0")
    if start:
        where.append("m.due >= :start")
        params["start"] = start.isoformat()
    if end:
        where.append("m.due <= :end")
        params["end"] = end.isoformat()
    prefix = ""
    if unit:
        prefix = _MINE
        params["unit"] = unit
        where.append(_UNIT_FILTER)
    sql = (f"{prefix} SELECT m.id AS mid, m.due, m.text, m.source, m.done, t.* FROM milestones m"
           f" JOIN tasks t ON t.id = m.task_id WHERE {' AND '.join(where).replace('tasks.', 't.')}"
           " ORDER BY m.due, t.section DESC, t.number_int, t.id, m.position")
    out, cache = [], {}
    for r in _rows(db, sql, params):
        task = cache.get(r["id"]) or cache.setdefault(r["id"], _task(db, r))
        units = [u[0] for u in db.execute("SELECT unit FROM milestone_units WHERE milestone_id=?", [r["mid"]])]
        out.append(DueItem(r["mid"], task, date.fromisoformat(r["due"]), r["text"], r["source"], units,
                           bool(r["done"])))
    return out


def overdue(db: sqlite_utils.Database, today: date, unit: str | None = None) -> list[DueItem]:
    return [d for d in due_items(db, end=today, unit=unit) if d.due < today]


def task_by_number(db: sqlite_utils.Database, number: int | str, section: str | None = None) -> list[TaskRow]:
    """Current tasks numbered `number` (清单第13项 → list 13; （一）1 style numbers for the body)."""
    params: dict = {"n": str(number)}
    where = [CURRENT, "number = :n"]
    if section:
        where.append("section = :s")
        params["s"] = section
    rows = _rows(db, f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY section DESC, id", params)
    return [_task(db, r) for r in rows]


def milestones_of(db: sqlite_utils.Database, task_id: int) -> list[DueItem]:
    rows = _rows(db, "SELECT m.id AS mid, m.due, m.text, m.source, m.done, t.* FROM milestones m JOIN tasks t"
                     " ON t.id = m.task_id WHERE t.id = ? ORDER BY m.position", [task_id])
    task = _task(db, rows[0]) if rows else None
    return [DueItem(r["mid"], task, date.fromisoformat(r["due"]), r["text"], r["source"],
                    [u[0] for u in db.execute("SELECT unit FROM milestone_units WHERE milestone_id=?", [r["mid"]])],
                    bool(r["done"])) for r in rows]


def task_detail(db: sqlite_utils.Database, task_id: int) -> dict:
    row = _rows(db, "SELECT * FROM tasks WHERE id = ?", [task_id])[0]
    measures = [r[0] for r in db.execute("SELECT text FROM measures WHERE task_id=? ORDER BY position", [task_id])]
    return {**row, "task": _task(db, row), "measures": measures, "milestones": milestones_of(db, task_id)}


def search(db: sqlite_utils.Database, text: str, limit: int = 5) -> list[TaskRow]:
    """Full-text search over titles and task text; short queries fall back to LIKE."""
    q = re.sub(r"[\"'()*:^]", " ", text).strip()
    if not q:
        return []
    if len(q) >= 3:
        rows = _rows(db, f"SELECT tasks.* FROM tasks_fts JOIN tasks ON tasks.rowid = tasks_fts.rowid"
                         f" WHERE tasks_fts MATCH :q AND {CURRENT} ORDER BY rank LIMIT :lim",
                     {"q": " ".join(f'"{w}"' for w in q.split()), "lim": limit})
    else:
        rows = _rows(db, f"SELECT * FROM tasks WHERE (title LIKE :q OR full_text LIKE :q) AND {CURRENT}"
                         " ORDER BY section DESC, number_int LIMIT :lim", {"q": f"%{q}%", "lim": limit})
    return [_task(db, r) for r in rows]


def tasks_for_unit(db: sqlite_utils.Database, unit: str) -> list[TaskRow]:
    rows = _rows(db, f"{_MINE} SELECT DISTINCT tasks.* FROM tasks JOIN assignments a ON a.task_id = tasks.id"
                     f" WHERE a.unit IN (SELECT unit FROM mine) AND a.role != 'supervising_leaders' AND {CURRENT}"
                     " ORDER BY section DESC, number_int, id", {"unit": unit})
    return [_task(db, r) for r in rows]


def current_tasks(db: sqlite_utils.Database) -> list[TaskRow]:
    """Every task of every document's current version, 清单 items first, by number."""
    rows = _rows(db, f"SELECT * FROM tasks WHERE {CURRENT} AND status != 'withdrawn'"
                     " ORDER BY document_id, section DESC, number_int, id", {})
    return [_task(db, r) for r in rows]


def task_versions(db: sqlite_utils.Database, number: int | str, section: str = "list") -> list[dict]:
    """The same task (by identity) in every version of its document, oldest first."""
    row = db.execute(f"SELECT uid FROM tasks t WHERE number = ? AND section = ? ORDER BY ({CURRENT.replace('tasks.', 't.')})"
                     " DESC, version DESC LIMIT 1", [str(number), section]).fetchone()
    if not row:
        return []
    out = []
    for r in _rows(db, "SELECT * FROM tasks WHERE uid = ? ORDER BY version", [row[0]]):
        ms = db.execute("SELECT due, text FROM milestones WHERE task_id=? ORDER BY position", [r["id"]]).fetchall()
        out.append({"version": r["version"], "number": r["number"], "title": r["title"], "status": r["status"],
                    "deadline_text": r["deadline_text"], "milestones": [{"due": d, "text": t} for d, t in ms]})
    return out
