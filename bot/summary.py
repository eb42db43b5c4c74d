"""The figures of a unit's (or everyone's) tasks: "我单位一共有几项任务", "全市完成情况怎么样"."""
from __future__ import annotations

from datetime import date, timedelta

from knowledge import queries

from .windows import cn_date

SOON_DAYS = 30
_ROLES = (("lead_units", "牵头"), ("principal_units", "主体责任"), ("responsible_units", "责任"),
          ("cooperating_units", "配合"))


def render_summary(db, unit: str | None, today: date, footer: str = "") -> str:
    counts = queries.task_counts(db, unit)
    total = counts["total"]
    who = unit or "全市"
    if not total:
        return f"**{who}** · 任务统计（今天 {cn_date(today)}）\n方案中没有该单位承担的任务。"
    lines = [f"**{who}** · 任务统计（今天 {cn_date(today)}）", f"- 整改任务：共{total}项"]
    roles = "、".join(f"{word}{counts[key]}项" for key, word in _ROLES if counts.get(key))
    if unit and roles:
        lines[-1] += f"（其中{roles}）"
    done = counts["completed"]
    lines.append(f"- 已销号：{done}项；未销号：{total - done}项（完成率{done * 100 // total}%）")
    if counts["ongoing"]:
        lines.append(f"- 长期坚持（持续推进）：{counts['ongoing']}项")
    limit = 200
    _, late = queries.due_lines(db, end=today - timedelta(days=1), unit=unit, lines=0, count_to=limit)
    _, soon = queries.due_lines(db, start=today, end=today + timedelta(days=SOON_DAYS), unit=unit, lines=0,
                                count_to=limit)
    # due lines are milestones (a task may have several): counted as 节点, not as 项 (tasks)
    lines.append(f"- 时限节点：已逾期{_count(late, limit)}个，{SOON_DAYS}天内到期{_count(soon, limit)}个")
    lines.append("（发送“逾期任务”“即将到期的任务”“已销号的任务”查看明细）")
    if footer:
        lines.append(footer)
    return "\n".join(lines)


def _count(n: int, limit: int) -> str:
    return f"{limit}以上" if n > limit else str(n)
