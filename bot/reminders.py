"""Turning a day's sweep into one digest per unit, and planning what `duban remind` sends."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from knowledge import outbox, people, reminder_log
from knowledge.sweep import Policy, Reminder, named_on_any, sweep

from .render import task_label, what_is_due

from .workdays import WorkCalendar

KIND_ORDER = {"escalation": 0, "overdue": 1, "due": 2, "lead": 3, "recurring": 4}
EVERY_LABEL = {"week": "每周", "month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}


@dataclass
class Digest:
    unit: str
    reminders: list[Reminder]
    channel: dict | None
    at_mobiles: list[str] = field(default_factory=list)
    at_user_ids: list[str] = field(default_factory=list)
    may_close: bool = True  # the unit is named on at least one of these tasks itself (may send 销号)
    lines: dict = field(default_factory=dict, repr=False, compare=False)  # shared by a plan's digests

    def title(self) -> str:
        return f"督办提醒：{self.unit}"

    def body(self, today: date) -> str:
        lines = [f"### 督办提醒：{self.unit}", f"{today.isoformat()}，以下事项请抓紧办理："]
        groups = defaultdict(list)
        for r in sorted(self.reminders, key=lambda r: (KIND_ORDER[r.kind], r.due or r.nominal, r.task_id)):
            groups[r.kind].append(r)
        heads = {"escalation": "**逾期督办（已逾期较长时间）**", "overdue": "**已逾期**", "due": "**今天到期**",
                 "lead": "**即将到期**", "recurring": "**定期工作**"}
        seen: set[tuple] = set()
        for kind in sorted(groups, key=KIND_ORDER.get):
            lines.append(heads[kind])
            for r in groups[kind]:
                key = (r.milestone_id, r.recurring_id)
                if key in seen:
                    continue
                seen.add(key)
                lines.append(self._line(r, today))
        if self.at_mobiles:
            lines.append(" ".join(f"@{m}" for m in self.at_mobiles))
        lines.append("办结后请回复“申请销号 编号：整改情况”，经督办办审核通过后销号；报送进展请回复“进展 编号：内容”。"
                     if self.may_close else "报送进展请回复“进展 编号：内容”（销号由牵头单位或主体责任单位申请）。")
        return "\n".join(lines)

    def _line(self, r: Reminder, today: date) -> str:
        cached = (r.milestone_id, r.recurring_id, r.kind == "recurring", today)
        line = self.lines.get(cached)
        if line is None:
            what = r.text if r.kind == "recurring" else what_is_due({"text": r.text, "title": r.title})
            line = self.lines[cached] = f"- {task_label(r.section, r.number)} {_when(r, today)}：{what}"
        return line


def _when(r: Reminder, today: date) -> str:
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
    reminders = sweep(db, covered, policy)
    if only_new and reminders:  # every nominal date is one of the covered days
        known = reminder_log.recorded_keys(db, min(covered).isoformat(), max(covered).isoformat())
        if known:
            reminders = [r for r in reminders if r.key not in known]
    by_unit: dict[str, list[Reminder]] = defaultdict(list)
    for r in reminders:
        by_unit[r.unit].append(r)
    chans = outbox.channels(db)
    digests = []
    lines: dict = {}  # one line per item and day, whichever unit's digest shows it
    for unit, items in sorted(by_unit.items()):
        officials = people.officials_of_unit(db, unit)
        channel = chans.get(unit)
        # @ the unit's officials by their id on the platform the digest goes to (kinds are "<platform>_<what>")
        platform = channel["kind"].partition("_")[0] if channel else ""
        d = Digest(unit, items, channel, [o.mobile for o in officials if o.mobile],
                   [o.account(platform) for o in officials if o.account(platform)],
                   named_on_any(db, unit, {r.task_id for r in items}), lines)
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
            "reminders": [(r.item_uid, r.milestone_id, r.recurring_id, r.task_id, r.kind, r.nominal.isoformat())
                          for r in d.reminders]})
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
