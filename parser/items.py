"""Find the tasks in the outline tree: the first node on each path that carries role information
(labelled 清单 fields, a （牵头单位：…） parenthetical, or a "X牵头，Y配合" sentence)."""
from __future__ import annotations

import re

from .fields import ROLE_KEYS, TAIL, TIME_CLAUSE, label_fields
from .outline import Node
from .paragraphs import is_heading_like
from . import lexicon, task_levels
from .role_forms import ROLE_FORMS, assigns_roles, labelled_bracket
from .tasks import Measure, RawItem

def cn_number(label: str) -> int | None:
    """一 → 1, 十三 → 13, 二十五 → 25, 一百零二 → 102; digits pass through (the lexicon's reading)."""
    return lexicon.cn_value(label)


def _label_text(node: Node) -> str:
    m = node.marker
    return {1: m.label, 2: f"（{m.label}）", 3: m.label, 4: f"（{m.label}）", 5: m.label}[m.level]


def _labelled(node: Node) -> list[tuple[int, str, str]]:
    return [(i, key, value) for i, p in enumerate(node.paragraphs) for key, value in label_fields(p)]


def _has_roles(node: Node) -> bool:
    if any(k in ROLE_KEYS for _, k, _ in _labelled(node)):
        return True
    return assigns_roles(node.own_text())


def _closes_parent(n: Node) -> bool:
    """（三）X。1. …  2. …（牵头单位：…）: when only the last numbered sub-item carries the roles, they
    close the whole measure, not just that sub-item (a top-level 一、 section is never merged so)."""
    if n.marker is None or n.marker.level < 2 or len(n.children) < 2:
        return False
    *rest, last = n.children
    return _has_roles(last) and not last.children and not any(_subtree_has_roles(c) for c in rest)


def _subtree_has_roles(n: Node) -> bool:
    return _has_roles(n) or any(_subtree_has_roles(c) for c in n.children)


def find_task_nodes(root: Node, extend: bool = False, attached_list: bool = False) -> list[Node]:
    """The task items of a tree: those with role information, and with `extend` the items of their
    level that lack it (see task_levels)."""
    out: list[Node] = []

    def walk(n: Node) -> None:
        if n.marker is not None and (_has_roles(n) or _closes_parent(n)):
            out.append(n)
            # two levels that both assign work: （一） with its units and 1．2． with units of their own
            if not is_list_style(n) and not _closes_parent(n) and sum(_has_roles(c) for c in n.children) >= 2:
                for c in n.children:
                    walk(c)
            return
        for c in n.children:
            walk(c)

    walk(root)
    found = _with_numbered_siblings(out) if out else out
    return task_levels.extend(root, found, attached_list) if extend else found


def _with_numbered_siblings(found: list[Node]) -> list[Node]:
    """A numbered item among numbered tasks is a task too, when most of its siblings are and it is
    not a heading over items of its own: "2.推进落后产能退出。2024年底前完成…" between items that name
    their units still has a deadline to keep (it gets no units)."""
    chosen = {id(n) for n in found}
    added: set[int] = set()
    parents = {id(n.parent): n.parent for n in found if n.parent is not None}
    for parent in parents.values():
        tasks = [c for c in parent.children if id(c) in chosen]
        level = tasks[0].level
        same = [c for c in parent.children if c.level == level]
        if len(tasks) < 2 or 2 * len(tasks) < len(same):
            continue
        for c in same:
            if id(c) not in chosen and not c.children and _has_content(c):
                added.add(id(c))
    if not added:
        return found
    root = found[0]
    while root.parent is not None:
        root = root.parent
    return [n for n in root.descendants() if id(n) in chosen or id(n) in added]  # in document order


def _has_content(node: Node) -> bool:
    """A sentence with a time limit in it (an exhortation such as "各级党委要切实负责" is no task)."""
    text = node.own_text()
    return len(text) >= 12 and bool(re.search(r"[。；;，,]", text)) and bool(TIME_CLAUSE.search(text))


def _measures(node: Node, lead_in: str) -> list[Measure]:
    """Numbered measures under a 清单 item; a short （一）X heading groups the measures below it."""
    out: list[Measure] = []
    for child in node.children:
        if child.marker.level <= 2 and is_heading_like(child.paragraphs[0]) and child.children \
                and len(child.paragraphs) == 1:
            for grandchild in child.children:
                out.append(Measure(grandchild.all_text(), group=child.head))
        else:
            out.append(Measure(child.all_text()))
    if lead_in and not out:
        out += [Measure(m) for m in _inline_numbered(lead_in)]
    return out


_INLINE_NUMBER = re.compile(r"(?:^|(?<=[。；;]))\s*(?:\d{1,2}[.．、]|[（(]\d{1,2}[）)])\s*(?=\d{4}\s*年|\d{1,2}\s*月|[^\d\s])")


def _inline_numbered(text: str) -> list[str]:
    """"1.开展排查。2.实施改造。" written on one line: one measure each (from 1, in order); else the text."""
    starts = [m for m in _INLINE_NUMBER.finditer(text)]
    numbers = [int(re.sub(r"\D", "", m.group(0))) for m in starts]
    if len(starts) < 2 or starts[0].start() != 0 or numbers != list(range(1, len(numbers) + 1)):
        return [text]
    bounds = [m.start() for m in starts] + [len(text)]
    return [text[m.end():b].strip() for m, b in zip(starts, bounds[1:])]


def list_item(node: Node, section: str) -> RawItem:
    """A 清单 item: problem text, then labelled fields, then numbered measures."""
    labels = _labelled(node)
    first = labels[0][0] if labels else len(node.paragraphs)
    problem = "".join([node.head] + node.paragraphs[1:first])
    fields: dict[str, str] = {}
    lead_in = ""
    for j, (i, key, value) in enumerate(labels):
        end = labels[j + 1][0] if j + 1 < len(labels) else len(node.paragraphs)
        extra = "".join(node.paragraphs[i + 1:end])
        if key == "measures":
            lead_in = (value + extra).strip()
        else:
            fields[key] = (fields.get(key, "") + value + extra).strip()
    number = cn_number(node.marker.label) if node.marker.level in (1, 3) else None
    item = RawItem(section, number if number is not None else _label_text(node), problem, problem, fields)
    item.measures = _measures(node, lead_in)
    split = len(item.measures) > 1 and not node.children  # the lead-in was the measures, numbered inline
    item.measure_text = lead_in if item.measures and lead_in and item.measures[0].text != lead_in and not split else ""
    return item


def body_item(node: Node, number: str, own_only: bool = False) -> RawItem:
    """A body measure closed by a role parenthetical, labelled role lines or a role sentence
    (`own_only`: its numbered sub-items are tasks of their own, so their text is not its)."""
    labelled = _labelled(node)
    skip = {i for i, _, _ in labelled}
    own = [node.head] + [p for i, p in enumerate(node.paragraphs[1:], 1) if i not in skip]
    text = "".join(own) + ("" if own_only else "".join(c.all_text_with_marker() for c in node.children))
    fields: dict[str, str] = {}
    notes: dict[str, object] = {}
    for i, key, value in labelled:
        if key in ("measures", "goal"):  # 整改措施：/ 工作目标： lines belong to the measure text
            text += value + "".join(p for j, p in enumerate(node.paragraphs) if j > i and j not in skip)
            continue
        fields[key] = (fields[key] + "、" + value) if key in fields else value
    # labelled lines gave the roles: a labelled bracket may still add a time limit, nothing else is looked for
    forms = [("labelled_bracket", labelled_bracket)] if any(k in ROLE_KEYS for k in fields) else ROLE_FORMS
    title = node.head
    for _, finder in forms:
        if found := finder(text):
            found_fields, notes, text = found
            for k, v in found_fields.items():
                fields.setdefault(k, v)
            if on_head := finder(node.head):  # a title that runs on must not run into the role sentence
                title = on_head[2]
            break
    tail = fields.pop(TAIL, "")
    item = RawItem("body", number, title, "", fields)
    item.first_is_lead = bool(notes.get("first_is_lead"))
    item.carry = str(notes.get("carry") or "")
    item.measure_text = re.sub(r"\s*\n\s*", "", text) + (f"{tail}。" if tail else "")
    return item


def task_number(node: Node, full: bool = False, printed: bool = False) -> str:
    """Position below the top-level section: （一）1, （二）, 3 … (`full` adds the section: 二（一）;
    `printed`: the item's own number only, for items numbered 1…N across their headings)."""
    if printed:
        return _label_text(node)
    chain = [a for a in node.ancestors() if full or a.marker.level > 1] + [node]
    return "".join(_label_text(n) for n in chain)


def numbered_across(nodes: list[Node]) -> bool:
    """Items of one level whose printed numbers never repeat ("1、…" to "45、" running across （一）（二）
    headings): each keeps its printed number."""
    labels = [_label_text(n) for n in nodes]
    return len({n.level for n in nodes}) == 1 and len(set(labels)) == len(labels) \
        and len({id(n.parent) for n in nodes}) > 1 and any(a.marker.level > 1 for a in nodes[0].ancestors())


def is_list_style(node: Node) -> bool:
    keys = {k for _, k, _ in _labelled(node)}
    return bool(keys & {"supervising_leaders", "principal_units", "deadline", "goal", "measures"}) \
        and node.marker.level == 1
