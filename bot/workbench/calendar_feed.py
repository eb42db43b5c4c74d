"""Calendar feeds: every milestone a unit answers for (or every milestone) as an all-day event.

An event's UID is the task's identity across versions and the milestone's place in it, so a revised plan
moves the event instead of adding another; SEQUENCE counts the versions and the 销号 changes, and
LAST-MODIFIED is when the latest of them happened."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from knowledge import due_index
from knowledge import workbench_queries as wq
from parser import ROLE_LABELS

from .. import clock
from ..render import task_label
from .ledger_model import SOURCES

REMIND_AT = timedelta(hours=9)  # alarms at 09:00 of the reminder day, as the reminder sweep sends
DOMAIN = "duban"


def _roles_of(units: dict[str, list[str]], mine: set[str]) -> list[str]:
    return [ROLE_LABELS[r] for r, us in units.items() if r != "supervising_leaders" and mine & set(us)]


def _stamp(text: str | None) -> datetime:
    if not text:
        return datetime(2000, 1, 1, tzinfo=clock.TZ)
    at = datetime.fromisoformat(text.replace(" ", "T"))
    return at if at.tzinfo else at.replace(tzinfo=clock.TZ)


def _alarms(event: Event, lead_days: list[int], summary: str) -> None:
    for days in sorted(set(lead_days) | {0}, reverse=True):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{summary}（{'今天到期' if days == 0 else f'{days}天后到期'}）")
        alarm.add("trigger", REMIND_AT - timedelta(days=days))
        event.add_component(alarm)


def _event(task: dict, m: dict, doc: dict, roles: list[str], revision: tuple[int, str | None],
           lead_days: list[int], now: datetime) -> Event:
    closed = task["status"] == "completed"
    label = task_label(task["section"], task["number"])
    role = f"【{'/'.join(roles)}】" if roles else ""
    summary = f"{'【已销号】' if closed else ''}{role}{label} {task['title'][:40]}"
    ev = Event()
    ev.add("uid", f"task-{task['uid']}-m{m['position']}@{DOMAIN}")
    ev.add("summary", summary)
    due = date.fromisoformat(m["due"])
    ev.add("dtstart", due)
    ev.add("dtend", due + timedelta(days=1))
    ev.add("dtstamp", now)
    changes, changed_at = revision
    ev.add("sequence", doc["version"] - 1 + changes)
    ev.add("last-modified", max(_stamp(doc["ingested_at"]), _stamp(changed_at)))
    units = "；".join(f"{ROLE_LABELS[r]}：{'、'.join(us)}" for r, us in task["units"].items() if us)
    where = f"《{doc['title']}》第{doc['version']}版 {label} {SOURCES.get(m['source'], m['source'])}"
    ev.add("description", "\n".join(x for x in (
        f"任务：{task['title']}", f"本单位：{'、'.join(roles)}" if roles else "", f"时限节点：{m['text']}",
        f"单位：{units}", f"来源：{where}", "状态：已销号" if closed else "状态：节点已完成" if m["done"] else "")
        if x))
    ev.add("categories", ["督办", "已销号" if closed else "未销号"])
    ev.add("transp", "TRANSPARENT")
    if not closed and not m["done"]:
        _alarms(ev, lead_days, f"{label} {m['text'][:30]}")
    return ev


def build_feed(db, unit: str | None, *, lead_days: list[int], now: datetime | None = None,
               document: int | None = None) -> bytes:
    now = now or clock.now()
    facts = wq.task_facts(db, unit=unit, document=document, ordered=True)
    ids = [f.id for f in facts]
    tasks, ms = wq.task_rows(db, ids), wq.milestones_by_task(db, ids)
    revisions = wq.closing_events(db, ids)
    docs = {d["id"]: d for d in wq.documents(db)}
    mine = set(due_index.units_answering_as(db, unit)) if unit else set()
    cal = Calendar()
    cal.add("prodid", "-//duban//督办时限//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"督办时限 · {unit or '全部单位'}")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for f in facts:
        task = tasks[f.id]
        roles = _roles_of(task["units"], mine) if unit else []
        for m in ms[f.id]:
            if unit and m["units"] and not mine & set(m["units"]):
                continue  # bound to another unit: not this unit's date
            cal.add_component(_event(task, m, docs[f.document_id], roles, revisions.get(f.id, (0, None)),
                                     lead_days, now))
    return cal.to_ical()
