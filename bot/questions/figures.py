"""A unit's figures ("我单位一共有几项任务", "全市完成情况") and its contacts ("发改委的联络员是谁")."""
from __future__ import annotations

import re

from ..answer import Answer
from ..contacts import render_contacts
from ..summary import render_summary
from .base import QuestionKind, for_each_unit

_CONTACT_RE = re.compile(r"联系人|联络员|对接人|负责人是谁|谁是负责人|联系方式|联系电话|电话号码|电话是多少|手机号|找谁联系|"
                         r"跟谁联系|和谁联系")
# figures rather than a list: "一共有几项任务", "完成率", "整改情况怎么样" (no task number named)
_COUNT_RE = re.compile(r"多少|几项|几个|几条|统计|总数|总共|一共|完成率|销号率|完成情况|整体情况|总体情况|整改情况|"
                       r"进展情况|进度情况|汇总|概况")
_ALL_RE = re.compile(r"一共|总共")  # "一共有几项任务" without a unit: everyone's


def _contacts(intent, reading) -> bool:
    return bool(_CONTACT_RE.search(reading.rest))  # the people, not the tasks


def _summary(intent, reading) -> bool:
    # "长阳矿区的整改情况" is about that place (a topic), "还有几项没销号" a list in one state
    if not _COUNT_RE.search(reading.rest) or reading.state or reading.topic:
        return False
    everyone = not intent.unit and not intent.mine and bool(_ALL_RE.search(reading.rest))
    intent.everyone = intent.everyone or everyone
    return True


CONTACTS = QuestionKind(
    "contacts", _contacts,
    for_each_unit(lambda ctx, intent, unit, hint: Answer("contacts", unit, None, [], render_contacts(ctx.db, unit))),
    ("发改委的联络员是谁",))
SUMMARY = QuestionKind(
    "summary", _summary,
    for_each_unit(lambda ctx, intent, unit, hint: Answer("summary", unit, None, [],
                                                         render_summary(ctx.db, unit, ctx.today, hint))),
    ("我单位一共有几项任务 / 全市完成情况",))
