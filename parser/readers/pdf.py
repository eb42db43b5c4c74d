"""PDF reader: rebuild paragraphs and tables from a page's positioned text lines.

A PDF has visual lines, not paragraphs. Official documents (GB/T 9704) indent a
paragraph's first line by two characters and end its last line short of the right
margin; a page break splits a sentence with nothing to mark it; each page carries a
"— N —" number. This module turns that back into the paragraphs of the source.
Cost: PDFium reads the characters of a page (pdf_pdfium.py, several times faster than
pdfminer) and they are grouped into lines by pdfplumber's rules (pdf_lines.py); only a
page whose drawn paths could make a ruled table is parsed by pdfplumber, for its tables.
pdfplumber also opens the file (cross-reference table and page tree only, ~1% of reading
it), so damaged and encrypted files are refused as before.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

import pdfplumber

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block, is_page_number
from parser.readers.pdf_lines import Char, Line, make_line, page_lines
from parser.readers.pdf_pdfium import PdfiumPages
from parser.readers.pdf_tables import PageTable, find_page_tables, finish_rows, merge_segment
from parser.readers.pdf_text import line_joiner, spacing

_RUNNING_MAX_CHARS = 40


@dataclass
class Geometry:
    """Text block of the pages of one width (portrait and landscape sections differ)."""

    left: float
    right: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


def read_pdf(data: bytes) -> list[Block]:
    """Read a text PDF into paragraph and table blocks, in reading order."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            Limits.from_env().check_pages(len(pdf.pages))
            pages, widths = _read_pages(pdf, data)
    except DocumentError:
        raise
    except Exception as exc:  # pdfminer raises anything from PSEOF to KeyError on damaged files
        raise _classify(exc) from exc
    if not any(item for items in pages for item in items):
        raise DocumentError("PDF 没有文字层（扫描件），需要先做文字识别（OCR）（no text layer）", code="no_text")
    _drop_page_furniture(pages)
    return _assemble(pages, widths)


def _read_pages(pdf, data: bytes) -> tuple[list[list], list[int]]:
    """Each page's lines and tables, and its width. PDFium gives the characters of a page unless
    it may hold a ruled table or its text is not upright; pdfplumber reads those pages (and all
    of a file PDFium cannot open)."""
    pages, widths = [], []
    with PdfiumPages(data, len(pdf.pages)) as fast:
        for number, page in enumerate(pdf.pages):
            chars = fast.read(number, float(page.height)) if page.rotation == 0 else None
            if chars is None:
                pages.append(_read_page(page))
                page.close()  # drop the page's cached objects: memory stays flat on long files
            else:
                pages.append(page_lines(chars))
            widths.append(round(float(page.width)))
    return pages, widths


def _read_page(page) -> list:
    """The page's lines (outside tables) and tables, top to bottom, read with pdfplumber."""
    try:
        tables = find_page_tables(page)
    except Exception:  # odd ruling geometry must not cost the page its text
        tables = []
    text_page = page
    if tables:
        boxes = [t.bbox for t in tables]
        text_page = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    items: list = []
    for raw in text_page.extract_text_lines(strip=False, return_chars=True, **spacing(page)):
        chars = [Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], c["size"]) for c in raw["chars"]]
        line = make_line(raw["text"], chars, raw["top"])
        if line is not None:
            items.append(line)
    items.extend(tables)
    items.sort(key=lambda item: item.top)
    return items


def _inside(char, boxes) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _drop_page_furniture(pages: list[list]) -> None:
    """Remove page numbers and running headers/footers from the top and bottom of each page."""
    for items in pages:
        for index in (-1, 0):  # bottom first: "— N —" is the usual last line
            if items and isinstance(items[index], Line) and is_page_number(items[index].text):
                items.pop(index)
    if len(pages) < 3:
        return
    for index in (0, -1):
        keys = Counter(_running_key(items[index]) for items in pages if items)
        threshold = max(3, (len(pages) + 1) // 2)
        repeated = {k for k, n in keys.items() if k and n >= threshold}
        for items in pages:
            if items and _running_key(items[index]) in repeated:
                items.pop(index)


def _running_key(item) -> str:
    """Edge-line text with digits masked, so "2021 年第 3 期" matches on every page."""
    if not isinstance(item, Line) or len(item.text) > _RUNNING_MAX_CHARS:
        return ""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", item.text))


def _assemble(pages: list[list], widths: list[int]) -> list[Block]:
    geometry = _page_geometry(pages, widths)
    body_size = _body_size(pages)
    blocks: list[Block] = []
    tables: list[tuple[Block, list]] = []  # block, raw rows (None = covered by a merged cell)
    para: list[str] = []
    first: Line | None = None
    prev: Line | None = None
    prev_geo = geometry[0] if geometry else Geometry(0.0, 0.0)
    prev_table_page = -2

    def flush():
        nonlocal para, first
        if para:
            text = "".join(para).strip()
            if text:
                heading = first.size > body_size + 1 or _is_centred(first, geometry[first_page])
                blocks.append(Block(kind="para", text=text, heading=heading, page=first_page + 1))
        para, first = [], None

    first_page = 0
    for page_no, items in enumerate(pages):
        geo = geometry[page_no]
        for position, item in enumerate(items):
            if isinstance(item, PageTable):
                flush()
                continues = (position == 0 and blocks and blocks[-1].kind == "table"
                             and prev_table_page == page_no - 1 and tables
                             and len(tables[-1][1][0]) == len(item.rows[0]))
                if continues:
                    merge_segment(tables[-1][1], item.rows)
                else:
                    block = Block(kind="table", page=page_no + 1, merges_filled=True)
                    blocks.append(block)
                    tables.append((block, [list(r) for r in item.rows]))
                prev_table_page, prev = page_no, None
                continue
            if prev is None or _starts_paragraph(prev, item, geo, prev_geo):
                flush()
                para, first, first_page = [item.text], item, page_no
            else:
                para.append((" " if prev.space_after else line_joiner(para[-1], item.text)) + item.text)
            prev, prev_geo = item, geo
    flush()
    for block, rows in tables:
        block.rows = finish_rows(rows)
    return blocks


def _starts_paragraph(prev: Line, line: Line, geo: Geometry, prev_geo: Geometry) -> bool:
    """Does `line` open a new paragraph after `prev` (possibly on the previous page)?"""
    if abs(line.size - prev.size) > 1.0:
        return True
    char = max(line.size, 1.0)
    prev_short = prev.x1 < prev_geo.right - 1.5 * max(prev.size, 1.0)
    if prev_short:
        return True
    if _is_centred(line, geo):
        return False  # last line of a centred multi-line title following a full line
    indented = line.x0 - geo.left > 0.8 * char
    if not indented:
        return False  # continuation line, also the first line of a page inside a sentence
    # A hanging indent (附件：… note) continues further in than its own first line.
    hanging = prev.x0 - prev_geo.left > 0.8 * char and line.x0 > prev.x0 + 0.5 * char
    return not hanging


def _is_centred(line: Line, geo: Geometry) -> bool:
    char = max(line.size, 1.0)
    return line.x0 - geo.left > 2 * char and abs((line.x0 + line.x1) / 2 - geo.centre) < char


def _page_geometry(pages: list[list], widths: list[int]) -> list[Geometry]:
    """Left margin = most common line start; right = 90th percentile of line ends, per page width."""
    by_width: dict[int, list[Line]] = {}
    for items, width in zip(pages, widths):
        by_width.setdefault(width, []).extend(i for i in items if isinstance(i, Line))
    geo_for: dict[int, Geometry] = {}
    for width, lines in by_width.items():
        if not lines:
            geo_for[width] = Geometry(0.0, float(width))
            continue
        mode = Counter(round(l.x0) for l in lines).most_common(1)[0][0]
        left = min(l.x0 for l in lines if round(l.x0) == mode)
        ends = sorted(l.x1 for l in lines)
        right = ends[int(0.9 * (len(ends) - 1))] if len(lines) >= 5 else max(ends[-1], width - left)
        geo_for[width] = Geometry(left, right)
    return [geo_for[w] for w in widths]


def _body_size(pages: list[list]) -> float:
    sizes = Counter(round(i.size) for items in pages for i in items if isinstance(i, Line))
    return float(sizes.most_common(1)[0][0]) if sizes else 0.0


def _classify(exc: Exception) -> DocumentError:
    """Map pdfminer's failures to a user-facing error; encrypted files get their own message."""
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    seen, todo = set(), [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (PDFPasswordIncorrect, PDFEncryptionError)):
            return DocumentError("PDF 已加密，需要密码（encrypted PDF, password required）", code="encrypted")
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        for linked in (e.__cause__, e.__context__):
            if linked is not None:
                todo.append(linked)
    return DocumentError(f"PDF 文件已损坏或不完整，无法读取（corrupt or truncated PDF: {type(exc).__name__}）",
                         code="corrupt")

