"""`duban export FILE.xlsx`: the 台账 as officials keep it — a 汇总 sheet by unit, then one sheet per document."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from knowledge import workbench_queries as wq

from . import states
from .ledger_model import COLUMNS, HEADINGS, LedgerSheet, build

TITLE_ROW, HEADER_ROW = 1, 2  # the title names the document and its number (文件N), which import reads back
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
WRAP = Alignment(wrap_text=True, vertical="top")
SUMMARY_WORDS = ["逾期", "临期≤7天", "正常", "长期坚持", "已销号"]  # the 台账's five state words


def sheet_title(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "", title)[:28] or "文件"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}({n})", n + 1
    used.add(name)
    return name


def document_heading(sheet: LedgerSheet, today: date) -> str:
    return f"{sheet.title}（文件{sheet.document_id}，第{sheet.version}版）督办台账 截至{today.isoformat()}"


def _print_setup(ws, header_row: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"


def _header(ws, headings: list[str], widths: list[int], heading: str) -> None:
    ws.cell(TITLE_ROW, 1, heading).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=len(headings))
    for col, (text, width) in enumerate(zip(headings, widths), start=1):
        c = ws.cell(HEADER_ROW, col, text)
        c.font, c.fill, c.border = Font(bold=True, color="FFFFFF"), HEADER_FILL, BORDER
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 3)  # the header and the 序号/任务 columns stay in view
    _print_setup(ws, HEADER_ROW)


def write_document(ws, sheet: LedgerSheet, today: date) -> None:
    _header(ws, HEADINGS, [c[2] for c in COLUMNS], document_heading(sheet, today))
    state_col = [c[1] for c in COLUMNS].index("state") + 1
    for r, row in enumerate(sheet.rows, start=HEADER_ROW + 1):
        for col, (_, key, _) in enumerate(COLUMNS, start=1):
            c = ws.cell(r, col, row.cells[key])
            c.alignment, c.border = WRAP, BORDER
        ws.cell(r, state_col).fill = PatternFill("solid", fgColor=row.state.fill)
    last = HEADER_ROW + max(len(sheet.rows), 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(COLUMNS))}{last}"


def write_summary(ws, db, sheets: list[LedgerSheet], unit: str | None, today: date,
                  document: int | None = None) -> None:
    """Counts per state word by unit (collectives' tasks count for their members too)."""
    state_of = {row.task_id: row.state.label for s in sheets for row in s.rows}
    by_unit: dict[str, Counter] = {}
    for u, task_id in wq.unit_task_pairs(db, document=document):
        if task_id in state_of and (unit is None or u == unit):
            by_unit.setdefault(u, Counter())[state_of[task_id]] += 1
    headings = ["单位", *SUMMARY_WORDS, "合计"]
    _header(ws, headings, [26] + [11] * (len(headings) - 1), f"督办台账汇总（按单位） 截至{today.isoformat()}")
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)
    fills = {s.label: s.fill for s in states.STATES}
    ordered = sorted(by_unit.items(), key=lambda kv: (-kv[1]["逾期"], -kv[1]["临期≤7天"], kv[0]))
    for r, (u, counter) in enumerate(ordered, start=HEADER_ROW + 1):
        values = [u, *(counter[w] for w in SUMMARY_WORDS), sum(counter.values())]
        for col, v in enumerate(values, start=1):
            c = ws.cell(r, col, v)
            c.border = BORDER
            word = headings[col - 1]
            if word in fills and v:
                c.fill = PatternFill("solid", fgColor=fills[word])
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(headings))}{HEADER_ROW + max(len(ordered), 1)}"


def export_ledger(db, path: Path, *, document: int | None, unit: str | None, today: date, tick=None) -> dict:
    sheets = build(db, document=document, unit=unit, today=today, tick=tick)
    wb = Workbook()
    write_summary(wb.active, db, sheets, unit, today, document)
    wb.active.title = "汇总"
    used = {"汇总"}
    for sheet in sheets:
        write_document(wb.create_sheet(sheet_title(sheet.title, used)), sheet, today)
    wb.save(path)
    return {"documents": len(sheets), "tasks": sum(len(s.rows) for s in sheets)}
