"""`duban import-progress FILE.xlsx`: a unit returns the 台账 with 进展 (and 申请销号) filled in.

Every row is judged first — matched to its task, checked against the unit's rights like a chat message,
its new lines found — and only then written, all in one transaction: a file with a refused row writes
nothing unless `partial`, and a row is never written in part."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from knowledge import people, progress, review

from ..errors import UsageError
from .ledger_model import HEADINGS, build, serial

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_REPORT_CHARS = 1000
YES = {"是", "申请", "申请销号", "√", "✓", "y", "yes"}
_DOC = re.compile(r"（文件(\d+)[，,）]")
PLATFORM = "excel"


@dataclass
class RowOutcome:
    sheet: str
    row: int
    label: str
    verdict: str  # applied / skipped / refused
    reason: str = ""
    task_id: int | None = None
    report: str = ""
    close: bool = False
    detail: list[str] = field(default_factory=list)


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def _read(path: Path):
    import openpyxl
    if not path.exists():
        raise UsageError(f"找不到文件 {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UsageError(f"文件 {path.name} 超过 {MAX_FILE_BYTES // 1024 // 1024} MB，拒绝导入")
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except Exception as e:  # openpyxl raises many types for a file that is not a workbook
        raise UsageError(f"无法读取 Excel 文件 {path.name}：{type(e).__name__}") from e


def _matcher(rows):
    by_serial = {str(serial(r.section, r.number)): r for r in rows}
    by_title: dict[str, list] = {}
    for r in rows:
        by_title.setdefault(r.title, []).append(r)

    def match(serial_cell: str, task_cell: str):
        """The task of a row: 序号 and title agree; else the one task with that title (numbers moved)."""
        title = task_cell.split("\n")[0].strip()
        hit = by_serial.get(serial_cell)
        if hit and (not title or hit.title == title):
            return hit, ""
        same = by_title.get(title, [])
        if len(same) == 1:
            return same[0], ""
        if hit:
            return None, f"序号{serial_cell}的任务内容与台账不一致，无法确定是哪一项"
        return None, f"文件中没有序号为“{serial_cell}”的任务"
    return match


def _judge(db, unit: str, ws, sheets_by_doc: dict, outcomes: list[RowOutcome]) -> None:
    m = _DOC.search(_text(ws.cell(1, 1).value))
    header = [_text(c.value) for c in ws[2]] if ws.max_row >= 2 else []
    if not m or "序号" not in header or "进展" not in header:
        outcomes.append(RowOutcome(ws.title, 1, "", "refused", "不是 duban 导出的台账工作表（缺少文件编号或表头）"))
        return
    sheet = sheets_by_doc.get(int(m.group(1)))
    if sheet is None:
        outcomes.append(RowOutcome(ws.title, 1, "", "refused", f"文件{m.group(1)}不在数据库中（或已无现行任务）"))
        return
    col = {h: header.index(h) for h in HEADINGS if h in header}
    match = _matcher(sheet.rows)
    for n, cells in enumerate(ws.iter_rows(min_row=3, values_only=True), start=3):
        get = (lambda h: _text(cells[col[h]]) if h in col and col[h] < len(cells) else "")
        if not any(_text(c) for c in cells):
            continue
        outcomes.append(_judge_row(db, unit, ws.title, n, get, match))


def _judge_row(db, unit: str, sheet: str, n: int, get, match) -> RowOutcome:
    row, why = match(get("序号"), get("任务/问题"))
    out = RowOutcome(sheet, n, get("序号"), "skipped")
    if row is None:
        out.verdict, out.reason = "refused", why
        return out
    out.task_id, out.label = row.task_id, str(serial(row.section, row.number))
    known = set(row.history) | {""}
    new = [line.strip() for line in get("进展").splitlines() if line.strip() not in known]
    out.report = "；".join(new)
    out.close = get("申请销号").lower() in YES
    if not out.report and not out.close:
        out.reason = "没有新的进展"
        return out
    if len(out.report) > MAX_REPORT_CHARS:
        out.verdict, out.reason = "refused", f"进展超过 {MAX_REPORT_CHARS} 字"
    elif not progress.unit_answers_for(db, unit, row.task_id, closing=False):
        out.verdict, out.reason = "refused", f"{unit}不是该项任务的责任单位"
    elif out.close and (why := review.close_refusal(db, row.task_id, unit, "该项任务")):
        out.verdict, out.reason = "refused", why
    else:
        out.verdict = "applied"
    return out


def _apply(db, unit: str, outcomes: list[RowOutcome], now: datetime, source: str) -> None:
    with db.atomic():
        for o in outcomes:
            if o.verdict != "applied":
                continue
            if o.report:
                progress.add_entry(db, o.task_id, "progress", o.report, unit=unit, official=None,
                                   platform=PLATFORM, user_id=source, at=now)
                people.record(db, now, PLATFORM, source, progress.KINDS["progress"], f"第{o.label}项 {o.report}", True)
            if o.close:  # the workflow's own step: a pending application, its history entry and audit
                review.apply_close(db, o.task_id, review.Actor(unit, None, None, PLATFORM, source), o.report, now)


def import_progress(db, path: Path, *, unit: str, partial: bool, today: date, now: datetime,
                    tick=None) -> tuple[bool, list[RowOutcome]]:
    """Judge every row, then write the accepted ones (all or, with `partial`, the valid ones);
    (whether anything was written, every row's outcome)."""
    wb = _read(path)
    named = {int(m.group(1)) for ws in wb.worksheets if (m := _DOC.search(_text(ws.cell(1, 1).value)))}
    sheets_by_doc = {s.document_id: s for doc in sorted(named) for s in build(db, document=doc, today=today)}
    outcomes: list[RowOutcome] = []
    for ws in wb.worksheets:
        if ws.title != "汇总":
            _judge(db, unit, ws, sheets_by_doc, outcomes)
        if tick:
            tick(1)
    refused = [o for o in outcomes if o.verdict == "refused"]
    source = f"台账:{path.name}"
    for o in refused:  # refused attempts are audited like refused chat messages
        if o.task_id is not None:
            action = "申请销号" if o.close else progress.KINDS["progress"]
            people.record(db, now, PLATFORM, source, action, f"第{o.label}项 {o.reason}", False)
    if refused and not partial:
        for o in outcomes:
            if o.verdict == "applied":
                o.verdict, o.reason = "skipped", "文件中有被拒绝的行，未写入（可加 --partial 只写入有效行）"
        return False, outcomes
    _apply(db, unit, outcomes, now, source)
    return any(o.verdict == "applied" for o in outcomes), outcomes
