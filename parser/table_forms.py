"""What each column of a task table means, from its header words: one ordered table of named forms.

Like the date forms, the first form that matches a header cell decides; the order is the precedence
("牵头省领导" is a leader before it is a lead unit, "责任科室" an office before it is a unit, "时限要求" a
time limit before it is a requirement). A new header is one entry here and one test row.

Column keys: number, supervising_leaders, principal_units, lead_units, cooperating_units,
responsible_units, deadline, goal, measures, problem, task, content; and the columns that are read
but assign nothing: scope (推广范围 / 适用范围), office (科室 / 处室 inside one unit, persons), remark,
category (任务类别: a heading over several rows).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

UNIT_KEYS = ("principal_units", "lead_units", "responsible_units", "cooperating_units")
TEXT_KEYS = ("problem", "task", "content")
IGNORED_KEYS = ("scope", "office", "remark", "category")


@dataclass(frozen=True)
class HeaderForm:
    name: str  # the usual header, for tests and messages
    key: str
    exact: tuple[str, ...] = ()  # the whole header is one of these
    contains: tuple[str, ...] = ()  # the header contains one of these
    suffix: tuple[str, ...] = ()  # the header ends with one of these


HEADER_FORMS: tuple[HeaderForm, ...] = (
    HeaderForm("序号", "number", exact=("序号", "编号", "序", "no", "no.", "序列号", "项次")),
    HeaderForm("督办领导", "supervising_leaders", contains=("督办领导", "包案领导", "联系领导", "分管领导"),
               suffix=("领导",)),
    HeaderForm("推广范围", "scope", contains=("推广范围", "适用范围", "实施范围", "覆盖范围", "试点范围", "适用对象")),
    HeaderForm("责任科室", "office", contains=("科室", "处室", "股室", "内设机构", "责任人", "联系人", "经办人",
                                           "责任处", "承办处")),
    HeaderForm("备注", "remark", contains=("备注",)),
    # a grouping column ("任务类别 | 重点任务"), often merged over its rows: never the item's own text
    HeaderForm("任务类别", "category", contains=("类别", "分类", "类型", "所属领域", "板块"), exact=("领域", "方面")),
    HeaderForm("主体责任单位", "principal_units", contains=("主体责任单位", "责任主体", "主体责任")),
    HeaderForm("牵头单位", "lead_units", contains=("牵头", "主办单位", "主责单位", "主责部门")),
    HeaderForm("配合单位", "cooperating_units", contains=("配合", "协办", "参与单位", "参与部门", "协同单位", "协助单位",
                                                      "协作单位", "协作部门", "支持单位", "支持部门")),
    HeaderForm("指导部门", "responsible_units", contains=("指导部门", "指导单位")),
    HeaderForm("责任单位", "responsible_units", contains=("责任单位", "责任部门", "落实单位", "承办单位", "负责单位",
                                                     "负责部门", "实施单位", "实施主体", "主管部门", "责任机关")),
    HeaderForm("完成时限", "deadline", contains=("时限", "完成时间", "时间节点", "完成期限", "截止时间", "时间要求",
                                             "进度安排", "完成日期", "办结时间", "时间安排",
                                             "截止日期", "完成节点", "时间进度"), exact=("期限", "时间")),
    HeaderForm("目标任务", "task", exact=("目标任务",)),  # the task itself, not its goal
    HeaderForm("整改目标", "goal", contains=("目标", "预期成效", "预期效果")),
    HeaderForm("整改措施", "measures", contains=("措施",)),
    HeaderForm("问题", "problem", contains=("问题",)),
    HeaderForm("工作任务", "task", contains=("任务", "事项", "举措", "实事", "重点工作", "主要工作", "具体工作", "工作要点",
                                         "工作重点", "项目名称", "工作名称", "项目")),
    HeaderForm("主要内容", "content", contains=("内容", "要求"), exact=("措施",)),
)

_TIME_WORDS = re.compile(r"(?:19|20)\d\d\s*年|\d{1,2}\s*月|年底|年内|底前|月底|季度|半年|持续|长期|常态|立行立改|每年|每月")
_UNIT_END = re.compile(r"(?:局|委|办|厅|部|府|政府|中心|院|会|公司|集团|署|行|所|站|队|县|区|市|镇|街道|单位|部门)"
                       r"(?:等|等部门|等单位)?(?:[（(]牵头[）)])?$")
_NUMERAL = re.compile(r"^[（(]?(?:\d{1,3}|[一二三四五六七八九十百]{1,4})[）)]?[、.．]?$")
NONE_VALUES = frozenset({"/", "／", "—", "——", "-", "－", "--", "无", "暂无", "—/—", "\\"})


def normalise_header(cell: str) -> str:
    text = unicodedata.normalize("NFKC", cell or "")
    text = re.sub(r"\s+|[*＊:：]", "", text)
    return text.lower()


def header_key(cell: str) -> str | None:
    """The meaning of one header cell, or None."""
    h = normalise_header(cell)
    if not h or len(h) > 20:
        return None
    for form in HEADER_FORMS:
        if h in form.exact or any(w in h for w in form.contains) or any(h.endswith(s) for s in form.suffix):
            return form.key
    return None


def column_keys(header: list[str]) -> dict[int, str]:
    return {i: k for i, c in enumerate(header) if (k := header_key(c)) is not None}


def is_none(value: str) -> bool:
    return re.sub(r"\s", "", value or "") in NONE_VALUES


def looks_numbered(value: str) -> bool:
    return bool(_NUMERAL.match(re.sub(r"\s", "", value or "")))


def infer_unlabelled(keys: dict[int, str], header: list[str], data: list[list[str]]) -> dict[int, str]:
    """Meanings for columns the header leaves unnamed (a header with fewer labels than the rows have
    cells, or a label spanning two columns): a numbering column, a time-limit column, a column
    under a spanning unit label, or a column of unit names."""
    width = max((len(r) for r in data), default=len(header))
    out = dict(keys)
    for i in range(width):
        if i in out:
            continue
        values = [r[i].strip() for r in data if i < len(r) and r[i].strip() and not is_none(r[i])]
        if not values:
            continue
        share = lambda test: sum(1 for v in values if test(v)) / len(values)  # noqa: E731
        left = out.get(i - 1)
        spanned = i < len(header) and not (header[i] or "").strip() and i > 0 and left is not None
        if share(looks_numbered) >= 0.8 and "number" not in out.values():
            out[i] = "number"
        elif share(lambda v: len(v) <= 40 and _TIME_WORDS.search(v) is not None) >= 0.6:
            out[i] = "deadline"
        elif spanned and (left in UNIT_KEYS or left == "supervising_leaders"):
            out[i] = left
        elif share(lambda v: len(v) <= 80 and all(_UNIT_END.search(p) for p in re.split(r"[、，,；;\s]+", v) if p)) >= 0.6:
            out[i] = "responsible_units"
    return out


def shifted_header(header: list[str], data: list[list[str]]) -> list[str]:
    """A header written without the numbering column's label ("工作任务 | 责任单位" over "1 | … | …"):
    the labels move right so that they sit over their columns."""
    trailing = len(header) - len([c for c in header if c.strip()]) if header and not header[-1].strip() else 0
    if not trailing or header_key(header[0]) == "number" or not header[0].strip():
        return header
    if any(c.strip() == "" for c in header[:len(header) - trailing]):
        return header  # a gap inside the labels: a spanning label, not a shifted one
    firsts = [r[0] for r in data if r and r[0].strip()]
    if firsts and sum(looks_numbered(v) for v in firsts) >= 0.8 * len(firsts):
        return [""] * trailing + header[:len(header) - trailing]
    return header
