"""Whose milestone is due when: the table behind a unit's due lists on a large store.

Walking every open milestone in date order and testing each one's units costs in proportion to
everybody's milestones; a unit that owns one in ten of them paid for all ten. `unit_due` holds, for
the milestones of current, open tasks, one row per unit that answers for it — the units it is bound
to, or else every unit of its task but the 督办领导 — and one row for everyone (全市), so a due list
reads the asker's rows alone, already in date order, and counts its lines from the index. The writers that change which milestones those are (ingest of a document or
a new version, 销号 / 撤销销号) call `reindex` inside their own transaction.
"""
from __future__ import annotations

import heapq
import json
from contextlib import closing
from typing import Callable
from datetime import date

import sqlite_utils

from . import counts
from .db import current_task, register_migration

EVERYONE = ""  # the unit of the rows that list every milestone (全市)

# the milestones of current, open tasks, with the units that answer for each (rows may repeat:
# a unit named in two roles; the primary key keeps one), and once more for everyone. `bound` names
# the units a milestone is bound to ('' when it is the whole task's): with the task and the date it
# makes one line of a due list.
_BOUND = ("coalesce((SELECT group_concat(unit, '、') FROM (SELECT unit FROM milestone_units b"
          " WHERE b.milestone_id = m.id ORDER BY b.rowid)), '')")
# the order a reply lists one date's tasks in: 清单 items first, by number, then the body's
_ORD = "((t.section != 'list') * 2000000 + (t.number_int IS NULL) * 1000000 + coalesce(t.number_int, 0))"
_FILL = f"""INSERT OR IGNORE INTO unit_due (unit, done, due, ord, task_id, milestone_id, bound)
SELECT mu.unit, m.done, m.due, {_ORD}, m.task_id, m.id, {_BOUND} FROM tasks t JOIN milestones m ON m.task_id = t.id
  JOIN milestone_units mu ON mu.milestone_id = m.id WHERE {{scope}} AND {{live}}
UNION ALL
SELECT a.unit, m.done, m.due, {_ORD}, m.task_id, m.id, '' FROM tasks t JOIN milestones m ON m.task_id = t.id
  JOIN assignments a ON a.task_id = t.id AND a.role != 'supervising_leaders'
  WHERE {{scope}} AND {{live}} AND NOT EXISTS (SELECT 1 FROM milestone_units mu WHERE mu.milestone_id = m.id)
UNION ALL
SELECT '{EVERYONE}', m.done, m.due, {_ORD}, m.task_id, m.id, {_BOUND} FROM tasks t JOIN milestones m
  ON m.task_id = t.id WHERE {{scope}} AND {{live}}"""
_LIVE = f"t.status = 'open' AND {current_task()}"


def _m013_due_index(db: sqlite_utils.Database) -> None:
    db.execute("DROP TABLE IF EXISTS unit_due")  # an earlier layout, if any: rebuilt from the tables below
    # keyed in the order a reply lists things: a unit's open rows walk by date, then 清单 number, task, milestone
    db.execute("CREATE TABLE IF NOT EXISTS unit_due (unit TEXT NOT NULL, done INTEGER NOT NULL, due TEXT NOT NULL,"
               " ord INTEGER NOT NULL, task_id INTEGER NOT NULL, milestone_id INTEGER NOT NULL, bound TEXT NOT NULL,"
               " PRIMARY KEY (unit, done, due, ord, task_id, milestone_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS unit_due_task ON unit_due(task_id)")
    reindex(db)


register_migration(_m013_due_index)


def reindex(db: sqlite_utils.Database, *, document_id: int | None = None, task_ids: list[int] | None = None) -> None:
    """Rebuild the rows of one document (every version of it), of some tasks, or — with neither — of
    the whole store. Runs in the caller's transaction."""
    if document_id is not None:
        scope, params = "t.document_id = ?", [document_id]
        db.execute("DELETE FROM unit_due WHERE task_id IN (SELECT id FROM tasks WHERE document_id = ?)", params)
    elif task_ids is not None:
        scope, params = "t.id IN (SELECT value FROM json_each(?))", [json.dumps([int(i) for i in task_ids])]
        db.execute("DELETE FROM unit_due WHERE task_id IN (SELECT value FROM json_each(?))", params)
    else:
        scope, params = "1", []
        db.execute("DELETE FROM unit_due")
    db.execute(_FILL.format(scope=scope, live=_LIVE), params * 3)
    counts.recount(db, document_id=document_id, task_ids=task_ids)  # the same change moves the unit's figures


def units_answering_as(db: sqlite_utils.Database, unit: str | None) -> list[str]:
    """The unit and every collective it belongs to (邵阳县 → 各县市区, 各县市): a task for those is its
    task too. No unit: everyone."""
    if unit is None:
        return [EVERYONE]
    return [unit] + [r[0] for r in db.execute("SELECT collective FROM collective_members WHERE member = ?"
                                              " ORDER BY collective", [unit])]


def _bounds(start: date | None, end: date | None) -> tuple[str, str]:
    return (start.isoformat() if start else ""), (end.isoformat() if end else "9999-12-31")


class InRole:
    """The tasks naming a unit (or a collective it belongs to) in a role ("发改委牵头的任务"), asked one task
    at a time as a due list meets them (one index probe each, remembered), or as SQL for a count."""

    SQL = ("EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = unit_due.task_id AND a.role = ?"
           " AND a.unit IN (SELECT value FROM json_each(?)))")

    def __init__(self, db: sqlite_utils.Database, unit: str, role: str):
        self.db, self.role = db, role
        self.units = json.dumps(units_answering_as(db, unit), ensure_ascii=False)
        self._seen: dict[int, bool] = {}

    def __contains__(self, task_id: int) -> bool:
        hit = self._seen.get(task_id)
        if hit is None:
            hit = self._seen[task_id] = self.db.execute(
                "SELECT 1 FROM assignments WHERE task_id = ? AND role = ? AND unit IN (SELECT value FROM json_each(?))"
                " LIMIT 1", [task_id, self.role, self.units]).fetchone() is not None
        return hit

    def params(self) -> list:
        return [self.role, self.units]


def _walk(db: sqlite_utils.Database, units: list[str], start: date | None, end: date | None,
          include_done: bool, limit: int | None, tasks: InRole | None = None):
    """(due, ord, task id, milestone id, bound) for any of `units`, in the order a reply lists
    them (date, then 清单 items first by number, task, milestone), each milestone once; only those
    of `tasks`, when given."""
    sql = ("SELECT due, ord, task_id, milestone_id, bound FROM unit_due WHERE unit = ? AND done = ? AND due >= ?"
           " AND due <= ? ORDER BY due, ord, task_id, milestone_id")
    if limit is not None and tasks is None:
        sql += f" LIMIT {int(limit)}"  # per unit: the merged first `limit` come from these
    lo, hi = _bounds(start, end)
    streams = [db.execute(sql, [u, done, lo, hi]) for u in units for done in ((0, 1) if include_done else (0,))]
    seen: set[int] = set()
    try:
        for row in heapq.merge(*streams):
            if row[3] not in seen and (tasks is None or row[2] in tasks):
                seen.add(row[3])
                yield row
    finally:  # a caller that stops early leaves no statement open on the store
        for s in streams:
            s.close()


def milestone_ids(db: sqlite_utils.Database, unit: str | None, *, start: date | None = None,
                  end: date | None = None, include_done: bool = False, limit: int | None = None,
                  tasks: InRole | None = None) -> list[int]:
    """Milestones `unit` answers for (collectives resolved; None: all) with start <= due <= end, earliest
    first (of `tasks` only, when given)."""
    out = []
    with closing(_walk(db, units_answering_as(db, unit), start, end, include_done, limit, tasks)) as rows:
        for _, _, _, mid, _ in rows:
            out.append(mid)
            if limit is not None and len(out) >= limit:
                break
    return out


def first_lines(db: sqlite_utils.Database, unit: str | None, *, start: date | None, end: date | None,
                lines: int, count_to: int, tasks: InRole | None = None) -> tuple[list[int], int]:
    """The milestones of the first `lines` lines of a due list — a line is one task's milestones on
    one date bound to the same units, in the reply's order — and how many lines the list has
    (`count_to` + 1 means more); of `tasks` only, when given."""
    units = units_answering_as(db, unit)
    keys: set[tuple] = set()
    mids: list[int] = []
    complete = True
    with closing(_walk(db, units, start, end, False, None, tasks)) as rows:
        block = None  # (due, task) of the line that did not fit: its task's other lines may follow
        for due, _, task_id, mid, bound in rows:
            key = (task_id, due, bound)
            if block is not None and (due, task_id) != block:
                break
            if key not in keys:
                if len(keys) == lines:
                    complete, block = False, (due, task_id)
                    continue
                keys.add(key)
            mids.append(mid)
    if complete:  # the walk saw the whole list
        return mids, len(keys)
    # counted by SQLite over the index alone: a long list is thousands of rows
    only = "" if tasks is None else f" AND {InRole.SQL}"
    total = db.execute("SELECT count(*) FROM (SELECT DISTINCT task_id, due, bound FROM unit_due WHERE unit IN"
                       f" (SELECT value FROM json_each(?)) AND done = 0 AND due >= ? AND due <= ?{only} LIMIT ?)",
                       [json.dumps(units, ensure_ascii=False), *_bounds(start, end),
                        *([] if tasks is None else tasks.params()), count_to + 1]).fetchone()[0]
    return mids, total


def next_due_by_task(db: sqlite_utils.Database, unit: str | None, limit: int,
                     keep: Callable[[list[int]], set[int]] | None = None) -> dict[int, tuple[str, int]]:
    """{task id: (due, id) of its earliest open milestone `unit` (or anyone) answers for} for the
    `limit` tasks due soonest (`limit` + 1 when there are more), in date order; `keep`, given some
    task ids, says which of them count (asked in batches, not once per task)."""
    first: dict[int, tuple[str, int]] = {}
    pending: dict[int, tuple[str, int]] = {}

    def settle() -> None:
        kept = keep(list(pending)) if keep else pending
        first.update((t, m) for t, m in pending.items() if t in kept)
        pending.clear()

    with closing(_walk(db, units_answering_as(db, unit), None, None, False, None)) as rows:
        for due, _, task_id, mid, _ in rows:
            if task_id not in first and task_id not in pending:
                pending[task_id] = (due, mid)
                if len(first) + len(pending) > limit:
                    settle()
                    if len(first) > limit:
                        break
    settle()
    return dict(list(first.items())[:limit + 1])
