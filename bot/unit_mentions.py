"""Finding a unit named in a question: the longest known name (name or alias) in the text, a two-character
short form only where no longer word goes on (环保 in 环保局牵头, not in 环保督察), else one typo away from a
name of four characters or more."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters → ASCII, （）→ ()), no whitespace, no trailing punctuation."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACE_RE.sub("", text).strip("。.!！~～")


_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class _NameIndex:
    """The known names, normalised (→ the name as given), arranged for finding them in a question."""

    names: dict[str, str]
    by_two: dict[str, list[str]]  # by first two characters, longest first, then in character order
    by_ends: dict[str, dict[str, list[str]]]  # names of ≥4 characters by first, then last character


@lru_cache(maxsize=8)
def _name_index(names: tuple[str, ...]) -> _NameIndex:
    """Longest match wins (各县市区 over 县市区; of two as long, the first in character order), so a
    question only tries the names that can start in it."""
    index = {}
    for n in names:
        k = normalize(n)
        if len(k) >= 2:
            index.setdefault(k, n)
    by_two: dict[str, list[str]] = {}
    by_ends: dict[str, dict[str, list[str]]] = {}
    for k in sorted(index, key=lambda k: (-len(k), k)):
        by_two.setdefault(k[:2], []).append(k)
        if len(k) >= 4:
            by_ends.setdefault(k[0], {}).setdefault(k[-1], []).append(k)
    return _NameIndex(index, by_two, by_ends)


def find_unit(text: str, names: tuple[str, ...]) -> tuple[str | None, tuple[int, int] | None, bool]:
    """(name, span, fuzzy): the longest known name in the text, else a one-typo match."""
    index = _name_index(names)
    best, at = None, -1
    for pair in {text[i:i + 2] for i in range(len(text) - 1)}:
        for k in index.by_two.get(pair, ()):  # the first found is the best starting so: stop there
            if len(k) > len(text):
                continue
            if best is not None and (-len(k), k) > (-len(best), best):
                break
            i = _find_name(text, k) if len(k) == 2 else text.find(k)
            if i >= 0:
                best, at = k, i
                break
    if best is not None:
        return index.names[best], (at, at + len(best)), False
    return _fuzzy_unit(text, index)


def _find_name(text: str, name: str) -> int:
    """Where `name` occurs; a two-character short form (环保, 住建) only when what follows it is not the
    rest of another word (环保督察, 文旅产业, 市环保厅): the end, a particle or a question word."""
    i = text.find(name)
    while len(name) == 2 and i >= 0 and not _SHORT_FORM_END.match(text, i + 2):
        i = text.find(name, i + 1)
    return i


_SHORT_FORM_END = re.compile(r"$|部门|[的那这有下哪牵配负和与及、，,。？?逾到任什今本明共一几还要在]")


def _fuzzy_unit(text: str, index: _NameIndex):
    """One edit away from a known name of ≥4 characters, same first and last character
    (市生太环境局 → 市生态环境局); ties between different names → no match. Shorter names are too
    close to each other (邵阳市 / 邵东市): they get suggestions instead."""
    starts: dict[str, list[int]] = {}
    for i, c in enumerate(text):
        starts.setdefault(c, []).append(i)
    hits: dict[str, tuple[int, int]] = {}
    for c, where in starts.items():
        ends = index.by_ends.get(c)
        if not ends:
            continue
        for k in (k for e in starts if e in ends for k in ends[e]):
            for size in (len(k) - 1, len(k), len(k) + 1):
                if size < 4:
                    continue
                for i in where:  # a piece starting with k's first character and ending with its last
                    if i + size <= len(text) and text[i + size - 1] == k[-1] \
                            and Levenshtein.distance(text[i:i + size], k) <= 1:
                        hits.setdefault(k, (i, i + size))
    if not hits:
        return None, None, False
    longest = max(len(k) for k in hits)
    top = [k for k in hits if len(k) == longest]
    if len({index.names[k] for k in top}) > 1:
        return None, None, False
    return index.names[top[0]], hits[top[0]], True
