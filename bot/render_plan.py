"""Terminal output for `duban parse`: the plan as a table. Apart from the store's commands so parsing a file
loads no store modules."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .render import task_label

console = Console()


def print_plan(plan) -> None:
    table = Table(title=f"{plan.title}（{len(plan.tasks)} 项任务）")
    for col in ("编号", "任务", "时限", "牵头/责任单位"):
        table.add_column(col)
    for t in plan.tasks:
        dues = "、".join(sorted({m.due.isoformat() for m in t.milestones})) or ("持续推进" if t.ongoing else "")
        table.add_row(task_label(t.section, t.number), t.title[:30], dues,
                      "、".join((t.lead_units or []) + (t.responsible_units or []))[:40])
    console.print(table)
    for w in plan.warnings:
        console.print(f"[yellow]提示：{w}[/yellow]")
