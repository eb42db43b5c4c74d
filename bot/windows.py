"""Time windows in officials' questions: 本周, 下个月, 30天内, 年底前, 6月底前, 2022年6月30日前 …

parse_window(text, today) → Window(start, end, label) or None. The text is expected normalised
(NFKC: ASCII digits, no spaces). Windows that run "until" a date start today: what is already
past is overdue and reported separately by the caller.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from parser import FESTIVALS, PLAN, festival_eve, lexicon, month_end, normalise, plan_period_end

_CN_NUM = lexicon.CN_NUMERALS


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    label: str


def to_int(text: str) -> int | None:
    """"13" / "十三" / "两" → int (the lexicon's reading); None when it is not a number. Numbers in 万 or 亿
    are left to cn2an, loaded only then (its import costs about 70 ms)."""
    value = lexicon.cn_value(text)
    if value is not None or not any(c in "万亿" for c in text):
        return value
    import cn2an
    try:
        value = cn2an.cn2an(text.replace("两", "二"), "smart")
    except (ValueError, KeyError, TypeError):
        return None
    return int(value) if float(value).is_integer() else None


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _add_months(d: date, n: int) -> tuple[int, int]:
    m = d.month - 1 + n
    return d.year + m // 12, m % 12 + 1


def _quarter_end(year: int, month: int) -> date:
    return month_end(year, (month - 1) // 3 * 3 + 3)


def _until(today: date, end: date, label: str) -> Window:
    return Window(today, max(end, today), label)


def _cn_months_to_digits(text: str) -> str:
    """"六月底前" → "6月底前", "十二月三十一日" → "12月31日" (dates typed in Chinese numerals)."""
    def conv(m: re.Match) -> str:
        n = to_int(m.group(1))
        return f"{n}{m.group(2)}" if n is not None else m.group(0)
    return _CN_MONTH_RE.sub(conv, text)


_CN_MONTH_RE = re.compile(rf"([{_CN_NUM}]{{1,3}})(月|日|号)")


_BEFORE = r"(?:前|之前|以前|为止|内|以内|之内)"
_DAY_RE = re.compile(rf"(?:(\d{{4}})年)?(\d{{1,2}})月(\d{{1,2}})[日号]?{_BEFORE}")
_ISO_RE = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})[日号]?{_BEFORE}?")
_MONTH_BEFORE_RE = re.compile(rf"(?:(\d{{4}})年)?(\d{{1,2}})月(?:份)?(?:(上|中|下)旬|底|末)?{_BEFORE}")
_YEAR_MONTH_RE = re.compile(r"(\d{4})年(\d{1,2})月(?:份)?(?![\d底末前内旬])")
# "3月5号到期" / "3月5号和6号到期": those days; "十号前" / "15号到期": a day of this month (next month's once past)
_AND_DAY = r"(?:(?:和|、|及|与|至|到|-)(\d{1,2})[日号]?)?"  # "和6号": a second day of the same month
_ON_DAYS_RE = re.compile(rf"(?:(\d{{4}})年)?(\d{{1,2}})月(\d{{1,2}})[日号]{_AND_DAY}(?=到期|截止|要完成|当天)")
_DAY_OF_MONTH_RE = re.compile(rf"(?<![\d月/.-])(\d{{1,2}})[日号]{_AND_DAY}({_BEFORE}|到期|截止|要完成)")
_TEN_DAYS_RE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(?:份)?(上|中|下)旬(?!前|之前|以前|为止|内)")
_TEN_DAYS = {"上": 10, "中": 20}  # 上旬 ends on the 10th, 中旬 on the 20th, 下旬 with the month
_YEAR_END_RE = re.compile(rf"(\d{{4}})年年?(?:底|末)|(\d{{4}})年{_BEFORE}|到(\d{{4}})年")
_YEAR_RE = re.compile(r"(\d{4})年(?![\d年底末])")
_MONTH_RE = re.compile(r"(?<![\d年])(\d{1,2})月(?:份)?(?![\d底末前内])")
_SPAN_RE = re.compile(
    rf"(?:未来|近|最近|今后)?(半|\d+|[{_CN_NUM}]+)(?:个)?(天|日|周|星期|礼拜|月|年)(?:内|之内|以内|里)"
    rf"|(?:未来|近|最近|今后)(半|\d+|[{_CN_NUM}]+)(?:个)?(天|日|周|星期|礼拜|月)")


_YEAR_WORD = {"今": 0, "本": 0, "明": 1, "去": -1, "后": 2}  # 今年 … 后年, relative to today
_HALF_RE = re.compile(r"(?:(\d{4}|[今本明去])年)?([上下])半年")
# not 下一季度 / 这一季度 / 前三季度 (next, this, the first three)
_QUARTER_RE = re.compile(r"(?:(\d{4}|[今本明去])年)?(?<![下这上本每前])第?([一二三四1-4])季度")
_FESTIVAL_RE = re.compile(rf"({'|'.join(FESTIVALS)})节?(?:前|之前|以前)")


def _period(text: str, today: date) -> Window | None:
    """2022年上半年 / 三季度 / 春节前 / 十四五期间: a half-year or a quarter (this year's, or next year's
    once past), until the eve of the next such festival, or until the end of a five-year plan."""
    if m := PLAN.search(normalise(text)):  # the parser's plan periods; "十四五"规划 as a name is not one
        n = m.group("n")
        end = date(plan_period_end(n), 12, 31)
        if "末" in m.group("s"):  # 到"十四五"末: until its end
            return _until(today, end, f"“十{n}五”末前")
        return _bounded(today, date(end.year - 4, 1, 1), end, f"“十{n}五”期间")
    if m := _FESTIVAL_RE.search(text):
        eve = festival_eve(today.year, m.group(1))
        eve = eve if eve >= today else festival_eve(today.year + 1, m.group(1))
        return _until(today, eve, f"{m.group(1)}前")
    if m := _HALF_RE.search(text):
        months = (1, 6) if m.group(2) == "上" else (7, 12)
        year = _year(m.group(1), today, month_end(today.year, months[1]))
        return _bounded(today, date(year, months[0], 1), month_end(year, months[1]), f"{year}年{m.group(2)}半年")
    if m := _QUARTER_RE.search(text):
        q = to_int(m.group(2))
        year = _year(m.group(1), today, month_end(today.year, q * 3))
        return _bounded(today, date(year, q * 3 - 2, 1), month_end(year, q * 3), f"{year}年第{q}季度")
    return None


def _year(word: str | None, today: date, this_years_end: date) -> int:
    """2022 / 今·本·明·去 (年); none: this year's period, or next year's once this one is over."""
    if word is None:
        return today.year + (this_years_end < today)
    return int(word) if word.isdigit() else today.year + _YEAR_WORD[word]


def _bounded(today: date, start: date, end: date, label: str) -> Window:
    """A named period from today on (what of it is past is overdue); one already over stays whole,
    and its still-open items are the overdue ones of that period."""
    return Window(start, end, label) if end < today else Window(max(today, start), end, label)


def _days(text: str, today: date, year_of) -> Window | None:
    """Named days: "3月5号和6号到期" (those days), "2022年3月上旬" (its ten days), "十号前" / "15号到期"
    (a day of this month, or of the next once it is past; 前: until then)."""
    try:
        if m := _ON_DAYS_RE.search(text):
            y, mo, d = m.group(1), int(m.group(2)), int(m.group(3))
            first = year_of(y, date(int(y) if y else today.year, mo, d))
            last = first.replace(day=int(m.group(4))) if m.group(4) else first
            return Window(first, max(first, last), cn_date(first) + (f"至{last.day}日" if last > first else ""))
        if m := _TEN_DAYS_RE.search(text):
            y, mo, part = m.group(1), int(m.group(2)), m.group(3)
            end = month_end(int(y) if y else today.year, mo)
            last = _TEN_DAYS.get(part, end.day)
            start = year_of(y, date(int(y) if y else today.year, mo, last - 9 if part != "下" else 21))
            return _bounded(today, start, start.replace(day=last), f"{start.year}年{mo}月{part}旬")
        if m := _DAY_OF_MONTH_RE.search(text):
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            year, month = (today.year, today.month) if max(first, last) >= today.day else _add_months(today, 1)
            a, b = date(year, month, first), date(year, month, max(first, last))
            if re.fullmatch(_BEFORE, m.group(3)):
                return _until(today, b, f"{cn_date(b)}前")
            return Window(a, b, cn_date(a) + (f"至{b.day}日" if b > a else ""))
    except ValueError:  # 2月30日
        return None
    return None


def _explicit(text: str, today: date) -> Window | None:
    def year_of(y: str | None, end_of: date) -> date:
        # a year-less date already past means the next one ("12月31日前" asked in January is fine too)
        if y is None and end_of < today:
            if end_of == month_end(end_of.year, end_of.month):  # 2月底 after a 29 February: next year's end
                return month_end(end_of.year + 1, end_of.month)
            return end_of.replace(year=end_of.year + 1)
        return end_of

    if found := _days(text, today, year_of):
        return found
    if m := _DAY_RE.search(text) or _ISO_RE.search(text):
        y, mo, d = m.group(1), int(m.group(2)), int(m.group(3))
        try:
            end = year_of(y, date(int(y) if y else today.year, mo, d))
        except ValueError:
            return None
        return _until(today, end, f"{cn_date(end)}前")
    if m := _MONTH_BEFORE_RE.search(text):
        y, mo = m.group(1), int(m.group(2))
        if 1 <= mo <= 12:
            end = month_end(int(y) if y else today.year, mo)
            if m.group(3) in _TEN_DAYS:
                end = end.replace(day=_TEN_DAYS[m.group(3)])
            end = year_of(y, end)
            return _until(today, end, f"{cn_date(end)}前")
    if m := _YEAR_MONTH_RE.search(text):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            return _bounded(today, date(y, mo, 1), month_end(y, mo), f"{y}年{mo}月")
    if m := _YEAR_END_RE.search(text):
        end = date(int(m.group(1) or m.group(2) or m.group(3)), 12, 31)
        return _until(today, end, f"{end.year}年底前")
    if m := _YEAR_RE.search(text):
        y = int(m.group(1))
        return _bounded(today, date(y, 1, 1), date(y, 12, 31), f"{y}年")
    if m := _MONTH_RE.search(text):
        mo = int(m.group(1))
        if 1 <= mo <= 12 and _DUE_WORD_RE.search(text):
            y = today.year if month_end(today.year, mo) >= today else today.year + 1
            return Window(max(today, date(y, mo, 1)), month_end(y, mo), f"{y}年{mo}月")
    return None


_DUE_WORD_RE = re.compile(r"到期|完成|截止|任务|事项")


def _span(text: str, today: date) -> Window | None:
    m = _SPAN_RE.search(text)
    if not m:
        return None
    raw, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    n = 0.5 if raw == "半" else to_int(raw)
    if not n:
        return None
    days = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30, "年": 365}[unit] * n
    days = int(days)
    return Window(today, today + timedelta(days=days), f"{days}天内")


_NAMED = [
    # (pattern, builder) — order matters: 明年底 before 年底, 下个月 before 本月 …
    # "今天到期" / "今天有什么到期的" / "今天要完成哪些"
    (r"(?:今天|今日)[^，,。？?]{0,6}?(?:到期|完成|截止)", lambda t: Window(t, t, "今天")),
    (r"(?:明天|明日)[^，,。？?]{0,6}?(?:到期|完成|截止)", lambda t: Window(t + timedelta(1), t + timedelta(1), "明天")),
    (r"下(?:个)?(?:周|星期|礼拜)", lambda t: Window(t + timedelta(7 - t.weekday()),
                                                 t + timedelta(13 - t.weekday()), "下周")),
    (r"(?:本|这|这个|当)(?:周|星期|礼拜)|周末前", lambda t: Window(t, t + timedelta(6 - t.weekday()), "本周")),
    (r"下下(?:个)?月", lambda t: Window(date(*_add_months(t, 2), 1), month_end(*_add_months(t, 2)), "下下个月")),
    (r"下(?:个)?月", lambda t: Window(date(*_add_months(t, 1), 1), month_end(*_add_months(t, 1)), "下个月")),
    (r"(?:本|这|这个|当)月|月底|月末", lambda t: Window(t, month_end(t.year, t.month), "本月")),
    (r"下(?:个|一)?季度", lambda t: Window(_quarter_end(t.year, t.month) + timedelta(1),
                                      _quarter_end(*_add_months(_quarter_end(t.year, t.month), 1)), "下季度")),
    (r"(?:本|这|这个|这一|当)季度?|季度末|季末", lambda t: _until(t, _quarter_end(t.year, t.month), "本季度")),
    (r"明年(?:年)?(?:底|末)", lambda t: _until(t, date(t.year + 1, 12, 31), "明年底前")),
    (r"明年", lambda t: Window(date(t.year + 1, 1, 1), date(t.year + 1, 12, 31), "明年")),
    (r"年底|年末|年内|今年|本年|年前", lambda t: _until(t, date(t.year, 12, 31), "年底前")),
]


_NAMED_RES = [(re.compile(pattern), build) for pattern, build in _NAMED]
_REL_YEAR_RE = re.compile(rf"([{''.join(_YEAR_WORD)}])年(?=\d{{1,2}}月)")


def _absolute_years(text: str, today: date) -> str:
    """"明年3月" → "2022年3月": a year named relative to today, before a month."""
    return _REL_YEAR_RE.sub(lambda m: f"{today.year + _YEAR_WORD[m.group(1)]}年", text)


_WEEKDAY_RE = re.compile(r"(?:(本|这|下|上)(?:个)?)?(?:周|星期|礼拜)([一二三四五六日天1-7])(?:前|之前|以前|到期|截止|要完成)")
_WEEK_OFFSET = {"下": 7, "上": -7, "本": 0, "这": 0}
_WEEKDAYS = {c: i for i, c in enumerate("一二三四五六")} | {"日": 6, "天": 6} | {str(i): i - 1 for i in range(1, 8)}


def _weekday(text: str, today: date) -> Window | None:
    """"周五前" (this week's Friday, or next week's once it is past), "下周三前"."""
    m = _WEEKDAY_RE.search(text)
    if not m:
        return None
    monday = today - timedelta(days=today.weekday())
    day = monday + timedelta(days=_WEEKDAYS[m.group(2)] + _WEEK_OFFSET.get(m.group(1), 0))
    if day < today and m.group(1) is None:  # "周五前" once Friday is past: the coming one
        day += timedelta(days=7)
    return _until(today, day, f"{cn_date(day)}前")  # 本周一前 asked mid-week is past: what is left is overdue


def parse_window(text: str, today: date) -> Window | None:
    """The time window a question asks about, or None."""
    text = _absolute_years(_cn_months_to_digits(text), today)
    found = _period(text, today) or _explicit(text, today) or _span(text, today) or _weekday(text, today)
    if found:
        return found
    for pattern, build in _NAMED_RES:
        if pattern.search(text):
            return build(today)
    return None
