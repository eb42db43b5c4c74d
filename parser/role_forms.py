"""Where a body item names its units, as an ordered table of named forms: the first form that finds roles in
the item's text wins (a labelled bracket before unlabelled ones, labels before sentences, prose last).

Each finder takes the item's text and returns (fields, notes, the text left as the measure) or None.
Fields are raw role values by key (lead_units …, deadline); notes carry what a bracket says for later
items (列第一位者为牵头单位, 以下均需X负责).
"""
from __future__ import annotations

from typing import Callable

from .fields import ROLE_KEYS, find_inline_fields, find_parenthetical, find_role_sentence
from .role_clauses import find_prose_roles, find_role_brackets

Found = tuple[dict[str, str], dict[str, object], str]


def labelled_bracket(text: str) -> Found | None:
    """（牵头单位：X；配合单位：Y；完成时限：…）"""
    paren = find_parenthetical(text)
    if paren is None:
        return None
    start, end, fields = paren
    return fields, {}, text[:start] + text[end:]


def role_brackets(text: str) -> Found | None:
    """（X牵头，Y参与） / （A、B等负责。列第一位者为牵头单位，下同） — every such bracket of the item."""
    brackets = find_role_brackets(text)
    if not brackets:
        return None
    fields: dict[str, str] = {}
    notes: dict[str, object] = {}
    for b in brackets:
        for key, value in b.fields.items():
            fields[key] = f"{fields[key]}、{value}" if key in fields and key != "deadline" else value
        notes["first_is_lead"] = notes.get("first_is_lead") or b.first_is_lead
        notes["carry"] = notes.get("carry") or b.carry
    for b in reversed(brackets):
        text = text[:b.start] + text[b.end:]
    return fields, notes, text


def inline_labels(text: str) -> Found | None:
    """"…。责任单位：X（牵头），Y。完成时限：6月底前" — unbracketed labels closing the item, or a role sentence
    followed by a time label of its own ("由X牵头，Y配合。时间要求：2024年11月底前。")."""
    inline = find_inline_fields(text, roles_required=False)
    if inline is None:
        return None
    start, fields = inline
    if any(k in ROLE_KEYS and k != "supervising_leaders" for k in fields):
        return dict(fields), {}, text[:start]
    found = find_role_sentence(text[:start])
    if found is None:
        return None
    merged = dict(fields)
    for k, v in found[1].items():
        merged.setdefault(k, v)
    return merged, {}, found[0]


def role_sentence(text: str) -> Found | None:
    """"由X牵头，Y配合，…" / "X负责" / "X要会同Y于…" among the item's last sentences; the sentences after it
    stay in the measure ("X负责。2025年3月底前出台…")."""
    found = find_role_sentence(text)
    return (dict(found[1]), {}, found[0]) if found else None


def prose_subjects(text: str) -> Found | None:
    """"各级环境保护部门和公安机关要…": the subjects of obligations, when nothing above names a unit."""
    fields = find_prose_roles(text)
    return (fields, {}, text) if fields else None


ROLE_FORMS: list[tuple[str, Callable[[str], Found | None]]] = [
    ("labelled_bracket", labelled_bracket),
    ("role_brackets", role_brackets),
    ("inline_labels", inline_labels),
    ("role_sentence", role_sentence),
    ("prose_subjects", prose_subjects),
]


def find_roles(text: str) -> tuple[str, Found] | None:
    """The first form of ROLE_FORMS that finds roles in text: (its name, what it found)."""
    for name, finder in ROLE_FORMS:
        found = finder(text)
        if found is not None:
            return name, found
    return None


def assigns_roles(text: str) -> bool:
    """Whether an item names its units in one of the forms above (prose subjects alone make no task: an
    item is found by them only beside items that name units, see task_levels)."""
    return any(finder(text) is not None for name, finder in ROLE_FORMS if name != "prose_subjects")
