"""Ruled tables in PDFs: find them per page, then stitch page segments into one table.

pdfplumber reports a cell covered by a merged neighbour as None. We tell the two
kinds apart by geometry: covered from the left (a column span) becomes "", covered
from above (a vertical merge, Word's vMerge) takes the value of the row above, as
the .docx reader gives it. A row split by a page break comes back as a row whose
first cell is empty; it is appended to the row it continues.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from parser.readers.pdf_text import line_joiner, spacing

# Lines in a cell that start a new measure or sub-heading keep their line break,
# so 1. 2. （一）… stay separable as they are in the Word cell.
_CELL_MARKER = re.compile(
    r"(?:\d{1,2}[.．、](?!\d)|[（(][一二三四五六七八九十\d]{1,3}[）)]|[一二三四五六七八九十]{1,3}、"
    r"|[①-⑳]|整改(?:措施|目标|时限))"
)


@dataclass
class PageTable:
    top: float
    bbox: tuple
    rows: list  # list[list[str | None]]; None = covered from above (vertical merge)


def find_page_tables(page) -> list[PageTable]:
    """Tables of one page. Detection is expensive, so pages without ruling lines skip it."""
    objects = page.objects
    if not (objects.get("line") or objects.get("rect") or objects.get("curve")):
        return []
    found = []
    for table in page.find_tables():
        rows = _table_rows(table, spacing(page))
        if rows and any(any(cell for cell in row) for row in rows):
            found.append(PageTable(float(table.bbox[1]), table.bbox, rows))
    return found


def _table_rows(table, text_options: dict) -> list[list]:
    column_x0 = sorted({cell[0] for cell in table.cells})
    out = []
    for texts, row in zip(table.extract(**text_options), table.rows):
        cells = []
        for c, text in enumerate(texts):
            if text is not None:
                cells.append(join_cell_text(text))
                continue
            left = next((b for b in reversed(row.cells[:c]) if b is not None), None)
            spanned_from_left = left is not None and c < len(column_x0) and left[2] > column_x0[c] + 1
            cells.append("" if spanned_from_left else None)
        out.append(cells)
    return out


def join_cell_text(text: str) -> str:
    """Rejoin a cell's wrapped lines like paragraph lines; keep "\\n" before a numbered line."""
    out, spaced = "", False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        out = _join(out + (" " if spaced and out else ""), line)
        spaced = raw[-1].isspace()  # the PDF's own space at the line end
    return out


def _join(before: str, after: str) -> str:
    if not before:
        return after
    if not after:
        return before
    if _CELL_MARKER.match(after):
        return before + "\n" + after
    return before + line_joiner(before, after) + after


def merge_segment(rows: list[list], segment: list[list]) -> None:
    """Append the next page's part of a table: drop repeated headers, stitch a split row."""
    header = _norm_row(rows[0])
    first_body_row = True
    for row in segment:
        if _norm_row(row) == header:
            continue
        if first_body_row and _is_continuation(row) and len(rows) > 1:
            previous = rows[-1]
            for c, piece in enumerate(row):
                if piece and c < len(previous):
                    previous[c] = _join(previous[c] or "", piece)
        else:
            rows.append(list(row))
        first_body_row = False


def finish_rows(rows: list[list]) -> list[list[str]]:
    """Fill vertical-merge holes (None) from the row above; everything becomes a string."""
    done: list[list[str]] = []
    for row in rows:
        above = done[-1] if done else []
        done.append([cell if cell is not None else (above[c] if c < len(above) else "")
                     for c, cell in enumerate(row)])
    return done


def _is_continuation(row: list) -> bool:
    return not (row[0] or "").strip() and any((cell or "").strip() for cell in row[1:])


def _norm_row(row: list) -> list[str]:
    return [re.sub(r"\s+", "", cell or "") for cell in row]
