"""Read-only questions to the store: what is due, for whom, and what a task says."""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
import sqlite_utils

from parser import ROLES

from . import counts, due_index
from .db import current_task

CURRENT = current_task("tasks")


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


def _json(value) -> str:
    """A list as JSON text for json_each (orjson: these lists are built for every answer)."""
    return orjson.dumps(value).decode()


TASK_COLUMNS = "tasks.id, tasks.document_id, tasks.section, tasks.number, tasks.title, tasks.deadline_text," \
               " tasks.ongoing, tasks.status"


def _bound_units(db: sqlite_utils.Database, milestone_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {m: [] for m in milestone_ids}
    for mid, unit in db.execute("SELECT milestone_id, unit FROM milestone_units WHERE milestone_id IN"
                                " (SELECT value FROM json_each(?)) ORDER BY rowid", [_json(list(out))]):
        out[mid].append(unit)
    return out


def _tasks(db: sqlite_utils.Database, rows: list[dict]) -> list[TaskRow]:
    """Rows with TASK_COLUMNS as TaskRows, with their units by role (one task_units row each)."""
    stored = dict(db.execute("SELECT task_id, units_json FROM task_units WHERE task_id IN"
                             " (SELECT value FROM json_each(?))", [_json([r["id"] for r in rows])]))
    made: dict[int, TaskRow] = {}  # many milestone rows share a task
    for row in rows:
        if row["id"] not in made:
            units = orjson.loads(stored.get(row["id"], "{}"))
            made[row["id"]] = TaskRow(row["id"], row["document_id"], row["section"], row["number"], row["title"],
                                      row["deadline_text"], bool(row["ongoing"]), row["status"],
                                      {r: units.get(r, []) for r in ROLES})
    return [made[row["id"]] for row in rows]


def _task(db: sqlite_utils.Database, row) -> TaskRow:
    return _tasks(db, [row])[0]


def _tasks_by_id(db: sqlite_utils.Database, ids: list[int]) -> list[TaskRow]:
    """TaskRows for these ids, in their order."""
    rows = {r["id"]: r for r in _rows(db, f"SELECT {TASK_COLUMNS} FROM tasks WHERE id IN"
                                          " (SELECT value FROM json_each(?))", [_json(ids)])}
    return _tasks(db, [rows[i] for i in ids])


def _rows(db, sql, params):
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _items(db: sqlite_utils.Database, rows: list[dict], known: dict[int, TaskRow] | None = None) -> list[DueItem]:
    """Milestone rows (with TASK_COLUMNS) as DueItems (`known`: TaskRows read already, by id)."""
    known = known or {}
    tasks = {**known, **{t.id: t for t in _tasks(db, [r for r in rows if r["id"] not in known])}}
    bound = _bound_units(db, [r["mid"] for r in rows])
    return [DueItem(r["mid"], tasks[r["id"]], date.fromisoformat(r["due"]), r["text"], r["source"], bound[r["mid"]],
                    bool(r["done"])) for r in rows]


def task_counts(db: sqlite_utils.Database, unit: str | None) -> dict[str, int]:
    """How many current tasks a unit (collectives resolved) or everyone has: in all, 销号, 持续推进, and
    per role ({"total", "completed", "ongoing", "lead_units", "cooperating_units", …}), from the figures
    kept as the plans change (knowledge.counts): one row per document, not one per task."""
    return counts.figures(db, unit)


def recounted_task_counts(db: sqlite_utils.Database, unit: str | None) -> dict[str, int]:
    """The same figures counted from the tasks and assignments themselves (what the kept ones must equal)."""
    sums = "count(*), coalesce(sum(t.status = 'completed'), 0), coalesce(sum(t.status = 'open' AND t.ongoing), 0)"
    current = CURRENT.replace("tasks.", "t.")
    if unit is None:
        row = db.execute(f"SELECT {sums} FROM documents d JOIN tasks t INDEXED BY tasks_state ON t.document_id = d.id"
                         " AND t.version = d.current_version WHERE t.status != 'withdrawn'").fetchone()
        return dict(zip(("total", "completed", "ongoing"), row))
    mine = {"mine": _json(due_index.units_answering_as(db, unit))}
    row = db.execute(f"SELECT {sums} FROM tasks t INDEXED BY tasks_state WHERE t.id IN (SELECT a.task_id FROM"
                     " assignments a WHERE a.unit IN (SELECT value FROM json_each(:mine)) AND a.role !="
                     f" 'supervising_leaders') AND {current} AND t.status != 'withdrawn'", mine).fetchone()
    counts = dict(zip(("total", "completed", "ongoing"), row))
    counts.update(db.execute(f"SELECT a.role, count(DISTINCT a.task_id) FROM assignments a JOIN tasks t INDEXED BY"
                             " tasks_state ON t.id = a.task_id WHERE a.unit IN (SELECT value FROM json_each(:mine))"
                             f" AND {current} AND t.status != 'withdrawn' GROUP BY a.role", mine).fetchall())
    return counts


def has_tasks(db: sqlite_utils.Database) -> bool:
    return db.execute(f"SELECT 1 FROM tasks WHERE {CURRENT} AND status != 'withdrawn' LIMIT 1").fetchone() is not None


def _in_role(db: sqlite_utils.Database, unit: str | None, role: str | None) -> due_index.InRole | None:
    return due_index.InRole(db, unit, role) if unit and role else None


def due_items(db: sqlite_utils.Database, *, start: date | None = None, end: date | None = None,
              unit: str | None = None, include_done: bool = False, limit: int | None = None,
              role: str | None = None) -> list[DueItem]:
    """Open milestones with start <= due <= end, for a unit (collectives resolved; with `role`, of the
    tasks naming it in that role) or everyone; the earliest `limit` only, when given."""
    return _load_items(db, due_index.milestone_ids(db, unit, start=start, end=end, include_done=include_done,
                                                   limit=limit, tasks=_in_role(db, unit, role)))


def due_lines(db: sqlite_utils.Database, *, start: date | None = None, end: date | None = None,
              unit: str | None = None, lines: int, count_to: int, role: str | None = None
              ) -> tuple[list[DueItem], int]:
    """A due list's first `lines` lines (one task's milestones on one date) as items, and how many
    lines it has in all (`count_to` + 1: more than `count_to`)."""
    mids, total = due_index.first_lines(db, unit, start=start, end=end, lines=lines, count_to=count_to,
                                        tasks=_in_role(db, unit, role))
    return _load_items(db, mids), total


def _load_items(db: sqlite_utils.Database, milestone_ids: list[int],
                known: dict[int, TaskRow] | None = None) -> list[DueItem]:
    """These milestones as DueItems, by date, then 清单 items before the body, by number (`known`: their
    TaskRows, when read already)."""
    rows = _rows(db, f"SELECT m.id AS mid, m.due, m.text, m.source, m.done, m.position, t.number_int,"
                     f" {TASK_COLUMNS.replace('tasks.', 't.')} FROM milestones m JOIN tasks t ON t.id = m.task_id"
                     " WHERE m.id IN (SELECT value FROM json_each(?))", [_json(milestone_ids)])
    rows.sort(key=lambda r: (r["due"], r["section"] != "list", r["number_int"] is None, r["number_int"] or 0,
                             r["id"], r["position"]))
    return _items(db, rows, known)


def overdue(db: sqlite_utils.Database, today: date, unit: str | None = None, limit: int | None = None,
            role: str | None = None) -> list[DueItem]:
    return due_items(db, end=today - timedelta(days=1), unit=unit, limit=limit, role=role)


RANK_AT_MOST = 300  # matches ranked by bm25; a phrase found in more tasks than this is ordered without scoring


def search(db: sqlite_utils.Database, text: str, limit: int = 5) -> list[TaskRow]:
    """Full-text search over titles and task text; short queries fall back to LIKE."""
    q = re.sub(r"[\"'()*:^]", " ", text).strip()
    if not q:
        return []
    if len(q) >= 3:
        phrase = " ".join(f'"{w}"' for w in q.split())
        many = db.execute("SELECT count(*) FROM (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ? LIMIT ?)",
                          [phrase, RANK_AT_MOST + 1]).fetchone()[0] > RANK_AT_MOST
        if not many:
            rows = _fts_rows(db, phrase, "rank", limit)
        else:  # bm25 would score every match: title matches first, then the newest plans', both in index order
            rows = _rows(db, f"SELECT {TASK_COLUMNS} FROM tasks_title_fts JOIN tasks ON tasks.id = tasks_title_fts.rowid"
                             f" WHERE tasks_title_fts MATCH :q AND {CURRENT} ORDER BY tasks_title_fts.rowid DESC LIMIT :lim",
                         {"q": phrase, "lim": limit})
            seen = {r["id"] for r in rows}
            rows += [r for r in _fts_rows(db, phrase, "tasks_fts.rowid DESC", limit) if r["id"] not in seen]
            rows = rows[:limit]
    else:
        rows = _rows(db, f"SELECT {TASK_COLUMNS} FROM tasks WHERE (title LIKE :q OR full_text LIKE :q) AND {CURRENT}"
                         " ORDER BY section DESC, number_int LIMIT :lim", {"q": f"%{q}%", "lim": limit})
    return _tasks(db, rows)


# how much a topic word weighs where it is found: the task's own title and problem (what the task is
# about). Its measures, which mention neighbouring topics in passing, count through the full-text
# rank the candidates arrive in (a tie-break): reading every candidate's whole text would cost more
# than the rest of the answer.
_WEIGHTS = (("title", 2.0), ("problem_text", 1.0))


def relevance(db: sqlite_utils.Database, task_ids: list[int], words: list[str], phrase: str) -> dict[int, float]:
    """{task id: score} of these tasks for a topic: each of its words found in the title and the
    problem text (weighted by _WEIGHTS, doubled when all the words are there), and the whole phrase
    once more. Spacing in the texts does not matter ("治理 26 座尾矿库")."""
    words = ["".join(w.split()) for w in words if w.strip()]
    phrase = "".join(phrase.split())
    scores = {}
    for row in _rows(db, "SELECT id, title, problem_text FROM tasks WHERE id IN (SELECT value FROM json_each(?))",
                     [_json(task_ids)]):
        score = 0.0
        for column, weight in _WEIGHTS:
            text = "".join((row[column] or "").split())
            hits = [w in text for w in words]
            score += weight * (sum(hits) + (phrase in text)) * (1 + all(hits))
        scores[row["id"]] = score
    return scores


def _fts_rows(db: sqlite_utils.Database, match: str, order: str, limit: int) -> list[dict]:
    return _rows(db, f"SELECT {TASK_COLUMNS} FROM tasks_fts JOIN tasks ON tasks.rowid = tasks_fts.rowid"
                     f" WHERE tasks_fts MATCH :q AND {CURRENT} ORDER BY {order} LIMIT :lim", {"q": match, "lim": limit})


def tasks_for_unit(db: sqlite_utils.Database, unit: str) -> list[TaskRow]:
    """The current tasks naming `unit` or a collective it belongs to (督办领导 aside), 清单 items first."""
    mine = _json(due_index.units_answering_as(db, unit))
    rows = _rows(db, f"SELECT DISTINCT {TASK_COLUMNS} FROM unit_tasks u JOIN tasks ON tasks.id = u.task_id"
                     f" WHERE u.unit IN (SELECT value FROM json_each(?)) AND u.roles & {counts.ANSWERS}"
                     " ORDER BY tasks.section DESC, tasks.number_int, tasks.id", [mine])  # unit_tasks: current only
    return _tasks(db, rows)


def tasks_with_next_due(db: sqlite_utils.Database, unit: str | None, limit: int, *, show: int | None = None,
                        role: str | None = None, state: str | None = None) -> tuple[int, list[tuple]]:
    """(how many — at most `limit`+1, [(TaskRow, next open milestone or None)] for the first `show`) of a
    unit's tasks (or all; with `role`, those where it is named in that role; `state`: None, "open", "ongoing"
    (持续推进) or "completed" (销号)), most urgent first. How many: from the kept figures (knowledge.counts).
    The first ones: the due index walked in date order until enough are found, then the undated (持续推进) or
    closed (销号) ones from the unit's kept list, in order; so a unit with thousands of tasks costs about as
    much as one with fifty."""
    mask = counts.ROLE_BITS[role] if unit and role else counts.ANSWERS if unit else None
    codes = counts.STATES[state]
    listed = _json(_listed_units(db, unit))
    known = _kept_count(db, unit, role, state)
    if known is None:
        known = db.execute("SELECT count(DISTINCT task_id) FROM unit_tasks WHERE unit IN"
                           f" (SELECT value FROM json_each(?)) AND state IN ({','.join(map(str, codes))})"
                           " AND (? IS NULL OR roles & ?)",
                           [listed, mask, mask]).fetchone()[0]
    want = min(show if show is not None else limit, limit)
    if state == "completed":  # closed tasks have no next date
        first = {}
    elif (unit and role) or state == "ongoing":
        first = _first_dated(db, listed, codes, mask, want, known)
    else:
        first = due_index.next_due_by_task(db, unit, want)
    ids = list(first)[:want + 1]
    if len(ids) <= want:
        ids += _undated(db, listed, codes, mask, set(first), want + 1 - len(ids))
    return min(known, limit + 1), _task_pairs(db, ids[:limit], first, show)


def _listed_units(db: sqlite_utils.Database, unit: str | None) -> list[str]:
    """The units whose unit_tasks rows make up a unit's list: its own and its collectives' (everyone's: '')."""
    return [counts.EVERYONE] if unit is None else due_index.units_answering_as(db, unit)


def _kept_count(db: sqlite_utils.Database, unit: str | None, role: str | None, state: str | None) -> int | None:
    """How many tasks the list holds, from the kept figures; None for what they do not count (a role and a state)."""
    if role and (state or not unit):
        return None
    figures = counts.figures(db, unit)
    if role:
        return figures.get(role)
    return {None: figures["total"], "open": figures["total"] - figures["completed"],
            "completed": figures["completed"], "ongoing": figures["ongoing"]}[state]


TASK_SIDE_AT_MOST = 400  # a list of this few tasks has their dates looked up task by task


def _first_dated(db: sqlite_utils.Database, listed: str, codes: tuple, mask: int | None, want: int,
                 known: int) -> dict[int, tuple[str, int]]:
    """{task: (due, milestone)} of the first `want` + 1 tasks by next due date among the unit's tasks in
    these states and roles: each due list the unit answers through (a 督办领导's: everyone's) walked in date
    order in SQLite, one probe of the kept list per row, merged; a list of few tasks task by task."""
    codes = tuple(c for c in codes if c != 2)  # closed tasks have no dates
    mask_sql = f"x.state IN ({','.join(map(str, codes))}) AND (? IS NULL OR x.roles & ?)"
    leader = mask == counts.ROLE_BITS["supervising_leaders"]
    walk = [due_index.EVERYONE] if leader else orjson.loads(listed)
    if known <= TASK_SIDE_AT_MOST:  # few tasks (a rare role, a leader of few): their own rows of the due index
        earliest: dict[int, tuple] = {}
        for due, ord_, task_id, mid in db.execute(
                f"SELECT due, ord, task_id, milestone_id FROM unit_due INDEXED BY unit_due_task WHERE task_id IN"
                f" (SELECT x.task_id FROM unit_tasks x WHERE x.unit IN (SELECT value FROM json_each(?)) AND {mask_sql})"
                " AND unit IN (SELECT value FROM json_each(?)) AND done = 0",
                [listed, mask, mask, _json(walk)]):
            earliest[task_id] = min(earliest.get(task_id, (due, ord_, task_id, mid)), (due, ord_, task_id, mid))
        return {task_id: (due, mid) for due, _, task_id, mid in sorted(earliest.values())[:want + 1]}
    streams = [db.execute(
        "SELECT u.due, u.ord, u.task_id, u.milestone_id FROM unit_due u WHERE u.unit = ? AND u.done = 0 AND EXISTS"
        " (SELECT 1 FROM unit_tasks x WHERE x.unit IN (SELECT value FROM json_each(?)) AND x.ord = u.ord"
        f" AND x.task_id = u.task_id AND {mask_sql}) ORDER BY u.due, u.ord, u.task_id, u.milestone_id",
        [w, listed, mask, mask]) for w in walk]
    first: dict[int, tuple[str, int]] = {}
    try:
        for due, _, task_id, mid in heapq.merge(*streams):
            first.setdefault(task_id, (due, mid))
            if len(first) > want:
                break
    finally:
        for cur in streams:
            cur.close()
    return first


def _undated(db: sqlite_utils.Database, listed: str, codes: tuple, mask: int | None, skip: set[int],
             count: int) -> list[int]:
    """The unit's next `count` tasks in these states and roles in the order of a reply (清单 items first, by
    number), leaving out `skip`: one ordered index range per listed unit and state, merged (a task named for
    the unit and for its collective comes twice, side by side)."""
    streams = [db.execute("SELECT ord, task_id FROM unit_tasks WHERE unit = ? AND state = ?"
                          " AND (? IS NULL OR roles & ?) ORDER BY ord, task_id", [key, code, mask, mask])
               for key in orjson.loads(listed) for code in codes]
    out: list[int] = []
    skip = set(skip)
    try:
        for _, task_id in heapq.merge(*streams):
            if task_id not in skip:
                skip.add(task_id)
                out.append(task_id)
                if len(out) >= count:
                    break
    finally:
        for cur in streams:
            cur.close()
    return out


def tasks_supervised_by(db: sqlite_utils.Database, leader: str, *, show: int | None = None
                        ) -> tuple[int, list[tuple]]:
    """Like tasks_with_next_due, for the tasks a 督办领导 (市长, 分管…的副市长) supervises: how many, and the
    first `show` (all of them without)."""
    total = counts.figures(db, leader)["supervising_leaders"]
    if not total:
        return 0, []
    return total, tasks_with_next_due(db, leader, total, show=show, role="supervising_leaders")[1]


def _task_pairs(db: sqlite_utils.Database, ids: list[int], first: dict[int, tuple[str, int]],
                show: int | None) -> list[tuple]:
    """[(TaskRow, its next milestone or None)] by next due date, then 清单 items first, by number;
    only the first `show` are read in full."""
    rows = {r["id"]: r for r in _rows(db, f"SELECT {TASK_COLUMNS}, tasks.number_int FROM tasks WHERE id IN"
                                          " (SELECT value FROM json_each(?))", [_json(ids)])}
    order = {i: (r["section"] != "list", r["number_int"] if r["number_int"] is not None else 0)
             for i, r in rows.items()}
    ids = sorted(ids, key=lambda i: (i not in first, first[i][0] if i in first else "", order[i]))
    ids = ids[:show] if show is not None else ids
    tasks = {t.id: t for t in _tasks(db, [rows[i] for i in ids])}
    items = {i.milestone_id: i for i in _load_items(db, [first[i][1] for i in ids if i in first], tasks)}
    return [(tasks[i], items[first[i][1]] if i in first else None) for i in ids]


def document_titles(db: sqlite_utils.Database, document_ids) -> dict[int, str]:
    ids = sorted(set(document_ids))
    return dict(db.execute("SELECT id, title FROM documents WHERE id IN (SELECT value FROM json_each(?))",
                           [_json(ids)]).fetchall()) if ids else {}


def current_tasks(db: sqlite_utils.Database) -> list[TaskRow]:
    """Every task of every document's current version, 清单 items first, by number."""
    rows = _rows(db, f"SELECT {TASK_COLUMNS} FROM tasks WHERE {CURRENT} AND status != 'withdrawn'"
                     " ORDER BY document_id, section DESC, number_int, id", {})
    return _tasks(db, rows)
