"""Task identity across versions of a document, and what changed between two versions.

Tasks match by section and number when the titles still agree, then by text similarity (numbering
shifted by an inserted or removed item). A match keeps the task's identity (uid): progress, 销号
and reminder history carry over. Unmatched old tasks are withdrawn, unmatched new ones added.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from parser import ROLES, Plan


@dataclass
class Snap:
    """What a diff compares of one task, from a stored version or a freshly parsed file."""

    section: str
    number: str
    title: str
    text: str
    units: dict[str, list[str]]
    deadline_text: str | None
    milestones: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (due, text, units)
    ref: object = None  # task id or Task, for the caller

    def head(self) -> dict:
        return {"section": self.section, "number": int(self.number) if self.section == "list" and
                self.number.isdigit() else self.number, "title": self.title}


def snaps_of_plan(plan: Plan) -> list[Snap]:
    return [Snap(t.section, str(t.number), t.title, t.full_text or t.title,
                 {r: list(getattr(t, r) or []) for r in ROLES}, t.deadline_text,
                 [(m.due.isoformat(), m.text, tuple(m.units)) for m in t.milestones], t) for t in plan.tasks]


def snaps_of_version(db, document_id: int, version: int) -> list[Snap]:
    out = []
    for tid, section, number, title, text, deadline in db.execute(
            "SELECT id, section, number, title, full_text, deadline_text FROM tasks WHERE document_id=? AND version=?"
            " ORDER BY id", [document_id, version]).fetchall():
        units: dict[str, list[str]] = {r: [] for r in ROLES}
        for role, unit in db.execute("SELECT role, unit FROM assignments WHERE task_id=? ORDER BY position", [tid]):
            units[role].append(unit)
        ms = []
        for mid, due, mtext in db.execute("SELECT id, due, text FROM milestones WHERE task_id=? ORDER BY position",
                                          [tid]).fetchall():
            # insertion (= source) order, as in a parsed plan; the primary key index would sort by name
            bound = tuple(u for (u,) in db.execute("SELECT unit FROM milestone_units WHERE milestone_id=?"
                                                   " ORDER BY rowid", [mid]))
            ms.append((due, mtext, bound))
        out.append(Snap(section, number, title, text, units, deadline, ms, tid))
    return out


_NOT_CONTENT = re.compile(r"[\W_]+")  # whitespace and punctuation, after NFKC has unified the widths


def plain(text: str | None) -> str:
    """What of a text is content: "2022 年 12 月，" and "2022年12月" are the same; so are full- and
    half-width forms ("１３" / "13"), and the text of one plan read from .pdf, .docx or .txt."""
    return _NOT_CONTENT.sub("", unicodedata.normalize("NFKC", text or ""))


def fingerprint(snaps: list[Snap]) -> str:
    """One digest of a version's content (tasks, their text, dates and units), blind to layout."""
    content = [(s.section, plain(s.number), plain(s.title), plain(s.text), plain(s.deadline_text),
                {r: us for r, us in sorted(s.units.items()) if us},
                sorted((due, plain(text), sorted(units)) for due, text, units in s.milestones)) for s in snaps]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def _similarity(a: Snap, b: Snap) -> float:
    return max(fuzz.ratio(a.title, b.title), fuzz.ratio(a.text[:300], b.text[:300])) / 100


def match(old: list[Snap], new: list[Snap]) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    used_old, used_new = set(), set()
    # Unchanged tasks first, wherever their number went (same number preferred on a tie): otherwise a
    # shifted task could be taken by the number pass below for a look-alike neighbour ("《…法》…未制定
    # 贯彻落实方案" items share 60% of their titles) and be reported as withdrawn + added.
    scores = ((_similarity(o, n), o.number != n.number, i, j) for i, o in enumerate(old)
              for j, n in enumerate(new) if o.section == n.section)
    for _, _, i, j in sorted((-s, moved, i, j) for s, moved, i, j in scores if s >= 0.95):
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    index = {(s.section, s.number): i for i, s in enumerate(old)}
    for j, n in enumerate(new):
        i = index.get((n.section, n.number))
        if j not in used_new and i is not None and i not in used_old and _similarity(old[i], n) >= 0.6:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    candidates = sorted(((_similarity(o, n), i, j) for i, o in enumerate(old) if i not in used_old
                         for j, n in enumerate(new) if j not in used_new if o.section == n.section), reverse=True)
    for score, i, j in candidates:
        if score < 0.75:
            break
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    return sorted(pairs, key=lambda p: p[1])


def _milestone_changes(a: Snap, b: Snap) -> list[dict]:
    """Dates moved (same text, other date), added and removed dated items."""
    changes = []
    old = list(a.milestones)
    new = list(b.milestones)
    for m in list(new):
        same = next((o for o in old if o[0] == m[0] and plain(o[1]) == plain(m[1]) and o[2] == m[2]), None)
        if same:  # the same date, text (but for spacing and punctuation) and units: no change
            old.remove(same)
            new.remove(m)
    for m in list(new):
        same_text = next((o for o in old if fuzz.ratio(plain(o[1]), plain(m[1])) >= 80), None)
        if same_text:
            old.remove(same_text)
            new.remove(m)
            if same_text[0] != m[0]:
                changes.append({"field": "milestone_due", "text": m[1], "units": list(m[2]),
                                "before": same_text[0], "after": m[0]})
            elif same_text[2] != m[2]:
                changes.append({"field": "milestone_units", "text": m[1], "before": list(same_text[2]),
                                "after": list(m[2])})
    changes += [{"field": "milestone_added", "text": m[1], "units": list(m[2]), "before": None, "after": m[0]}
                for m in new]
    changes += [{"field": "milestone_removed", "text": m[1], "units": list(m[2]), "before": m[0], "after": None}
                for m in old]
    return changes


def task_changes(a: Snap, b: Snap) -> list[dict]:
    """Real changes only: a number, a title's or a time limit's words, a unit, a date."""
    changes: list[dict] = []
    if plain(a.number) != plain(b.number):
        changes.append({"field": "number", "before": a.number, "after": b.number})
    if plain(a.title) != plain(b.title):
        changes.append({"field": "title", "before": a.title, "after": b.title})
    if plain(a.deadline_text) != plain(b.deadline_text):
        changes.append({"field": "deadline_text", "before": a.deadline_text, "after": b.deadline_text})
    for role in ROLES:
        before, after = a.units.get(role) or [], b.units.get(role) or []
        changes += [{"field": role, "unit": u, "before": None, "after": "added"} for u in after if u not in before]
        changes += [{"field": role, "unit": u, "before": "removed", "after": None} for u in before if u not in after]
    return changes + _milestone_changes(a, b)


def diff(old: list[Snap], new: list[Snap]) -> dict:
    pairs = match(old, new)
    mo, mn = {i for i, _ in pairs}, {j for _, j in pairs}
    changed = []
    for i, j in pairs:
        ch = task_changes(old[i], new[j])
        if ch:
            changed.append({**new[j].head(), "before_number": old[i].head()["number"], "changes": ch})
    return {"added": [new[j].head() for j in range(len(new)) if j not in mn],
            "withdrawn": [old[i].head() for i in range(len(old)) if i not in mo],
            "changed": changed}
