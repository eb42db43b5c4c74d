"""销号 and 延期 as the 督办 office runs them: a responsible unit applies, the office decides.

    apply_close(db, task_id, actor, text, at)            申请销号 (with 整改情况)
    apply_extension(db, task_id, due, new_due, actor, reason, at)   申请延期 of one milestone
    approve(db, task_id, actor, at)                       审核通过: the task's pending application
    return_(db, task_id, actor, reason, at)               退回 (or 不同意延期) with a reason

Who may apply: for 销号 a unit named on the task in one of its document's closer roles
(documents.closers: 牵头单位 and 主体责任单位 unless set otherwise; a task naming neither takes its
责任单位) — never a 配合单位 alone; for 延期 also a unit the milestone is bound to. Who decides: an
official whose roster role is 管理员 or 督办 (REVIEWER_ROLES). Reminders stop only when a 销号 is
approved; an approved 延期 moves the milestone's date (the old one stays in the review row and the
progress history) and the due index with it. Every step is a progress entry (the task's history)
and an audit row; the applicant's unit is told the decision through the outbox.

No one approves or returns their own application. Each function raises Refused (its message is for
the official; the refused attempt is audited) or returns the Review it wrote. `actor` is an Actor:
the acting unit, the official's name and roster role, and where from (platform "dingtalk", "wecom",
"dashboard", "card" …, and the user id there). All writes of one step are one transaction. After an
approval the caller re-plans today's queued reminders (bot.reminders.replan_after_change), as the chat
does: digests already queued may still name the closed task or the old date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlite_utils

from . import documents, due_index, progress
from .db import register_migration, run_script

REVIEWER_ROLES = ("管理员", "督办")
STEP_KINDS = {  # progress kinds of the workflow, with their words in a task's history
    "apply_close": "申请销号", "approve_close": "销号审核通过", "return_close": "销号申请退回",
    "apply_extension": "申请延期", "approve_extension": "延期审核通过", "return_extension": "延期申请退回",
}
progress.KINDS.update(STEP_KINDS)


def _m019_reviews(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS reviews (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
        task_id INTEGER NOT NULL REFERENCES tasks(id), task_uid INTEGER NOT NULL,
        milestone_id INTEGER REFERENCES milestones(id), old_due TEXT, new_due TEXT,
        unit TEXT NOT NULL, official TEXT, platform TEXT, user_id TEXT, text TEXT NOT NULL DEFAULT '',
        applied_at TEXT NOT NULL, decided_at TEXT, decided_by TEXT, decision_reason TEXT);
    CREATE INDEX IF NOT EXISTS reviews_task ON reviews(task_uid, status)
    """)


register_migration(_m019_reviews)


class Refused(Exception):
    """The step is not allowed or not possible; str() is the reply to the official."""


@dataclass
class Actor:
    """Who acts: their unit, their name and roster role (None when not in the roster), and where from."""
    unit: str | None
    name: str | None = None
    role: str | None = None
    platform: str | None = None
    user_id: str | None = None

    @property
    def reviewer(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def who(self) -> str:
        return self.name or self.unit or self.user_id or "—"


@dataclass
class Review:
    id: int
    kind: str  # close / extension
    status: str  # pending / approved / returned
    task_id: int
    unit: str
    official: str | None
    text: str
    milestone_id: int | None = None
    old_due: str | None = None
    new_due: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    platform: str | None = None  # where the application came from (chat platform, dashboard, card)
    user_id: str | None = None


_COLUMNS = ("id, kind, status, task_id, unit, official, text, milestone_id, old_due, new_due, decided_by,"
            " decision_reason, platform, user_id")


def _review(db, review_id: int) -> Review:
    return Review(*db.execute(f"SELECT {_COLUMNS} FROM reviews WHERE id = ?", [review_id]).fetchone())


def pending(db: sqlite_utils.Database, task_id: int, kind: str | None = None) -> Review | None:
    """The task's open application (of `kind`, when given), in any version of its document."""
    row = db.execute(f"SELECT {_COLUMNS} FROM reviews WHERE task_uid = (SELECT uid FROM tasks WHERE id = ?)"
                     " AND status = 'pending' AND (? IS NULL OR kind = ?) ORDER BY id LIMIT 1",
                     [task_id, kind, kind]).fetchone()
    return Review(*row) if row else None


def pending_reviews(db: sqlite_utils.Database) -> list[Review]:
    """Every open application, oldest first (the 督办 office's queue)."""
    return [Review(*r) for r in db.execute(f"SELECT {_COLUMNS} FROM reviews WHERE status = 'pending' ORDER BY id")]


def closer_units(db: sqlite_utils.Database, task_id: int) -> list[str]:
    """The units that may apply for this task's 销号 (see the module's docstring)."""
    units = progress.task_units(db, task_id)
    doc = documents.get(db, db.execute("SELECT document_id FROM tasks WHERE id = ?", [task_id]).fetchone()[0])
    named = [u for role in doc.closers for u in units.get(role, [])]
    return named or units.get("responsible_units", [])


def _task(db, task_id: int) -> tuple[str, str, str, int]:
    row = db.execute("SELECT status, section, number, uid FROM tasks WHERE id = ?", [task_id]).fetchone()
    if row is None:
        raise Refused("没有找到该任务。")
    return row


def _label(section: str, number: str) -> str:
    return f"第{number}项" if section == "list" else f"正文{number}"


def _step(db, task_id: int, kind: str, text: str, actor: Actor, at: datetime, allowed: bool = True) -> None:
    """One audited step: the task's history (progress) and the audit trail."""
    from .people import record
    if allowed:
        db.execute("INSERT INTO progress (task_id, at, kind, text, unit, official, platform, user_id)"
                   " VALUES (?,?,?,?,?,?,?,?)", [task_id, at.isoformat(timespec="seconds"), kind, text,
                                                actor.unit, actor.name, actor.platform, actor.user_id])
    section, number = db.execute("SELECT section, number FROM tasks WHERE id = ?", [task_id]).fetchone()
    record(db, at, actor.platform, actor.user_id, STEP_KINDS[kind], f"{_label(section, number)} {text}".strip(),
           allowed)


def _refuse(db, task_id: int, kind: str, text: str, actor: Actor, at: datetime, message: str):
    with db.atomic():
        _step(db, task_id, kind, text, actor, at, allowed=False)
    raise Refused(message)


def close_refusal(db: sqlite_utils.Database, task_id: int, unit: str | None, label: str | None = None) -> str | None:
    """Why `unit` may not apply for this task's 销号 now (None: it may): not a unit in closer_units, already
    销号, an application already pending. Chat, cards and the 台账 import all ask here (`label`: how the
    message names the task; its number by default)."""
    status, section, number, _ = _task(db, task_id)
    label = label or _label(section, number)
    if not unit or unit not in closer_units(db, task_id):
        return f"{unit or '您'}不是{label}的牵头单位或主体责任单位，不能申请销号（配合单位请由牵头单位申请）。"
    if status == "completed":
        return f"{label}已经销号。"
    if (p := pending(db, task_id, "close")) is not None:
        return f"{label}已有待审核的销号申请（{p.unit}），请等待督办办审核。"
    return None


def apply_close(db: sqlite_utils.Database, task_id: int, actor: Actor, text: str, at: datetime) -> Review:
    """申请销号: from a unit in closer_units (or an administrator for it); the task stays open and
    reminded until approve(). Refused as close_refusal says."""
    uid = _task(db, task_id)[3]
    if why := close_refusal(db, task_id, actor.unit):
        _refuse(db, task_id, "apply_close", text, actor, at,
                why + ("此次操作已记录。" if "不能申请销号" in why else ""))
    with db.atomic():
        rid = db.execute("INSERT INTO reviews (kind, task_id, task_uid, unit, official, platform, user_id, text,"
                         " applied_at) VALUES ('close',?,?,?,?,?,?,?,?)",
                         [task_id, uid, actor.unit, actor.name, actor.platform, actor.user_id, text,
                          at.isoformat(timespec="seconds")]).lastrowid
        _step(db, task_id, "apply_close", text, actor, at)
    return _review(db, rid)


def apply_extension(db: sqlite_utils.Database, task_id: int, due: date | None, new_due: date, actor: Actor,
                    reason: str, at: datetime) -> Review:
    """申请延期 of the task's open milestone due on `due` (None: its only open one) to `new_due`.
    Refused: not a unit that answers for the milestone, no reason, no such milestone, a date not
    later than the current one, an extension of it already pending."""
    status, section, number, uid = _task(db, task_id)
    label = _label(section, number)
    open_ms = db.execute("SELECT id, due FROM milestones WHERE task_id = ? AND done = 0 ORDER BY due, position",
                         [task_id]).fetchall()
    hits = [m for m in open_ms if due is None or m[1] == due.isoformat()]
    bound = {m[0]: {r[0] for r in db.execute("SELECT unit FROM milestone_units WHERE milestone_id = ?", [m[0]])}
             for m in hits}
    if len(hits) > 1 and any(actor.unit in b for b in bound.values()):  # the asker's own date of the task
        hits = [m for m in hits if actor.unit in bound[m[0]]]
    bound = set().union(*(bound[m[0]] for m in hits)) if hits else set()
    text = f"{hits[0][1] if len(hits) == 1 else (due or '')} → {new_due.isoformat()}：{reason}"
    if not actor.unit or actor.unit not in set(closer_units(db, task_id)) | bound:
        _refuse(db, task_id, "apply_extension", text, actor, at,
                f"{actor.unit or '您'}不是{label}的牵头单位或主体责任单位，不能申请延期。此次操作已记录。")
    if status != "open":
        _refuse(db, task_id, "apply_extension", text, actor, at, f"{label}已销号，无需延期。")
    if not reason.strip():
        _refuse(db, task_id, "apply_extension", text, actor, at,
                "请说明延期理由，例如“申请延期 13：2021-12-31 延至 2022-03-31，因汛期无法施工”。")
    if len(hits) != 1:
        dates = "、".join(dict.fromkeys(m[1] for m in open_ms)) or "无"
        _refuse(db, task_id, "apply_extension", text, actor, at,
                f"{label}的未完成时限节点为：{dates}。请注明要延期的是哪一个，"
                f"例如“申请延期 {number}：{open_ms[0][1] if open_ms else '2021-12-31'} 延至 2022-03-31，理由”。")
    mid, old = hits[0]
    if new_due.isoformat() <= old:
        _refuse(db, task_id, "apply_extension", text, actor, at, f"新的时限（{new_due.isoformat()}）应晚于原时限 {old}。")
    if db.execute("SELECT 1 FROM reviews WHERE milestone_id = ? AND status = 'pending'", [mid]).fetchone():
        _refuse(db, task_id, "apply_extension", text, actor, at, f"{label}的时限节点 {old} 已有待审核的延期申请。")
    with db.atomic():
        rid = db.execute("INSERT INTO reviews (kind, task_id, task_uid, milestone_id, old_due, new_due, unit, official,"
                         " platform, user_id, text, applied_at) VALUES ('extension',?,?,?,?,?,?,?,?,?,?,?)",
                         [task_id, uid, mid, old, new_due.isoformat(), actor.unit, actor.name, actor.platform,
                          actor.user_id, reason, at.isoformat(timespec="seconds")]).lastrowid
        _step(db, task_id, "apply_extension", text, actor, at)
    return _review(db, rid)


def _decidable(db, task_id: int, actor: Actor, at: datetime, kind: str | None, step: str) -> Review:
    status, section, number, _ = _task(db, task_id)
    label = _label(section, number)
    if not actor.reviewer:
        _refuse(db, task_id, step, "", actor, at,
                f"只有督办办（花名册角色为{'或'.join(REVIEWER_ROLES)}）可以审核{label}的申请。此次操作已记录。")
    found = pending(db, task_id, kind)
    if found is None:
        what = {"close": "销号", "extension": "延期"}.get(kind or "", "销号或延期")
        _refuse(db, task_id, step, "", actor, at, f"{label}没有待审核的{what}申请。")
    if actor.user_id and (found.platform, found.user_id) == (actor.platform, actor.user_id):
        _refuse(db, task_id, step, "", actor, at, f"不能审核本人提交的申请（{label}），请由督办办其他人员审核。")
    return found


def approve(db: sqlite_utils.Database, task_id: int, actor: Actor, at: datetime, kind: str | None = None) -> Review:
    """审核通过 the task's pending application (of `kind`; None: the oldest). A 销号 closes the task
    (its reminders stop); a 延期 moves the milestone's date. Refused: not a reviewer, nothing pending."""
    r = _decidable(db, task_id, actor, at, kind, f"approve_{kind or 'close'}")
    # the application may date from an earlier version of the plan: act on the task as it is now
    milestone = None
    if r.kind == "extension":
        milestone = db.execute("SELECT id FROM milestones WHERE task_id = ? AND uid = (SELECT uid FROM milestones"
                               " WHERE id = ?)", [task_id, r.milestone_id]).fetchone()
        if milestone is None:
            _refuse(db, task_id, "approve_extension", "", actor, at,
                    f"申请延期的时限节点（{r.old_due}）在新版本中已调整，请退回后由申请单位重新申请。")
    with db.atomic():
        _decide(db, r, "approved", actor, None, at)
        if r.kind == "close":
            db.execute("UPDATE tasks SET status='completed', completed_at=?, completed_by=? WHERE id=?",
                       [at.isoformat(timespec="seconds"), r.official or r.unit, task_id])
            _step(db, task_id, "approve_close", f"申请单位：{r.unit}", actor, at)
        else:
            db.execute("UPDATE milestones SET due = ? WHERE id = ?", [r.new_due, milestone[0]])
            _release_queued(db, milestone[0])
            _step(db, task_id, "approve_extension", f"{r.old_due} → {r.new_due}（申请单位：{r.unit}）", actor, at)
        due_index.reindex(db, task_ids=[task_id])
        _tell_applicant(db, r, True, None, at)
    return _review(db, r.id)


def return_(db: sqlite_utils.Database, task_id: int, actor: Actor, reason: str, at: datetime,
            kind: str | None = None) -> Review:
    """退回 the task's pending application with a reason; nothing else changes. Refused: not a
    reviewer, no reason, nothing pending."""
    r = _decidable(db, task_id, actor, at, kind, f"return_{kind or 'close'}")
    if not reason.strip():
        _refuse(db, task_id, f"return_{r.kind}", "", actor, at, "退回须说明理由，例如“退回 13：缺少验收材料”。")
    with db.atomic():
        _decide(db, r, "returned", actor, reason, at)
        _step(db, task_id, f"return_{r.kind}", f"{reason}（申请单位：{r.unit}）", actor, at)
        _tell_applicant(db, r, False, reason, at)
    return _review(db, r.id)


def _decide(db, r: Review, status: str, actor: Actor, reason: str | None, at: datetime) -> None:
    db.execute("UPDATE reviews SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ? WHERE id = ?",
               [status, at.isoformat(timespec="seconds"), actor.who, reason, r.id])


def _release_queued(db, milestone_id: int) -> None:
    """Unsent digests about the milestone's old date are cancelled and their keys released, so the
    next planning re-queues what still applies under the new date."""
    stale = [r[0] for r in db.execute("SELECT DISTINCT o.id FROM outbox o JOIN reminders r ON r.message_id = o.id"
                                      " WHERE o.status = 'pending' AND r.milestone_id = ?", [milestone_id])]
    for mid in stale:
        db.execute("DELETE FROM reminders WHERE message_id = ?", [mid])
        db.execute("UPDATE outbox SET status = 'cancelled' WHERE id = ?", [mid])


def _tell_applicant(db, r: Review, approved: bool, reason: str | None, at: datetime) -> None:
    """One message to the applicant's unit, through the outbox like every other notice."""
    from .outbox import channels, enqueue
    section, number, title = db.execute("SELECT section, number, title FROM tasks WHERE id = ?",
                                        [r.task_id]).fetchone()
    what = "销号申请" if r.kind == "close" else f"延期申请（{r.old_due} 延至 {r.new_due}）"
    outcome = "已审核通过" if approved else f"被退回，理由：{reason}"
    after = ("该任务已销号，提醒停止。" if r.kind == "close" else "时限已调整，提醒按新时限执行。") if approved else \
        "请补充完善后重新申请。"
    head = f"{'审核通过' if approved else '申请退回'}：{_label(section, number)}"
    body = "\n".join([f"### {head}", f"{r.unit}提交的{_label(section, number)}《{title[:40]}》{what}{outcome}。",
                      after])
    status = "pending" if r.unit in channels(db) else "no_channel"
    enqueue(db, [{"unit": r.unit, "kind": "notice", "title": head, "body": body, "reminders": [],
                  "status": status}], at)


def extensions_of(db: sqlite_utils.Database, task_id: int) -> dict[int, str]:
    """{milestone id: its original date} for this task's milestones moved by an approved 延期 (in this
    version of the plan or an earlier one)."""
    return dict(db.execute(
        "SELECT m.id, min(r.old_due) FROM reviews r JOIN milestones old ON old.id = r.milestone_id"
        " JOIN milestones m ON m.uid = old.uid AND m.task_id = ? WHERE r.kind = 'extension'"
        " AND r.status = 'approved' GROUP BY m.id", [task_id]).fetchall())


def reapply_extensions(db: sqlite_utils.Database, document_id: int) -> int:
    """After a new version of a plan: a milestone it keeps unchanged (the same task, original date and
    text: the same uid) keeps the date an approved 延期 gave it. Runs in the ingest's transaction,
    before the due index is rebuilt. Returns how many milestones were moved."""
    moved = 0
    for uid, new_due in db.execute(
            "SELECT old.uid, r.new_due FROM reviews r JOIN milestones old ON old.id = r.milestone_id"
            " WHERE r.kind = 'extension' AND r.status = 'approved' ORDER BY r.decided_at, r.id").fetchall():
        moved += db.execute("UPDATE milestones SET due = ? WHERE uid = ? AND task_id IN (SELECT t.id FROM tasks t"
                            " JOIN documents d ON d.id = t.document_id AND t.version = d.current_version"
                            " WHERE d.id = ?)", [new_due, uid, document_id]).rowcount
    return moved

