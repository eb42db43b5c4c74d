"""Text lines of a PDF page from positioned characters, by pdfplumber's own rules.

pdfplumber's extract_text_lines(strip=False) groups characters into lines and words; this is the
same procedure over plain `Char` tuples, so characters read with PDFium (pdf_pdfium.py) give the
lines pdfplumber would give for the same characters: chars whose tops chain within 3 pt form a
line, sorted by x0; a word ends at a blank (unless the page keeps its blanks), at a step back, at
a gap wider than the tolerance, or at a top 3 pt off; the words are grouped into lines again by
their tops, and words in a line are joined by one space. Only upright text: a page with rotated
or mirrored characters is read by pdfplumber itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import NamedTuple

_Y_TOLERANCE = 3.0
_X_TOLERANCE = 3.0  # gap (pt) that makes a space on a page without space characters
_X_TOLERANCE_RATIO = 0.5  # ... and the gap, in font sizes, on a page that has them (pdf_text.spacing)
_LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
_LINE_TEXT = re.compile(r"[^\n]+")


class Char(NamedTuple):
    """One character in pdfplumber's coordinates: points, top-down from the top of the page."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    size: float  # dominant font size: a change of size starts a new paragraph (titles)
    space_after: bool = False  # the PDF has a space character at the end of the line


def keeps_blanks(chars: list[Char]) -> bool:
    """Is this a page that carries its own space characters (pdf_text.spacing's rule)?"""
    return any(c.text == " " for c in chars)


def page_lines(chars: list[Char]) -> list[Line]:
    """The page's text lines, top to bottom (chars in the PDF's order, all upright)."""
    keep = keeps_blanks(chars)
    words: list[list[Char]] = []
    for line in _cluster(chars, lambda c: c.top):
        line.sort(key=lambda c: c.x0)
        words.extend(_words(line, keep))
    lines = []
    for text, line_chars in _text_lines(words):
        line = make_line(text, line_chars, min(c.top for c in line_chars))
        if line is not None:
            lines.append(line)
    return lines


def make_line(raw: str, chars: list[Char], top: float) -> Line | None:
    """A Line from one text line as pdfplumber returns it (text unstripped, with its chars)."""
    text = raw.strip()
    solid = [c for c in chars if not c.text.isspace()]
    if not text or not solid:
        return None
    size = sorted(c.size for c in solid)[len(solid) // 2]
    return Line(text, float(solid[0].x0), float(solid[-1].x1), float(top), float(size), raw[-1].isspace())


def _cluster(items: list, key, preserve_order: bool = False) -> list[list]:
    """pdfplumber's cluster_objects: values chaining within the tolerance share a group; groups in
    value order (items keep their order inside), or runs in the items' own order."""
    group_of: dict[float, int] = {}
    group, last = -1, None
    for value in sorted(set(map(key, items))):
        if last is None or value > last + _Y_TOLERANCE:
            group += 1
        group_of[value] = group
        last = value
    tagged = [(group_of[key(item)], item) for item in items]
    if not preserve_order:
        tagged.sort(key=lambda pair: pair[0])
    return [[item for _, item in run] for _, run in groupby(tagged, key=lambda pair: pair[0])]


def _words(line: list[Char], keep_blanks: bool) -> list[list[Char]]:
    """pdfplumber's WordExtractor.iter_chars_to_words on one sorted line."""
    words, current = [], []
    for char in line:
        if not keep_blanks and char.text.isspace():
            if current:
                words.append(current)
            current = []
        elif current and _begins_word(current[-1], char, keep_blanks):
            words.append(current)
            current = [char]
        else:
            current.append(char)
    if current:
        words.append(current)
    return words


def _begins_word(prev: Char, char: Char, keep_blanks: bool) -> bool:
    tolerance = _X_TOLERANCE_RATIO * prev.size if keep_blanks else _X_TOLERANCE
    return char.x0 < prev.x0 or char.x0 > prev.x1 + tolerance or abs(char.top - prev.top) > _Y_TOLERANCE


def _text_lines(words: list[list[Char]]) -> list[tuple[str, list[Char]]]:
    """pdfplumber's text map: words grouped by their tops (runs in word order), one space between
    words, a newline between lines; then each run of non-newline text with its characters."""
    letters: list[tuple[str, Char | None]] = []
    for number, line in enumerate(_cluster(words, lambda w: min(c.top for c in w), preserve_order=True)):
        if number:
            letters.append(("\n", None))
        for position, word in enumerate(line):
            if position:
                letters.append((" ", None))
            letters.extend((letter, c) for c in word for letter in _LIGATURES.get(c.text, c.text))
    text = "".join(letter for letter, _ in letters)
    out = []
    for match in _LINE_TEXT.finditer(text):
        if match.group().strip():
            out.append((match.group(), [c for _, c in letters[match.start():match.end()] if c is not None]))
    return out
