"""How many tasks each unit has, and which, kept as the plans change: the figures of "我单位一共有几项任务" and
"完成率", and the lists of "长期坚持的任务" / "已销号的任务".

Counting a unit's current tasks at question time reads every assignment naming it: thousands of rows on a
province's store. `unit_tasks` lists, per unit named on a current task, that task in a reply's order by state
(ord: 清单 items first, by number), with the unit's roles on it as bits; one row per task with unit '' lists
everyone's (全市). A unit's list is its own rows and those of the collectives it belongs to (各县市区 names 邵阳县
too: due_index.units_answering_as), read from index ranges. `unit_totals` keeps, per unit, the figures of the
current tasks it answers for, named itself or through a collective (total, 销号, 持续推进, and per role): a
question reads one row.

Every writer that changes which tasks are current or their state (ingest and a new version, 销号 and 撤销销号,
`duban remove` and restore) rebuilds the due index of what it touched (due_index.reindex), and that updates
these rows too, in the same transaction: the unit_tasks rows of the touched tasks are replaced, and each unit's
totals move by what those tasks counted after the change less what they counted before (read from the rows
being replaced). So a writer touches the rows of its own tasks and the totals of the units they name, whatever
the size of the store. A collective that gains members (a new unit directory) recounts the whole store.
"""
from __future__ import annotations

import json

import sqlite_utils

from .db import current_task, register_migration

EVERYONE = ""  # the unit of the rows that count every task (全市)
ROLE_COLUMNS = ("lead_units", "principal_units", "responsible_units", "cooperating_units", "supervising_leaders")
FIGURES = ("total", "completed", "ongoing", *ROLE_COLUMNS)

ROLE_BITS = {r: 1 << i for i, r in enumerate(ROLE_COLUMNS)}
ANSWERS = sum(bit for r, bit in ROLE_BITS.items() if r != "supervising_leaders")  # a unit's own tasks
STATES = {None: (0, 1, 2), "open": (0, 1), "ongoing": (1,), "completed": (2,)}  # 0 open, 1 持续推进, 2 销号
_STATE = "CASE WHEN t.status = 'completed' THEN 2 WHEN t.ongoing THEN 1 ELSE 0 END"
_ORD = "((t.section != 'list') * 2000000 + (t.number_int IS NULL) * 1000000 + coalesce(t.number_int, 0))"
_LIVE = f"t.status != 'withdrawn' AND {current_task()}"
_ROLE_BIT = "CASE a.role " + " ".join(f"WHEN '{r}' THEN {b}" for r, b in ROLE_BITS.items()) + " ELSE 0 END"

# The rows of the current tasks in {scope} (over tasks t): one per task and unit named on it, its roles summed
# (an assignment is one (task, role, unit): the sum is their bitwise or), and one for everyone.
_FILL_LIST = f"""INSERT INTO unit_tasks (unit, state, ord, task_id, document_id, roles)
SELECT a.unit, {_STATE}, {_ORD}, t.id, t.document_id, sum({_ROLE_BIT})
FROM tasks t JOIN assignments a ON a.task_id = t.id WHERE {{scope}} AND {_LIVE} GROUP BY t.id, a.unit
UNION ALL
SELECT '{EVERYONE}', {_STATE}, {_ORD}, t.id, t.document_id, 0 FROM tasks t WHERE {{scope}} AND {_LIVE}"""

# What the unit_tasks rows in {scope} count, per unit: each task once per unit answering for it, by name or
# through a collective it belongs to (one level, as units_answering_as resolves a question's unit).
_BIT_FLAGS = ", ".join(f"max((x.roles & {b}) != 0) AS {r}" for r, b in ROLE_BITS.items())
_TALLY = f"""WITH r AS (SELECT task_id, unit, state, roles FROM unit_tasks WHERE {{scope}}),
x AS (SELECT task_id, unit, state, roles FROM r WHERE unit != '{EVERYONE}'
      UNION ALL SELECT r.task_id, cm.member, r.state, r.roles FROM r
      JOIN collective_members cm ON cm.collective = r.unit),
p AS (SELECT x.unit, max(x.state) AS state, max((x.roles & {ANSWERS}) != 0) AS answers, {_BIT_FLAGS}
      FROM x GROUP BY x.task_id, x.unit)
SELECT unit, sum(answers), sum(answers AND state = 2), sum(answers AND state = 1),
       {", ".join(f"sum({r})" for r in ROLE_COLUMNS)} FROM p GROUP BY unit
UNION ALL
SELECT '{EVERYONE}', count(*), sum(state = 2), sum(state = 1), {", ".join("0" for _ in ROLE_COLUMNS)}
FROM r WHERE unit = '{EVERYONE}' GROUP BY unit"""


def _m021_task_tally(db: sqlite_utils.Database) -> None:
    # this migration's task_tally (per unit and document) gave way to unit_totals (_m024_unit_totals, which
    # drops it from older stores): a new store never creates it
    db.execute("CREATE TABLE IF NOT EXISTS unit_tasks (unit TEXT NOT NULL, state INTEGER NOT NULL,"
               " ord INTEGER NOT NULL, task_id INTEGER NOT NULL, document_id INTEGER NOT NULL, roles INTEGER NOT NULL,"
               " PRIMARY KEY (unit, state, ord, task_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS unit_tasks_task ON unit_tasks(unit, task_id, roles)")  # "is it the unit's?"
    db.execute("CREATE INDEX IF NOT EXISTS unit_tasks_document ON unit_tasks(document_id)")
    # the size of the collectives the rows were counted with: more members, everything recounted
    db.execute("CREATE TABLE IF NOT EXISTS task_tally_basis (id INTEGER PRIMARY KEY CHECK (id = 1),"
               " members INTEGER NOT NULL)")


def _m024_unit_totals(db: sqlite_utils.Database) -> None:
    # one row of figures per unit, moved by each writer, instead of one per unit and document summed per
    # question (rebuilt per document on every ingest); unit_tasks names units without their collectives' members
    db.execute("DROP TABLE IF EXISTS task_tally")
    db.execute("CREATE TABLE IF NOT EXISTS unit_totals (unit TEXT PRIMARY KEY,"
               + ",".join(f" {f} INTEGER NOT NULL" for f in FIGURES) + ") WITHOUT ROWID")
    # a document's rows, or some tasks' of it, without reading the unit's whole list; "is this task the
    # unit's" is a seek of the primary key (ord and state are the task's), not an index of its own
    db.execute("DROP INDEX IF EXISTS unit_tasks_document")
    db.execute("DROP INDEX IF EXISTS unit_tasks_task")
    db.execute("CREATE INDEX IF NOT EXISTS unit_tasks_document_task ON unit_tasks(document_id, task_id)")
    recount(db)


register_migration(_m021_task_tally)
register_migration(_m024_unit_totals)


def _members(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM collective_members").fetchone()[0]


def recount(db: sqlite_utils.Database, *, document_id: int | None = None, task_ids: list[int] | None = None) -> None:
    """Bring the rows of one document (its current version, or none if it left), of some tasks, or — with
    neither, or when the collectives changed since the last count — of every document up to date. Runs in the
    caller's transaction, after the writer changed the tasks."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'unit_totals'").fetchone():
        return  # an older store being migrated: the table's migration counts everything once it runs
    members = _members(db)
    basis = db.execute("SELECT members FROM task_tally_basis WHERE id = 1").fetchone()
    if basis is None or basis[0] != members:
        document_id = task_ids = None
    if document_id is not None:
        _update(db, "document_id = :doc", "t.document_id = :doc", {"doc": int(document_id)})
    elif task_ids is not None:
        ids = json.dumps(sorted({int(i) for i in task_ids}))
        docs = json.dumps([r[0] for r in db.execute("SELECT DISTINCT document_id FROM tasks WHERE id IN"
                                                    " (SELECT value FROM json_each(?))", [ids])])
        _update(db, "document_id IN (SELECT value FROM json_each(:docs)) AND task_id IN"
                    " (SELECT value FROM json_each(:ids))", "t.id IN (SELECT value FROM json_each(:ids))",
                {"docs": docs, "ids": ids})
    else:
        _rebuild(db)
    if basis is None or basis[0] != members:
        db.execute("INSERT OR REPLACE INTO task_tally_basis VALUES (1, ?)", [members])


def _tally(db: sqlite_utils.Database, scope: str, params: dict) -> dict[str, tuple[int, ...]]:
    return {r[0]: tuple(r[1:]) for r in db.execute(_TALLY.format(scope=scope), params)}


def _update(db: sqlite_utils.Database, rows: str, tasks: str, params: dict) -> None:
    """Replace the unit_tasks rows in `rows` (over unit_tasks) by those of the tasks in `tasks` (over tasks t),
    moving each unit's totals by the difference."""
    before = _tally(db, rows, params)
    db.execute(f"DELETE FROM unit_tasks WHERE {rows}", params)
    db.execute(_FILL_LIST.format(scope=tasks), params)
    after = _tally(db, rows, params)
    zero = (0,) * len(FIGURES)
    moves = [(unit, *(a - b for a, b in zip(after.get(unit, zero), before.get(unit, zero))))
             for unit in before.keys() | after.keys()]
    moves = [m for m in moves if any(m[1:])]
    db.conn.executemany(f"INSERT INTO unit_totals (unit, {', '.join(FIGURES)}) VALUES (?{', ?' * len(FIGURES)})"
                        f" ON CONFLICT (unit) DO UPDATE SET {', '.join(f'{f} = {f} + excluded.{f}' for f in FIGURES)}",
                        moves)
    # a unit left with nothing has no row, as after a full count
    db.conn.executemany(f"DELETE FROM unit_totals WHERE unit = ? AND {' AND '.join(f'{f} = 0' for f in FIGURES)}",
                        [(m[0],) for m in moves])


def _rebuild(db: sqlite_utils.Database) -> None:
    db.execute("DELETE FROM unit_tasks")
    db.execute("DELETE FROM unit_totals")
    db.execute(_FILL_LIST.format(scope="1"))
    db.conn.executemany(f"INSERT INTO unit_totals (unit, {', '.join(FIGURES)}) VALUES (?{', ?' * len(FIGURES)})",
                        [(unit, *row) for unit, row in _tally(db, "1", {}).items() if any(row)])


def figures(db: sqlite_utils.Database, unit: str | None) -> dict[str, int]:
    """{"total", "completed", "ongoing", and per role} of the current tasks `unit` answers for (None:
    everyone's, without roles; a 督办领导's tasks are its supervising_leaders): one row."""
    row = db.execute(f"SELECT {', '.join(FIGURES)} FROM unit_totals WHERE unit = ?",
                     [EVERYONE if unit is None else unit]).fetchone()
    out = dict(zip(FIGURES, row or (0,) * len(FIGURES)))
    if unit is None:
        for r in ROLE_COLUMNS:
            del out[r]
    return out
