"""Regex building blocks and small value helpers for parser.dates.

Every pattern is applied to a *normalised* copy of the input that has exactly
the same length (one character in, one character out), so spans found here
are valid spans of the original text.  Quantifiers are all bounded tokens;
there is no nesting of unbounded repeats, which keeps matching linear.
"""
from __future__ import annotations

import calendar
import datetime
import re

import chinese_calendar
from lunardate import LunarDate

from . import lexicon

# --- normalisation (length preserving) ---------------------------------------
_FROM = "０１２３４５６７８９（）〔〕【】［］[]：，；～－Ｏ“”「」『』‘’\u3000\u00a0"
_TO = "0123456789" + "()" * 5 + ":,;~-O" + '"' * 6 + "''" + "  "
assert len(_FROM) == len(_TO)
_TABLE = str.maketrans(_FROM, _TO)
_TO_NORMALISE = re.compile("[" + re.escape(_FROM) + "]+")


def normalise(text: str) -> str:
    """Same-length copy with ASCII digits and punctuation.

    str.translate walks every character through a dict, which is slow on
    megabytes of CJK; substituting only the runs that change is much faster.
    """
    return _TO_NORMALISE.sub(lambda m: m.group().translate(_TABLE), text)

# --- tokens --------------------------------------------------------------------
_CN_D = "〇零○O一二三四五六七八九"
# A four digit year 1900-2099, or four Chinese digits (二〇二二, 二零二二, 二O二二).
YD = (
    # a year, not the decimals of a number ("1.2025" is measure 1 followed by 2025年, "3.2025" is not a year)
    r"(?:(?:(?<![0-9.A-Za-z])|(?<=(?<![0-9.])[0-9][.．])|(?<=(?<![0-9.])[0-9]{2}[.．]))(?:19|20)[0-9]{2}(?=\s*年)"
    r"|(?<![0-9.A-Za-z])(?:19|20)[0-9]{2}(?![0-9])"
    rf"|(?<![{_CN_D}十百千万])[一二][{_CN_D}]{{3}}(?![{_CN_D}十]))"
)
# 今年/明年/次年…: the year comes from doc_year.  The look-behind skips words
# such as 基本年…/日本年… where 本 is not "this".
YREL = r"(?<![基日资成根版文原样账])[今明次翌来本](?=\s*年)"
MONTH = r"(?:1[0-2](?![0-9])|0?[1-9](?![0-9])|十[一二]?|[一二三四五六七八九]|元|正)"
DAY = (
    r"(?:3[01](?![0-9])|[12][0-9](?![0-9])|0?[1-9](?![0-9])"
    r"|[一二三]?十[一二三四五六七八九]?|廿[一二三四五六七八九]?|卅一?|[一二三四五六七八九])"
)
SUF = r"(?P<suf>\s*(?:之前|以前|前|以内|内|为止|止))?"
_CONN = r"(?:至|到|[-—–~])"

# Month tail shared by the full and the year-less forms; "1—6月" keeps the end.
_MONTH_TAIL = (
    rf"(?:{MONTH}\s*{_CONN}\s*)?(?P<mo>{MONTH})\s*月份?"
    rf"(?:\s*(?P<d>{DAY})\s*[日号]|\s*(?P<mp>[底末初]|[上中下]旬))?"
)

# Festivals a deadline can be set before ("2022年春节前"); see festival_eve.
FESTIVALS = ("春节", "元旦", "国庆", "五一", "劳动", "清明", "端午", "中秋")

# X年… (year given explicitly or as 今年/次年…).
FULL = re.compile(
    rf"(?P<y>{YD}|{YREL})\s*年(?:度(?=\s*(?:之内|以内|内|末|底)))?(?![度代级龄])"  # 年度内/末: the year's end
    r"(?:\s*(?:"
    r"(?P<half>[上下])半年(?:[底末])?"
    rf"|第?\s*(?:[一二三四1-4]\s*{_CONN}\s*)?(?P<q>[一二三四1-4])\s*季度(?:[末底])?"
    r"|(?P<ye>(?:年\s*)?[底末])"
    # before a festival or the flood season; 年中 = mid-year
    rf"|(?P<fest>{'|'.join(FESTIVALS)})节?(?=\s*(?:之前|以前|前))"
    r"|(?P<flood>(?:主\s*)?汛期?)(?=\s*(?:之前|以前|前))"
    r"|(?P<mid>(?:年\s*)?中)(?=\s*(?:之前|以前|前|完成|建成|实现|[,;。]|$))"
    rf"|{_MONTH_TAIL}"
    rf"))?{SUF}"
)
# 2022.6.30 / 2022/6 / 2022-06-30 (dash only with a day, to avoid 2021-2025).
NUMERIC = re.compile(
    rf"(?P<y>{YD})(?P<sep>[./-])(?P<mo>1[0-2]|0?[1-9])(?![0-9])"
    r"(?:(?P=sep)(?P<d>3[01]|[12][0-9]|0?[1-9])(?![0-9]))?"
    r"(?=[\s,;:)\"'、。!?]|$|之?前|以前|底|末|止|完成|内)"
    rf"{SUF}"
)
# A bracket right after a date that gives a more exact one: 汛前（4月底前）.
REFINED = re.compile(r"\s*\(\s*[0-9一二三四五六七八九十]")
# Continuation of a range after a complete first date.
RANGE_CONN = re.compile(rf"\s*起?\s*{_CONN}\s*")
MONTH_TAIL = re.compile(rf"{_MONTH_TAIL}{SUF}")
DAY_TAIL = re.compile(rf"(?P<d>{DAY})\s*[日号]{SUF}")
# “十四五”末 / 十四五期间 / “十三五”时期 / 第十四个五年规划期间 …
PLAN = re.compile(
    r"\"?十(?P<n>[一二三四五六七八九])(?:五|个五年)\"?\s*"
    r"(?P<s>期末|末期|末|(?:规划)?期间|(?:规划)?时期)"
)
# Forms without a year; need doc_year.
# "3个月内" / "三年内" / "半年内" / "30天内": counted from the document's date
_SPAN = r"(?P<span>[0-9]{1,3}|[一二两三四五六七八九十]{1,3}|半)\s*(?:个)?\s*(?P<per>年|月|周|星期|天|日)\s*(?:之内|以内|内)"
_SPAN_PLAIN = _SPAN.replace("?P<span>", "?:").replace("?P<per>", "?:")
# a time limit counted from the document's own date: 印发之日起30日内, 于本文印发后3个月内
EVENT_SPAN = re.compile(rf"(?:印发|发布|下发|实施|施行)(?:之日起|后)\s*{_SPAN_PLAIN}")
YEARLESS = re.compile(
    rf"(?<![0-9{_CN_D}十两])(?:"
    rf"(?P<fest>{'|'.join(FESTIVALS)})节?(?=\s*(?:之前|以前|前))"  # the next one after the document's date
    rf"|{_SPAN}"
    r"|(?P<ye>年\s*[底末]|年内)"
    r"|(?P<half>[上下])半年(?:[底末])?"
    r"|第?(?P<q>[一二三四1-4])\s*季度(?:[末底])?"
    rf"|{_MONTH_TAIL}"
    rf"){SUF}"
)
# Characters a candidate can start with.  A bare character class lets the
# regex engine skip through ordinary text quickly; START then decides.
TRIGGER = re.compile(r"[0-9一二三四五六七八九十〇零○O今明次翌来本\"年上下第元正春国劳清端中两半]")
# Which kind of candidate starts here.  Dispatching to the anchored patterns
# above happens in Python.
START = re.compile(
    rf"(?P<rng>{YD}\s*(?:年\s*)?{_CONN}\s*(?={YD}\s*年))"
    rf"|(?P<full>(?:{YD}|{YREL})(?=\s*年))"
    rf"|(?P<num>{YD}(?=[./-][0-9]))"
    r"|(?P<plan>\"?十[一二三四五六七八九](?:五|个五年))"
    rf"|(?P<nl>(?<![0-9{_CN_D}十两])(?:(?:{'|'.join(FESTIVALS)})节?(?=\s*(?:之前|以前|前))|{_SPAN_PLAIN}"
    r"|年\s*[底末]|年内|[上下]半年"
    rf"|第?[一二三四1-4]\s*季度"
    rf"|{MONTH}\s*月))"
)
TITLE = re.compile(r"《[^《》]{0,200}》")

# --- context vocabulary ----------------------------------------------------------
# Context patterns.  Prefix patterns are searched in a short window that
# ends at the date (hence the trailing \s*$); suffix patterns are matched at
# the end of the date.
def _before(words: str) -> re.Pattern:
    return re.compile(rf"(?:{words})\s*$")


def _after(words: str) -> re.Pattern:
    return re.compile(rf"\s*(?:{words})")


# Past facts and reference points: 截至2020年底 / 直到2018年 / 较2020年 …
NEG_PREFIX = _before("截至|截止到|截止至|直到|直至|本应于|本应在|本应|曾于|曾在|曾经|曾|早在|过去"
                     "|同比|相比|对比|较|比|自|从")
CUTOFF_PREFIX = _before("截止")
# Validity and benefit windows, permissions and ranges are no deadlines of the units: 执行至2022年底,
# 自本意见印发之日起至2023年12月31日前, 2022年1月1日至12月31日期间, 可于2023年底前补缴.
WINDOW_PREFIX = _before("执行到|执行至|期限至|期限到|期限为|延至|延长至|延期至|起至|之日至|不超过|可于|可在|可以在|可延至")
WINDOW_SUFFIX = _after(r"期间|(?:至|到|—|–|-|~)\s*(?:[0-9]{4}\s*年|[0-9]{1,2}\s*月)")
# A span counts from the plan when the plan says so (印发之日起3个月内) or it opens its clause (三年内，全市…).
SPAN_FROM_PLAN = _before("印发之日起|印发后|发布之日起|发布后|实施之日起|施行之日起|下发之日起|出台后|力争|确保|争取|要在|须在|应在")
SPAN_BAD_NEXT = _after("的|（含")
TALLY = re.compile(r"已|累计|共")
# After a date without 前/内: 以来 = since, 起 = from, 相比 = compared with …
NEG_SUFFIX = _after("以来|至今|起(?!草|诉)|开始|以后|之后|后|才|相比|比较|为基|同期|的?水平")
# …办公厅 2025年7月16日印发: the date a document was printed or issued (its 版记), nobody's deadline.
ISSUED_SUFFIX = _after("印发|发布|签发|发文")
# 在2020年已完成…的基础上 / 以2020年为基础: a baseline, not a deadline.
BASIS_PREFIX = _before("在|以")
BASIS = re.compile(r"[^,。;!?\n]{0,40}?基础")
DONE_PREFIX = _before("已经于|已经在|已于|已在|已经|已")
DONE_SUFFIX = _after("已")
# A bare year followed by a yearly reference value names that value: 2022年最低工资标准, 2023年当地…基数.
BARE_BAD_NEXT = _after("的|年|中央|第|最低工资|工资标准|缴费基数|当地")
# A bare year after these labels which year's document or task is meant.
BARE_BAD_PREFIX = _before("按照|根据|依据|结合|按|据|对照|落实")
# Words that make a bare "X年" the time of a target.
TARGET_CUES = re.compile(
    r"达到|完成|实现|建成|力争|确保|争取|开展|启动|基本(?=[建实完形消解覆达满普])|全面|提高到|提升到|"
    r"提高至|提升至|降至|降到|降低到|下降到|控制在|不低于|不超过|重点|稳定在|保持在|"
    r"突破|新增|覆盖|全部|要(?!求|点)|下降|降低|减少|提高|提升|消除"
)
# A quantity of things done makes a bare year the target year ("2023年新增筹建…不少于22万套").
QUANTIFIED = re.compile(r"[0-9][0-9.]*\s*(?:万|亿|千|百)?\s*(?:个(?!月|工作日|小时)|家|户|套|间|人次|人|场|座|公里|千米|亩|张|所|辆|台|项|条|处|吨|次|批|件)")
# Past narrative, or a year that labels an inspection round or a document.
PAST_CUES = re.compile(r"已|才|曾|以来|同比|相继|随着|督察|反馈|交办|印发|出台|发布|通报|披露")
# A bare year introduced by these words is a time limit ("到2025年，…").
TIME_PREFIX = _before("到|至|在|于|力争|争取|确保|预计|计划")
# A time limit set for the people a policy serves, not for the units: 借款人应于…前归还, 纳税人须在…前申报
# (as the subject: 对申请人于…前完成资格审核 is the unit's work).
BENEFICIARY_PREFIX = _before("(?<![对为向给帮助督促])(?:借款|贷款|申请|纳税|缴费|缴存|购房|参保|投保|承租|受益)人"
                             "(?:应当|应|须|需|可)?(?:于|在)?")
# A sentence that grants a subsidy or a tax relief states its terms (dates of eligibility or validity) …
BENEFIT_TERMS = re.compile(r"免收|免征|减按|减半征收|减免|契税补贴|给予[^，。；]{0,12}(?:补贴|补助|奖补|奖励|贴息|优惠)"
                           r"|享受[^，。；]{0,8}(?:补贴|补助|优惠)")
# … unless it sets work to be done by a date (出台补贴政策, 完成补贴资金拨付, 负责做好减免税政策宣传).
WORK_DONE = re.compile(r"完成|建成|出台|制定|印发|建立|实现|达到|拨付|兑付|兑现|发放|下达|下拨|到位|落实|开展|启动"
                       r"|负责|牵头|配合|要|审核|梳理|宣传|报送|组织|编制")
# Before year-less 年底/季度/月: these make it recurring, past or a duration.
YEARLESS_BAD_PREFIX = _before("[每当去上同往历近多几数个半前]|[每当去上同往历近前]年|每.")
CLAUSE_END = re.compile(r"[。;!?！？\n]")

# --- values ------------------------------------------------------------------------
def cn_int(s: str) -> int:
    """Value of a small number written in ASCII or Chinese digits (the lexicon's reading; 元年/正月 are 1)."""
    value = 1 if s.strip() in ("元", "正") else lexicon.cn_value(s)
    if value is None:
        raise ValueError(f"not a number: {s!r}")
    return value


def month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def quarter_end(year: int, quarter: int) -> datetime.date:
    return month_end(year, quarter * 3)


def plan_period_end(n: str) -> int:
    """The last year of the 十N五 plan period (n: its Chinese digit): 十四五 → 2025."""
    return 2025 + 5 * (cn_int(n) - 4)


REL_YEAR_OFFSET = {"今": 0, "本": 0, "明": 1, "次": 1, "翌": 1, "来": 1}

# The flood season (汛期) starts on 4月1日 in the southern provinces, later in the north: "X年汛期前"
# is read as the end of March, so a reminder is never later than the earliest start.
FLOOD_SEASON_EVE = (3, 31)


def festival_eve(year: int, name: str) -> datetime.date:
    """The day before the festival in `year` (元旦 2022 → 2021-12-31; 春节 2022 → 2022-01-31)."""
    if name in ("春节", "端午", "中秋"):
        month, day = {"春节": (1, 1), "端午": (5, 5), "中秋": (8, 15)}[name]
        day_of = LunarDate(year, month, day).to_solar_date()
    elif name == "清明":  # a solar term: 4 or 5 April
        day_of = next(d for d, term in chinese_calendar.get_solar_terms(datetime.date(year, 4, 1),
                                                                        datetime.date(year, 4, 10)) if term == "清明")
    else:
        month, day = {"元旦": (1, 1), "国庆": (10, 1), "五一": (5, 1), "劳动": (5, 1)}[name]
        day_of = datetime.date(year, month, day)
    return day_of - datetime.timedelta(days=1)
