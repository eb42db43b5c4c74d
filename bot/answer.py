"""The platform-free answer path: question text + asker's unit → Answer (structured tasks + reply).

answer_question(db, "我单位哪些任务即将到期", asker_unit="邵阳县", today=…) reads the store through
knowledge.queries only; the chat platforms and the CLI (duban ask / chat) render Answer.reply. Which
kind of question it is, and how that kind is answered, is bot.questions' ordered table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from knowledge import citations, generation, queries
from knowledge.directory import known_unit_names, leader_titles, resolve_unit

from . import render
from .intent import parse_question


@dataclass
class Answer:
    intent: str
    unit: str | None
    window: tuple[date, date] | None
    listed: list[dict] | Callable[[], list[dict]] = field(default_factory=list)
    reply: str = ""

    @property
    def tasks(self) -> list[dict]:
        """What the answer is about, as JSON (up to LIST_LIMIT per section, more than a reply shows).
        A list answer reads it only when asked for (duban ask --json): a chat reply needs its first lines."""
        if callable(self.listed):
            self.listed = self.listed()
        return self.listed

    def to_json(self) -> dict:
        return {"intent": self.intent, "unit": self.unit,
                "window": [d.isoformat() for d in self.window] if self.window else None,
                "tasks": self.tasks, "reply": self.reply}


def _directory(directory):
    if directory is not None:
        return directory
    from parser import default_directory
    return default_directory()


def entry(task: queries.TaskRow, today: date, item: queries.DueItem | None = None) -> dict:
    """One task (and optionally one of its milestones) as the JSON the CLI and tests see."""
    due = item.due if item else None
    return {"document": task.document_id, "task_id": task.id, "milestone_id": item.milestone_id if item else None,
            "section": task.section, "number": task.number_value, "title": task.title,
            "due": due.isoformat() if due else None, "text": item.text if item else None,
            "days": (due - today).days if due else None,
            "units": list(item.units) if item and item.units else
            {r: list(v) for r, v in task.units.items() if v},
            "done": bool(item.done) if item else False, "status": task.status, "ongoing": task.ongoing}


def with_plans(db, entries: list[dict], sources: tuple[dict, dict] | None = None) -> list[dict]:
    """Each entry's plan title (a store may hold several plans numbered alike) and where in it the entry
    comes from: "source" {document, page, section, text} of its milestone, else of its task
    (`sources`: ({task id: source}, {milestone id: source}) when read already)."""
    if not entries:
        return entries
    if sources:
        titles = queries.document_titles(db, (e["document"] for e in entries))
        by_task, by_milestone = sources
    else:  # titles and sources in one read
        titles, by_task, by_milestone = citations.with_titles(
            db, [e["task_id"] for e in entries], [e["milestone_id"] for e in entries if e["milestone_id"]])
    for e in entries:
        e["plan"] = titles.get(e["document"])
        cited = by_milestone.get(e["milestone_id"]) or by_task.get(e["task_id"])
        e["source"] = {"document": e["document"], **cited} if cited else None
    return entries


def canonical(db, directory, name: str | None) -> str | None:
    return resolve_unit(db, name, directory) if name else None


def suggest(directory, db, name: str) -> list[str]:
    """Closest known units for a name that matched nothing (UnitDirectory.search, then the store)."""
    out = [n for n, _ in directory.search(name, limit=5)]
    if not out:
        from rapidfuzz import fuzz, process
        out = [n for n, _, _ in process.extract(name, known_unit_names(db), scorer=fuzz.WRatio, limit=3)]
    return out[:3]


def short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[:n] + "…"


_NAMES: dict[tuple, tuple] = {}


def _names(db, directory) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """(unit names for segmentation, 督办领导 titles longest first, whether any task is stored), kept while
    the store's generation stays the same."""
    key = (id(db), id(directory), generation.current(db))
    if key not in _NAMES:
        _NAMES.clear()
        # the store and directory are held with what was read from them: their ids cannot be reused meanwhile
        _NAMES[key] = (db, directory, tuple(sorted(set(known_unit_names(db)) | set(directory.all_names()))),
                       tuple(sorted(leader_titles(db), key=len, reverse=True)), queries.has_tasks(db))
    return _NAMES[key][2:]


def answer_question(db, text: str, *, asker_unit: str | None, today: date, directory=None,
                    max_bytes: int | None = None) -> Answer:
    """Understand `text` and answer it from the store. Always returns a non-empty reply."""
    from . import questions
    directory = _directory(directory)
    names, leaders, stored = _names(db, directory)
    if not stored:
        return Answer("no_data", None, None, [], render.NO_DATA)
    intent = parse_question(text, today=today, unit_names=names, leaders=leaders)
    asker = canonical(db, directory, asker_unit) or asker_unit
    ctx = questions.Context(db, directory, asker, today, max_bytes, answer=questions.answer)
    return questions.answer(ctx, intent)
