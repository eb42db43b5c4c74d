"""Numbered items that assign work without naming units in a form the role finders know.

A plan's tasks are the items of its task level: where items name their units, their siblings on that
level are tasks too (the units may be in prose, or carried from an earlier item); in a plan without an
attached 清单, the items on that level under other sections are tasks as well (三、实施步骤, 四、保障措施);
a plan that names no units anywhere has its tasks on the level that holds most numbered paragraphs.
Items that frame the plan (指导思想, 基本原则, 主要目标 …) are never tasks, nor are the items of a section
so headed (一、总体要求).
"""
from __future__ import annotations

import re
from collections import Counter

from .lexicon import FRAMING_HEADINGS
from .outline import Node

_FRAMING = re.compile("|".join(FRAMING_HEADINGS))
MIN_TEXT = 20  # characters of running text that make an item more than a heading


def framing(node: Node) -> bool:
    """An item or section whose heading frames the plan (its first clause names 指导思想 and the like)."""
    head = re.split(r"[。；：，]", node.head.strip(), maxsplit=1)[0]
    return bool(_FRAMING.search(head)) and len(head) <= 12


def substantive(node: Node) -> bool:
    text = node.own_text()
    return len(text) >= MIN_TEXT and bool(re.search(r"[。；，]", text)) and not framing(node)


def _under_framing(node: Node) -> bool:
    return any(framing(a) for a in node.ancestors())


def _candidate(node: Node, chosen: set[int]) -> bool:
    return id(node) not in chosen and substantive(node) and not _under_framing(node) \
        and not any(id(d) in chosen for d in node.descendants())


def extend(root: Node, found: list[Node], attached_list: bool) -> list[Node]:
    """`found` (items with role information) plus the items of the task level that lack it."""
    chosen = {id(n) for n in found}
    nodes = root.descendants()
    if not found and attached_list:
        return found  # the tasks are in the 清单 or the table; the body only introduces them
    if not found:
        levels = Counter(n.level for n in nodes if substantive(n) and not _under_framing(n))
        if not levels:
            return found
        level = max(levels, key=lambda lv: (levels[lv], lv))
        added = {id(n) for n in nodes if n.level == level and _candidate(n, chosen)}
        return [n for n in nodes if id(n) in added]
    added: set[int] = set()
    for parent in {id(n.parent): n.parent for n in found if n.parent is not None}.values():
        levels = {c.level for c in parent.children if id(c) in chosen}
        added |= {id(c) for c in parent.children if c.level in levels and _candidate(c, chosen)}
    if not attached_list:
        level = Counter(n.level for n in found).most_common(1)[0][0]
        depth = Counter(len(n.ancestors()) for n in found).most_common(1)[0][0]
        for section in root.children:
            if framing(section) or any(id(d) in chosen for d in [section, *section.descendants()]):
                continue
            added |= {id(n) for n in section.descendants() if n.level == level and len(n.ancestors()) == depth
                      and _candidate(n, chosen)}
    return [n for n in nodes if id(n) in chosen or id(n) in added]
