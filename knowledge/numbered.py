"""Tasks by their number (第十三项, 清单第5项, （一）2): current tasks numbered so across the stored plans, or in one."""
from __future__ import annotations

import heapq

import sqlite_utils

from . import counts
from .queries import TaskRow, _tasks_by_id


def task_by_number(db: sqlite_utils.Database, number: int | str, section: str | None = None,
                   limit: int | None = None, prefer_unit: str | None = None, total: int | None = None,
                   document: int | None = None) -> list[TaskRow]:
    """Current tasks numbered `number` (清单第13项 → list 13; （一）1 style numbers for the body);
    when more plans have it than `limit`, those naming `prefer_unit` come first (`total`: how many
    have it, when the caller counted them already)."""
    if prefer_unit and limit is not None and total is None:
        total = count_by_number(db, number, section, document)
    prefer = prefer_unit if prefer_unit and limit is not None and total > limit else None
    ord_ = _list_ord(number, section, document)
    if ord_ is not None and limit is not None:
        ids = _listed_by_number(db, ord_, prefer, limit)
    else:
        ids = _ids_by_number(db, number, section, prefer, limit, document)
    return _tasks_by_id(db, ids) if ids else []


def _list_ord(number: int | str, section: str | None, document: int | None) -> int | None:
    """A 清单 number asked of every document: its place in the kept lists (unit_tasks.ord is the number
    itself for a 清单 item, counts._ORD), which answer without reading the tasks numbered so in every plan."""
    if section == "list" and document is None and isinstance(number, int) and 0 < number < 1000000:
        return number
    return None


def _listed_by_number(db: sqlite_utils.Database, ord_: int, prefer_unit: str | None, limit: int) -> list[int]:
    """The first `limit` current 清单 tasks numbered so, by id; with `prefer_unit`, those naming it (in any
    role) first: a few rows of the unit's and of everyone's kept lists (one per state), not a probe per plan."""
    ids = _first_listed(db, prefer_unit, ord_, limit) if prefer_unit else []
    chosen = set(ids)
    ids += [i for i in _first_listed(db, counts.EVERYONE, ord_, limit + len(ids)) if i not in chosen]
    return ids[:limit]


def _first_listed(db: sqlite_utils.Database, unit: str, ord_: int, limit: int) -> list[int]:
    streams = [[r[0] for r in db.execute("SELECT task_id FROM unit_tasks WHERE unit = ? AND state = ? AND ord = ?"
                                         " ORDER BY task_id LIMIT ?", [unit, state, ord_, limit])]
               for state in counts.STATES[None]]
    return list(heapq.merge(*streams))[:limit]


# served by the covering index tasks_number_current: no task row (with its long text) is read
_BY_NUMBER = (" FROM tasks t INDEXED BY tasks_number_current JOIN documents d ON d.id = t.document_id"
              " AND d.current_version = t.version WHERE t.number = :n AND t.status != 'withdrawn'")


def _ids_by_number(db: sqlite_utils.Database, number: int | str, section: str | None, prefer_unit: str | None = None,
                   limit: int | None = None, document: int | None = None) -> list[int]:
    sql = ("SELECT t.id" + _BY_NUMBER + (" AND t.section = :s" if section else "") +
           (" AND t.document_id = :d" if document is not None else "") + " ORDER BY ")
    if prefer_unit:  # one probe of the candidate's assignments
        sql += "EXISTS (SELECT 1 FROM assignments a WHERE a.unit = :u AND a.task_id = t.id) DESC, "
    sql += "t.section DESC, t.id" + (" LIMIT :lim" if limit is not None else "")
    return [r[0] for r in db.execute(sql, {"n": str(number), "s": section, "u": prefer_unit, "lim": limit,
                                           "d": document})]


def count_by_number(db: sqlite_utils.Database, number: int | str, section: str | None = None,
                    document: int | None = None) -> int:
    ord_ = _list_ord(number, section, document)
    if ord_ is not None:  # everyone's kept list, one index range per state: no probe of each plan
        states = ",".join(map(str, counts.STATES[None]))
        return db.execute(f"SELECT count(*) FROM unit_tasks WHERE unit = ? AND state IN ({states}) AND ord = ?",
                          [counts.EVERYONE, ord_]).fetchone()[0]
    sql = ("SELECT count(*)" + _BY_NUMBER + (" AND t.section = :s" if section else "") +
           (" AND t.document_id = :d" if document is not None else ""))
    return db.execute(sql, {"n": str(number), "s": section, "d": document}).fetchone()[0]
