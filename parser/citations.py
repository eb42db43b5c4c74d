"""Where each task and milestone comes from: the section path (附件 第13项 整改时限 / 正文 四（二）), the page of a
paged document, and the verbatim clause, so an official can check an answer against the document."""
from __future__ import annotations

import re

from .model import Source, Task
from .normalize import normalize_width
from .readers.blocks import Block

FIELD_NAMES = {"deadline": "整改时限", "goal": "整改目标"}
_PROBE = 12  # characters of a clause looked up in the document's blocks to find its page


def _first_sentence(text: str) -> str:
    return re.split(r"[。；;！？]", text.replace("\n", ""), maxsplit=1)[0].strip()[:80]


def _field(task: Task, kind: str, text: str) -> str:
    if kind in FIELD_NAMES:
        return FIELD_NAMES[kind]
    if task.section == "list" and task.measures:
        for i, measure in enumerate(task.measures, 1):
            if text[:_PROBE] in measure.replace("\n", ""):
                return f"整改措施 {i}"
        return "整改措施"
    return ""


class _Pages:
    """Page lookup over the document's paragraph and table blocks (only for paged formats)."""

    def __init__(self, blocks: list[Block]):
        self.entries = [(b.page, re.sub(r"\s", "", normalize_width(b.text or "".join(c or "" for r in b.rows for c in r))))
                        for b in blocks if b.page]

    def find(self, text: str, start: int = 0) -> tuple[int | None, int]:
        probe = re.sub(r"\s", "", text)[:_PROBE]
        if not probe or not self.entries:
            return None, start
        for i in range(start, len(self.entries)):
            if probe in self.entries[i][1]:
                return self.entries[i][0], i
        return None, start


def cite(tasks: list[Task], places: list[str], blocks: list[Block]) -> None:
    """Fill task.origin and each milestone's origin; `places` is each task's section path."""
    pages = _Pages(blocks)
    for task, place in zip(tasks, places):
        opening = _first_sentence(task.problem_text or task.title) or task.title
        page, at = pages.find(task.title)
        task.origin = Source(place, page, opening)
        for m in task.milestones:
            section = " ".join(x for x in (place, _field(task, m.source, m.text)) if x)
            m_page, _ = pages.find(m.text, at)
            m.origin = Source(section, m_page or page, m.text)
