"""A unit's tasks, the most urgent first: "市生态环境局有哪些任务", "发改委牵头的任务", "已销号的任务",
"长期坚持的任务", "还有哪些没销号"."""
from __future__ import annotations

import re

from knowledge import queries

from ..answer import Answer, entry, with_plans
from ..windows import cn_date
from .. import render
from .base import ROLE_WORDS, Context, QuestionKind, for_each_unit, listing_role

UNIT_TASKS_LIMIT = 60  # counted per answer; the reply reads and shows the most urgent render.MAX_ITEMS
_TASK_WORDS_RE = re.compile(r"任务|事项|工作|清单|承担|负责|牵头|有哪些|有什么|有啥")
_STATE_WORDS = {"open": "未销号", "completed": "已销号", "ongoing": "长期坚持（持续推进）"}


def _detect(intent, reading) -> bool:
    state = reading.state
    if not (intent.unit or intent.mine or intent.unit_guess or state or _TASK_WORDS_RE.search(reading.rest)):
        return False
    intent.state = state[0] if state else None
    listing_role(intent, reading)
    return True


def _answer(ctx: Context, intent, unit: str | None, hint: str) -> Answer:
    db, today = ctx.db, ctx.today
    role_asked = intent.role if unit else None
    total, pairs = queries.tasks_with_next_due(db, unit, UNIT_TASKS_LIMIT, show=render.MAX_ITEMS, role=role_asked,
                                               state=intent.state)
    entries = with_plans(db, [entry(t, today, i) for t, i in pairs])
    role = ROLE_WORDS.get(role_asked or "", "")
    state = _STATE_WORDS.get(intent.state, "")
    more = total > UNIT_TASKS_LIMIT
    count = f"{UNIT_TASKS_LIMIT}项以上，按时限先后列出" if more else f"{total}项"
    heading = f"**{unit or '全市'}**{role}{state}的整改任务共{count}（今天 {cn_date(today)}）"
    if role:  # "邵阳县牵头的任务": it has tasks, none in that role
        empty = f"没有{unit}{role}的{state}任务。"
    elif state:
        empty = f"目前没有{state}的任务。"
    else:
        empty = "方案中没有该单位承担的任务。"
    reply = render.render_unit_tasks(heading, entries, max_bytes=ctx.max_bytes, footer=hint,
                                     total=UNIT_TASKS_LIMIT if more else total, more=more, empty=empty)

    def listed() -> list[dict]:
        pairs = queries.tasks_with_next_due(db, unit, UNIT_TASKS_LIMIT, role=role_asked, state=intent.state)[1]
        return with_plans(db, [entry(t, today, i) for t, i in pairs])
    return Answer("unit_tasks", unit, None, listed, reply)


UNIT_TASKS = QuestionKind("unit_tasks", _detect, for_each_unit(_answer),
                          ("市生态环境局有哪些任务 / 已销号的任务 / 长期坚持的任务",))
