"""The tasks a 督办领导 supervises: "市长督办的任务", "分管发展和改革工作的副市长有哪些任务"."""
from __future__ import annotations

import re
from functools import lru_cache

from knowledge import queries

from ..answer import Answer, entry, with_plans
from ..intent import normalize
from ..windows import cn_date
from .. import render
from .base import Context, QuestionKind


@lru_cache(maxsize=8)
def _normalized(leaders: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(title, as a question writes it) of the titles of two characters or more, in their order."""
    return tuple((t, normalize(t)) for t in leaders if len(t) >= 2)


def _names_title(q: str, title: str) -> bool:
    """The title itself, not the end of a longer one (副市长 is no 市长), a service (市长热线) or the
    letters of other words (全市长期坚持: 全市 + 长期)."""
    for m in re.finditer(re.escape(title), q):
        before, after = q[:m.start()], q[m.end():]
        if before.endswith(("副", "助理")) or after.startswith(("热线", "信箱", "专线", "邮箱")):
            continue
        if title[0] in "省市县区" and before.endswith(("全", "我", "本", "该", "各", "全" + title[0])):
            continue  # 全市 / 我县 …
        if title.endswith("长") and after.startswith(("期", "效", "远", "久")):
            continue  # …长期 / 长效
        return True
    return False


# "市长督办的…", "常务副市长督办哪些任务": a 督办领导 title asked about by its 督办
_LEADER_ASKED = re.compile(r"((?:市委|市政府|市人大|市政协)?(?:常务)?(?:副)?(?:市长|书记|常委|主席|秘书长))(?:督办|牵头督办|负责督办)")



def _detect(intent, reading) -> bool:
    """A 督办领导 title of the store (longest first), unless a unit is named that it does not hold
    (市委书记 holds 市委); or a title asked about by its 督办 that no task names (said as empty) —
    but not a general one that several titles end in (副市长: 分管…的副市长)."""
    q, leaders = reading.q, reading.leaders
    leader = next((t for t, n in _normalized(tuple(leaders)) if n in q and _names_title(q, n)), None)
    if leader is None and (m := _LEADER_ASKED.search(q)) \
            and not any(t.endswith(m.group(1)) and not t[:-len(m.group(1))].endswith("副") for t in leaders):
        leader = m.group(1)
    if leader is None or (intent.unit is not None and intent.unit not in leader):
        return False
    intent.leader = leader
    return True


def _answer(ctx: Context, intent) -> Answer:
    db, leader, today = ctx.db, intent.leader, ctx.today
    total, pairs = queries.tasks_supervised_by(db, leader, show=render.MAX_ITEMS)
    if not total:
        return Answer("leader_tasks", leader, None, [], f"没有{leader}督办的任务。")
    heading = f"**{leader}**督办的整改任务共{total}项（今天 {cn_date(today)}）"
    reply = render.render_unit_tasks(heading, with_plans(db, [entry(t, today, i) for t, i in pairs]),
                                     max_bytes=ctx.max_bytes, total=total)

    def listed() -> list[dict]:
        return with_plans(db, [entry(t, today, i) for t, i in queries.tasks_supervised_by(db, leader)[1]])
    return Answer("leader_tasks", leader, None, listed, reply)


LEADER_TASKS = QuestionKind("leader_tasks", _detect, _answer, ("市长督办的任务",))
