"""Turning a day's sweep into one digest per unit, and planning what `duban remind` sends."""
from __future__ import annotations

from itertools import groupby
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

from knowledge import outbox, people, reminder_log
from knowledge.sweep import KIND_ORDER, Due, Policy, by_unit, named_on_any

from .render import task_label, what_is_due

from .workdays import WorkCalendar

_ORDER, _KIND, _REF = attrgetter("order"), attrgetter("kind"), attrgetter("ref")
HEADS = {"escalation": "**逾期督办（已逾期较长时间）**", "overdue": "**已逾期**", "due": "**今天到期**", "lead": "**即将到期**",
         "recurring": "**定期工作**"}
EVERY_LABEL = {"week": "每周", "month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}
# A digest lists at most this many items of each kind, then counts the rest: a push carries about
# 20,000 bytes (DingTalk robots truncate there, WeCom splits into 2,048-byte messages), and a unit of a
# large store can have thousands of overdue items on one day.
LINES_PER_KIND = 30
MORE_HINT = {"escalation": "（发送“逾期任务”查看）", "overdue": "（发送“逾期任务”查看）", "due": "（发送“即将到期的任务”查看）",
             "lead": "（发送“即将到期的任务”查看）", "recurring": ""}


@dataclass
class Digest:
    unit: str
    reminders: list[Due]  # in the order of the day's sweep
    channel: dict | None
    at_mobiles: list[str] = field(default_factory=list)
    at_user_ids: list[str] = field(default_factory=list)
    may_close: bool = True  # the unit is named on at least one of these tasks itself (may send 销号)
    lines: dict = field(default_factory=dict, repr=False, compare=False)  # {today: {item: line}}, one per plan

    def title(self) -> str:
        return f"督办提醒：{self.unit}"

    def body(self, today: date) -> str:
        lines = [f"### 督办提醒：{self.unit}", f"{today.isoformat()}，以下事项请抓紧办理："]
        seen: set[tuple] = set()
        shown = self.lines.setdefault(today, {})  # an item's line is the same in every unit's digest
        for kind, group in groupby(sorted(self.reminders, key=_ORDER), key=_KIND):
            items = _first_mentions(list(group), seen)
            lines.append(HEADS[kind])
            for item in items[:LINES_PER_KIND]:
                line = shown.get(item.ref)
                if line is None:
                    what = item.text if item.kind == "recurring" else what_is_due({"text": item.text, "title": item.title})
                    line = shown[item.ref] = f"- {task_label(item.section, item.number)} {_when(item, today)}：{what}"
                lines.append(line)
            if len(items) > LINES_PER_KIND:
                lines.append(f"……另有{len(items) - LINES_PER_KIND}项{MORE_HINT[kind]}")
        if self.at_mobiles:
            lines.append(" ".join(f"@{m}" for m in self.at_mobiles))
        lines.append("办结后请回复“申请销号 编号：整改情况”，经督办办审核通过后销号；报送进展请回复“进展 编号：内容”。"
                     if self.may_close else "报送进展请回复“进展 编号：内容”（销号由牵头单位或主体责任单位申请）。")
        return "\n".join(lines)


def _first_mentions(items: list[Due], seen: set[tuple]) -> list[Due]:
    """The items whose milestone or duty no earlier line of the digest shows (the same one can be due in two
    kinds, or on two of the covered days); marks them seen."""
    refs = list(map(_REF, items))
    if seen.isdisjoint(refs) and len(set(refs)) == len(refs):  # nearly always: no per-item work
        seen.update(refs)
        return items
    out = []
    for item in items:
        if item.ref not in seen:
            seen.add(item.ref)
            out.append(item)
    return out


def _when(r: Due, today: date) -> str:
    if r.kind == "recurring":
        return EVERY_LABEL.get(r.every or "", "定期")
    days = (r.due - today).days
    if days < 0:
        return f"{r.due.isoformat()}（逾期{-days}天）"
    if days == 0:
        return f"{r.due.isoformat()}（今天到期）"
    return f"{r.due.isoformat()}（剩{days}天）"


@dataclass
class Plan:
    today: date
    covered: list[date]
    digests: list[Digest]
    calendar_note: str | None

    @property
    def without_channel(self) -> list[str]:
        return sorted({d.unit for d in self.digests if d.channel is None})


def plan_day(db, today: date, calendar: WorkCalendar, policy: Policy | None = None,
             only_new: bool = True) -> Plan:
    """What today's send consists of: one digest per unit, only reminders not already queued."""
    covered = calendar.covered_days(today)
    note = None
    if not calendar.knows(today.year) or any(not calendar.knows(d.year) for d in covered):
        note = f"{today.year} 年没有法定节假日数据，按周一至周五计算工作日（可在节假日文件中补充）"
    units = by_unit(db, covered, policy)
    if only_new and units:  # every nominal date is one of the covered days
        known = reminder_log.recorded_keys(db, min(covered).isoformat(), max(covered).isoformat())
        if known:
            units = {unit: [i for i in items if reminder_log.key_of(i.record, unit) not in known]
                     for unit, items in units.items()}
            units = {unit: items for unit, items in units.items() if items}
    chans = outbox.channels(db)
    digests = []
    lines: dict = {}  # one line per item and day, whichever unit's digest shows it
    for unit, items in sorted(units.items()):
        officials = people.officials_of_unit(db, unit)
        channel = chans.get(unit)
        # @ the unit's officials by their id on the platform the digest goes to (kinds are "<platform>_<what>")
        platform = channel["kind"].partition("_")[0] if channel else ""
        d = Digest(unit, items, channel, [o.mobile for o in officials if o.mobile],
                   [o.account(platform) for o in officials if o.account(platform)],
                   named_on_any(db, unit, {i.task_id for i in items}), lines)
        digests.append(d)
    return Plan(today, covered, digests, note)


def enqueue_plan(db, plan: Plan, now) -> list[int]:
    """Record the digests (with their reminder keys) in the outbox before anything is sent.
    Units without a channel are recorded too, so they are not re-planned, but not queued for sending."""
    messages = []
    for d in plan.digests:
        messages.append({
            "unit": d.unit, "kind": "reminder", "status": "pending" if d.channel else "no_channel", "title": d.title(),
            "body": d.body(plan.today), "at_mobiles": d.at_mobiles, "at_user_ids": d.at_user_ids,
            "reminders": [i.record for i in d.reminders]})
    return outbox.enqueue_items(db, messages, now)


def plan_json(plan: Plan) -> list[dict]:
    out = []
    for d in plan.digests:
        out.append({"channel": d.channel["kind"] if d.channel else None, "unit": d.unit,
                    "recipients": d.at_mobiles or d.at_user_ids,
                    "items": [{"section": r.section, "number": int(r.number) if r.section == "list" and
                               r.number.isdigit() else r.number, "due": r.due.isoformat() if r.due else None,
                               "kind": r.kind} for r in sorted(d.reminders, key=lambda r: (KIND_ORDER[r.kind],
                                                                                          r.task_id))]})
    return out


def replan_after_change(db, today: date, now, calendar: WorkCalendar | None = None,
                        policy: Policy | None = None) -> int:
    """After a revision or a 销号: cancel unsent digests that mention what is no longer current and
    queue today's digests again from what still applies. Returns how many digests were re-queued."""
    cancelled = outbox.cancel_stale_reminders(db)
    if not cancelled and not outbox.swept(db, today.isoformat()):
        return 0
    return len(enqueue_plan(db, plan_day(db, today, calendar or WorkCalendar(), policy), now))
