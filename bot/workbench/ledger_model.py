"""The 台账's rows, worked out once for export and import: one row per current task, in document order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from knowledge import workbench_queries as wq

from . import states

SOURCES = {"deadline": "整改时限", "goal": "整改目标", "measure": "整改措施"}
# (heading, key, width): the layout officials use, and the column units fill in to apply for 销号
COLUMNS = [
    ("序号", "serial", 7), ("任务/问题", "task", 42), ("督办领导", "supervising_leaders", 12),
    ("主体责任单位", "principal_units", 16), ("牵头单位", "lead_units", 18),
    ("配合单位/责任单位", "other_units", 26), ("整改时限", "deadline", 22), ("时限节点", "milestones", 40),
    ("进展", "progress", 40), ("状态", "state", 10), ("销号日期", "closed_on", 12), ("来源", "source", 26),
    ("申请销号", "apply_close", 10),
]
HEADINGS = [c[0] for c in COLUMNS]
PROGRESS_LINES = 3  # the latest reports shown in 进展


@dataclass
class LedgerRow:
    task_id: int
    section: str
    number: str
    title: str
    cells: dict[str, object]
    state: states.State
    history: list[str] = field(default_factory=list)  # every report on the task, as 进展 lines


@dataclass
class LedgerSheet:
    document_id: int
    title: str
    version: int
    rows: list[LedgerRow]


def serial(section: str, number: str):
    """序号: a 清单 item's number, or the body's own numbering after 正文."""
    return int(number) if section == "list" and number.isdigit() else f"正文{number}"


def report_line(r: dict) -> str:
    return f"{r['at'][:10]} {r['unit'] or r['official'] or ''}：{r['text']}".strip()


def _milestone_line(m: dict) -> str:
    units = f"〔{'、'.join(m['units'])}〕" if m["units"] else ""
    return f"{m['due']}{units} {m['text']}" + ("（已完成）" if m["done"] else "")


def _ongoing_limit(ongoing: bool, milestones: list[dict]) -> str:
    """A long-term task without a stated limit: 长期坚持, or, beside dated nodes, 持续推进 pointing at them."""
    if not ongoing:
        return ""
    return "持续推进（另见时限节点）" if any(m["due"] for m in milestones) else "长期坚持"


def _row(task: dict, fact: wq.TaskFact, milestones: list[dict], reports: list[dict], doc_title: str,
         today: date) -> LedgerRow:
    units = task["units"]
    state = states.classify(fact.status, fact.ongoing, fact.next_due, today)
    history = [report_line(r) for r in reports]
    problem = (task.get("problem_text") or "").strip()
    where = f"附件清单第{task['number']}项" if task["section"] == "list" else f"正文{task['number']}"
    if task.get("cite_section"):  # where the parser found it: section path and, in a PDF, the page
        where = task["cite_section"] + (f"，第{task['cite_page']}页" if task.get("cite_page") else "")
    kinds = sorted({SOURCES.get(m["source"], m["source"]) for m in milestones})
    cells = {
        "serial": serial(task["section"], task["number"]),
        "task": task["title"] + (f"\n问题：{problem}" if problem and problem != task["title"] else ""),
        "other_units": "、".join(units.get("cooperating_units", []) + units.get("responsible_units", [])),
        "deadline": task["deadline_text"] or _ongoing_limit(fact.ongoing, milestones),
        "milestones": "\n".join(_milestone_line(m) for m in milestones),
        "progress": "\n".join(history[-PROGRESS_LINES:]),
        "state": state.label,
        "closed_on": (task["completed_at"] or "")[:10] if fact.status == "completed" else "",
        "source": f"《{doc_title}》第{task['version']}版 {where}" + (f"（{'、'.join(kinds)}）" if kinds else ""),
        "apply_close": "",
    }
    for role in ("supervising_leaders", "principal_units", "lead_units"):
        cells[role] = "、".join(units.get(role, []))
    return LedgerRow(task["id"], task["section"], task["number"], task["title"], cells, state, history)


def build(db, *, document: int | None = None, unit: str | None = None, today: date, tick=None) -> list[LedgerSheet]:
    """The 台账: one sheet per current document (of `document` only; of `unit`'s tasks only)."""
    facts = wq.task_facts(db, document=document, unit=unit, ordered=True)
    docs = {d["id"]: d for d in wq.documents(db)}
    sheets: dict[int, LedgerSheet] = {}
    for start in range(0, len(facts), 500):  # a large store in batches: a few queries per 500 tasks
        batch = facts[start:start + 500]
        ids = [f.id for f in batch]
        tasks, ms, reps = wq.task_rows(db, ids), wq.milestones_by_task(db, ids), wq.reports_by_task(db, ids)
        for f in batch:
            d = docs[f.document_id]
            sheet = sheets.setdefault(f.document_id, LedgerSheet(d["id"], d["title"], d["version"], []))
            sheet.rows.append(_row(tasks[f.id], f, ms[f.id], reps[f.id], d["title"], today))
        if tick:
            tick(len(batch))
    return list(sheets.values())
