"""Obligations with an explicit period (每季度至少研究一次, 每月一总结, 一天一调度, 年度验收)."""
from __future__ import annotations

import re

from .model import Recurring

_PERIOD = {"天": "day", "日": "day", "周": "week", "星期": "week", "旬": "week", "月": "month",
           "季": "quarter", "季度": "quarter", "半年": "half_year", "年": "year"}
# 每季度 / 每月 / 每年 … (but not 每周一 meaning "every Monday" is still a weekly period)
_EVERY = re.compile(r"每(半年|季度|季|星期|周|旬|月|年|天|日)(?![都均]|根据|按照)")  # "每天根据…" describes a way of working
# 一天一调度 / 一月一通报 / 一季一研判
_ONE_PER = re.compile(r"(?<!每)一(天|日|周|月|季|季度|年)一(调度|总结|通报|研判|报告|督查|会商|检查|研究|考核|评估|排查)")
# 年度 as a yearly cycle: 年度验收 / 年度工作方案 / 年度计划 / 做好年度…工作; not 2021年度, not 分年度
_YEARLY = re.compile(r"(?<![\d０-９〇零一二三四五六七八九分上本该当])年度[^，,。；;、]{0,6}?(?:验收|工作方案|计划|目标|考核|任务|报告|评估|总结|检查)"
                     r"|做好年度[^，。；]{1,30}?工作")
_CLAUSE = re.compile(r"[^，,。；;！？\n]+")


def _clauses(text: str):
    for m in _CLAUSE.finditer(text):
        yield m.start(), m.group(0)


_VERB = re.compile(r"将|要|应|每|按|对|在|于|定期|至少|负责|实行|开展|组织|做好|制定|结合|督促|建立")
_ORG_END = re.compile(r"(室|局|委|政府|党委|部门|两级|单位|办公室|机关|小组|领导小组)$")


_NOT_LOCALITIES = {"各级", "各地", "各", "有关", "相关", "上级", "下级"}  # 各级党委、政府 names no locality


def _subject(before: str) -> list[str]:
    """The body a duty falls to when it is no directory unit: "县、乡两级党委、政府每月…" → 县乡两级,
    "党委、政府督查室将…" → 党委政府督查室 (a locality's 党委、政府 pair names the locality)."""
    m = _VERB.search(before)
    subject = re.sub(r"[、\s]", "", before[:m.start()] if m else before)
    if not subject or not _ORG_END.search(subject):
        return []
    if subject.endswith("党委政府") and len(subject) > 4 and subject[:-4] not in _NOT_LOCALITIES:
        subject = subject[:-4]
    return [subject]


def extract(text: str, name_units) -> list[Recurring]:
    """Recurring duties in text; `name_units(clause)` returns the plan units a clause names."""
    out: list[Recurring] = []
    for _, clause in _clauses(text):
        matches = []
        for rx in (_EVERY, _ONE_PER):
            for m in rx.finditer(clause):
                matches.append((m.start(), _PERIOD[m.group(1)]))
        for m in _YEARLY.finditer(clause):
            matches.append((m.start(), "year"))
        if not matches:
            continue
        matches.sort()
        if len(matches) > 1:
            # "实行每周一调度、每月一总结机制": one duty per 、-separated part
            parts = re.split(r"、", clause)
            pos = 0
            for part in parts:
                hit = [p for s, p in matches if pos <= s < pos + len(part)]
                if hit:
                    out.append(Recurring(hit[0], part.strip(), name_units(part)))
                pos += len(part) + 1
            continue
        before = clause[:matches[0][0]]
        out.append(Recurring(matches[0][1], clause.strip(), name_units(before) or _subject(before)))
    return out
