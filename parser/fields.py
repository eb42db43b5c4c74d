"""Role and time-limit information attached to a task, in the forms official plans use:

- labelled lines of a 清单 item: 市级督办领导：… / 主体责任单位：… / 整改时限：…
- a parenthetical after a measure: （牵头单位：…；责任单位：…；完成时限：…）, either width
- a closing sentence: 由市交通运输局牵头，市公安局、市生态环境局配合，…
"""
from __future__ import annotations

import re

from .lexicon import TIME_WORDS
from .paragraphs import FIELD_LABEL, FIELD_LABELS, label_words
from .role_clauses import unit_list_like, unit_run

ROLE_KEYS = ("supervising_leaders", "principal_units", "lead_units", "cooperating_units", "responsible_units")
_PAREN_LABEL = re.compile(rf"[（(]\s*(?:{label_words(*ROLE_KEYS)})\s*[:：]")
_SEGMENT = re.compile(r"^\s*([^:：]{2,8})\s*[:：]\s*(.*)$", re.S)
# （牵头单位：…；责任单位：…） or （牵头单位：…，配合单位：…）
_PAREN_SEGMENTS = re.compile(rf"[；;]|(?:[，,]|\s)\s*(?=(?:{label_words()})\s*[:：])")

def key_of_label(label: str) -> str | None:
    if label.endswith("领导"):  # 市级督办领导, 牵头省领导, 责任领导, 包案市领导 …
        return "supervising_leaders"
    if "时限" in label:  # 时限 / 整改时限要求
        return "deadline"
    for names, key in FIELD_LABELS:
        if any(n in label for n in names):
            return key
    return None


_NEXT_LABEL = re.compile(r"(?:(?<=\s)|(?<=[；;。，,]))\s*(?=" + FIELD_LABEL.pattern.lstrip("^") + ")")


def label_fields(paragraph: str) -> list[tuple[str, str]]:
    """[(field key, value)] when the paragraph opens with a label such as 整改时限：…; a line may carry
    several ("责任单位：市生态环境局  配合单位：市水利局  完成时限：2023年9月底前")."""
    if not FIELD_LABEL.match(paragraph):
        return []
    cuts = [0] + [m.start() for m in _NEXT_LABEL.finditer(paragraph) if m.start() > 0] + [len(paragraph)]
    out = []
    for a, b in zip(cuts, cuts[1:]):
        seg = paragraph[a:b].strip()
        m = FIELD_LABEL.match(seg)
        key = key_of_label(m.group(1)) if m else None
        if key:
            out.append((key, seg[m.end():].strip().rstrip("；;")))
    return out



def find_parenthetical(text: str) -> tuple[int, int, dict[str, str]] | None:
    """The last （牵头单位：…；责任单位：…） in text: (start, end, {field key: raw value})."""
    starts = [m.start() for m in _PAREN_LABEL.finditer(text)]
    if not starts:
        return None
    start = starts[-1]
    depth, end = 0, len(text)
    for i in range(start, len(text)):
        c = text[i]
        if c in "（(":
            depth += 1
        elif c in "）)":
            depth -= 1
            if depth == 0:
                end = i + 1
                break
    inner = text[start + 1:end - 1 if end <= len(text) and text[end - 1:end] in "）)" else end]
    fields: dict[str, str] = {}
    for seg in _PAREN_SEGMENTS.split(inner):
        m = _SEGMENT.match(seg)
        if not m:
            continue
        key = key_of_label(m.group(1))
        if key and m.group(2).strip():
            fields[key] = (fields[key] + "、" if key in fields else "") + m.group(2).strip()
    _move_time_out_of_units(fields)
    return (start, end, fields) if fields else None


def _move_time_out_of_units(fields: dict[str, str]) -> None:
    """（责任单位：A、B，2023年12月31日前完成）: the date after the units is the time limit, not a unit."""
    for key in ROLE_KEYS:
        if key not in fields:
            continue
        parts = re.split(r"[，,]", fields[key])
        times = [p for p in parts if TIME_CLAUSE.search(p) and not _unit_list_like(p)]
        if times:
            units = "，".join(p for p in parts if p not in times)
            if units.strip():
                fields[key] = units
            else:
                del fields[key]
            fields.setdefault("deadline", "，".join(t.strip() for t in times))


_INLINE_LABEL = re.compile(rf"(?:(?<=^)|(?<=[。；;！？，,\s]))\s*(?:(?:市直|市级|县级)?(?:{label_words(*ROLE_KEYS, 'deadline')}))"
                           r"\s*[:：]")


def find_inline_fields(text: str, roles_required: bool = True) -> tuple[int, dict[str, str]] | None:
    """Unbracketed labels closing a paragraph: "…。责任单位：市生态环境局（牵头），市公安局。完成时限：6月底前"
    (with `roles_required`, only when a role is among them)."""
    starts = [m.start() for m in _INLINE_LABEL.finditer(text)]
    if not starts:
        return None
    first = starts[0]
    fields: dict[str, str] = {}
    bounds = starts + [len(text)]
    for a, b in zip(bounds, bounds[1:]):
        m = _SEGMENT.match(text[a:b].strip().rstrip("。；;"))
        if not m:
            continue
        key = key_of_label(m.group(1))
        value = m.group(2).strip().rstrip("。；;，,")
        if key and key not in ("goal", "measures") and value:
            fields[key] = value
    if not fields or (roles_required and not any(k in ROLE_KEYS for k in fields)):
        return None
    return first, fields


def _units_after(text: str) -> str:
    """"有关部门组建协调小组…" → 有关部门: the units that open text, joined with 、 ("" if none)."""
    return "、".join(unit_run(text))


def _unit_list_like(s: str) -> bool:
    """Every part (split on 、，) names an organ or a place, by the lexicon's endings."""
    parts = [p for p in re.split(r"[，,]", s.strip()) if p]
    return bool(parts) and all(unit_list_like(p.rstrip("等")) for p in parts)


_LEAD_SENTENCE = re.compile(r"^(?:由)?(?P<lead>[^。；;，,]{2,80}?)(?:共同)?牵头(?:负责|抓总|组织实施)?(?:[，,、](?P<rest>.*))?$")
_COOP_CLAUSE = re.compile(r"^(?P<units>.{2,120}?)(?:配合|参与|协同|协助|协办)|^(?:会同|联合|协同)(?P<with>.{2,120})$")
# "X要会同Y于…开展…": the roles open the measure sentence itself, which stays the measure
_WITH_SENTENCE = re.compile(r"^(?:由)?(?P<lead>[^，,。；;]{2,40}?)(?:要|应|将|应当|需)?(?:会同|联合)"
                            r"(?P<coop>[^，,。；;]{2,80}?)(?=于|在|对|按|开展|推进|建立|完成|制定|组织|做好|加强|[，,]|$)")
_RESP_CLAUSE = re.compile(r"^(?P<units>.{2,120}?)(?:具体|按职责分工|按职责|分别)?(?:负责(?:组织)?(?:落实|实施|推进)?|"
                          r"抓好落实|组织实施|抓好|组织|落实|实施|推进)")
# "牵头单位为X，配合单位为Y": a role named in a sentence rather than a label
_ROLE_IS = re.compile(r"^(?P<label>(?:牵头|配合|协办|责任)(?:单位|部门))(?:为|是)(?P<units>.+)$"
                      r"|^(?P<units2>.+?)(?:为|是)(?P<label2>(?:牵头|配合|协办|责任)(?:单位|部门))$")  # or "X为牵头单位"


_RESP_ONLY = re.compile(r"^(?:由)?(?P<units>[^，,。；;]{2,80}?)(?:具体|按职责分工|按职责|分别)?"
                        r"(?:负责(?:组织)?(?:落实|实施|推进)?|为责任单位)$")
# "…牵头，…参与，每季度开展一次联合执法": a recurring duty in the role sentence stays with the measure
TAIL = "tail"
_RECURRING_CLAUSE = re.compile(r"^(?:此后|以后|今后)?(?:每|逐)(?:年|半年|季度?|月|周|旬)")
TIME_CLAUSE = re.compile(TIME_WORDS)


def _joined(before: str | None, clause: str) -> str:
    """Time clauses of one sentence, kept together ("2025年—2027年分年度推进，2027年底前见到明显成效")."""
    return f"{before}，{clause.strip()}" if before else clause.strip()


def _coop_units(clause: str) -> str | None:
    """The units of "Y配合" / "会同Y" (a clause of a role sentence), when they read as units."""
    cm = _COOP_CLAUSE.match(clause)
    units = cm and (cm.group("units") or cm.group("with"))
    return units if units and _unit_list_like(units) else None


def _role_is(clause: str) -> tuple[str, str] | None:
    """("牵头单位", units) of "牵头单位为X" or "X为牵头单位"."""
    m = _ROLE_IS.match(clause)
    if not m:
        return None
    return (m.group("label"), m.group("units")) if m.group("label") else (m.group("label2"), m.group("units2"))


# "由王副市长负责，市住建局牵头，…": a person leads the work as its supervising leader, never as a unit
_PERSON_CLAUSE = re.compile(r"(?:^|(?<=[。；;]))\s*由?(?P<who>[^，,。；;]{0,12}?(?:副?(?:省|市|县|区|州)长|书记|秘书长|主任|同志))"
                            r"(?:负责|督办|牵头|分管|挂帅)[，,]")


def find_role_sentence(text: str) -> tuple[str, dict[str, str]] | None:
    """find_role_sentence_of_units, with a person's clause in it taken as the supervising leader:
    (the text without the role sentence and the person's clause, {field key: raw value})."""
    person = _PERSON_CLAUSE.search(text)
    if person is not None:
        text = text[:person.start()] + text[person.end():]
    found = find_role_sentence_of_units(text)
    if found is None:
        return None
    start, end, fields = found
    return text[:start] + text[end:], {**fields, "supervising_leaders": person["who"]} if person else fields


def find_role_sentence_of_units(text: str) -> tuple[int, int, dict[str, str]] | None:
    """A sentence "X牵头，Y配合/负责…" among the item's last three → (start, end, {field key: raw value}):
    text[start:end] is the role sentence, what comes before and after it stays the measure (and keeps its
    dates); a recurring duty among its clauses comes back under TAIL, for the measure text."""
    sentences = [m for m in re.finditer(r"[^。；;]+[。；;]?", text)]
    for m in reversed(sentences[-3:]):
        sent = m.group(0).strip().rstrip("。；;")
        if sent[:1] in "（(" and sent[-1:] in "）)":  # （市财政局负责，持续推进）
            sent = sent[1:-1].strip().rstrip("。；;")
        first, *later = re.split(r"[，,]", sent)
        only = _RESP_ONLY.match(first)  # "由市公安局负责。" / "市公安局为责任单位。" / "…负责，6月底前完成"
        if only and _unit_list_like(only.group("units")):
            # then time clauses, units that assist ("…负责，市直各部门配合") or more units that carry it out
            # ("…负责，各市州人民政府落实")
            times = [c.strip() for c in later if TIME_CLAUSE.search(c)]
            coop = [u for c in later if not TIME_CLAUSE.search(c) and (u := _coop_units(c.strip()))]
            more = [rm.group("units") for c in later if (rm := _RESP_CLAUSE.match(c.strip()))
                    and _unit_list_like(rm.group("units")) and not TIME_CLAUSE.search(c) and not _coop_units(c.strip())]
            if len(more) + len(times) + len(coop) == len(later):
                fields = {"responsible_units": "、".join([only.group("units"), *more])}
                if coop:
                    fields["cooperating_units"] = "、".join(coop)
                if times:
                    fields["deadline"] = "，".join(times)
                return m.start(), m.end(), fields
        wm = _WITH_SENTENCE.match(sent)
        if wm and _unit_list_like(wm.group("lead")) and _unit_list_like(wm.group("coop")) \
                and (coop := _units_after(wm.group("coop"))):
            return m.end(), m.end(), {"lead_units": wm.group("lead"), "cooperating_units": coop}  # the sentence stays
        named = [_role_is(c.strip()) for c in [first, *later]]
        if named[0] and _unit_list_like(named[0][1]):
            fields = {}
            for c, rm in zip([first, *later], named):
                if rm and _unit_list_like(rm[1]):
                    key = key_of_label(rm[0])
                    fields[key] = (fields[key] + "、" if key in fields else "") + rm[1]
                elif TIME_CLAUSE.search(c):
                    fields["deadline"] = _joined(fields.get("deadline"), c)
            return m.start(), m.end(), fields
        lm = _LEAD_SENTENCE.match(sent)
        if not lm or not _unit_list_like(lm.group("lead")):
            continue
        fields = {"lead_units": lm.group("lead")}
        for clause in re.split(r"[，,]", lm.group("rest") or ""):
            if _RECURRING_CLAUSE.match(clause.strip()):
                fields[TAIL] = _joined(fields.get(TAIL), clause)
                continue
            if TIME_CLAUSE.search(clause):
                fields["deadline"] = _joined(fields.get("deadline"), clause)
                continue
            if units := _coop_units(clause.strip()):
                fields["cooperating_units"] = units
                continue
            rm = _RESP_CLAUSE.match(clause)
            if rm and _unit_list_like(rm.group("units")):
                fields["responsible_units"] = rm.group("units")
        return m.start(), m.end(), fields
    return None
