"""Terminal output for tasks / show (parse: render_plan.py)."""
from __future__ import annotations

from datetime import date, timedelta

from rich.console import Console
from rich.table import Table

from knowledge import details, numbered, progress, queries
from knowledge.directory import resolve_unit
from parser import ROLE_LABELS, ROLES

from .errors import UsageError
from .render import task_label

console = Console()


def _units_line(units: dict[str, list[str]]) -> str:
    return "；".join(f"{ROLE_LABELS[r]}：{'、'.join(units[r])}" for r in ROLES
                    if units.get(r) and r != "supervising_leaders")


def _resolve(db, unit: str | None) -> str | None:
    if not unit:
        return None
    from parser import UnitDirectory
    found = resolve_unit(db, unit, UnitDirectory.load())
    if not found:
        raise UsageError(f"未找到单位“{unit}”，请使用单位全称或常用简称")
    return found


def _document(db, ref: str | None) -> int | None:
    """--doc: a document's number (as 文件列表 shows it) or title; bad input is a usage error."""
    if ref is None:
        return None
    from knowledge import documents
    try:
        doc = documents.resolve(db, ref)
    except LookupError as e:
        raise UsageError(str(e)) from None
    if not doc.active:
        raise UsageError(f"文件{doc.id}《{doc.title}》已移除")
    return doc.id


def print_due(db, *, unit, within, overdue_only, today: date, document: str | None = None) -> int:
    unit = _resolve(db, unit)
    doc = _document(db, document)
    items = queries.due_items(db, end=today if overdue_only else today + timedelta(days=within), unit=unit)
    items = [i for i in items if doc is None or i.task.document_id == doc]
    late = [i for i in items if i.due < today]
    soon = [] if overdue_only else [i for i in items if i.due >= today]
    several = len({i.task.document_id for i in items}) > 1
    for title, rows in (("已逾期", late), (f"{within} 天内到期", soon)):
        scope = f"{unit or '全部单位'}" + (f" · 文件{doc}" if doc else "")
        table = Table(title=f"{scope} · {title}（今天 {today}）")
        for col in ("编号", "到期日", "天数", "事项", "单位"):
            table.add_column(col)
        for i in rows:
            days = (i.due - today).days
            tag = f"〔文件{i.task.document_id}〕" if several else ""  # as in chat answers
            table.add_row(task_label(i.task.section, i.task.number) + tag, i.due.isoformat(),
                          f"逾期{-days}天" if days < 0 else f"剩{days}天", i.text[:40],
                          "、".join(i.units) or _units_line(i.task.units)[:40])
        console.print(table if rows else f"{title}：无")
    return 0


def _cited(section: str, page: int | None, text: str | None) -> str:
    """In full: "附件 第13项 整改时限，第31页：“2023年12月31日前完成…”"."""
    return section + (f"，第{page}页" if page else "") + (f"：“{text}”" if text else "")


def print_task(db, number: str, *, section, today: date, document: str | None = None) -> int:
    from parser import cn_number
    doc = _document(db, document)
    n = cn_number(number.strip("第项号")) if section != "body" else None
    found = [t for t in numbered.task_by_number(db, n if n is not None else number, section)
             if doc is None or t.document_id == doc]
    if not found:
        raise UsageError(f"没有编号为 {number} 的任务" + (f"（文件{doc}）" if doc else ""))
    titles = queries.document_titles(db, (t.document_id for t in found))
    for t, d in zip(found, details.of_tasks(db, found)):
        console.rule(f"{task_label(t.section, t.number)} {t.title}")
        console.print(f"文件{t.document_id}《{titles[t.document_id]}》")
        if d.get("cite_section"):
            console.print(f"出处：{_cited(d['cite_section'], d.get('cite_page'), d.get('cite_text'))}", markup=False)
        console.print(_units_line(t.units))
        if t.deadline_text:
            console.print(f"整改时限：{t.deadline_text}")
        cited = d["sources"][1]
        for m in d["milestones"]:
            days = (m.due - today).days
            state = "已完成" if m.done else (f"逾期{-days}天" if days < 0 else f"剩{days}天")
            console.print(f"  · {m.due}（{state}）{m.text}" + (f"〔{'、'.join(m.units)}〕" if m.units else ""),
                          markup=False)
            if c := cited.get(m.milestone_id):
                console.print(f"    出处：{_cited(c['section'], c['page'], c['text'])}", markup=False)
        for i, text in enumerate(d["measures"], 1):
            console.print(f"  {i}. {text[:80]}")
        reports = progress.history(db, t.id, limit=10)
        if reports:
            console.print("进展：")
        for r in reports:
            who = r.official or r.unit or "—"
            console.print(f"  · {r.at[:10]} {progress.KINDS.get(r.kind, r.kind)}{('：' + r.text) if r.text else ''}"
                          f"（{who}）", markup=False)
    return 0
