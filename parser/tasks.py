"""Build a Task from the raw pieces of one item, whatever layout it came from (清单 text, table row,
body measure with a parenthetical)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from . import milestones, recurring
from .fields import ROLE_KEYS
from .lexicon import ONGOING_DEADLINE_WORDS, ONGOING_WORDS
from .model import MeasureGroup, Milestone, Task
from .unit_mentions import aliases_of, units_named_in
from .units import UnitDirectory, split_leaders, split_units_with_notes

_NOTE_ROLE = {"牵头": "lead_units", "配合": "cooperating_units", "协办": "cooperating_units"}
_ONGOING = re.compile("|".join(ONGOING_DEADLINE_WORDS))
_LOCALITY = re.compile(r"^(?![市省])\S{1,12}(县|区|旗|市|开发区|经开区|高新区|新区)$")


@dataclass
class Measure:
    text: str
    group: str | None = None  # unit heading it is listed under, e.g. （一）市发展和改革委员会


@dataclass
class RawItem:
    section: str  # "list" or "body"
    number: int | str
    title: str  # the first sentence or heading, before cutting
    problem: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # role keys, "deadline", "goal"
    measures: list[Measure] = field(default_factory=list)
    measure_text: str = ""  # body task: the measure paragraph(s) without the role parenthetical
    first_is_lead: bool = False  # its bracket says 列第一位者为牵头单位（下同）
    carry: str = ""  # its bracket says 以下均需X负责，不再列出: X
    list_id: int = 0  # items of one list share it (carried units stay within their list)
    where: str = ""  # its full outline number (四（二）), for citing it


SHORT_HEADING = 8  # a first sentence this short ("打通供应链条。") says too little: the title runs on


def make_title(text: str, section: str = "list") -> str:
    """Verbatim first sentence, without the final 。, cut to 60 characters; a body item whose first
    sentence is a short heading keeps its first 40 characters of running text, so it says what is done."""
    line = text.strip().split("\n", 1)[0].strip() if section == "body" else text.replace("\n", "").strip()
    m = re.search(r"[。；;！？!?]", line)
    first = line[:m.start()] if m else line
    if section == "body" and m and len(first) < SHORT_HEADING and line[m.end():].strip():
        return line[:40].rstrip("。；;，,")
    return first[:60]


def as_written(unit: str, value: str, doc_text: str, directory: UnitDirectory) -> str:
    """Keep the document's own form of a unit when the directory's full name never occurs in it
    (no outside knowledge: another city's 市住房城乡建设局 is not renamed to ours)."""
    if not doc_text:
        return unit
    written = [re.sub(r"等(?:有关|相关|其他)?(?:部门|单位)?$", "", p.strip()) for p in re.split(r"[、，,；;\s]", value)]
    if unit in written:
        return unit
    for p in written:  # a collective the directory names otherwise ("各区政府", not 各区)
        if re.search(r".{2}(政府|管委会)$", p) and directory.is_collective(p) and directory.resolve(p)[0] == unit:
            return p
    if unit in doc_text:
        return unit
    pieces = [re.sub(r"[（(][^（()）]*[）)]$|牵头$|配合$|^由|(人民政府|政府)$", "", p) for p in written]
    pieces = [p for p in pieces if len(p) >= 2]
    for p in pieces:
        if p == unit or directory.resolve(p)[0] == unit:
            return p
    best = max(pieces, key=lambda p: fuzz.ratio(p, unit), default=None)
    return best if best and fuzz.ratio(best, unit) >= 60 else unit


def _assign_units(raw: RawItem, directory: UnitDirectory, task: Task, doc_text: str = "") -> None:
    roles: dict[str, list[str]] = {}
    for key in ROLE_KEYS:
        if key not in raw.fields:
            continue
        value = raw.fields[key]
        if key == "supervising_leaders":
            roles[key] = split_leaders(value)
            continue
        for unit, note in split_units_with_notes(value, directory):
            unit = as_written(unit, value, doc_text, directory)
            role = _NOTE_ROLE.get(note or "", key)
            bucket = roles.setdefault(role, [])
            if unit not in bucket:
                bucket.append(unit)
        roles.setdefault(key, [])
    if raw.section == "list":
        for key in ("supervising_leaders", "principal_units", "lead_units", "cooperating_units"):
            roles.setdefault(key, [])
    else:
        roles.setdefault("lead_units", [])
        roles.setdefault("responsible_units", [])
    seen: set[str] = set()
    for key in ("lead_units", "responsible_units", "cooperating_units"):  # a unit once, in its strongest role
        if roles.get(key):
            roles[key] = [u for u in roles[key] if u not in seen]
            seen.update(roles[key])
    for key, units in roles.items():
        setattr(task, key, units)


def _localities(task: Task, directory: UnitDirectory) -> milestones.Localities:
    """The task's county-level units (collectives expanded) and every unit it names, for binding."""
    units: set[str] = set()
    assigned: set[str] = set()
    for key in ROLE_KEYS[1:]:
        for u in getattr(task, key) or []:
            assigned.add(u)
            members = directory.members(u)
            if members:
                units.update(members)
            elif _LOCALITY.match(u):
                units.add(u)
    names: dict[str, str] = {}
    for u in units | {u for u in assigned if directory.is_collective(u) or _LOCALITY.match(u)}:
        for alias in [u, *aliases_of(directory, u)]:
            if len(alias) >= 3 or alias == u:  # short place names (邵东) are places, not actors
                names.setdefault(alias, u)
    pattern = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True)))) if names else None
    return milestones.Localities(units, pattern, names, assigned | units)


def _bind_goals_to_groups(task: Task, raw: RawItem, loc: milestones.Localities) -> None:
    """A dated goal whose object is named in exactly one unit's measure group belongs to that unit."""
    groups: dict[str, str] = {}
    for m in raw.measures:
        if m.group:
            groups[m.group] = groups.get(m.group, "") + m.text
    if len(groups) < 2:
        return
    for ms in task.milestones:
        if ms.units or ms.source == "measure":
            continue
        hits = []
        for unit, text in groups.items():
            sm = SequenceMatcher(None, ms.text, text, autojunk=False)
            if sm.find_longest_match(0, len(ms.text), 0, len(text)).size >= 6:
                hits.append(unit)
        if len(hits) == 1 and hits[0] in loc.units and {hits[0]} < loc.units:
            ms.units = hits


# a time-limit field or column holding only a year ("完成时限：2025年", "2024—2025年"): that year's end
_YEAR_LIMIT = re.compile(r"\s*(?:(?:19|20)\d\d\s*年?\s*[-—–～~至到]\s*)?((?:19|20)\d\d)\s*年度?"
                         r"(?:内|前|以前|之前|完成|底前)?\s*[。；;]?\s*")


def _year_limit(deadline: str) -> list[Milestone]:
    m = _YEAR_LIMIT.fullmatch(deadline)
    return [Milestone(date(int(m.group(1)), 12, 31), deadline.strip(), "deadline")] if m else []


# In a plan that states no time limits item by item, an item is long-term work when its text says 长期坚持 or
# 持续推进 anywhere ("…，长期坚持。", "持续推进充电桩建设，力争年内…"), beside its dates if it has any. Where the
# plan states them (整改时限：…), only the stated limit says so: its narrative part's "持续推进…" is how, not when.
_ONGOING_TEXT = re.compile("|".join(ONGOING_WORDS))


def _ongoing_text(raw: RawItem) -> bool:
    return any(_ONGOING_TEXT.search(t) for t in [raw.title, raw.measure_text, *(m.text for m in raw.measures)] if t)


def build_task(raw: RawItem, directory: UnitDirectory, doc_year: int | None, doc_text: str = "",
               issued: date | None = None, limits_stated: bool = False) -> Task:
    task = Task(section=raw.section, number=raw.number, title=make_title(raw.title, raw.section),
                problem_text=raw.problem)
    _assign_units(raw, directory, task, doc_text)
    task.deadline_text = raw.fields.get("deadline")
    task.goal_text = raw.fields.get("goal")
    task.measures = [m.text for m in raw.measures] if raw.section == "list" else []
    loc = _localities(task, directory)
    found: list[Milestone] = []
    if raw.fields.get("deadline"):
        found += milestones.extract(raw.fields["deadline"], "deadline", loc, doc_year, issued=issued) \
            or _year_limit(raw.fields["deadline"])
    if raw.fields.get("goal"):
        found += milestones.extract(raw.fields["goal"], "goal", loc, doc_year, issued=issued)
    for m in raw.measures:
        group = [m.group] if m.group and m.group in loc.units and {m.group} < loc.units else None
        found += milestones.extract(m.text, "measure", loc, doc_year, default_units=group, issued=issued)
    if raw.measure_text:
        found += milestones.extract(raw.measure_text, "measure", loc, doc_year, issued=issued)
    task.milestones = found
    _bind_goals_to_groups(task, raw, loc)
    deadline = raw.fields.get("deadline") or ""
    task.ongoing = bool(_ONGOING.search(deadline)) or (not limits_stated and _ongoing_text(raw))

    def name_units(clause: str) -> list[str]:
        return units_named_in(directory, clause)

    # a recurring duty may be the time limit itself ("完成时限：每季度", "…，此后每半年一次")
    for part in [deadline, raw.fields.get("goal") or "", raw.measure_text] + [m.text for m in raw.measures]:
        task.recurring += recurring.extract(part, name_units)
    for m in raw.measures:
        if m.group:
            for r in task.recurring:
                if r.text and r.text in m.text and not r.units:
                    r.units = [m.group]
    groups: list[MeasureGroup] = []
    for m in raw.measures:
        if m.group:
            if groups and groups[-1].unit == m.group:
                groups[-1].count += 1
            else:
                groups.append(MeasureGroup(m.group, 1))
    task.measure_groups = groups
    task.full_text = "\n".join(x for x in [raw.problem, *(raw.fields.get(k, "") for k in ("deadline", "goal")),
                                          raw.measure_text, *task.measures] if x)
    return task
