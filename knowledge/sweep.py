"""One day's reminder sweep: which (item, unit, kind, nominal date) reminders are due.

Pure reads; the calendar decides which nominal dates today covers (holidays shift earlier).
Kinds: lead (N days before), due (on the day), overdue (weekly after), escalation (overdue for
long enough: also to the 督办领导), recurring (once per period of a 每月/每季度… duty).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from operator import attrgetter

import sqlite_utils

from .db import current_task

# current versions of real plans: the bundled example (documents.example) is never reminded about
CURRENT = current_task(documents="AND d.example = 0")
_NONE: list[str] = []  # the units of a task that names none
RECIPIENT_ROLES = ("principal_units", "lead_units", "cooperating_units", "responsible_units")


@dataclass
class Policy:
    lead_days: tuple[int, ...] = (30, 7, 1)
    overdue_every: int = 7  # days between overdue repeats
    escalate_after: int = 7  # days overdue before the 督办领导 are told too
    escalation_unit: str = "督办领导"  # fallback recipient when no leader has a channel of their own


# the order a digest lists kinds in (the most pressing first)
KIND_ORDER = {"escalation": 0, "overdue": 1, "due": 2, "lead": 3, "recurring": 4}


@dataclass(slots=True, eq=False)
class Due:
    """One milestone or duty, in one kind, on one nominal date: what every unit reminded of it shares."""
    kind: str  # lead / due / overdue / escalation / recurring
    nominal: date
    task_id: int
    section: str
    number: str
    title: str
    text: str
    due: date | None = None
    item_uid: str = ""  # stable across document versions (see ingest)
    milestone_id: int | None = None
    recurring_id: int | None = None
    every: str | None = None
    # as the outbox records it: (item_uid, milestone_id, recurring_id, task_id, kind, nominal date)
    record: tuple = ()
    order: tuple = ()  # where a digest lists it: kind, date, task
    ref: tuple = ()  # the milestone or duty: a digest lists it once, whatever its kinds

    def __post_init__(self) -> None:
        self.record = (self.item_uid, self.milestone_id, self.recurring_id, self.task_id, self.kind,
                       self.nominal.isoformat())
        self.order = (KIND_ORDER[self.kind], self.due or self.nominal, self.task_id)
        self.ref = (self.milestone_id, self.recurring_id)


class Reminder:
    """One unit's reminder of a Due. A busy day makes 100k+ of them (a milestone of 各县市区 goes to a
    dozen units), so each is the unit and the shared Due, whose fields it shows as its own."""
    __slots__ = ("unit", "item")

    def __init__(self, unit: str, item: Due):
        self.unit = unit
        self.item = item

    @property
    def key(self) -> str:
        item = self.item
        return f"{item.item_uid}|{self.unit}|{item.kind}|{item.record[5]}"

    def __repr__(self) -> str:
        return f"Reminder({self.unit!r}, {self.item!r})"


for _field in ("kind", "nominal", "task_id", "section", "number", "title", "text", "due", "item_uid", "milestone_id",
               "recurring_id", "every"):
    setattr(Reminder, _field, property(attrgetter(f"item.{_field}")))


@dataclass
class _Context:
    units: dict[int, list[str]] = field(default_factory=dict)
    leaders: dict[int, list[str]] = field(default_factory=dict)
    bound: dict[int, list[str]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    with_channel: set[str] = field(default_factory=set)  # units (and leader titles) with a push channel
    _expanded: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def escalate_to(self, task_id: int, fallback: str) -> list[str]:
        """The task's 督办领导 when one of them has a channel of their own; else the fallback unit
        (when it has a channel, or the task names no leader); else the leaders, so that a dry run
        reports them as having no channel."""
        leaders = self.leaders.get(task_id, [])
        if any(u in self.with_channel for u in leaders):
            return leaders
        return [fallback] if fallback in self.with_channel or not leaders else leaders

    def expand(self, units: list[str]) -> list[str]:
        """Collectives fan out to each member unit; a collective without members stays as it is."""
        key = tuple(units)
        if key not in self._expanded:  # most tasks share a handful of unit lists
            out: list[str] = []
            for u in units:
                for m in self.members.get(u) or [u]:
                    if m not in out:
                        out.append(m)
            self._expanded[key] = out
        return self._expanded[key]


def _ids(ids) -> str:
    return json.dumps(sorted(ids))


def _context(db: sqlite_utils.Database, task_ids: set[int], milestone_ids: set[int]) -> _Context:
    """Who answers for the given tasks and milestones (only those: a large store has many more).

    A task's units come from its one task_units row (tens of thousands of tasks on a busy day would
    be hundreds of thousands of assignment rows); tasks share a few unit lists, each parsed once."""
    ctx = _Context()
    parsed: dict[str, tuple[list[str], list[str]]] = {}
    for task_id, units_json in db.execute("SELECT task_id, units_json FROM task_units"
                                          " WHERE task_id IN (SELECT value FROM json_each(?))", [_ids(task_ids)]):
        both = parsed.get(units_json)
        if both is None:
            by_role = json.loads(units_json)
            both = parsed[units_json] = (list(dict.fromkeys(u for r in RECIPIENT_ROLES for u in by_role.get(r, ()))),
                                         list(dict.fromkeys(by_role.get("supervising_leaders", ()))))
        if both[0]:
            ctx.units[task_id] = both[0]
        if both[1]:
            ctx.leaders[task_id] = both[1]
    for mid, unit in db.execute("SELECT milestone_id, unit FROM milestone_units"
                                " WHERE milestone_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                                [_ids(milestone_ids)]):
        ctx.bound.setdefault(mid, []).append(unit)
    for coll, member in db.execute("SELECT collective, member FROM collective_members ORDER BY rowid"):
        ctx.members.setdefault(coll, []).append(member)
    if "channels" in db.table_names():
        ctx.with_channel = {r[0] for r in db.execute("SELECT unit FROM channels")}
    return ctx


def _due_dates(db: sqlite_utils.Database, days: list[date], policy: Policy) -> list[tuple[str, str, int]]:
    """(due, day, due − day): every date an open milestone must fall on to have a reminder on one of
    `days` — a lead day ahead, the day itself, or a whole number of overdue periods back (as far as
    the oldest open milestone)."""
    ahead = sorted({0, *(d for d in policy.lead_days if d >= 0)})
    every = abs(policy.overdue_every)
    oldest = db.execute("SELECT min(due) FROM milestones WHERE done = 0").fetchone()[0]
    out = []
    for day in days:
        out += [((day + timedelta(days=d)).isoformat(), day.isoformat(), d) for d in ahead]
        back = (day - date.fromisoformat(oldest)).days // every if every and oldest else 0
        out += [((day - timedelta(days=k * every)).isoformat(), day.isoformat(), -k * every)
                for k in range(1, back + 1)]
    return out


def _milestone_hits(db: sqlite_utils.Database, days: list[date], policy: Policy) -> list[tuple]:
    """Open milestones with a reminder on one of `days`: rows (id, uid, due, text, task id, section,
    number, title, day, due − day in days), in due, milestone, day order.

    One index probe per date a reminder can fall on (a few hundred: weekly overdue repeats back to
    the oldest open milestone) reads only the milestones that have one, not every overdue milestone
    of the store; only the hits' task rows are read (a task row holds the whole text)."""
    return db.execute(f"""
        WITH hit AS MATERIALIZED (
            SELECT m.id, m.uid, m.due, m.text, m.task_id, c.value ->> 1 AS day, c.value ->> 2 AS delta
            FROM json_each(?) c JOIN milestones m ON m.done = 0 AND m.due = c.value ->> 0)
        SELECT m.id, m.uid, m.due, m.text, t.id, t.section, t.number, t.title, m.day, m.delta
        FROM hit m JOIN tasks t ON t.id = m.task_id WHERE t.status = 'open' AND {CURRENT}
        ORDER BY m.due, m.id, m.day""", [json.dumps(_due_dates(db, days, policy))]).fetchall()


def _period_start(d: date, every: str) -> date | None:
    if every == "week":
        return d - timedelta(days=d.weekday())
    if every == "month":
        return d.replace(day=1)
    if every == "quarter":
        return date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    if every == "half_year":
        return date(d.year, 1 if d.month <= 6 else 7, 1)
    if every == "year":
        return date(d.year, 1, 1)
    return None  # daily duties would only be noise as reminders


def sweep(db: sqlite_utils.Database, days: list[date], policy: Policy | None = None) -> list[Reminder]:
    """Reminders whose nominal date is one of `days` (what today's send covers)."""
    return [Reminder(unit, item) for item, units in dues(db, days, policy) for unit in units]


def by_unit(db: sqlite_utils.Database, days: list[date], policy: Policy | None = None) -> dict[str, list[Due]]:
    """The same as `sweep`, as each unit's items in the same order (no object per unit and item)."""
    out: dict[str, list[Due]] = {}
    for item, units in dues(db, days, policy):
        for unit in units:
            out.setdefault(unit, []).append(item)
    return out


def dues(db: sqlite_utils.Database, days: list[date], policy: Policy | None = None) -> list[tuple[Due, list[str]]]:
    """Every item with a reminder on one of `days`, with the units it goes to."""
    if not days:
        return []
    policy = policy or Policy()
    last = max(days)
    hits = _milestone_hits(db, days, policy)
    starting = [e for e in ("week", "month", "quarter", "half_year", "year") if _period_start(last, e) in set(days)]
    duties = db.execute(
        f"SELECT r.id, r.uid, r.every, r.text, r.units, t.id, t.section, t.number, t.title FROM recurring r"
        f" JOIN tasks t ON t.id = r.task_id WHERE r.every IN (SELECT value FROM json_each(?))"
        f" AND t.status = 'open' AND {CURRENT} ORDER BY r.id", [json.dumps(starting)]).fetchall()
    ctx = _context(db, {h[4] for h in hits} | {d[5] for d in duties}, {h[0] for h in hits})
    return _milestone_dues(hits, ctx, policy) + _duty_dues(duties, ctx, last)


def _milestone_dues(hits: list[tuple], ctx: _Context, policy: Policy) -> list[tuple[Due, list[str]]]:
    out: list[tuple[Due, list[str]]] = []
    nominal: dict[str, date] = {}
    for mid, group in groupby(hits, key=lambda h: h[0]):
        group = list(group)
        _, muid, due_s, text, task_id, section, number, title = group[0][:8]
        due = date.fromisoformat(due_s)
        kinds: list[tuple[str, date]] = []
        for *_, day, delta in group:
            n = nominal.get(day) or nominal.setdefault(day, date.fromisoformat(day))
            if delta in policy.lead_days:
                kinds.append(("lead", n))
            elif delta == 0:
                kinds.append(("due", n))
            else:  # overdue by a multiple of policy.overdue_every days
                kinds.append(("overdue", n))
                if -delta >= policy.escalate_after:
                    kinds.append(("escalation", n))
        units = ctx.expand(ctx.bound.get(mid) or ctx.units.get(task_id, []))
        leaders = ctx.escalate_to(task_id, policy.escalation_unit)
        for kind, n in kinds:
            out.append((Due(kind, n, task_id, section, number, title, text, due, muid, milestone_id=mid),
                        leaders if kind == "escalation" else units))
    return out


def _duty_dues(duties: list[tuple], ctx: _Context, last: date) -> list[tuple[Due, list[str]]]:
    """A duty goes to the units it names that are its task's (or collectives), else to all of its task's."""
    out: list[tuple[Due, list[str]]] = []
    units_of: dict[tuple, list[str]] = {}  # duties share a few (named units, task units) pairs
    start = {every: _period_start(last, every) for every in {d[2] for d in duties}}
    for rid, ruid, every, text, units_json, task_id, section, number, title in duties:
        task_units = ctx.units.get(task_id, _NONE)
        units = units_of.get((units_json, id(task_units)))
        if units is None:
            own = [u for u in json.loads(units_json) if u in task_units or u in ctx.members]
            units = units_of[units_json, id(task_units)] = ctx.expand(own or task_units)
        out.append((Due("recurring", start[every], task_id, section, number, title, text,
                        item_uid=ruid, recurring_id=rid, every=every), units))
    return out


def named_on_any(db: sqlite_utils.Database, unit: str, task_ids: set[int]) -> bool:
    """Whether `unit` is named itself (not only through a collective, nor as 督办领导) on one of these
    tasks: a digest tells such a unit how to apply for 销号 (knowledge.progress.unit_answers_for)."""
    return db.execute("SELECT 1 FROM assignments WHERE unit = ? AND task_id IN (SELECT value FROM json_each(?))"
                      " AND role != 'supervising_leaders' LIMIT 1", [unit, _ids(task_ids)]).fetchone() is not None
