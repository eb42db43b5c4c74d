"""Due lists: a window asked about ("本周到期", "下个月到期的任务", "上半年到期"), what is due soon
("我单位哪些任务即将到期"), and what is overdue ("有哪些逾期任务").

A window's items come first; what is already overdue is one line after them ("另有N项已逾期…"),
counted from the due index, not read. A window already over (2021年第三季度, asked in 2022) lists
its still-open items as the overdue ones of that period.
"""
from __future__ import annotations

import re
from datetime import timedelta

from knowledge import queries

from ..answer import Answer, entry, with_plans
from ..windows import cn_date
from .. import render
from .base import ROLE_WORDS, Context, QuestionKind, for_each_unit, listing_role

DUE_SOON_DAYS = 30
COUNT_TO = 200  # lines counted per section; a longer list says "200项以上"
LIST_LIMIT = 60  # items per section in Answer.tasks
OVERDUE_RE = re.compile(r"逾期|超期|过期|超时|延期|拖期|已过时限|过了时限|过了期限|未按期|没按期|没有按期|未如期")
SOON_RE = re.compile(r"即将到期|快到期|快要到期|将要到期|马上到期|要到期|临期|临近|近期|最近|到期|截止|要完成|需要完成|该完成|快到")


def _in_window(intent, reading) -> bool:
    if not (window := reading.window):
        return False
    intent.window, intent.window_label = (window.start, window.end), window.label
    listing_role(intent, reading)
    return True


def _overdue(intent, reading) -> bool:
    return bool(OVERDUE_RE.search(reading.rest)) and _listing(intent, reading)


def _soon(intent, reading) -> bool:
    return bool(SOON_RE.search(reading.rest)) and _listing(intent, reading)


def _listing(intent, reading) -> bool:
    listing_role(intent, reading)
    return True


def _window_of(intent, today) -> tuple[tuple | None, str | None]:
    """(the window asked about or None, its section title)."""
    if intent.kind == "overdue":
        return None, None
    if intent.kind == "due_soon":
        return (today, today + timedelta(days=DUE_SOON_DAYS)), f"{DUE_SOON_DAYS}天内到期"
    start, end = intent.window
    span = f"{cn_date(start)}至{cn_date(end)}" if start != end else cn_date(end)
    return intent.window, f"{intent.window_label or ''}到期（{span}）"


def _answer(ctx: Context, intent, unit: str | None, hint: str) -> Answer:
    db, today, lines = ctx.db, ctx.today, render.MAX_ITEMS  # only what a reply shows is read; the rest counted
    window, soon_title = _window_of(intent, today)
    late_from = window[0] if window and window[1] < today else None  # a period already over
    if late_from:
        soon_title = None
    late_end = window[1] if late_from else today - timedelta(days=1)
    role = intent.role if unit else None  # "发改委牵头的任务什么时候到期": the tasks it leads
    counted_only = bool(window) and not late_from  # the overdue ones: one line after the window
    late, n_late = queries.due_lines(db, start=late_from, end=late_end, unit=unit, lines=0 if counted_only else lines,
                                     count_to=COUNT_TO, role=role)
    soon, n_soon = [], 0
    if counted_only:
        soon, n_soon = queries.due_lines(db, start=max(window[0], today), end=window[1], unit=unit, lines=lines,
                                         count_to=COUNT_TO, role=role)
    whose = f"**{unit or '全市'}**{ROLE_WORDS.get(role or '', '')}"
    heading = f"{whose} · {'逾期任务' if intent.kind == 'overdue' else '到期提醒'}（今天 {cn_date(today)}）"
    late_e, soon_e = [entry(i.task, today, i) for i in late], [entry(i.task, today, i) for i in soon]
    with_plans(db, late_e + soon_e)
    reply = render.render_due(heading, late_e, soon_e, soon_title=soon_title, max_bytes=ctx.max_bytes, footer=hint,
                              totals=(n_late, n_soon), count_to=COUNT_TO, late_count=n_late if counted_only else 0,
                              late_title=f"{intent.window_label}到期、仍未完成" if late_from else "已逾期")

    def listed() -> list[dict]:  # what the reply lists, up to LIST_LIMIT
        if late_from:
            items = queries.due_items(db, start=late_from, end=window[1], unit=unit, limit=LIST_LIMIT, role=role)
        elif window:
            items = queries.due_items(db, start=max(window[0], today), end=window[1], unit=unit, limit=LIST_LIMIT,
                                      role=role)
        else:
            items = queries.overdue(db, today, unit=unit, limit=LIST_LIMIT, role=role)
        return with_plans(db, [entry(i.task, today, i) for i in items])
    return Answer(intent.kind, unit, window, listed, reply)


DUE_IN_WINDOW = QuestionKind(
    "due_in_window", _in_window, for_each_unit(_answer),
    ("发改委下个月到期的任务",
     "本周到期的任务 / 30天内到期 / 年底前要完成什么 / 上半年到期的任务 / 春节前要完成什么"))
OVERDUE = QuestionKind("overdue", _overdue, for_each_unit(_answer), ("有哪些逾期任务",))
DUE_SOON = QuestionKind("due_soon", _soon, for_each_unit(_answer), ("我单位哪些任务即将到期",))
