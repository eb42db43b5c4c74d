"""Unlabelled role clauses in brackets after a measure, as State Council, provincial and city plans write
them: "（A、B、C等负责。列第一位者为牵头单位，下同）", "（X牵头，Y、Z参与）", "（X指导，Y负责落实。以下均需Y落实，
不再列出）", "（各地级以上市人民政府，省X厅，省Y局按职责分工负责）", "（A、B等和各有关省级人民政府负责）",
"（市发改委，市政府相关部门，各县市区政府）".

A bracket is a role clause when every comma-separated clause of its first sentence is a unit list with
or without a role verb (or a time such as 持续推进); bare lists take the role of the next verb, and a
bracket of bare lists only is a list of responsible units. The later sentences of the bracket are
notes that govern the items after it (see NOTE_FORMS).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import COLLECTIVE_PLACES, LOCALITY_ENDINGS, NOT_PLACE_ENDINGS, ORGAN_ENDINGS, ROLE_VERBS, TIME_WORDS
from .normalize import split_outside_brackets
from .units import modifiers_of_one_head

_UNIT_END = re.compile("(?:" + "|".join(sorted(ORGAN_ENDINGS + LOCALITY_ENDINGS + COLLECTIVE_PLACES, key=len,
                                               reverse=True)) + r")(?:等)?$")
_VERB = re.compile(r"^(?P<units>.+?)(?:等)?(?:均|分别|共同|具体)?(?P<verb>"
                   + "|".join(sorted({v for v, _ in ROLE_VERBS}, key=len, reverse=True)) + r")$")
_ROLE_OF = dict(ROLE_VERBS)
_WITH = re.compile(r"^(?P<lead>.+?)会同(?P<coop>.+?)(?:负责|落实|实施)?$")
_TIME = re.compile(TIME_WORDS)
# words that make a bracket an explanation, not a list of units: （以下简称自贸试验区）, （不含深圳市）
_NOT_A_LIST = re.compile(r"简称|包括|包含|含|即|指|除外|以下|下同|如|例如|试点|范围")
_FIRST_IS_LEAD = re.compile(r"列(?:第一|首)位(?:者|的)?(?:单位)?为牵头")
_CARRY = re.compile(r"以下(?:均|各项|任务)?(?:均需|均由|需|由)(?P<units>.+?)(?:负责|落实|参与)(?:[，,]|$)[^。]*不再(?:一一)?列出")


@dataclass
class RoleClause:
    """The roles one bracket assigns, and the notes it states for later items."""

    start: int
    end: int
    fields: dict[str, str] = field(default_factory=dict)  # role key → "A、B"; "deadline" → time text
    first_is_lead: bool = False  # 列第一位者为牵头单位（下同）
    carry: str = ""  # 以下均需X负责，不再列出 → X


def unit_list_like(text: str, lenient: bool = False) -> bool:
    """Every part (split on 、) names an organ or place; `lenient`: most parts do (a verb closed the list)."""
    parts = [p for p in re.split(r"[、]", text.strip()) if p]
    if not parts or any(len(p) > 30 or len(p) < 2 or re.search(r"[。；：]", p) for p in parts):
        return False
    if modifiers_of_one_head(parts):  # 环境保护重点区域、流域地方政府: one collective
        return True
    good = sum(1 for p in parts if _UNIT_END.search(_strip_bracket(p)))
    return good == len(parts) or (lenient and good >= 0.6 * len(parts) and bool(_UNIT_END.search(parts[-1])))


def _strip_bracket(p: str) -> str:
    return re.sub(r"（[^（）]*）$", "", p) or p


def _split_top(text: str, seps: str) -> list[str]:
    """Split on seps outside brackets (各镇（街道） stays whole)."""
    return [p.strip() for p in split_outside_brackets(text, seps) if p.strip()]


def _add(fields: dict[str, str], key: str, units: str) -> None:
    fields[key] = f"{fields[key]}、{units}" if key in fields else units


def _with_collective(units: str) -> list[str]:
    """"A、B等和各有关省级人民政府" → the list and the collective (等 ends the list, 和 joins a group)."""
    return [u for u in re.split(r"等和|等以及|等及", units) if u]


def parse_clauses(sentence: str) -> dict[str, str] | None:
    """Role fields of "X牵头，Y参与" and the other forms in the module docstring; None: not a role clause."""
    fields: dict[str, str] = {}
    pending: list[str] = []
    verbs = 0
    for clause in _split_top(sentence, "，,；"):
        if _TIME.search(clause) and not unit_list_like(clause):
            fields["deadline"] = f"{fields['deadline']}，{clause}" if "deadline" in fields else clause
            continue
        if (w := _WITH.match(clause)) and unit_list_like(w["lead"]) and unit_list_like(w["coop"], lenient=True):
            _add(fields, "lead_units", w["lead"])
            _add(fields, "cooperating_units", w["coop"])
            verbs += 1
            continue
        m = _VERB.match(clause)
        if m:
            groups = _with_collective(m["units"])
            if not all(unit_list_like(g, lenient=True) for g in groups):
                return None
            for units in pending + groups:
                _add(fields, _ROLE_OF[m["verb"]], units)
            pending, verbs = [], verbs + 1
            continue
        if not unit_list_like(clause) or _NOT_A_LIST.search(clause):
            return None
        pending.append(clause)
    if pending and verbs:
        return None  # "X牵头，Y": a list after the last verb has no role of its own
    if not verbs and any(len(u) < 3 for units in pending for u in units.split("、")):
        return None  # 各区县（市）: a bracket inside a name, not a list
    for units in pending:
        _add(fields, "responsible_units", units)
    return fields if any(k != "deadline" for k in fields) else None


def _brackets(text: str) -> list[tuple[int, int]]:
    """Top-level （…） spans."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "（":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "）" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i + 1))
    return out


def find_role_brackets(text: str) -> list[RoleClause]:
    """Every bracket of text that assigns roles, in order."""
    out: list[RoleClause] = []
    for a, b in _brackets(text):
        inner = text[a + 1:b - 1].strip()
        first, _, notes = inner.partition("。")
        fields = parse_clauses(first.strip())
        if fields is None:
            continue
        clause = RoleClause(a, b, fields, first_is_lead=bool(_FIRST_IS_LEAD.search(notes)))
        if carry := _CARRY.search(notes):
            clause.carry = carry["units"]
        out.append(clause)
    return out


def apply_list_notes(items: list) -> None:
    """Carry the notes of role brackets to the items they govern (RawItem: fields, first_is_lead, carry,
    list_id): 列第一位者为牵头单位，下同 makes the first unit of each later item without a lead its lead;
    以下均需X负责，不再列出 adds X as responsible to the later items of the same list."""
    first_is_lead = False
    carried: dict[int, str] = {}
    for item in items:
        if item.section != "body":
            continue
        first_is_lead = first_is_lead or item.first_is_lead
        fields = item.fields
        if first_is_lead and "lead_units" not in fields and fields.get("responsible_units"):
            first, *rest = _split_top(fields["responsible_units"], "、，")
            fields["lead_units"] = first
            if rest:
                fields["responsible_units"] = "、".join(rest)
            else:
                del fields["responsible_units"]
        carry = carried.get(item.list_id)
        if carry and not any(carry in (fields.get(k) or "") for k in fields):
            _add(fields, "responsible_units", carry)
        if item.carry:
            carried[item.list_id] = item.carry


# Prose: "X要…", "X应…", "X负责…", "X每年要…", "X要协助…", "X会同Y、Z等…" at the start of a clause.
# Between the subject and its verb: an adverb (每年, 切实), the time of the duty ("在开展…审计时，"), or what it
# answers for ("对本行政区域环境监管执法工作" 负领导责任).
_PROSE_SUBJECT = re.compile(r"(?:^|(?<=[。；，]))(?P<subj>[^，。；“”《》]{2,40}?)"
                            r"(?:，?(?:每年|每季度|每月|定期)|及时|切实|依法|在[^，。；]{2,30}时，?)?"
                            r"(?P<verb>要(?:协助|配合)?|应当?|须|必须|负责|(?:对[^，。；]{2,30}?)?负[^，。；]{0,2}责任|承担|会同)")
# a group named as one: "各类企业、事业单位和社会组织", "具备条件的乡镇（街道）及工业集聚区", "各省、市、县级人民政府"
_ONE_GROUP = re.compile(r"^(?:各类|各|具备条件的|有条件的|符合条件的|(?:[省市县区乡镇]、)+(?=[^和及]*$))")  # 市、县两级…部门


_LONG_END = re.compile("(?:" + "|".join(e for e in ORGAN_ENDINGS + LOCALITY_ENDINGS + COLLECTIVE_PLACES
                                        if len(e) > 1) + ")$")


def _shortest_unit(text: str) -> str | None:
    """The shortest prefix of text that names a unit ("有关部门组建…" → 有关部门, not 有关部)."""
    for end in range(2, min(len(text), 30) + 1):
        longer = _LONG_END.search(text[:end + 1])
        if _UNIT_END.search(text[:end]) and not text[:end].endswith(("等", *NOT_PLACE_ENDINGS)) \
                and not (longer and longer.start() < end):
            return text[:end]
    return None


def unit_run(text: str) -> list[str]:
    """The units listed at the start of text: "国家发展改革委、财政部等部门确定…" → [国家发展改革委, 财政部]."""
    out: list[str] = []
    pos = 0
    while (unit := _shortest_unit(text[pos:])) is not None:
        out.append(unit)
        pos += len(unit)
        if text[pos:pos + 1] != "、":
            break
        pos += 1
    return out


def find_prose_roles(text: str) -> dict[str, str]:
    """Units named as the subjects of obligations in running text, when a plan names them nowhere else."""
    fields: dict[str, str] = {}
    for m in _PROSE_SUBJECT.finditer(text):
        subj = re.sub(r"^(?:同时|并|另外|此外|其中|经|由|请)", "", m["subj"].strip())
        subj = re.sub(r"^[0-9.%％]+以上的", "", subj)  # "80%以上的环境监察机构"
        if m["verb"] == "会同":
            coop = unit_run(text[m.end():])
            if unit_list_like(subj) and coop:
                _add(fields, "lead_units", subj)
                _add(fields, "cooperating_units", "、".join(coop))
            continue
        key = "cooperating_units" if m["verb"] in ("要协助", "要配合") else "responsible_units"
        if (_ONE_GROUP.match(subj) and _UNIT_END.search(_strip_bracket(subj))) \
                or modifiers_of_one_head(subj.split("、")):  # 环境保护、工商、供电等部门和单位: one collective
            _add(fields, key, subj)
            continue
        units = [u for u in re.split(r"和|及", subj) if u]
        if not units or not all(unit_list_like(u) for u in units):
            continue
        for u in units:
            _add(fields, key, u)
    return fields
