"""The dashboard's figures: each task's 三色预警 state, counted per unit, and filtered task lists.

Which units a task counts for changes only when plans or the directory change, but reading those pairs
costs most of an overview on a large store (600,000 of them for 34,000 tasks): they are kept until the
plans change (a progress report or a 销号 does not). The states depend on today and the tasks' status and
are worked out on every request."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from knowledge import workbench_queries as wq

from . import states

PAGE = 50
_PAIRS: dict[tuple, dict[str, frozenset[int]]] = {}


@dataclass
class Filters:
    document: int | None = None
    unit: str | None = None
    role: str | None = None
    state: str | None = None
    page: int = 1


def task_states(facts: list[wq.TaskFact], today: date) -> dict[int, states.State]:
    memo: dict[tuple, states.State] = {}  # many tasks share a date: classify each (status, ongoing, date) once
    out = {}
    for f in facts:
        key = (f.status, f.ongoing, f.next_due)
        s = memo.get(key)
        if s is None:
            s = memo[key] = states.classify(f.status, f.ongoing, f.next_due, today)
        out[f.id] = s
    return out


def tasks_by_unit(db, document: int | None, role: str | None) -> dict[str, frozenset[int]]:
    key = (id(db), wq.plans_fingerprint(db), document, role)
    if key not in _PAIRS:
        if len(_PAIRS) > 8:
            _PAIRS.clear()
        _PAIRS[key] = {u: frozenset(ids) for u, ids in wq.tasks_by_unit(db, document=document, role=role).items()}
    return _PAIRS[key]


def unit_names(db) -> list[str]:
    """Every unit a current task counts for, for the filters."""
    return sorted(tasks_by_unit(db, None, None))


DOCUMENT_ROWS = 20  # the overview lists the documents with the most overdue tasks; the timeline has them all


@dataclass
class Overview:
    rows: list[tuple[str, dict[str, int]]]  # this page's units, with their counts per state
    total: dict[str, int]  # every task once
    units: int  # how many unit rows in all
    pages: int
    by_document: list[tuple[dict, dict[str, int]]]
    documents: int


def _counts(task_ids, key_of: dict[int, str]) -> dict[str, int]:
    c = Counter(map(key_of.get, task_ids))  # map and Counter run in C: 600,000 pairs in a few ms
    out = {k: c.get(k, 0) for k in states.COLUMNS}
    out["total"] = sum(out.values())
    return out


def _by_document(db, facts: list[wq.TaskFact], key_of: dict[int, str]) -> tuple[list, int]:
    per_doc = Counter((f.document_id, key_of[f.id]) for f in facts)
    docs = {d["id"]: d for d in wq.documents(db)}
    table: dict[int, dict[str, int]] = {}
    for (doc, key), n in per_doc.items():
        table.setdefault(doc, {k: 0 for k in states.COLUMNS})[key] = n
    rows = [(docs[d], {**c, "total": sum(c.values())}) for d, c in table.items() if d in docs]
    rows.sort(key=lambda r: (-r[1]["overdue"], -r[1]["due7"], r[0]["id"]))
    return rows[:DOCUMENT_ROWS], len(rows)


def overview(db, f: Filters, today: date, only_unit: str | None = None) -> Overview:
    """Counts per unit (only `only_unit` for a unit's own link), most overdue first, one page of units."""
    facts = wq.task_facts(db, document=f.document, unit=only_unit)
    key_of = {i: s.key for i, s in task_states(facts, today).items()}
    by_unit = tasks_by_unit(db, f.document, f.role)
    wanted = [only_unit] if only_unit else [f.unit] if f.unit else list(by_unit)
    rows = [(u, _counts(by_unit.get(u, ()), key_of)) for u in wanted]
    if f.state:
        rows = [r for r in rows if r[1][f.state]]
    rows.sort(key=lambda r: (-r[1].get(f.state or "overdue", 0), -r[1]["overdue"], -r[1]["due7"], r[0]))
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(f.page, 1), pages)
    if f.role or f.unit or only_unit:  # the tasks behind the rows shown, each once
        total = _counts(set().union(*(by_unit.get(u, frozenset()) for u in wanted)), key_of)
    else:
        total = _counts(key_of, key_of)
    by_document, documents = _by_document(db, facts, key_of)
    return Overview(rows[(page - 1) * PAGE: page * PAGE], total, len(rows), pages, by_document, documents)


@dataclass
class TaskList:
    items: list[tuple[dict, states.State, str | None]]  # (task row, state, next due)
    count: int
    pages: int
    page: int


def task_list(db, f: Filters, today: date, only_unit: str | None = None) -> TaskList:
    """Tasks matching the filters, most urgent first, one page of them read in full."""
    facts = wq.task_facts(db, document=f.document, unit=only_unit or f.unit, role=f.role)
    state_of = task_states(facts, today)
    chosen = [x for x in facts if not f.state or state_of[x.id].key == f.state]
    rank = {k: i for i, k in enumerate(states.COLUMNS)}
    chosen.sort(key=lambda x: (rank[state_of[x.id].key], x.next_due or "9999", x.document_id, x.id))
    pages = max(1, -(-len(chosen) // PAGE))
    page = min(max(f.page, 1), pages)
    shown = chosen[(page - 1) * PAGE: page * PAGE]
    rows = wq.task_rows(db, [x.id for x in shown])
    return TaskList([(rows[x.id], state_of[x.id], x.next_due) for x in shown], len(chosen), pages, page)
