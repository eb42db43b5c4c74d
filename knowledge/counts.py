"""How many tasks each unit has, and which, kept as the plans change: the figures of "我单位一共有几项任务" and
"完成率", and the lists of "长期坚持的任务" / "已销号的任务".

Counting a unit's current tasks at question time reads every assignment naming it: thousands of rows on a
province's store. `task_tally` keeps, per document and per unit, the current tasks that unit answers for
(named itself, or through a collective it belongs to: 各县市区 counts for 邵阳县), with how many are 销号 or
持续推进 and in which roles; one row per document with unit '' counts everyone's (全市). A question then adds
up one row per document. `unit_tasks` lists, per unit, the same tasks in a reply's order by state, with its
roles on each, so a unit's 持续推进 or 销号 tasks are read from an index range.
Every writer that changes which tasks are current or their state (ingest and a new version, 销号 and 撤销销号,
`duban remove` and restore) already rebuilds the due index of what it touched (due_index.reindex), and that
rebuilds these rows too, in the same transaction. A collective that gains members (a new unit directory)
recounts the whole store.
"""
from __future__ import annotations

import json

import sqlite_utils

from .db import current_task, register_migration

EVERYONE = ""  # the unit of the rows that count every task (全市)
ROLE_COLUMNS = ("lead_units", "principal_units", "responsible_units", "cooperating_units", "supervising_leaders")
FIGURES = ("total", "completed", "ongoing", *ROLE_COLUMNS)

_LIVE = (f"t.status != 'withdrawn' AND {current_task()}"
         " AND t.document_id IN (SELECT value FROM json_each(:docs))")
# a unit is named on a task in a role, or through a collective it belongs to (各县市区 names 邵阳县 too)
_NAMED = f"SELECT a.task_id, a.unit, a.role FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE {_LIVE}"
# one row per task and unit: whether the unit answers for it (a 督办领导 alone only supervises it) and its roles
_PER_TASK_UNIT = f"""SELECT task_id, unit, max(role != 'supervising_leaders') AS answers,
    {", ".join(f"max(role = '{r}') AS {r}" for r in ROLE_COLUMNS)} FROM (
        SELECT task_id, unit, role FROM ({_NAMED})
        UNION SELECT n.task_id, cm.member, n.role FROM ({_NAMED}) n
        CROSS JOIN collective_members cm ON cm.collective = n.unit)  -- this document's names first, then members
    GROUP BY task_id, unit"""
_FILL_TALLY = f"""INSERT INTO task_tally (unit, document_id, {', '.join(FIGURES)})
SELECT p.unit, t.document_id, sum(p.answers), sum(p.answers AND t.status = 'completed'),
       sum(p.answers AND t.status = 'open' AND t.ongoing), {", ".join(f"sum(p.{r})" for r in ROLE_COLUMNS)}
FROM ({_PER_TASK_UNIT}) p JOIN tasks t ON t.id = p.task_id GROUP BY p.unit, t.document_id
UNION ALL
SELECT '{EVERYONE}', t.document_id, count(*), sum(t.status = 'completed'), sum(t.status = 'open' AND t.ongoing),
       {', '.join('0' for _ in ROLE_COLUMNS)} FROM tasks t WHERE {_LIVE} GROUP BY t.document_id"""

# The tasks themselves, per unit: a unit's list in the order a reply shows undated tasks (清单 items first, by
# number; the same `ord` as the due index), by state, without reading the tasks. `roles` holds ROLE_BITS.
ROLE_BITS = {r: 1 << i for i, r in enumerate(ROLE_COLUMNS)}
ANSWERS = sum(bit for r, bit in ROLE_BITS.items() if r != "supervising_leaders")  # a unit's own tasks
STATES = {None: (0, 1, 2), "open": (0, 1), "ongoing": (1,), "completed": (2,)}  # 0 open, 1 持续推进, 2 销号
_STATE = "CASE WHEN t.status = 'completed' THEN 2 WHEN t.ongoing THEN 1 ELSE 0 END"
_ORD = "((t.section != 'list') * 2000000 + (t.number_int IS NULL) * 1000000 + coalesce(t.number_int, 0))"
_FILL_LIST = f"""INSERT INTO unit_tasks (unit, state, ord, task_id, document_id, roles)
SELECT p.unit, {_STATE}, {_ORD}, t.id, t.document_id, {" + ".join(f"p.{r} * {b}" for r, b in ROLE_BITS.items())}
FROM ({_PER_TASK_UNIT}) p JOIN tasks t ON t.id = p.task_id
UNION ALL
SELECT '{EVERYONE}', {_STATE}, {_ORD}, t.id, t.document_id, 0 FROM tasks t WHERE {_LIVE}"""
_TABLES = ("task_tally", "unit_tasks")


def _m021_task_tally(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS task_tally (unit TEXT NOT NULL, document_id INTEGER NOT NULL,"
               + "".join(f" {f} INTEGER NOT NULL," for f in FIGURES)
               + " PRIMARY KEY (unit, document_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS task_tally_document ON task_tally(document_id)")
    db.execute("CREATE TABLE IF NOT EXISTS unit_tasks (unit TEXT NOT NULL, state INTEGER NOT NULL,"
               " ord INTEGER NOT NULL, task_id INTEGER NOT NULL, document_id INTEGER NOT NULL, roles INTEGER NOT NULL,"
               " PRIMARY KEY (unit, state, ord, task_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS unit_tasks_task ON unit_tasks(unit, task_id, roles)")  # "is it the unit's?"
    db.execute("CREATE INDEX IF NOT EXISTS unit_tasks_document ON unit_tasks(document_id)")
    # the size of the collectives the rows were counted with: more members, everything recounted
    db.execute("CREATE TABLE IF NOT EXISTS task_tally_basis (id INTEGER PRIMARY KEY CHECK (id = 1),"
               " members INTEGER NOT NULL)")
    recount(db)


register_migration(_m021_task_tally)


def _members(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM collective_members").fetchone()[0]


def recount(db: sqlite_utils.Database, *, document_id: int | None = None, task_ids: list[int] | None = None) -> None:
    """Recount the rows of one document, of the documents of some tasks, or — with neither, or when the
    collectives changed since the last count — of every document. Runs in the caller's transaction."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'task_tally'").fetchone():
        return  # an older store being migrated: the table's migration counts everything once it runs
    members = _members(db)
    basis = db.execute("SELECT members FROM task_tally_basis WHERE id = 1").fetchone()
    if basis is None or basis[0] != members:
        document_id = task_ids = None
    if document_id is not None:
        docs = [int(document_id)]
    elif task_ids is not None:
        docs = [r[0] for r in db.execute("SELECT DISTINCT document_id FROM tasks WHERE id IN"
                                         " (SELECT value FROM json_each(?))", [json.dumps([int(i) for i in task_ids])])]
    else:
        docs = [r[0] for r in db.execute("SELECT id FROM documents")]
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")
    if document_id is not None or task_ids is not None:
        for table in _TABLES:
            db.execute(f"DELETE FROM {table} WHERE document_id IN (SELECT value FROM json_each(?))", [json.dumps(docs)])
    for fill in (_FILL_TALLY, _FILL_LIST):
        db.execute(fill, {"docs": json.dumps(docs)})
    db.execute("INSERT OR REPLACE INTO task_tally_basis VALUES (1, ?)", [members])


def figures(db: sqlite_utils.Database, unit: str | None) -> dict[str, int]:
    """{"total", "completed", "ongoing", and per role} of the current tasks `unit` answers for (None:
    everyone's, without roles; a 督办领导's tasks are its supervising_leaders): one row per document added up."""
    row = db.execute(f"SELECT {', '.join(f'coalesce(sum({f}), 0)' for f in FIGURES)} FROM task_tally"
                     " WHERE unit = ?", [EVERYONE if unit is None else unit]).fetchone()
    out = dict(zip(FIGURES, row))
    if unit is None:
        for r in ROLE_COLUMNS:
            del out[r]
    return out
