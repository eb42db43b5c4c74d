"""Word auto-numbering (word/numbering.xml) rendered as text labels.

python-docx does not expose list numbers, yet plan documents often number 一、 （一）
1. through Word lists, so without this the markers the parser needs would be missing.
Counters follow Word: one set per abstract list, a deeper level restarts when a
shallower one advances, and a w:num with a startOverride restarts its levels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
_PLACEHOLDER = re.compile(r"%([1-9])")


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    suffix: str = "tab"
    legal: bool = False  # w:isLgl: every referenced level shown as decimal
    style_id: str = ""  # w:pStyle: the paragraph style bound to this level


class Numbering:
    """Lookup from a paragraph's w:numPr (direct or via its style) to its label."""

    def __init__(self, abstracts: dict[str, dict[int, Level]], nums: dict[str, tuple[str, dict[int, int]]]):
        self.abstracts = abstracts
        self.nums = nums  # numId → (abstractNumId, {ilvl: startOverride})
        self.counters: dict[str, dict[int, int]] = {}
        self._restarted: set[tuple[str, int]] = set()

    @classmethod
    def from_document(cls, document) -> "Numbering":
        try:
            root = document.part.part_related_by(RT.NUMBERING).element
        except (KeyError, AttributeError):
            return cls({}, {})
        abstracts = {a.get(qn("w:abstractNumId")): _parse_levels(a) for a in root.iterchildren(qn("w:abstractNum"))}
        nums = {}
        for num in root.iterchildren(qn("w:num")):
            abstract = _val(num.find(qn("w:abstractNumId")))
            overrides = {}
            for ov in num.iterchildren(qn("w:lvlOverride")):
                start = _val(ov.find(qn("w:startOverride")))
                if start is not None and start.isdigit():
                    overrides[_int(ov.get(qn("w:ilvl")), 0)] = int(start)
            nums[num.get(qn("w:numId"))] = (abstract, overrides)
        return cls(abstracts, nums)

    def label(self, p_element, style_element=None) -> str:
        """The rendered label ("一、", "（二）", "3. ") for a paragraph, "" if not numbered."""
        if not self.nums:
            return ""
        num_id, ilvl = _num_pr(p_element.find(qn("w:pPr")))
        if num_id is None and style_element is not None:
            num_id, ilvl = self._style_num_pr(style_element)
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstracts.get(abstract_id)
        if not levels:
            return ""
        if ilvl is None:
            style_id = style_element.get(qn("w:styleId")) if style_element is not None else ""
            ilvl = next((i for i, lv in levels.items() if style_id and lv.style_id == style_id), 0)
        level = levels.get(ilvl, Level())
        counts = self.counters.setdefault(abstract_id, {})
        if ilvl in overrides and (num_id, ilvl) not in self._restarted:
            self._restarted.add((num_id, ilvl))
            counts[ilvl] = overrides[ilvl] - 1
        counts[ilvl] = counts[ilvl] + 1 if ilvl in counts else level.start
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        if level.fmt == "bullet":
            return ""  # bullet glyphs are font symbols, not text worth keeping
        return self._render(level, levels, counts)

    def _render(self, level: Level, levels: dict[int, Level], counts: dict[int, int]) -> str:
        def fill(match: re.Match) -> str:
            k = int(match.group(1)) - 1
            ref = levels.get(k, Level())
            fmt = "decimal" if level.legal else ref.fmt
            return format_number(counts.get(k, ref.start), fmt)

        label = _PLACEHOLDER.sub(fill, level.text)
        # Word puts a tab after the label; "1." + text reads "1. text", "一、" needs nothing.
        if label and level.suffix != "nothing" and not _is_wide(label[-1]):
            label += " "
        return label

    def _style_num_pr(self, style_element, depth: int = 0):
        """numPr from a style or the styles it is based on (heading styles often carry it)."""
        num_id, ilvl = _num_pr(style_element.find(qn("w:pPr")))
        if num_id is not None or depth > 10:
            return num_id, ilvl
        based = style_element.find(qn("w:basedOn"))
        if based is None:
            return None, None
        styles = style_element.getparent()
        for candidate in styles.iterchildren(qn("w:style")):
            if candidate.get(qn("w:styleId")) == based.get(qn("w:val")):
                return self._style_num_pr(candidate, depth + 1)
        return None, None


def format_number(n: int, fmt: str) -> str:
    """One counter value in a Word numFmt (the common ones; unknown formats fall back to decimal)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting"):
        return chinese_number(n)
    if fmt == "chineseLegalSimplified":
        return chinese_number(n).translate(str.maketrans(_CN_DIGITS, _CN_LEGAL)).replace("十", "拾").replace("百", "佰")
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return _HEAVENLY_STEMS[n - 1]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("lowerLetter", "upperLetter") and n >= 1:
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and n >= 1:
        roman = _roman(n)
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "none":
        return ""
    return str(n)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五 (as Word's chineseCounting shows them)."""
    if n <= 0:
        return _CN_DIGITS[0] if n == 0 else str(n)
    if n >= 10000:
        return str(n)
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out += "零"
            out += _CN_DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out[1:] if out.startswith("一十") else out


def _parse_levels(abstract) -> dict[int, Level]:
    levels = {}
    for lvl in abstract.iterchildren(qn("w:lvl")):
        level = Level()
        level.start = _int(_val(lvl.find(qn("w:start"))), 1)
        level.fmt = _val(lvl.find(qn("w:numFmt"))) or "decimal"
        text = lvl.find(qn("w:lvlText"))
        level.text = _val(text) or "" if text is not None else ""
        level.suffix = _val(lvl.find(qn("w:suff"))) or "tab"
        level.legal = lvl.find(qn("w:isLgl")) is not None
        level.style_id = _val(lvl.find(qn("w:pStyle"))) or ""
        levels[_int(lvl.get(qn("w:ilvl")), 0)] = level
    return levels


def _num_pr(ppr):
    """(numId, ilvl) from a w:pPr, None where absent."""
    if ppr is None:
        return None, None
    num_pr = ppr.find(qn("w:numPr"))
    if num_pr is None:
        return None, None
    ilvl = _val(num_pr.find(qn("w:ilvl")))
    return _val(num_pr.find(qn("w:numId"))), (_int(ilvl, 0) if ilvl is not None else None)


def _val(element):
    return element.get(qn("w:val")) if element is not None else None


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80  # CJK and full-width forms: no space before Chinese text


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out
