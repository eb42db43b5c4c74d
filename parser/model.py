"""Plain data the parser produces: a Plan of Tasks with Milestones. No behaviour beyond JSON export."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ROLES = ("supervising_leaders", "principal_units", "lead_units", "cooperating_units", "responsible_units")
# Chinese labels for each role, as officials read them.
ROLE_LABELS = {
    "supervising_leaders": "督办领导",
    "principal_units": "主体责任单位",
    "lead_units": "牵头单位",
    "cooperating_units": "配合单位",
    "responsible_units": "责任单位",
}


@dataclass
class Source:
    """Where a task or a milestone comes from: section path, page (PDF), the verbatim clause. `document`
    is the store's id, filled in by the store (None in a parse)."""

    section: str = ""  # "附件 第13项 整改时限", "正文 四（二）"
    page: int | None = None
    text: str = ""
    document: int | None = None

    def to_json(self) -> dict:
        return {"document": self.document, "page": self.page, "section": self.section, "text": self.text}


@dataclass
class Milestone:
    """One dated commitment: what is due, when, and (if the clause names one) which unit."""

    due: date
    text: str
    source: str  # "deadline" (整改时限), "goal" (整改目标) or "measure" (整改措施 / body measure)
    units: list[str] = field(default_factory=list)
    done: bool = False
    origin: Source | None = None

    def to_json(self) -> dict:
        return {"due": self.due.isoformat(), "text": self.text, "units": list(self.units),
                "done": self.done, "field": self.source, "source": self.origin.to_json() if self.origin else None}


@dataclass
class Recurring:
    """An obligation with an explicit period (每季度, 每月一总结, 年度验收 …)."""

    every: str  # day / week / month / quarter / year
    text: str
    units: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"every": self.every, "text": self.text, "units": list(self.units)}


@dataclass
class MeasureGroup:
    unit: str
    count: int


@dataclass
class Task:
    section: str  # "list" (附件 清单) or "body" (正文 整改措施)
    number: int | str  # list: 1..N; body: "（一）1", "（二）" as written
    title: str
    supervising_leaders: list[str] | None = None
    principal_units: list[str] | None = None
    lead_units: list[str] | None = None
    cooperating_units: list[str] | None = None
    responsible_units: list[str] | None = None
    deadline_text: str | None = None
    goal_text: str | None = None
    problem_text: str = ""
    measures: list[str] = field(default_factory=list)
    measure_groups: list[MeasureGroup] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    recurring: list[Recurring] = field(default_factory=list)
    ongoing: bool = False
    full_text: str = ""
    origin: Source | None = None

    @property
    def key(self) -> str:
        """Stable id within a plan, e.g. list-7 or body-（一）1."""
        return f"{self.section}-{self.number}"

    def units_by_role(self) -> dict[str, list[str]]:
        return {r: list(getattr(self, r) or []) for r in ROLES}

    def to_json(self) -> dict:
        d = {
            "section": self.section,
            "number": self.number,
            "title": self.title,
            **{r: (list(v) if (v := getattr(self, r)) is not None else None) for r in ROLES},
            "deadline_text": self.deadline_text,
            "milestones": [m.to_json() for m in self.milestones],
            "ongoing": self.ongoing,
            "recurring": [r.to_json() for r in self.recurring],
            "measures_count": len(self.measures) if self.section == "list" else 0,
            "source": self.origin.to_json() if self.origin else None,
        }
        if self.measure_groups:
            d["measure_groups"] = [{"unit": g.unit, "count": g.count} for g in self.measure_groups]
        return d


@dataclass
class Plan:
    title: str
    source_name: str
    year: int | None = None  # the document's own year (文号 〔2023〕 or date line); used for year-less dates
    doc_number: str | None = None
    declared_task_count: int | None = None
    tasks: list[Task] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)
    titled: bool = True  # False when the document had no title line and the file name stands in
    issued: date | None = None  # the document's date line (2026年3月15日), for 春节前 and the like
    directory: object = field(default=None, repr=False, compare=False)  # the unit directory it was read by

    def to_json(self) -> dict:
        body = [t for t in self.tasks if t.section == "body"]
        listed = [t for t in self.tasks if t.section == "list"]
        return {
            "source_file": self.source_name,
            "title": self.title,
            "year": self.year,
            "doc_number": self.doc_number,
            "issued": self.issued.isoformat() if self.issued else None,
            "declared_task_count": self.declared_task_count,
            "list_item_count": len(listed),
            "body_task_count": len(body),
            "task_count": len(self.tasks),
            "tasks": [t.to_json() for t in self.tasks],
            "unknown_units": list(self.unknown_units),
            "warnings": list(self.warnings),
        }
