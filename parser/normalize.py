"""Text as plans arrive from the web: one width for punctuation and digits, and the outline of a plan
that lost its line breaks recovered from its markers.

Web copies of plans are often NFKC-normalised ("(牵头单位:市发改委;配合单位:…)") or typed with
full-width digits; everything downstream expects the full-width punctuation and ASCII digits that
printed plans use. A crawled plan may be one line whose items are separated only by "　　".
"""
from __future__ import annotations

import re

from .lexicon import cn_value

# full-width digits and Latin letters → ASCII (unit names use the same table)
WIDE = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for c in range(*r)}
# (；and ， stay as written: every rule reads both widths of them, and texts are quoted verbatim)
_HALF = str.maketrans({"(": "（", ")": "）"})
# a colon or comma between digits is part of a number or a time (9:30, 1,000)
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_SPACES = re.compile(r"[\u00a0\u2002\u2003\u2009\u200b\ufeff]")

# A run of ideographic spaces inside a line is where a paragraph break was lost.
_LOST_BREAK = re.compile(r"\u3000{2,}")
# A marker right after the end of a sentence, in a long line: the start of an element.
_INLINE_MARKER = re.compile(r"(?<=[。；：！？”])\s*(?=(?:[一二三四五六七八九十]{1,3}、|（[一二三四五六七八九十]{1,3}）"
                            r"|\d{1,2}[.．、](?!\d)))")
# A line that is only a date in Chinese numerals, as signatures are often printed: 二〇二五年七月十五日
_CN_DATE_LINE = re.compile(r"^([〇○零O一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$",
                           re.MULTILINE)
LONG_LINE = 600  # characters; shorter lines keep inline enumerations ("主要包括：（一）…（二）…") whole


def normalize_width(text: str) -> str:
    """One width for brackets and colons: （）： full-width, digits and letters ASCII, odd spaces plain."""
    text = _SPACES.sub(" ", text.translate(WIDE)).translate(_HALF)
    if ":" in text:
        text = _COLON.sub("：", text)
    return text


def arabic_date_lines(text: str) -> str:
    """Lines that are only a date in Chinese numerals (a signature: 二〇二五年七月十五日) in digits, so that they
    read as the printed date lines do (2025年7月15日)."""
    return _CN_DATE_LINE.sub(_arabic_date, text) if "年" in text and "日" in text else text


def _arabic_date(m: re.Match) -> str:
    values = [cn_value(g) for g in m.groups()]
    return m.group(0) if None in values else f"{values[0]}年{values[1]}月{values[2]}日"


def split_lost_breaks(paragraph: str) -> list[str]:
    """A paragraph that is a whole plan on one line → its elements (see module docstring)."""
    parts = [p for p in _LOST_BREAK.split(paragraph) if p.strip()] if "\u3000\u3000" in paragraph else [paragraph]
    out: list[str] = []
    for part in parts:
        if len(part) < LONG_LINE:
            out.append(part)
            continue
        cuts = [m.start() for m in _INLINE_MARKER.finditer(part)]
        if len(cuts) < 3:
            out.append(part)
            continue
        bounds = [0, *cuts, len(part)]
        out += [part[a:b] for a, b in zip(bounds, bounds[1:]) if part[a:b].strip()]
    return [p.strip(" \u3000\t") for p in out]


def split_outside_brackets(text: str, seps: str) -> list[str]:
    """Split on any of seps outside （…） and 《…》 (各县（市、区） and a quoted title stay whole); parts unstripped."""
    parts, buf, depth = [], [], 0
    for ch in text:
        if ch in "（《":
            depth += 1
        elif ch in "）》":
            depth = max(0, depth - 1)
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts
