"""How a PDF's text lines become text: which gaps are spaces, and what goes between wrapped lines.

Shared by running text (pdf.py) and table cells (pdf_tables.py), which wrap the same way.
"""
from __future__ import annotations

import re


def spacing(page) -> dict:
    """extract_text options for a page. A page that carries its own space characters gets exactly
    those: justified CJK text puts wide gaps between a Chinese character and a number ("2020年" set
    as "2020 年"), which pdfplumber's gap rule (more than 3 pt) would turn into spaces."""
    if any(c["text"] == " " for c in page.chars):
        return {"keep_blank_chars": True, "x_tolerance_ratio": 0.5}
    return {}


def line_joiner(before: str, after: str) -> str:
    """Nothing between CJK lines; one space where a Latin word or number wraps, or where a number
    set off by spaces ("尚有 11 座") meets the line end: the space at a wrap is not in the PDF."""
    if not before or not after or before[-1].isspace():
        return ""
    if _is_ascii_alnum(before[-1]) and _is_ascii_alnum(after[0]):
        return " "
    if _spaced_run(after[:40]) or _spaced_run(before[-40:][::-1]):
        return " "
    return ""


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


_SPACED_RUN = re.compile(r"[0-9A-Za-z.%]+ ")


def _spaced_run(text: str) -> bool:
    """`text` opens with a number or Latin word, a space, then CJK ("11 座…"); a line end is
    checked reversed ("…全国 8%" → "%8 国全…")."""
    m = _SPACED_RUN.match(text)
    return m is not None and len(text) > m.end() and not text[m.end()].isascii()
