"""进展, 销号 and 延期 from chat.

Units: "进展 13：已完成招标", "申请销号 13：已完成招标" (also "销号 13", "13 已完成"), "申请延期 13：
2021-12-31 延至 2022-03-31，因汛期停工", "撤销销号 13". The 督办 office: "审核通过 13", "退回 13：缺少
验收材料" (also "同意延期 13", "不同意延期 13：…"). With several plans, "2-13" names document 2's item
13, as 文件列表 numbers them. The rules of the workflow live in knowledge.review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from knowledge import numbered, people, progress, review
from parser import cn_number

# "13" or "2-13" / "文件2第13项" (document 2's item 13; 文件列表 shows the numbers)
_NUM = (r"(?:(?:文件\s*(?P<fdoc>\d{1,4})\s*的?\s*)|(?:(?P<doc>\d{1,4})\s*[-－—]\s*))?"
        r"第?\s*(?P<n>\d{1,3}|[一二三四五六七八九十百零〇]{1,4})\s*[项号条]?")
_TEXT = r"(?:\s*[:：，,\s]\s*(?P<text>\S.*))?"
_PATTERNS = [  # (kind, pattern): first match wins
    ("reopen", re.compile(rf"^\s*(?:撤销销号|取消销号|撤回销号)\s*[:：]?\s*{_NUM}\s*$")),
    ("approve", re.compile(rf"^\s*(?:审核通过|审批通过|同意销号|批准销号)\s*[:：]?\s*{_NUM}\s*[。！!]?\s*$")),
    ("approve_extension", re.compile(rf"^\s*(?:同意延期|批准延期)\s*[:：]?\s*{_NUM}\s*[。！!]?\s*$")),
    ("return_extension", re.compile(rf"^\s*(?:不同意延期|退回延期|驳回延期)\s*[:：]?\s*{_NUM}{_TEXT}$")),
    ("return", re.compile(rf"^\s*(?:退回|驳回|不同意销号|审核不通过)\s*[:：]?\s*{_NUM}{_TEXT}$")),
    ("extension", re.compile(rf"^\s*申请延期\s*[:：]?\s*{_NUM}{_TEXT}$")),
    ("complete", re.compile(rf"^\s*(?:申请销号|销号)\s*[:：]?\s*{_NUM}{_TEXT}$")),
    ("complete", re.compile(rf"^\s*{_NUM}\s*(?:已完成|已办结|已整改完成|完成销号|销号)\s*[。！!]?\s*$")),
    ("progress", re.compile(rf"^\s*(?:进展|进度)\s*{_NUM}\s*[:：，,\s]\s*(?P<text>\S.*)$")),
    ("progress", re.compile(rf"^\s*{_NUM}\s*(?:进展|进度)\s*[:：，,\s]\s*(?P<text>\S.*)$")),
]
# the commands after which reminders must be planned again (a task closed or reopened, a date moved)
REPLANS = {"approve", "approve_extension", "reopen"}

_DATE = re.compile(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})\s*[日号]?")


@dataclass
class Command:
    kind: str  # progress / complete (申请销号) / reopen / approve / return / extension / …_extension
    number: int
    text: str = ""
    document: int | None = None


def parse_command(text: str) -> Command | None:
    for kind, rx in _PATTERNS:
        m = rx.match(text)
        if m:
            n = cn_number(m.group("n"))
            if n is not None:
                doc = m.group("doc") or m.group("fdoc")
                return Command(kind, n, (m.groupdict().get("text") or "").strip(), int(doc) if doc else None)
    return None


def _dates(text: str) -> tuple[list[date], str]:
    """The dates in an extension request (old and new, or the new one alone) and the reason after them."""
    found, end = [], 0
    for m in _DATE.finditer(text):
        try:
            found.append(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            continue
        end = m.end()
    reason = re.sub(r"^[\s，,。；;:：]*(?:因为|因|理由|原因)?[\s：:是为]*", "", text[end:]) if found else text
    return found, reason.strip()


def _actor(db, platform: str, user_id: str, as_unit: str | None) -> review.Actor:
    official = people.official_by_platform_id(db, platform, user_id)
    unit = as_unit or (official.unit if official else None)
    role = official.role if official else ("管理员" if platform == "local" and as_unit is None else None)
    return review.Actor(unit, official.name if official else None, role, platform, user_id)


def _find_task(db, cmd: Command, actor: review.Actor):
    """The task the command names, or a reply saying why there is none or which plan to name."""
    tasks = [t for t in numbered.task_by_number(db, cmd.number, "list", prefer_unit=actor.unit)
             if cmd.document is None or t.document_id == cmd.document]
    if not tasks:
        return f"没有找到第{cmd.number}项任务" + (f"（文件{cmd.document}）。" if cmd.document else "。")
    if len(tasks) > 1:
        # several plans have this number: the asker's own task if it is the only one, else ask which
        own = [t for t in tasks if actor.unit and progress.unit_answers_for(db, actor.unit, t.id, closing=True)]
        if len(own) != 1:
            docs = "、".join(f"文件{t.document_id}" for t in (own or tasks)[:5])
            return (f"第{cmd.number}项在多个文件中（{docs}），请注明文件编号，例如“{_VERB.get(cmd.kind, '销号')} "
                    f"{(own or tasks)[0].document_id}-{cmd.number}”。发送“文件列表”可查看编号。")
        tasks = own
    return tasks[0]


_VERB = {"progress": "进展", "complete": "申请销号", "reopen": "撤销销号", "approve": "审核通过", "return": "退回",
         "extension": "申请延期", "approve_extension": "同意延期", "return_extension": "不同意延期"}


def apply(db, cmd: Command, *, platform: str, user_id: str, as_unit: str | None, now) -> str:
    """Carry out the command if the asker may; every attempt is audited."""
    actor = _actor(db, platform, user_id, as_unit)
    task = _find_task(db, cmd, actor)
    if isinstance(task, str):
        return task
    try:
        return _HANDLERS[cmd.kind](db, cmd, task, actor, now)
    except review.Refused as e:
        return str(e)


def _progress(db, cmd, task, actor, now) -> str:
    """进展 / 撤销销号: any unit that answers for the task (撤销销号: one named on it), or the 督办 office."""
    closing = cmd.kind == "reopen"
    allowed = actor.reviewer or bool(actor.unit and progress.unit_answers_for(db, actor.unit, task.id,
                                                                              closing=closing))
    people.record(db, now, actor.platform, actor.user_id, progress.KINDS[cmd.kind],
                  f"第{cmd.number}项 {cmd.text}".strip(), allowed)
    if actor.unit is None and not allowed:
        return "您不在花名册中，不能报送进展或销号。请联系管理员。"
    if not allowed:
        return f"{actor.unit}不是第{cmd.number}项的责任单位，不能{'撤销销号' if closing else '报送进展'}。此次操作已记录。"
    if closing and task.status != "completed":
        return f"第{cmd.number}项尚未销号，无需撤销。"
    progress.add_entry(db, task.id, cmd.kind, cmd.text, unit=actor.unit, official=actor.who,
                       platform=actor.platform, user_id=actor.user_id, at=now)
    if closing:
        return f"已撤销销号：第{cmd.number}项 {task.title[:30]}，恢复提醒。"
    return f"已记录第{cmd.number}项进展：{cmd.text}（{actor.who}，{now:%Y-%m-%d %H:%M}）。"


def _apply_close(db, cmd, task, actor, now) -> str:
    if actor.unit is None and not actor.reviewer:
        people.record(db, now, actor.platform, actor.user_id, review.STEP_KINDS["apply_close"],
                      f"第{cmd.number}项 {cmd.text}".strip(), False)
        return "您不在花名册中，不能申请销号。请联系管理员。"
    review.apply_close(db, task.id, actor, cmd.text, now)
    return (f"已提交销号申请：第{cmd.number}项 {task.title[:30]}（{actor.who}，{now:%Y-%m-%d %H:%M}）。"
            "督办办审核通过后销号、停止提醒；审核结果将通知您单位。")


def _approve(db, cmd, task, actor, now) -> str:
    kind = "extension" if cmd.kind == "approve_extension" else None
    r = review.approve(db, task.id, actor, now, kind=kind)
    if r.kind == "close":
        return f"审核通过：第{cmd.number}项 {task.title[:30]} 已销号，相关提醒已停止；已通知{r.unit}。"
    return f"审核通过：第{cmd.number}项时限节点由 {r.old_due} 延至 {r.new_due}，提醒按新时限执行；已通知{r.unit}。"


def _return(db, cmd, task, actor, now) -> str:
    kind = "extension" if cmd.kind == "return_extension" else None
    r = review.return_(db, task.id, actor, cmd.text, now, kind=kind)
    what = "销号申请" if r.kind == "close" else "延期申请"
    return f"已退回第{cmd.number}项的{what}（理由：{cmd.text}）；已通知{r.unit}。"


def _extension(db, cmd, task, actor, now) -> str:
    found, reason = _dates(cmd.text)
    if not found:
        return f"请写明新的时限和理由，例如“申请延期 {cmd.number}：2021-12-31 延至 2022-03-31，因汛期停工”。"
    old, new = (found[0], found[-1]) if len(found) > 1 else (None, found[0])
    r = review.apply_extension(db, task.id, old, new, actor, reason, now)
    return (f"已提交延期申请：第{cmd.number}项时限节点 {r.old_due} 申请延至 {r.new_due}（理由：{reason}）。"
            "督办办审核通过前仍按原时限提醒。")


_HANDLERS = {"progress": _progress, "reopen": _progress, "complete": _apply_close, "approve": _approve,
             "approve_extension": _approve, "return": _return, "return_extension": _return,
             "extension": _extension}
