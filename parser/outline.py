"""The document as a tree of numbered elements (一、 > （一） > 1. > （1） > ①).

Each node owns its marker paragraph and the unnumbered paragraphs that follow it; numbered
paragraphs below it become children. The 附件 line starts a separate tree (the 清单).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .paragraphs import _DATE_ONLY, Marker, marker_of


@dataclass
class Node:
    marker: Marker | None
    paragraphs: list[str] = field(default_factory=list)  # own paragraphs, marker paragraph first
    children: list["Node"] = field(default_factory=list)
    parent: "Node | None" = None

    @property
    def level(self) -> int:
        return self.marker.level if self.marker else 0

    @property
    def head(self) -> str:
        """Own first paragraph without its marker."""
        if not self.paragraphs:
            return ""
        p = self.paragraphs[0]
        return p[self.marker.end:].strip() if self.marker else p

    def own_text(self) -> str:
        return "".join([self.head] + self.paragraphs[1:])

    def all_text(self) -> str:
        return self.own_text() + "".join(c.all_text_with_marker() for c in self.children)

    def all_text_with_marker(self) -> str:
        return "".join(self.paragraphs) + "".join(c.all_text_with_marker() for c in self.children)

    def descendants(self) -> list["Node"]:
        """Every numbered node below this one, in document order."""
        out: list[Node] = []
        for c in self.children:
            out.append(c)
            out += c.descendants()
        return out

    def ancestors(self) -> list["Node"]:
        out, n = [], self.parent
        while n is not None and n.marker is not None:
            out.append(n)
            n = n.parent
        return out[::-1]


# A paragraph addressing everyone or the plan itself closes the plan: "各地区、各有关部门要…", "…负责本意见的…"
_CLOSING = re.compile(r"^(?:各地区|各有关部门|各部门|各地|各单位)[^。，]{0,12}(?:要|应)|本(?:意见|方案|通知|措施|办法|计划)")
_ASSIGNS = re.compile(r"(?:单位|部门)\s*[：:]|(?:负责|牵头|配合)\s*[）)]")  # an item's own roles: not closing words


def build_tree(paragraphs: list[str]) -> Node:
    """Nest paragraphs by marker level; a marker of a new kind nests under the current one."""
    root = Node(None)
    stack = [root]
    for p in paragraphs:
        m = marker_of(p)
        if m is None and len(stack) > 1 and _DATE_ONLY.match(p):  # the signature: office name, date
            last = stack[-1].paragraphs
            if len(last) > 1 and len(last[-1]) <= 25 and not re.search(r"[。；;，,：:]", last[-1]):
                root.paragraphs.append(last.pop())
            root.paragraphs.append(p)
            stack = [root]
            continue
        if m is None and len(stack) > 2 and _CLOSING.search(p[:40]) and not _ASSIGNS.search(p):
            root.paragraphs.append(p)  # the plan's closing words, not the last item's
            stack = [root]
            continue
        if m is None:
            stack[-1].paragraphs.append(p)
            continue
        while len(stack) > 1 and stack[-1].level >= m.level:
            stack.pop()
        node = Node(m, [p], parent=stack[-1])
        stack[-1].children.append(node)
        stack.append(node)
    return root


def _is_attachment_line(p: str) -> bool:
    return p.startswith("附件") and len(p) <= 80


def split_attachment(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Split the body from the 附件 (清单): at the first 附件 line followed by numbered content.

    附件 headings and their title lines are dropped so they do not stick to an item's text.
    """
    cut = next((i for i, p in enumerate(paragraphs) if _is_attachment_line(p)
                and any(marker_of(q) for q in paragraphs[i + 1:i + 4])), None)
    if cut is None:
        return paragraphs, []
    rest: list[str] = []
    skipping = False
    for p in paragraphs[cut:]:
        if _is_attachment_line(p):
            skipping = True
            continue
        if skipping and marker_of(p) is None and len(p) <= 60 and not re.search("[：:。]", p):
            continue  # title line under 附件
        skipping = False
        rest.append(p)
    return paragraphs[:cut], rest
