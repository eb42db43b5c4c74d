"""The 三色预警 state of a task, as one ordered table: the first rule that holds names the state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class State:
    key: str
    label: str  # the 台账's 状态 word
    column: str  # the dashboard's column heading
    fill: str  # RGB of the 台账 cell and the dashboard badge
    colour: str  # red / yellow / green / grey, for the page's classes


# (state, rule on (status, ongoing, days to the earliest open milestone or None)), checked in order
RULES: list[tuple[State, object]] = [
    (State("completed", "已销号", "已销号", "D9D9D9", "grey"), lambda st, ongoing, days: st == "completed"),
    (State("overdue", "逾期", "逾期", "F4B6B6", "red"), lambda st, ongoing, days: days is not None and days < 0),
    (State("due7", "临期≤7天", "7天内到期", "FFE699", "yellow"), lambda st, ongoing, days: days is not None and days <= 7),
    (State("due30", "正常", "30天内到期", "C6EFCE", "green"), lambda st, ongoing, days: days is not None and days <= 30),
    (State("ongoing", "长期坚持", "长期坚持", "DDEBF7", "blue"), lambda st, ongoing, days: days is None and ongoing),
    (State("on_track", "正常", "正常推进", "C6EFCE", "green"), lambda st, ongoing, days: True),
]
STATES = [s for s, _ in RULES]
BY_KEY = {s.key: s for s in STATES}
# the dashboard's columns, most urgent first
COLUMNS = ["overdue", "due7", "due30", "on_track", "completed", "ongoing"]


def classify(status: str, ongoing: bool, next_due: date | str | None, today: date) -> State:
    """The state of a task: closed, else by its earliest open milestone, else 长期坚持 or 正常."""
    if isinstance(next_due, str):
        next_due = date.fromisoformat(next_due)
    days = (next_due - today).days if next_due else None
    for state, holds in RULES:
        if holds(status, ongoing, days):
            return state
    raise AssertionError("the last rule always holds")


def counts(states) -> dict[str, int]:
    out = {k: 0 for k in COLUMNS}
    for s in states:
        out[s.key] += 1
    out["total"] = sum(out[k] for k in COLUMNS)
    return out
