"""The Chinese words duban reads plans and questions by, in one place: role labels and role verbs, organ
and locality endings, ongoing words, numerals, and headings that assign no work.

Each table is ordered: where two entries could match, the earlier one wins (so 牵头责任单位 is a lead
label before 责任单位 is a responsible one). The parser and the question parser both import from here.
"""
from __future__ import annotations

# Chinese numerals as they number items (一 … 十 … 一百零二) and write years (二〇二二); officials asking
# also say 两 (两个月内, 第十两 never: only in counts).
CN_DIGITS = "一二三四五六七八九十百零〇"
CN_NUMERALS = "零〇一二两三四五六七八九十百"

_DIGIT_VALUES = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0, "两": 2}  # 二O二二: a letter for 〇
_UNIT_VALUES = {"十": 10, "百": 100, "千": 1000}


def cn_value(text: str) -> int | None:
    """The value of a number as plans and questions write it: 13, 十三, 二十五, 一百零二, 两, 廿五, 二〇二二
    (a year, digit by digit); None when the text is not such a number."""
    s = "".join(text.split())
    if s.isascii() and s.isdigit():
        return int(s)
    if s[:1] in ("廿", "卅"):
        rest = cn_value(s[1:]) if s[1:] else 0
        return None if rest is None or rest > 9 else (20 if s[0] == "廿" else 30) + rest
    if not s or any(c not in _DIGIT_VALUES and c not in _UNIT_VALUES for c in s):
        return None
    if not any(c in _UNIT_VALUES for c in s):
        return int("".join(str(_DIGIT_VALUES[c]) for c in s))
    total, digit = 0, None
    for c in s:
        if c in _UNIT_VALUES:
            total += (1 if digit is None else digit) * _UNIT_VALUES[c]
            digit = None
        elif digit is not None and _DIGIT_VALUES[c]:
            return None  # two digits in a row inside a positional number (三四十) is no single value
        else:
            digit = None if c in "零〇○O" else _DIGIT_VALUES[c]  # 零 only holds a place (一百零二)
    return total + (digit or 0)

# The labels of a task's fields, by field: the five roles, the time limit, the goal, the measures, and
# labels whose value is never a unit (scope: 适用范围 lists where a measure applies, not who does it).
FIELD_LABELS: list[tuple[tuple[str, ...], str]] = [
    (("督办领导", "责任领导", "包案领导", "牵头领导", "分管领导", "联系领导"), "supervising_leaders"),
    (("主体责任单位", "责任主体"), "principal_units"),
    (("牵头责任单位", "牵头负责单位", "牵头单位", "牵头部门", "主办单位", "主责单位"), "lead_units"),
    (("配合单位", "配合部门", "协办单位", "参与单位", "参与部门", "协同单位", "协助单位"), "cooperating_units"),
    (("责任单位", "责任部门", "落实单位", "承办单位", "负责部门", "负责单位", "实施单位", "指导部门", "指导单位"),
     "responsible_units"),
    (("整改时限", "完成时限", "完成时间", "完成期限", "时限要求", "时间要求", "时间节点", "办结时限", "截止时间"),
     "deadline"),
    (("整改目标", "工作目标"), "goal"),
    (("整改措施", "工作措施", "具体措施"), "measures"),
    (("适用范围", "推广范围", "实施范围"), "scope"),
]

# Verbs that close a unit list and give its role ("A、B牵头", "C配合", "D按职责分工负责"), longest first
# within a role; "指导" makes a unit answerable for the item (responsible), "参与" cooperating.
ROLE_VERBS: list[tuple[str, str]] = [
    ("牵头负责", "lead_units"), ("牵头抓总", "lead_units"), ("共同牵头", "lead_units"), ("牵头", "lead_units"),
    ("配合", "cooperating_units"), ("参与", "cooperating_units"), ("协助", "cooperating_units"),
    ("协同", "cooperating_units"), ("协办", "cooperating_units"),
    ("按职责分工负责", "responsible_units"), ("按职责分工落实", "responsible_units"),
    ("按职责负责", "responsible_units"), ("分别负责", "responsible_units"), ("具体负责", "responsible_units"),
    ("负责落实", "responsible_units"), ("负责实施", "responsible_units"), ("负责", "responsible_units"),
    ("指导", "responsible_units"), ("落实", "responsible_units"),
]

# How the name of an organ or a place ends: a string ending so can stand for a unit.
ORGAN_ENDINGS = (
    "委员会", "管委会", "办公室", "人民政府", "政府", "部门", "机关", "机构", "单位", "组织", "企业", "银行", "分行", "支行", "协会",
    "总局", "总社", "总署", "局", "委", "办", "院", "府", "部", "厅", "署", "会", "联", "社", "中心", "公司", "集团",
    "队", "所", "站", "处", "室", "海关", "中央", "党委", "党工委",
)
LOCALITY_ENDINGS = ("街道", "开发区", "经开区", "高新区", "新区", "自治区", "县", "市", "区", "旗", "州", "盟", "镇", "乡")
UNIT_ENDINGS = tuple(sorted((*ORGAN_ENDINGS, *LOCALITY_ENDINGS), key=len, reverse=True))  # longest first
COLLECTIVE_PLACES = ("各地区", "各地")  # every locality, named as one
# The heads of a list of fields that names one collective: 环境保护、工商、供水、供电等部门和单位, 环境保护重点
# 区域、流域地方政府 (the fields are no units themselves: the list is one unit, not several); the head may
# stand anywhere in the last part (…等部门和单位).
COLLECTIVE_HEADS = ("部门", "政府", "机关", "机构")  # not 单位/企业: 中国移动、中国联通等通信运营单位 are named ones
# Words that end in a locality's character and name no place: 住房城乡|建设部, 家电下乡, 返乡创业.
NOT_PLACE_ENDINGS = ("城乡", "下乡", "返乡", "回乡", "家乡")

# Words that mark a task as long-term rather than dated: anywhere in a body item's text, and the wider set
# in a 清单 item's 整改时限 field (where "长期" alone is the whole time limit).
ONGOING_WORDS = ("长期坚持", "持续推进")
ONGOING_DEADLINE_WORDS = ("持续推进", "持续开展", "长期坚持", "长期推进", "常态化", "长期", "持续")

# A clause that speaks of time (a date, a period, a long-term word), as role sentences and brackets tell their
# time limits from their unit lists; a regex pattern, since years are written with digits too.
TIME_WORDS = (r"\d{4}\s*年|[〇零一二三四五六七八九]{4}年|\d{1,2}\s*月|年底|年内|上半年|下半年|季度|持续推进|长期坚持|"
              r"持续开展|常态化")

# How a document's own title ends (方案, 通知, … and the tables offices send as the plan itself: 台账, 分工表):
# a short line near the top ending so is the title, never the start of a paragraph.
DOC_KINDS = ("方案", "通知", "意见", "清单", "办法", "计划", "要点", "决定", "规划", "细则", "措施", "台账", "分工表",
             "任务表", "责任表", "一览表")

# Item headings that frame a plan and assign no work (a task list never starts with 指导思想).
FRAMING_HEADINGS = (
    "重大意义", "指导思想", "基本原则", "工作原则", "总体要求", "总体思路", "基本思路", "总体目标", "主要目标", "发展目标",
    "工作目标", "整改目标", "目标任务", "试点目标", "试点范围", "适用范围", "实施范围", "编制依据", "工作依据",
)
