"""A task in full for one answer or page: its row, measures, milestones (with the units bound to each) and,
read together for several tasks, where each comes from."""
from __future__ import annotations

from datetime import date

import sqlite_utils

from . import citations
from .queries import TASK_COLUMNS, DueItem, TaskRow, _bound_units, _items, _json, _rows, _tasks_by_id


def milestones_of(db: sqlite_utils.Database, task_id: int) -> list[DueItem]:
    return _items(db, _rows(db, f"SELECT m.id AS mid, m.due, m.text, m.source, m.done, {TASK_COLUMNS} FROM"
                                f" milestones m JOIN tasks ON tasks.id = m.task_id WHERE tasks.id = ?"
                                " ORDER BY m.position", [task_id]))


def task_detail(db: sqlite_utils.Database, task_id: int) -> dict:
    """One task in full (as of_tasks gives it)."""
    return of_tasks(db, _tasks_by_id(db, [task_id]))[0]


def of_tasks(db: sqlite_utils.Database, tasks: list[TaskRow]) -> list[dict]:
    """task_detail of each of these tasks (read already as TaskRows), in four reads however many they are;
    each also has "sources": where the task and each milestone come from (citations.source), read with them."""
    ids = _json([t.id for t in tasks])
    rows = {r["id"]: r for r in _rows(db, "SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))", [ids])}
    measures: dict[int, list[str]] = {t.id: [] for t in tasks}
    for task_id, text in db.execute("SELECT task_id, text FROM measures WHERE task_id IN (SELECT value FROM"
                                    " json_each(?)) ORDER BY task_id, position", [ids]):
        measures[task_id].append(text)
    found = _rows(db, "SELECT id, task_id, due, text, source, done, cite_section, cite_page, cite_text FROM milestones"
                      " WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, position, id", [ids])
    bound = _bound_units(db, [m["id"] for m in found])
    out = []
    for t in tasks:
        row = rows[t.id]
        mine = [m for m in found if m["task_id"] == t.id]
        items = [DueItem(m["id"], t, date.fromisoformat(m["due"]), m["text"], m["source"], bound[m["id"]],
                         bool(m["done"])) for m in mine]
        sources = (citations.source(row), {m["id"]: citations.source(m) for m in mine if m["cite_section"] is not None})
        out.append({**row, "task": t, "measures": measures[t.id], "milestones": items, "sources": sources})
    return out
