"""Dated commitments inside a field (整改时限, 整改目标, 整改措施 or a body measure) → Milestones.

Dates are found by parser.dates; this module decides what text describes each due item and
which plan units, if any, the clause binds it to (e.g. "2022年6月30日前，新邵县…建成投产").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .dates import DateHit, find_dates
from .model import Milestone

TEXT_LIMIT = 60
_PLACE_BEFORE = ("涉及", "位于", "地处", "途经", "包括")
_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?\n]?")
_CLAUSE_SEP = "，,。；;！？!?\n"


@dataclass
class Localities:
    """The county-level units a task concerns and how to spot them in its text."""

    units: set[str]  # canonical names of the task's own localities (collectives expanded)
    pattern: re.Pattern | None  # matches names and aliases of those units and of collectives
    canonical: dict[str, str]  # name or alias as written → canonical
    everyone: set[str] = None  # every unit of the task, localities included

    def named_in(self, text: str) -> list[str]:
        """Localities named as actors in text (a name followed by 的 is only a place)."""
        if not self.pattern:
            return []
        found: list[str] = []
        titles = [(t.start(), t.end()) for t in re.finditer(r"《[^》]*》", text)]
        place_chain, prev_end = False, -2
        for m in self.pattern.finditer(text):
            chained = text[prev_end:m.start()] == "、"
            place_chain = (chained and place_chain) or text[max(0, m.start() - 2):m.start()] in _PLACE_BEFORE \
                or text[m.start() - 1:m.start()] in ("在", "对", "至")
            prev_end = m.end()
            if place_chain or text[m.end():m.end() + 1] == "的" or any(a <= m.start() < b for a, b in titles):
                continue  # a place ("涉及…县", "…县的监测体系") or part of a title, not the one doing the work
            unit = self.canonical[m.group(0)]
            if unit not in found:
                found.append(unit)
        return found


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text)]


def _clause_bounds(text: str, lo: int, hi: int, pos: int) -> tuple[int, int]:
    """The clause (between ，/。/；) of text[lo:hi] containing pos."""
    start = max((text.rfind(c, lo, pos) for c in _CLAUSE_SEP), default=-1)
    start = max(start + 1, lo)
    ends = [i for c in _CLAUSE_SEP if (i := text.find(c, pos, hi)) != -1]
    return start, (min(ends) if ends else hi)


def _enclosing_note(text: str, hit: DateHit, lo: int, hi: int) -> tuple[int, int] | None:
    """A completion note around the date: （2021年12月31日前完成） → its span."""
    open_ = max(text.rfind("（", lo, hit.start), text.rfind("(", lo, hit.start))
    if open_ == -1 or re.search(r"[）)]", text[open_:hit.start]):
        return None
    m = re.compile(r"[^（()）]{0,12}[）)]").match(text, hit.end)
    return (open_, m.end()) if m and m.end() <= hi else None


def _trim(s: str) -> str:
    s = s.strip().strip("，,、；;。 ")
    return s[:TEXT_LIMIT]


def _describe(text: str, hit: DateHit, lo: int, hi: int) -> str:
    """What is due: the region when short, else the clause around the date."""
    note = _enclosing_note(text, hit, lo, hi)
    if note:
        before = text[lo:note[1]].strip("，,；; ")
        if len(before) <= TEXT_LIMIT:
            return _trim(before)
        # keep the trailing clauses that fit, without the note
        body = text[lo:note[0]]
        parts = re.split(r"[，,]", body)
        kept = ""
        for p in reversed(parts):
            cand = p + ("，" + kept if kept else "")
            if len(cand) > TEXT_LIMIT:
                break
            kept = cand
        return _trim(kept or body[-TEXT_LIMIT:])
    region = text[lo:hi]
    if len(region.strip("，,。；; ")) <= TEXT_LIMIT:
        return _trim(region)
    cs, ce = _clause_bounds(text, lo, hi, hit.start)
    clause = text[cs:ce]
    if len(clause) - (hit.end - hit.start) <= 3 and ce < hi:
        # the clause is only the date phrase: take what follows ("2022年底前，基本建成…")
        _, ce2 = _clause_bounds(text, ce + 1, hi, ce + 1)
        clause = text[cs:ce2]
    return _trim(clause)


def _regions(text: str, hits: list[DateHit], lo: int, hi: int) -> list[tuple[int, int]]:
    """Split a sentence between its dates: each date owns the clauses up to the next date's clause."""
    starts = [lo] + [_clause_bounds(text, lo, hi, h.start)[0] for h in hits[1:]]
    out = []
    for i, h in enumerate(hits):
        s = starts[i]
        e = starts[i + 1] if i + 1 < len(hits) else hi
        out.append((s, max(e, h.end)))
    return out


# a sentence whose subject is the plan's own level (市城区, 全市, 中心城区, 市本级, 全省, 省直 …)
_OWN_LEVEL = re.compile(r"^\s*(?:全?[市省]|[市省]城区|中心城区|城区|[市省]本级|[市省]直)(?![委政人级场])")


def _bind(localities: Localities, region: str, *wider: str) -> list[str]:
    """Units named as doing the dated item.

    In the date's own clause any named subset of the task's units binds ("汨罗市、临湘市9月底前完成");
    from the wider sentence or paragraph only a strict subset of the task's localities does.
    """
    named = [u for u in localities.named_in(region) if u in localities.everyone]
    if named:
        return named if set(named) < localities.everyone else []
    if _OWN_LEVEL.match(wider[0] if wider else ""):
        return []  # "市城区持续推进…，力争到2028年底前…": the plan's own level does it, not a county
    for t in wider:
        named = [u for u in localities.named_in(t) if u in localities.units]
        if named:
            return named if len(localities.units) > 1 and set(named) < localities.units else []
    return []


def _earlier(text: str, lo: int) -> tuple[str, ...]:
    """The field's text before the date's sentence, where a place that opens the field ("邵阳县：…") or an
    earlier sentence may name who does it; a later sentence never does."""
    return (text[:lo],) if lo else ()


# "即日起至2024年12月" in a time-limit field: the period it runs for ends on its deadline (in running text such a
# span is a validity window and no deadline: date_forms.WINDOW_PREFIX); same length, so spans stay valid
_RUNS_UNTIL = re.compile(r"(?:起|之日)(?=至|到)")


def _until(m: re.Match) -> str:
    return "，" * len(m.group(0))


def extract(text: str, source: str, localities: Localities, doc_year: int | None,
            default_units: list[str] | None = None, issued: date | None = None) -> list[Milestone]:
    """Milestones of one field. `default_units` binds every item (a measure under a unit's group)."""
    out: list[Milestone] = []
    for lo, hi in _sentences(text):
        hits = find_dates(text[lo:hi], doc_year, issued)
        if not hits and source == "deadline":
            hits = find_dates(_RUNS_UNTIL.sub(_until, text[lo:hi]), doc_year, issued)
        if not hits:
            continue
        hits = [DateHit(h.start + lo, h.end + lo, h.due, h.kind, h.done, h.approximate) for h in hits]
        # "2024年计划改造…，6月底前开工，年底前完工": a bare year framing later dates of the same year
        # is not a commitment of its own
        hits = [h for h in hits if not (h.kind == "year" and any(
            o is not h and o.start > h.start and o.due.year == h.due.year and o.kind != "year" for o in hits))]
        for hit, (s, e) in zip(hits, _regions(text, hits, lo, hi)):
            units = _bind(localities, text[s:e], text[lo:hi], *_earlier(text, lo)) or list(default_units or [])
            out.append(Milestone(due=hit.due, text=_describe(text, hit, s, e), source=source,
                                 units=units, done=hit.done))
    return out
