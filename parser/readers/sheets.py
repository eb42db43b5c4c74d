"""Spreadsheets (.xlsx and .xls): every sheet becomes table blocks.

python-calamine reads both formats and reports their merged cells: a vertically merged value is repeated in
every row it covers, as Word's are, so an empty cell is known to be empty; a horizontally merged one stays in
its first column (a title or section row keeps one text). Where the merges are not reported, covered cells
stay empty and parser.tables carries the value above down, as for pasted tables. Rows above the header
holding one text (a title merged across the sheet) become heading paragraphs: the plan's title often sits there.
"""
from __future__ import annotations

import datetime
import io

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block, table_blocks
from parser.readers.container import open_zip

_MAX_CELLS = 2_000_000  # a sheet of a few thousand tasks is far below this


def read_sheets(data: bytes) -> list[Block]:
    from python_calamine import CalamineWorkbook

    if data.startswith(b"PK"):
        open_zip(data, "xlsx").close()  # zip bombs are refused before calamine inflates anything
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [(name, workbook.get_sheet_by_name(name)) for name in workbook.sheet_names]
    except Exception as exc:  # calamine raises its own error types for damaged or encrypted files
        raise _classify(exc) from exc
    limits = Limits.from_env()
    blocks: list[Block] = []
    total_rows = 0
    for name, sheet in sheets:
        if sheet.total_height * max(sheet.total_width, 1) > _MAX_CELLS:
            raise DocumentError(f"表格过大：工作表“{name}”超过 {_MAX_CELLS} 个单元格（sheet too large）", code="too_large")
        total_rows += sheet.total_height
        limits.check_paragraphs(total_rows)
        try:
            rows = [[_text(v) for v in row] for row in sheet.to_python(skip_empty_area=True)]
            merges = sheet.merged_cell_ranges
        except Exception as exc:
            raise _classify(exc) from exc
        if merges is not None:
            _fill_merges(rows, merges, sheet.start)
        blocks.extend(sheet_blocks(rows, merges_filled=merges is not None))
    if not blocks:
        raise DocumentError("表格中没有内容（empty spreadsheet）", code="empty")
    return blocks


def _fill_merges(rows: list[list[str]], merges, start: tuple[int, int]) -> None:
    """Repeat each merged value down the rows its range covers, in the range's first column. `merges` are
    ((first row, first column), (last row, last column)) of the sheet; `rows` begin at `start`."""
    top, left = start
    for (r0, c0), (r1, _) in merges:
        r0, r1, c = r0 - top, r1 - top, c0 - left
        if r0 < 0 or c < 0 or r0 >= len(rows) or c >= len(rows[r0]):
            continue
        for r in range(r0 + 1, min(r1, len(rows) - 1) + 1):
            if c < len(rows[r]) and not rows[r][c]:
                rows[r][c] = rows[r0][c]


def sheet_blocks(rows: list[list[str]], merges_filled: bool = False) -> list[Block]:
    """Title rows (one text) → heading paragraphs; the rest → one table block, as wide as its widest text."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    last = max(max((i for i, c in enumerate(r) if c.strip()), default=0) for r in rows)
    width = min(width, last + 1)
    return table_blocks([(r + [""] * width)[:width] for r in rows], merges_filled)


def _text(value) -> str:
    """A cell as the sheet shows it: whole numbers without ".0", dates as 2024年6月30日."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _classify(exc: Exception) -> DocumentError:
    message = str(exc).lower()
    if "password" in message or "encrypt" in message:
        return DocumentError("Excel 表格已加密，需要密码（encrypted workbook）", code="encrypted")
    return DocumentError(f"Excel 表格已损坏，无法读取（corrupt workbook: {type(exc).__name__}）", code="corrupt")
