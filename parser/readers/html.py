"""Saved web pages (.html/.htm): the article's paragraphs and tables, without the site around it.

A government page wraps the document in navigation, breadcrumbs, share buttons and a footer.
Those elements (by tag, or by a class/id that names them) are dropped with everything inside;
block elements become paragraphs; <br> becomes a line break; a data <table> becomes a table block in
which a rowspan cell's text is repeated in the rows it covers (as Word's reader does: an empty cell is empty)
and a colspan cell's columns after its first are empty. Older
sites lay the whole page out in tables: a table that holds another table, or has one column, is
layout, and its cells are read as running text. The stdlib parser is used: it fetches nothing and
tolerates broken markup.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block
from parser.readers.text import decode_text

# Elements whose whole content is never document text.
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "iframe",
                        "select", "button", "form", "svg", "object", "embed", "head", "map", "dialog"})
# class / id words of page furniture (whole words, or joined with - and _).
_FURNITURE = re.compile(r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumbs?|crumbs?|position|location|share|bshare|"
                        r"sidebar|side|toolbar|tools?|footer|foot|top-?bar|banner|copyright|"
                        r"related|relate|xgxx|print|fontsize|search|login|qrcode|ewm|pagination|pager)"
                        r"(?:$|[\s_-])", re.IGNORECASE)
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5",
                         "h6", "blockquote", "pre", "center", "address", "ul", "ol", "dl", "body", "html",
                         "figure", "figcaption", "caption", "title"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "param"})
# Lines that are page chrome even when the markup does not say so.
_CHROME_LINE = re.compile(r"^(?:【?\s*(?:字号|字体)\s*[:：]?\s*[大中小\s]*】?|打印(?:本页|页面)?|关闭(?:窗口|本页)?|"
                          r"分享到\s*[:：]?.*|扫一扫.*|收藏|返回顶部|【\s*(?:打印|关闭|大|中|小)\s*】.*|"
                          r"(?:发布(?:时间|日期)|信息来源|来源|浏览次数|点击(?:数|量|次数)|访问量)\s*[:：].*)$")
_SOURCE_BREAK = re.compile(r"[ \t\r]*\n\s*")  # a line break in the markup is not one in the text


def _span(value) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000))
    except (TypeError, ValueError):
        return 1


def _clean(text: str) -> str:
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", ln).strip(" \u3000") for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


class _Table:
    """Rows of cells; each cell keeps its content as blocks, so a layout table can give them back."""

    def __init__(self):
        self.rows: list[list] = []  # per cell its blocks; None: covered by a colspan; _ABOVE: by a rowspan
        self.cell: list[Block] | None = None
        self.covered: dict[int, int] = {}  # column → rows still covered by a rowspan from above
        self.span = (1, 1)
        self.nested = False

    def start_row(self) -> None:
        self.end_cell()
        self.rows.append([])

    def start_cell(self, attrs: dict) -> None:
        if not self.rows:
            self.start_row()
        self.end_cell()
        self.cell = []
        self.span = (_span(attrs.get("rowspan")), _span(attrs.get("colspan")))

    def end_cell(self) -> None:
        if self.cell is None:
            return
        row = self.rows[-1]
        self._skip_covered(row)
        rowspan, colspan = self.span
        row.append(self.cell)
        for c in range(len(row), len(row) + colspan - 1):
            row.append(None)
        if rowspan > 1:
            for c in range(len(row) - colspan, len(row)):
                self.covered[c] = rowspan - 1
        self.cell = None

    def _skip_covered(self, row: list) -> None:
        while self.covered.get(len(row), 0) > 0:
            self.covered[len(row)] -= 1
            row.append(_ABOVE)

    def end_row(self) -> None:
        self.end_cell()
        if not self.rows:
            return
        row = self.rows[-1]
        while any(n > 0 for c, n in self.covered.items() if c >= len(row)):
            if self.covered.get(len(row), 0) > 0:
                self._skip_covered(row)
            else:
                row.append(None)

    def blocks(self) -> list[Block]:
        self.end_row()
        width = max((len(r) for r in self.rows), default=0)
        if self.nested or width <= 1:  # layout: the cells are running text
            return [b for row in self.rows for cell in row if cell for b in cell]
        rows: list[list[str]] = []
        for row in self.rows:
            above = rows[-1] if rows else [""] * width
            rows.append([above[c] if cell is _ABOVE else _cell_text(cell) for c, cell in enumerate(row)]
                        + [""] * (width - len(row)))
        rows = [r for r in rows if any(c for c in r)]
        return [Block(kind="table", rows=rows, merges_filled=True)] if rows else []


_ABOVE = object()  # a cell covered by a rowspan from the row above


def _cell_text(cell: list[Block] | None) -> str:
    if not cell:
        return ""
    return "\n".join(b.text if b.kind == "para" else "\n".join("\t".join(r) for r in b.rows) for b in cell)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.heading = False
        self.stack: list[str] = []  # open elements, to close a dropped one at its own end tag
        self.skip_from = 0  # stack depth where dropped furniture starts (0: none)
        self.tables: list[_Table] = []

    def _sink(self) -> list[Block]:
        """Where finished blocks go: the open table cell, or the page."""
        for table in reversed(self.tables):
            if table.cell is not None:
                return table.cell
            break
        return self.blocks

    def _furniture(self, tag: str, attrs: dict) -> bool:
        if tag == "header" and ("article" in self.stack or "main" in self.stack):
            return False  # an article's own header holds its title
        return tag in _SKIP_TAGS or bool(_FURNITURE.search(f"{attrs.get('class', '')} {attrs.get('id', '')}"))

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag in _VOID:
            if tag == "br" and not self.skip_from:
                self.text.append("\n")
            return
        self.stack.append(tag)
        if self.skip_from:
            return
        if self._furniture(tag, attrs):
            self.skip_from = len(self.stack)
            return
        if tag == "table":
            self.flush()
            if self.tables and self.tables[-1].cell is not None:
                self.tables[-1].nested = True
            self.tables.append(_Table())
        elif self.tables and tag == "tr":
            self.flush()
            self.tables[-1].start_row()
        elif self.tables and tag in ("td", "th"):
            self.flush()
            self.tables[-1].start_cell(attrs)
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.heading = tag in _HEADING_TAGS

    def handle_endtag(self, tag):
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:  # close elements left open inside this one
            depth = len(self.stack)
            open_tag = self.stack.pop()
            if self.skip_from:
                if depth == self.skip_from:
                    self.skip_from = 0
            else:
                self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        if tag == "table" and self.tables:
            self.flush()
            finished = self.tables.pop().blocks()
            self._sink().extend(finished)
        elif self.tables and tag in ("td", "th"):
            self.flush()
            self.tables[-1].end_cell()
        elif self.tables and tag == "tr":
            self.flush()
            self.tables[-1].end_row()
        elif tag in _BLOCK_TAGS:
            self.flush()

    def handle_data(self, data):
        if not self.skip_from:
            self.text.append(_SOURCE_BREAK.sub("", data))

    def flush(self) -> None:
        text = _clean("".join(self.text))
        self.text = []
        if text and not _CHROME_LINE.match(text.replace("\n", " ")):
            self._sink().append(Block(kind="para", text=text, heading=self.heading))
        self.heading = False

    def close(self):
        super().close()
        while self.stack:
            self.handle_endtag(self.stack[-1])
        while self.tables:
            self._close("table")
        self.flush()


def read_html(data: bytes) -> list[Block]:
    text = decode_text(data)
    Limits.from_env().check_paragraphs(text.count("<p") + text.count("<tr") + text.count("<div") + text.count("<br"))
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    if not parser.blocks:
        raise DocumentError("网页中没有正文内容（empty web page）", code="empty")
    return parser.blocks
