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
        out.append(Recurring(matches[0][1], clause.strip(), name_units(clause[:matches[0][0]])))
    return out
