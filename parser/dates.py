"""Find forward-looking date commitments in Chinese plan text.

Pure module: no I/O.  ``find_dates`` returns every deadline-like expression
("2022年6月30日前", "2021 年底前", "到“十四五”末", "力争在2035年前", "2025年…达到70%"),
in text order and non-overlapping, and leaves out dates that only label or
date something else (titles, standard and document numbers, 年度 labels,
past facts such as "截至2020年底" or "2020年以来").
"""
from __future__ import annotations

import bisect
import datetime
import re
from dataclasses import dataclass

from parser import date_forms as F


@dataclass(frozen=True)
class DateHit:
    start: int        # span of the date expression in the input text
    end: int
    due: datetime.date
    kind: str         # day, month, year_end, year, quarter, half, festival, season, plan_period, relative
    done: bool        # the text says it already happened (已于2021年4月完成)
    approximate: bool  # anything coarser than a single named day


@dataclass
class _Date:
    """A parsed expression before its context has been judged."""
    end: int
    due: datetime.date
    kind: str
    year: int
    month: int | None = None
    day: int | None = None
    bare_year: bool = False   # "X年" with nothing after it (needs a target)
    relative: bool = False    # year taken from doc_year
    deadline_suffix: bool = False  # ends in 前/以前/内/止: clearly a time limit


_WS = re.compile(r"\s+")


def _squash(s: str) -> str:
    return _WS.sub("", s)


def _year_value(tok: str, doc_year: int | None) -> tuple[int | None, bool]:
    tok = _squash(tok)
    if tok in F.REL_YEAR_OFFSET:
        return (None if doc_year is None else doc_year + F.REL_YEAR_OFFSET[tok]), True
    y = F.cn_int(tok)
    return (y if 1900 <= y <= 2099 else None), False


def _from_groups(g: dict, year: int, end: int) -> _Date | None:
    """Due date from the groups of a FULL/NUMERIC/YEARLESS/MONTH_TAIL match."""
    d = _due_from_groups(g, year, end)
    if d is not None:
        d.deadline_suffix = bool(g.get("suf"))
    return d


def _due_from_groups(g: dict, year: int, end: int) -> _Date | None:
    try:
        if g.get("half"):
            return _Date(end, datetime.date(year, 6 if g["half"] == "上" else 12,
                                            30 if g["half"] == "上" else 31), "half", year)
        if g.get("q"):
            return _Date(end, F.quarter_end(year, F.cn_int(g["q"])), "quarter", year)
        if g.get("ye"):
            return _Date(end, datetime.date(year, 12, 31), "year_end", year)
        if g.get("fest"):
            return _Date(end, F.festival_eve(year, g["fest"]), "festival", year)
        if g.get("flood"):
            return _Date(end, datetime.date(year, *F.FLOOD_SEASON_EVE), "season", year)
        if g.get("mid"):
            return _Date(end, datetime.date(year, 6, 30), "half", year)
        if g.get("mo"):
            month = F.cn_int(g["mo"])
            if g.get("d"):
                day = F.cn_int(g["d"])
                return _Date(end, datetime.date(year, month, day), "day", year, month, day)
            part = g.get("mp")
            if part in ("初", "上旬"):
                due = datetime.date(year, month, 10)
            elif part == "中旬":
                due = datetime.date(year, month, 20)
            else:  # 底/末/下旬 or plain month: the last day of the month
                due = F.month_end(year, month)
            return _Date(end, due, "month", year, month)
    except ValueError:  # 2月30日 and the like
        return None
    return _Date(end, datetime.date(year, 12, 31), "year", year,
                 bare_year=not g.get("suf"))


def _parse_full(norm: str, pos: int, doc_year: int | None) -> tuple[int, _Date | None]:
    """Parse an expression that starts with a year at ``pos``."""
    m = F.FULL.match(norm, pos) or F.NUMERIC.match(norm, pos)
    if not m:
        return pos + 1, None
    if m.re is F.NUMERIC and m.group("sep") == "-" and not m.group("d"):
        return m.end(), None
    year, rel = _year_value(m.group("y"), doc_year)
    if year is None:
        return m.end(), None
    d = _from_groups(m.groupdict(), year, m.end())
    if d is None:
        return m.end(), None
    d.relative = rel
    if d.kind in ("festival", "season") and (r := F.REFINED.match(norm, d.end)):
        # 2024年汛前（4月底前）: the bracket says which day, in the year just named
        inner = F.MONTH_TAIL.match(norm, r.end() - 1)
        exact = _from_groups(inner.groupdict(), d.year, inner.end()) if inner else None
        if exact is None:
            return d.end, None  # a bracket with its own year is read on its own
        exact.relative = rel
        close = re.compile(r"\s*\)").match(norm, exact.end)
        exact.end = close.end() if close else exact.end
        return exact.end, exact
    if d.kind != "year" or not d.bare_year:
        d = _extend_range(norm, d, doc_year)
    return d.end, d


def _extend_range(norm: str, d: _Date, doc_year: int | None) -> _Date:
    """2021年6月至12月 / 2021年6月—2022年12月: the range ends at its end."""
    c = F.RANGE_CONN.match(norm, d.end)
    if not c:
        return d
    p = c.end()
    end: _Date | None = None
    m = F.FULL.match(norm, p) or F.NUMERIC.match(norm, p)
    if m:
        year, _ = _year_value(m.group("y"), doc_year)
        if year is not None:
            end = _from_groups(m.groupdict(), year, m.end())
    elif d.month is not None and (m := F.MONTH_TAIL.match(norm, p)):
        end = _from_groups(m.groupdict(), d.year, m.end())
    elif d.day is not None and (m := F.DAY_TAIL.match(norm, p)):
        try:
            day = F.cn_int(m.group("d"))
            end = _Date(m.end(), datetime.date(d.year, d.month, day), "day", d.year, d.month, day)
        except ValueError:
            end = None
    if end is None or end.due < d.due:
        return d
    end.relative = d.relative
    end.bare_year = False  # a range end is a time limit even without 前
    return end


def _parse_yearless(norm: str, pos: int, doc_year: int | None,
                    issued: datetime.date | None = None) -> tuple[int, _Date | None]:
    m = F.YEARLESS.match(norm, pos)
    if not m:
        return pos + 1, None
    g = m.groupdict()
    if g.get("fest"):  # 春节前: the next Spring Festival after the document was issued (unknown: no date)
        if issued is None or F.YEARLESS_BAD_PREFIX.search(norm, max(0, pos - 4), pos):
            return m.end(), None
        eve = F.festival_eve(issued.year, g["fest"])
        eve = eve if eve >= issued else F.festival_eve(issued.year + 1, g["fest"])
        return m.end(), _Date(m.end(), eve, "festival", eve.year, relative=True, deadline_suffix=True)
    if g.get("span"):  # 3个月内完成: from the document's date (unknown: no date)
        if issued is None or F.YEARLESS_BAD_PREFIX.search(norm, max(0, pos - 4), pos) \
                or not _span_from_plan(norm, pos) or F.SPAN_BAD_NEXT.match(norm, m.end()):
            return m.end(), None  # 在一年内交清 / 离校2年内 / 3个月内招用的员工 bind others
        due = _after(issued, g["span"], g["per"])
        return m.end(), None if due is None else _Date(m.end(), due, "relative", due.year, relative=True,
                                                       deadline_suffix=True)
    if doc_year is None:
        return m.end(), None
    if g.get("mo") and not (g.get("d") or g.get("mp") or g.get("suf")):
        return m.end(), None  # a bare "6月" is too weak a signal without a year
    if F.YEARLESS_BAD_PREFIX.search(norm, max(0, pos - 4), pos):
        return m.end(), None  # 每年年底 / 去年底 / 三年内 / 前三季度 …
    d = _from_groups(g, doc_year, m.end())
    if d is None:
        return m.end(), None
    d.relative = True
    d = _extend_range(norm, d, doc_year)
    return d.end, d


def _span_from_plan(norm: str, pos: int) -> bool:
    before = norm[max(0, pos - 12):pos]
    return not before.strip() or before.rstrip()[-1] in ",，。；;:：、(（" or bool(F.SPAN_FROM_PLAN.search(before))


def _after(issued: datetime.date, span: str, per: str) -> datetime.date | None:
    """The document's date plus "3个月" / "两年" / "半年" / "30天" / "2周"."""
    n = 0.5 if span == "半" else F.cn_int(span.replace("两", "二"))
    if per in ("天", "日"):
        return issued + datetime.timedelta(days=int(n))
    if per in ("周", "星期"):
        return issued + datetime.timedelta(weeks=int(n))
    months = int(n * 12) if per == "年" else int(n)
    if months < 1:
        return None
    y, mo = divmod(issued.month - 1 + months, 12)
    year, month = issued.year + y, mo + 1
    return datetime.date(year, month, min(issued.day, F.month_end(year, month).day))


def _parse_plan(norm: str, pos: int, doc_year: int | None) -> tuple[int, _Date | None]:
    m = F.PLAN.match(norm, pos)
    if not m:
        return pos + 1, None
    year = F.plan_period_end(m.group("n"))
    if doc_year is not None and year < doc_year:
        return m.end(), None  # "十三五"期间 in a later document is a look back
    return m.end(), _Date(m.end(), datetime.date(year, 12, 31), "plan_period", year)


@dataclass(frozen=True)
class _Seen:
    """A parsed date in its text, as the rules below see it."""
    norm: str
    start: int
    d: _Date
    doc_year: int | None

    @property
    def lo(self) -> int:  # the short window before the date that prefix words are looked for in
        return max(0, self.start - 10)

    @property
    def bare(self) -> bool:
        return self.d.kind == "year" and self.d.bare_year


def _past_year(s: _Seen) -> bool:  # 2020年，全省… / 2015年前建成的… in a 2021 plan are facts
    return s.d.kind == "year" and s.doc_year is not None and s.d.year < s.doc_year


def _bare_reference(s: _Seen) -> bool:  # 今年，… / 2021年的… / 2022年最低工资标准 / 按照2021年…要求
    return s.bare and (s.d.relative or bool(F.BARE_BAD_NEXT.match(s.norm, s.d.end))
                       or bool(F.BARE_BAD_PREFIX.search(s.norm, s.lo, s.start)))


def _cutoff_tally(s: _Seen) -> bool:  # 截止 is a deadline unless it reports a tally (截止2020年底，已…)
    if not F.CUTOFF_PREFIX.search(s.norm, s.lo, s.start):
        return False
    return (s.doc_year is not None and s.d.year < s.doc_year) or bool(F.TALLY.search(_clause(s.norm, s.d.end)))


def _since_or_compared(s: _Seen) -> bool:  # 截至/自/较/同比 2020年…, 2020年以来/起/相比
    if not F.CUTOFF_PREFIX.search(s.norm, s.lo, s.start) and F.NEG_PREFIX.search(s.norm, s.lo, s.start):
        return True
    return not s.d.deadline_suffix and bool(F.NEG_SUFFIX.match(s.norm, s.d.end))


def _issued_on(s: _Seen) -> bool:  # 2025年7月16日印发 (the 版记's print date)
    return not s.d.deadline_suffix and bool(F.ISSUED_SUFFIX.match(s.norm, s.d.end))


def _window(s: _Seen) -> bool:  # 执行至2022年底 / 可于2023年底前补缴 / 2022年1月1日至12月31日期间
    return bool(F.WINDOW_PREFIX.search(s.norm, s.lo, s.start) or F.WINDOW_SUFFIX.match(s.norm, s.d.end))


def _binds_beneficiaries(s: _Seen) -> bool:  # 借款人应于2022年12月31日前归还: not the units' deadline
    return bool(F.BENEFICIARY_PREFIX.search(s.norm, s.lo, s.start))


def _benefit_terms(s: _Seen) -> bool:
    """A subsidy's or a tax relief's terms: 2027年12月31日前，对…减按0.5%征收 / 契税补贴2022年4月25日至12月31日;
    the sentence grants something and sets no work to be done (完成补贴资金拨付 is work)."""
    sentence = _sentence(s.norm, s.start, s.d.end)
    return bool(F.BENEFIT_TERMS.search(sentence)) and not F.WORK_DONE.search(sentence)


def _year_in_a_name(s: _Seen) -> bool:  # 开展2023年新能源汽车下乡活动 / 提高2025年…补助标准
    return s.bare and s.start > 0 and s.norm[s.start - 1] not in " ,，。；;:：、(（\"“" \
        and not F.TIME_PREFIX.search(s.norm, s.lo, s.start)


def _baseline(s: _Seen) -> bool:  # 在2020年已完成…的基础上
    return not s.d.deadline_suffix and bool(F.BASIS_PREFIX.search(s.norm, s.lo, s.start)) \
        and bool(F.BASIS.match(s.norm, s.d.end))


def _bare_year_without_target(s: _Seen) -> bool:
    """A bare year is a deadline only as the time of a target (2023年新增…22万套), or after a time word
    (到2025年, 于2024年组织验收)."""
    if not s.bare or F.TIME_PREFIX.search(s.norm, s.lo, s.start):
        return False
    clause = _clause(s.norm, s.d.end)
    return bool(F.PAST_CUES.search(clause)) or not (F.TARGET_CUES.search(clause) or F.QUANTIFIED.search(clause))


# What makes a found date no commitment of the units, in the order they are tried (the first that holds
# rejects it). Each has a row in tests/test_corpus.py DATE_FORMS or tests/test_dates.py.
NOT_COMMITMENTS = [
    ("past_year", _past_year),
    ("bare_reference", _bare_reference),
    ("cutoff_tally", _cutoff_tally),
    ("since_or_compared", _since_or_compared),
    ("issued_on", _issued_on),
    ("window", _window),
    ("binds_beneficiaries", _binds_beneficiaries),
    ("benefit_terms", _benefit_terms),
    ("year_in_a_name", _year_in_a_name),
    ("baseline", _baseline),
    ("bare_year_without_target", _bare_year_without_target),
]


def _judge(norm: str, start: int, d: _Date, doc_year: int | None) -> DateHit | None:
    """Decide from the surrounding words whether the date is a commitment."""
    seen = _Seen(norm, start, d, doc_year)
    if any(rule(seen) for _, rule in NOT_COMMITMENTS):
        return None
    lo = seen.lo
    done = bool(F.DONE_PREFIX.search(norm, lo, start) or F.DONE_SUFFIX.match(norm, d.end))
    kind = "relative" if d.relative else d.kind
    return DateHit(start, d.end, d.due, kind, done, d.kind != "day")


SENTENCE_REACH = 150  # characters looked at on each side of a date (a sentence rarely runs longer)


def _sentence(norm: str, start: int, end: int) -> str:
    """The sentence around a date (between 。；!? or line breaks), at most SENTENCE_REACH on each side."""
    lo = max(0, start - SENTENCE_REACH)
    left = max(norm.rfind(c, lo, start) for c in "。;；!?！？\n")
    m = F.CLAUSE_END.search(norm, end, end + SENTENCE_REACH)
    return norm[max(left + 1, lo):m.start() if m else min(len(norm), end + SENTENCE_REACH)]


def _clause(norm: str, pos: int) -> str:
    """Text after ``pos`` up to the end of its sentence (at most 80 chars)."""
    tail = norm[pos:pos + 80]
    m = F.CLAUSE_END.search(tail)
    return tail[:m.start()] if m else tail


def _title_spans(norm: str) -> tuple[list[int], list[int]]:
    spans = [(m.start(), m.end()) for m in F.TITLE.finditer(norm)]
    return [s for s, _ in spans], [e for _, e in spans]


def _in_title(starts: list[int], ends: list[int], pos: int) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and pos < ends[i]


def _bracketed(norm: str, start: int, end: int) -> bool:
    left = norm[max(0, start - 3):start].rstrip()
    right = norm[end:end + 3].lstrip()
    return left.endswith("(") and right.startswith(")")


def find_dates(text: str, doc_year: int | None = None, issued: datetime.date | None = None) -> list[DateHit]:
    """Every forward-looking date commitment in ``text``, in order, non-overlapping.

    ``doc_year`` resolves year-less forms (年底前, 6月30日前, 上半年, 次年3月) and
    lets bare past years ("2020年，全省…") be recognised as facts; ``issued`` (the document's date)
    resolves a festival named without a year (春节前: the next one).
    """
    norm = F.normalise(text)
    t_starts, t_ends = _title_spans(norm)
    hits: list[DateHit] = []
    pos = 0
    while (t := F.TRIGGER.search(norm, pos)) is not None:
        start = t.start()
        m = F.START.match(norm, start)
        if m is None:
            pos = start + 1
            continue
        if m.group("rng") is not None:
            pos, d = _parse_full(norm, m.end(), doc_year)
            if d is not None:
                if _bracketed(norm, start, d.end):  # （2021—2025年）: a period label
                    d = None
                else:
                    d.bare_year = False
        elif m.group("full") is not None or m.group("num") is not None:
            pos, d = _parse_full(norm, start, doc_year)
        elif m.group("plan") is not None:
            pos, d = _parse_plan(norm, start, doc_year)
        else:
            pos, d = _parse_yearless(norm, start, doc_year, issued)
        pos = max(pos, m.end())
        if d is None or _in_title(t_starts, t_ends, start):
            continue
        hit = _judge(norm, start, d, doc_year)
        if hit is not None:
            hits.append(hit)
    return hits
