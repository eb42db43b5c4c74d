"""进展 / 销号 / 撤销销号 from chat: "13 已完成", "销号 13", "进展 13：已完成招标", "撤销销号 13"."""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import people, progress, queries
from parser.items import cn_number

# "13" or, with several plans loaded, "2-13" (document 2's item 13; 文件列表 shows the numbers)
_NUM = r"(?:(?P<doc>\d{1,4})\s*[-－—]\s*)?第?\s*(?P<n>\d{1,3}|[一二三四五六七八九十百零〇]{1,4})\s*[项号条]?"
_PATTERNS = [
    ("reopen", re.compile(rf"^\s*(?:撤销销号|取消销号|撤回销号)\s*[:：]?\s*{_NUM}\s*$")),
    ("complete", re.compile(rf"^\s*销号\s*[:：]?\s*{_NUM}\s*$")),
    ("complete", re.compile(rf"^\s*{_NUM}\s*(?:已完成|已办结|已整改完成|完成销号|销号)\s*[。！!]?\s*$")),
    ("progress", re.compile(rf"^\s*(?:进展|进度)\s*{_NUM}\s*[:：，,\s]\s*(?P<text>\S.*)$")),
    ("progress", re.compile(rf"^\s*{_NUM}\s*(?:进展|进度)\s*[:：，,\s]\s*(?P<text>\S.*)$")),
]


@dataclass
class Command:
    kind: str  # progress / complete / reopen
    number: int
    text: str = ""
    document: int | None = None


def parse_command(text: str) -> Command | None:
    for kind, rx in _PATTERNS:
        m = rx.match(text)
        if m:
            n = cn_number(m.group("n"))
            if n is not None:
                doc = m.group("doc")
                return Command(kind, n, (m.groupdict().get("text") or "").strip(), int(doc) if doc else None)
    return None


def apply(db, cmd: Command, *, platform: str, user_id: str, as_unit: str | None, now) -> str:
    """Record the command if the asker's unit answers for the task (or they are an administrator)."""
    official = people.official_by_platform_id(db, platform, user_id)
    unit = as_unit or (official.unit if official else None)
    tasks = [t for t in queries.task_by_number(db, cmd.number, "list", prefer_unit=unit)
             if cmd.document is None or t.document_id == cmd.document]
    if not tasks:
        return f"没有找到第{cmd.number}项任务。"
    closing = cmd.kind in ("complete", "reopen")
    if len(tasks) > 1:
        # several plans have this number: the asker's own task if it is the only one, else ask which
        own = [t for t in tasks if unit and progress.unit_answers_for(db, unit, t.id, closing=closing)]
        if len(own) != 1:
            docs = "、".join(f"[{t.document_id}]" for t in (own or tasks)[:5])
            return (f"第{cmd.number}项在多个文件中（{docs}），请注明文件编号，例如“销号 {(own or tasks)[0].document_id}-"
                    f"{cmd.number}”。发送“文件列表”可查看编号。")
        tasks = own
    task = tasks[0]
    who = official.name if official else (as_unit or user_id)
    allowed = bool(official and official.is_admin) or bool(
        unit and progress.unit_answers_for(db, unit, task.id, closing=closing))
    people.record(db, now, platform, user_id, progress.KINDS[cmd.kind], f"第{cmd.number}项 {cmd.text}".strip(),
                  allowed)
    if unit is None and not allowed:
        return "您不在花名册中，不能报送进展或销号。请联系管理员。"
    if not allowed:
        what = "销号" if closing else "报送进展"
        return f"{unit}不是第{cmd.number}项的责任单位，不能{what}。此次操作已记录。"
    if cmd.kind == "complete" and task.status == "completed":
        return f"第{cmd.number}项已经销号。"
    if cmd.kind == "reopen" and task.status != "completed":
        return f"第{cmd.number}项尚未销号，无需撤销。"
    progress.add_entry(db, task.id, cmd.kind, cmd.text, unit=unit, official=who, platform=platform,
                       user_id=user_id, at=now)
    if cmd.kind == "complete":
        return f"已销号：第{cmd.number}项 {task.title[:30]}。相关提醒已停止（{who}，{now:%Y-%m-%d %H:%M}）。"
    if cmd.kind == "reopen":
        return f"已撤销销号：第{cmd.number}项 {task.title[:30]}，恢复提醒。"
    return f"已记录第{cmd.number}项进展：{cmd.text}（{who}，{now:%Y-%m-%d %H:%M}）。"
