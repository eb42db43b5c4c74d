"""Plain-text reader: decode strictly, then split into paragraphs.

Everything here is linear in the input size: a 5 MB single-line file must come back
at once, so no regex may backtrack over a whole line.
"""
from __future__ import annotations

import codecs
import re
import unicodedata

from parser.errors import DocumentError
from parser.limits import Limits
from parser.readers.blocks import Block, is_page_number

# A line holding only whitespace (ASCII or the full-width 　 that Chinese text uses).
_BLANK_RUN = re.compile(r"\n[ \t\u3000\f\v]*(?=\n)")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Fraction of characters that may be control / private-use before the "text" is called binary.
_MAX_ODD_FRACTION = 0.01


def decode_text(data: bytes) -> str:
    """Bytes → str: BOM first, then strict UTF-8, then strict GB18030 (a superset of GBK/GB2312)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _check_textual(data.decode(codec))
            except UnicodeDecodeError:
                raise _encoding_error() from None
    if b"\x00" in data:  # no BOM-less UTF-16 support: NULs mean binary
        raise _encoding_error()
    for codec in ("utf-8", "gb18030"):
        try:
            return _check_textual(data.decode(codec))
        except UnicodeDecodeError:
            continue
    raise _encoding_error()


def read_text(data: bytes) -> list[Block]:
    """Read a .txt plan into paragraph blocks (see split_paragraphs); runs of tab-separated rows
    (a table pasted from a web page or WPS) become table blocks."""
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    Limits.from_env().check_paragraphs(text.count("\n") + 1)
    blocks: list[Block] = []
    lines = [ln for ln in text.split("\n") if not is_page_number(ln, bare_number=False)]
    for kind, chunk in _segments(lines):
        if kind == "table":
            blocks.append(Block(kind="table", rows=chunk))
        else:
            blocks.extend(Block(kind="para", text=p) for p in split_paragraphs("\n".join(chunk)))
    if not blocks:
        raise DocumentError("文件没有文字内容（empty file）", code="empty")
    return blocks


def _segments(lines: list[str]):
    """("text", lines) and ("table", rows) in order. A table is two or more consecutive lines that
    hold a tab, with a consistent column count: rows may be shorter (trailing cells left out), but
    at least half of them are as wide as the widest."""
    start = 0
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and "\t" in lines[j].strip(" \u3000"):
            j += 1
        rows = _rows(lines[i:j])
        if j - i >= 2 and _consistent(rows):
            if start < i:
                yield "text", lines[start:i]
            width = max(len(r) for r in rows)
            yield "table", [r + [""] * (width - len(r)) for r in rows]
            start = j
        i = max(j, i + 1)
    if start < len(lines):
        yield "text", lines[start:]


def _cells(line: str, indented: bool) -> list[str]:
    line = line.strip(" \u3000")
    return [c.strip(" \u3000\xa0") for c in (line.lstrip("\t") if indented else line).split("\t")]


def _rows(lines: list[str]) -> list[list[str]]:
    """Cells of each line. Leading tabs are empty first cells (a merged 序号 left empty in a sub-row) when
    the row then has no more cells than the rows that start with text; otherwise they are indentation."""
    width = max((len(_cells(ln, True)) for ln in lines if not ln.strip(" \u3000").startswith("\t")), default=0)
    return [_cells(ln, not (ln.strip(" \u3000").startswith("\t") and len(_cells(ln, False)) <= width))
            for ln in lines]


def _consistent(rows: list[list[str]]) -> bool:
    width = max(len(r) for r in rows)
    return width >= 2 and 2 * sum(len(r) == width for r in rows) >= len(rows)


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs if the text uses blank lines, else one paragraph a line.

    "Uses blank lines" means at least one separator per twenty non-blank lines, so a
    line-per-paragraph file with a few blank lines between sections stays line-based.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = [ln for ln in text.split("\n") if ln.strip()]
    separators = len(re.findall(r"\n[ \t\u3000\f\v]*\n", text))
    if separators and separators * 20 >= len(lines):
        chunks = _BLANK_RUN.sub("\n", text).split("\n\n")
        return [c.strip() for c in chunks if c.strip()]
    return [ln.strip() for ln in lines]


def _check_textual(text: str) -> str:
    """Reject strings that decoded but are binary noise (GB18030 accepts many byte soups)."""
    if not text:
        return text
    odd = 0
    for ch in text[:200_000]:  # a prefix is enough to tell text from noise
        if ch in "\n\r\t\f\ufeff":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Co", "Cn", "Cs"):
            odd += 1
    if odd > _MAX_ODD_FRACTION * min(len(text), 200_000):
        raise _encoding_error()
    return text


def _encoding_error() -> DocumentError:
    return DocumentError(
        "无法识别文件的文字编码，请另存为 UTF-8 或 GBK 文本（unknown text encoding or binary file）",
        code="encoding",
    )
