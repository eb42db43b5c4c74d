"""`duban tasks --json`: every task of a unit (or of everyone) with its 三色预警 state, and the counts per state
— the same figures as the dashboard's overview, worked out task by task through the chat's own queries."""
from __future__ import annotations

import json
from datetime import date

from knowledge import details, queries

from ..render import task_label
from . import states


def task_states(db, unit: str | None, today: date, document: int | None = None) -> dict:
    tasks = queries.tasks_for_unit(db, unit) if unit else queries.current_tasks(db)
    out = []
    for t in tasks:
        if document is not None and t.document_id != document:
            continue
        open_dues = [m.due for m in details.milestones_of(db, t.id) if not m.done]
        state = states.classify(t.status, t.ongoing, min(open_dues) if open_dues else None, today)
        out.append({"document": t.document_id, "section": t.section, "number": t.number,
                    "label": task_label(t.section, t.number), "title": t.title, "state": state.key,
                    "状态": state.label, "next_due": min(open_dues).isoformat() if open_dues else None,
                    "units": {r: us for r, us in t.units.items() if us}})
    found = [states.BY_KEY[t["state"]] for t in out]
    return {"unit": unit, "document": document, "today": today.isoformat(), "counts": states.counts(found),
            "tasks": out}


def print_task_states(db, unit: str | None, today: date, *, overdue_only: bool = False,
                      document: str | None = None) -> int:
    from ..render_cli import _document, _resolve as resolve_unit
    data = task_states(db, resolve_unit(db, unit), today, _document(db, document))
    if overdue_only:
        data["tasks"] = [t for t in data["tasks"] if t["state"] == "overdue"]
    print(json.dumps(data, ensure_ascii=False, indent=1))
    return 0
