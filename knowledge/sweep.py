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

import sqlite_utils

# current versions of real plans: the bundled example (documents.example) is never reminded about
CURRENT = "t.version = (SELECT current_version FROM documents d WHERE d.id = t.document_id AND d.example = 0)"
RECIPIENT_ROLES = ("principal_units", "lead_units", "cooperating_units", "responsible_units")


@dataclass
class Policy:
    lead_days: tuple[int, ...] = (30, 7, 1)
    overdue_every: int = 7  # days between overdue repeats
    escalate_after: int = 7  # days overdue before the 督办领导 are told too
    escalation_unit: str = "督办领导"  # fallback recipient when no leader has a channel of their own


@dataclass(slots=True)  # a busy day makes 100k+ of them
class Reminder:
    unit: str
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

    @property
    def key(self) -> str:
        return f"{self.item_uid}|{self.unit}|{self.kind}|{self.nominal.isoformat()}"


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
    """Who answers for the given tasks and milestones (only those: a large store has many more)."""
    ctx = _Context()
    for task_id, role, unit in db.execute(
            "SELECT task_id, role, unit FROM assignments WHERE task_id IN (SELECT value FROM json_each(?))"
            " ORDER BY task_id, position", [_ids(task_ids)]):
        target = ctx.leaders if role == "supervising_leaders" else ctx.units
        if role in RECIPIENT_ROLES or role == "supervising_leaders":
            lst = target.setdefault(task_id, [])
            if unit not in lst:
                lst.append(unit)
    for mid, unit in db.execute("SELECT milestone_id, unit FROM milestone_units"
                                " WHERE milestone_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                                [_ids(milestone_ids)]):
        ctx.bound.setdefault(mid, []).append(unit)
    for coll, member in db.execute("SELECT collective, member FROM collective_members ORDER BY rowid"):
        ctx.members.setdefault(coll, []).append(member)
    if "channels" in db.table_names():
        ctx.with_channel = {r[0] for r in db.execute("SELECT unit FROM channels")}
    return ctx


def _milestone_hits(db: sqlite_utils.Database, days: list[date], policy: Policy) -> list[tuple]:
    """Open milestones with a reminder on one of `days`: rows (id, uid, due, text, task id, section,
    number, title, day, due − day in days), in due, milestone, day order.

    SQLite does the date arithmetic over the (small) milestone rows first and looks up only the hits'
    tasks: a task row holds the whole text, so reading its status for every candidate milestone
    (tens of thousands in a large store, overdue ones included) would dominate the sweep."""
    horizon = max(days) + timedelta(days=max(policy.lead_days, default=0))
    return db.execute(f"""
        WITH hit AS MATERIALIZED (
            SELECT * FROM (
                SELECT m.id, m.uid, m.due, m.text, m.task_id, c.value AS day,
                       CAST(julianday(m.due) - julianday(c.value) AS INTEGER) AS delta
                FROM milestones m JOIN json_each(?) c WHERE m.done = 0 AND m.due <= ?)
            WHERE delta >= 0 AND (delta = 0 OR delta IN (SELECT value FROM json_each(?)))
               OR delta < 0 AND -delta % ? = 0)
        SELECT m.id, m.uid, m.due, m.text, t.id, t.section, t.number, t.title, m.day, m.delta
        FROM hit m JOIN tasks t ON t.id = m.task_id WHERE t.status = 'open' AND {CURRENT}
        ORDER BY m.due, m.id, m.day""", [json.dumps([d.isoformat() for d in days]), horizon.isoformat(),
                                         json.dumps(list(policy.lead_days)), policy.overdue_every]).fetchall()


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
    if not days:
        return []
    policy = policy or Policy()
    last = max(days)
    day_set = set(days)
    hits = _milestone_hits(db, days, policy)
    starting = [e for e in ("week", "month", "quarter", "half_year", "year") if _period_start(last, e) in day_set]
    duties = db.execute(
        f"SELECT r.id, r.uid, r.every, r.text, r.units, t.id, t.section, t.number, t.title FROM recurring r"
        f" JOIN tasks t ON t.id = r.task_id WHERE r.every IN (SELECT value FROM json_each(?))"
        f" AND t.status = 'open' AND {CURRENT} ORDER BY r.id", [json.dumps(starting)]).fetchall()
    ctx = _context(db, {h[4] for h in hits} | {d[5] for d in duties}, {h[0] for h in hits})
    out: list[Reminder] = []
    for mid, group in groupby(hits, key=lambda h: h[0]):
        group = list(group)
        _, muid, due_s, text, task_id, section, number, title = group[0][:8]
        due = date.fromisoformat(due_s)
        kinds: list[tuple[str, date]] = []
        for *_, day, delta in group:
            n = date.fromisoformat(day)
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
            for unit in (leaders if kind == "escalation" else units):
                out.append(Reminder(unit, kind, n, task_id, section, number, title, text, due, muid,
                                    milestone_id=mid))
    for rid, ruid, every, text, units_json, task_id, section, number, title in duties:
        start = _period_start(last, every)
        own = [u for u in json.loads(units_json) if u in ctx.units.get(task_id, []) or u in ctx.members]
        for unit in ctx.expand(own or ctx.units.get(task_id, [])):
            out.append(Reminder(unit, "recurring", start, task_id, section, number, title, text,
                                item_uid=ruid, recurring_id=rid, every=every))
    return out
