"""Paragraph-level text handling: structural markers and rejoining page-break splits.

Official documents exported to text (or read from PDF) often break a sentence, a date or a
unit list across a page boundary. A paragraph is joined to the next one when it does not end a
sentence, is not a heading, and the next one does not open a new structural element.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import CN_DIGITS, DOC_KINDS, FIELD_LABELS, ORGAN_ENDINGS

# Levels follow GB/T 9704 practice: 一、 > （一） > 1. > （1） > ①
_MARKERS = [
    (1, re.compile(rf"^\s*([{CN_DIGITS}]{{1,4}})\s*[、]\s*")),
    # 清单 items named as such: 问题1： / 任务三、 / 第5项：
    (1, re.compile(rf"^\s*(?:问题|任务|事项|整改事项|反馈问题)\s*([0-9]{{1,3}}|[{CN_DIGITS}]{{1,4}})\s*[：:、.．]\s*")),
    (1, re.compile(rf"^\s*第\s*([0-9]{{1,3}}|[{CN_DIGITS}]{{1,4}})\s*[项条]\s*[：:、.．\s]\s*")),
    (2, re.compile(rf"^\s*[（(]\s*([{CN_DIGITS}]{{1,4}})\s*[）)]\s*")),
    (3, re.compile(r"^\s*(\d{1,3})\s*[.．、](?!\d)\s*|^\s*(\d{1,3})[.．](?=\d{4}\s*年)")),
    (4, re.compile(r"^\s*[（(]\s*(\d{1,3})\s*[）)]\s*")),
    (5, re.compile(r"^\s*([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*")),
]
def label_words(*keys: str) -> str:
    """An alternation of the labels of these fields (all of them: none given), longest first."""
    words = [w for names, key in FIELD_LABELS if not keys or key in keys for w in names]
    return "|".join(sorted(words, key=len, reverse=True))


# a line starting with a label (市级督办领导：… 整改时限：…) opens a field
FIELD_LABEL = re.compile(rf"^\s*(?:市直|市级|省直|省级|县直|县级|区直|区级)?({label_words()})\s*[:：]")
_SENTENCE_END = tuple("。；;！？!?：:”’」』）)】》")
_DOC_KIND_END = re.compile(f"(?:{'|'.join((*DOC_KINDS, '报告'))})$")  # a report's title ends a paragraph too
_DOC_NUMBER = re.compile(r"^\S{1,12}[〔\[［【]\s*(?:19|20)\d\d\s*[〕\]］】]\s*\d+\s*号$")  # 邵办发〔2026〕7号


@dataclass
class Marker:
    level: int
    label: str  # as written, e.g. "一", "（一）" → "一", "1"
    end: int  # offset where the text after the marker starts


def marker_of(text: str) -> Marker | None:
    """The structural marker opening a paragraph, if any (一、 / （一） / 1. / （1） / ①)."""
    for level, rx in _MARKERS:
        m = rx.match(text)
        if m:
            if level == 3 and re.match(r"\s*\d{1,3}[.．]\d", text) and not re.match(r"\s*\d{1,3}[.．]\d{4}\s*年", text):
                continue  # "2.5亿元" is a number, not a marker
            return Marker(level, next(g for g in m.groups() if g), m.end())
    return None


def is_heading_like(text: str) -> bool:
    """A short marker line without sentence punctuation (一、指导思想, （四）协同管控…)."""
    t = text.strip()
    if len(t) > 40 or re.search(r"[。；;，,]", t):
        return False
    return marker_of(t) is not None or t.startswith("附件")


_DATE_ONLY = re.compile(r"^\s*(?:19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:[（(][^（）()]{0,12}[）)])?\s*$")  # the signature date line


def opens_element(text: str) -> bool:
    t = text.lstrip()
    return bool(marker_of(t) or FIELD_LABEL.match(t) or t.startswith("附件") or _DOC_NUMBER.search(t.strip())
                or _DATE_ONLY.match(t))


_BRACKETED_LABEL = re.compile(r"^\s*【[^】]{2,8}】")


def split_at_elements(paragraph: str) -> list[str]:
    """A block of lines (a text file's lines between blank lines) holding a numbered item and its
    labelled fields, one a line ("一、…\n【牵头单位】…\n整改时限：…"): each line that opens an element
    starts a paragraph of its own; the other lines stay with the one before (wrapped text)."""
    if "\n" not in paragraph:
        return [paragraph]
    out: list[str] = []
    for line in paragraph.split("\n"):
        if out and not (opens_element(line) or _BRACKETED_LABEL.match(line) or _ends_unit_label(out[-1], line)):
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


_UNITS_LABEL = re.compile(rf"^\s*(?:{label_words('lead_units', 'responsible_units', 'cooperating_units', 'principal_units')})"
                          r"\s*[:：]")
_SENTENCE_INSIDE = re.compile(r"[。！？!?].")
# the first sentence of a line that says what someone does: "市住房城乡建设局牵头负责本意见综合协调…"
_DOING = re.compile(r"^[^。！？!?]{2,30}?(?:牵头|负责|配合|要|应|将|做好|开展|组织)[^。！？!?]{4,}")


def _ends_unit_label(before: str, line: str) -> bool:
    """A line of units ("责任单位：市住房城乡建设局") is not continued by a line of sentences after it (a closing
    paragraph, "市住房城乡建设局牵头负责本意见综合协调…工作。各责任单位负责…"): a wrapped list of units holds
    no sentence end before its last character, and its first words do nothing ("和规划局。完成时限：…" goes on)."""
    line = line.strip()
    return bool(_UNITS_LABEL.match(before.rsplit("\n", 1)[-1]) and _SENTENCE_INSIDE.search(line)
                and _DOING.match(line))


# "本意见自印发之日起施行。", "本方案由市发展改革委负责解释。": the plan's closing words, a paragraph of their own
_CLOSING_WORDS = re.compile(f"^本(?:{'|'.join(DOC_KINDS)})")
_ORGAN_END = re.compile(f"(?:{'|'.join(ORGAN_ENDINGS)})$")


def _own_paragraph(before: str, p: str, following: str) -> bool:
    """A line that continues nothing: the closing words, or the issuing office's name over the date (落款) after a
    line that ended whole (not "…、市" wrapped before "市场监管局")."""
    return bool(_CLOSING_WORDS.match(p)) or (
        4 <= len(p) <= 30 and _ORGAN_END.search(p) is not None and _DATE_ONLY.match(following) is not None
        and (before.endswith(_SENTENCE_END) or _ORGAN_END.search(before) is not None))


def rejoin(paragraphs: list[str], headings: set[int] | None = None) -> list[str]:
    """Join paragraphs split by page breaks (joined with nothing: Chinese has no spaces)."""
    headings = headings or set()
    out: list[str] = []
    joinable = unclosed = False
    for i, p in enumerate(paragraphs):
        p = p.strip()
        if not p:
            continue
        following = next((q.strip() for q in paragraphs[i + 1:i + 3] if q.strip()), "")
        if out and joinable and (not opens_element(p) or (unclosed and marker_of(p) is None)) \
                and not _ends_unit_label(out[-1], p) and not _own_paragraph(out[-1], p, following):
            out[-1] += p  # inside an open （牵头单位：…） even a label continues the paragraph
        else:
            out.append(p)
        last = out[-1]
        unclosed = last.count("（") + last.count("(") > last.count("）") + last.count(")")
        joinable = unclosed and len(last) < 5000 or not (
            i in headings
            or last.endswith(_SENTENCE_END)
            or is_heading_like(last)
            or (len(out) <= 5 and len(last) <= 80 and _DOC_KIND_END.search(last.rstrip("》")))
            or _DOC_NUMBER.search(last)
            or _DATE_ONLY.match(last)
            or "\n" in last
        )
    return out
