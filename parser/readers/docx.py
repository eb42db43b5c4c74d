"""Word (.docx) reader: body paragraphs and tables in document order.

python-docx does the XML work; this module adds what it lacks for plan documents:
a zip-bomb check before anything is inflated, Word auto-numbering labels (一、 （一） 1.)
and table rows whose merged cells are read once.
"""
from __future__ import annotations

import io

import docx
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block, table_blocks
from parser.readers.container import open_zip
from parser.readers.numbering import Numbering

_HEADING_PREFIXES = ("heading", "title", "标题")


def read_docx(data: bytes) -> list[Block]:
    """Read a .docx into blocks; reject non-Word zips, truncated files and zip bombs first."""
    check_docx_container(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types for broken parts
        raise DocumentError(f"Word 文档已损坏，无法打开（corrupt document: {type(exc).__name__}）",
                            code="corrupt") from exc
    try:
        body = document.element.body
        Limits.from_env().check_paragraphs(len(body.xpath("./w:p | ./w:tbl | ./w:sdt")))
        return _DocxWalker(document).blocks()
    except DocumentError:
        raise
    except Exception as exc:  # a damaged part that opened (bad numbering, odd table grid …)
        raise DocumentError(f"Word 文档已损坏，无法读取（corrupt document: {type(exc).__name__}）",
                            code="corrupt") from exc


def check_docx_container(data: bytes) -> None:
    """Validate the zip container using only its directory (nothing is decompressed)."""
    if not data:
        raise DocumentError("文件为空（empty file）", code="empty")
    with open_zip(data, "docx") as archive:
        if "word/document.xml" not in set(archive.namelist()):
            raise DocumentError("不是有效的 Word 文档（not a Word .docx document）", code="unsupported")


class _DocxWalker:
    """One pass over the body; numbering counters advance in document order."""

    def __init__(self, document):
        self.document = document
        self.numbering = Numbering.from_document(document)
        self._style_cache: dict[str, tuple[bool, object]] = {}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        self._walk(self.document.element.body, out)
        return out

    def _walk(self, container, out: list[Block]) -> None:
        body = self.document._body
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                para = Paragraph(child, body)
                text = self.paragraph_text(para)
                if text:
                    out.append(Block(kind="para", text=text, heading=self._is_heading(para)))
            elif child.tag == qn("w:tbl"):
                rows = self.table_rows(Table(child, body))
                out.extend(table_blocks(rows, merges_filled=True))
            elif child.tag == qn("w:sdt"):  # content control: its content is ordinary body
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self._walk(content, out)

    def paragraph_text(self, para: Paragraph) -> str:
        """Visible text with the auto-numbering label (if any) in front; w:br stays "\\n"."""
        # The label is computed even for an empty paragraph: Word counts it too.
        label = self.numbering.label(para._p, self._style_element(para))
        text = para.text.strip()
        return label + text if text else ""

    def table_rows(self, table: Table) -> list[list[str]]:
        """One list per w:tr, one string per grid column.

        A horizontally merged cell gives its text once and "" for the other columns it
        spans; a vertical-merge continuation takes the merged (top) cell's text, as
        python-docx does.
        """
        rows: list[list[str]] = []
        # root w:tc → text, so numbering counts each cell once. Keyed by the element (not
        # id()): holding it keeps lxml's proxy alive, so the same node maps to the same key.
        seen: dict[object, str] = {}
        for tr in table._tbl.tr_lst:
            row: list[str] = [""] * tr.grid_before
            for tc in tr.tc_lst:
                root = _merge_root(tc)
                if root not in seen:
                    seen[root] = self._cell_text(_Cell(root, table))
                row.append(seen[root])
                row.extend([""] * (tc.grid_span - 1))
            if any(cell for cell in row):
                rows.append(row)
        return rows

    def _cell_text(self, cell: _Cell) -> str:
        parts = [self.paragraph_text(Paragraph(p, cell)) for p in cell._tc.iterchildren(qn("w:p"))]
        return "\n".join(p for p in parts if p)

    def _style_info(self, para: Paragraph) -> tuple[bool, object]:
        style_id = para._p.style or ""
        if style_id not in self._style_cache:
            try:
                style = para.style
                name = (style.name or "").lower() if style is not None else ""
                info = (name.startswith(_HEADING_PREFIXES), style.element if style is not None else None)
            except Exception:  # a dangling style id must not sink the document
                info = (False, None)
            self._style_cache[style_id] = info
        return self._style_cache[style_id]

    def _is_heading(self, para: Paragraph) -> bool:
        return self._style_info(para)[0]

    def _style_element(self, para: Paragraph):
        return self._style_info(para)[1]


def _merge_root(tc):
    """The w:tc that holds the content of a vertically merged cell."""
    try:
        while tc.vMerge == "continue":
            tc = tc._tc_above
    except Exception:  # malformed merge (no cell above): read the cell as it is
        pass
    return tc
