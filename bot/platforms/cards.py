"""Reminder cards, platform-free: the buttons a digest card carries and what a click does.

A click is an action by the clicking person: it becomes the chat command that person could have typed
("申请销号 2-13：…") and goes through the same conversation, so the roster, the task's units, the review
workflow (knowledge.review) and the audit log apply exactly as for chat. A repeated click is refused there
("已有待审核的销号申请"), as is a click on a closed task ("已经销号").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

BUTTONS = (  # (action, text, style): the order they appear on the card
    ("close", "申请销号", "primary"),
    ("extend", "申请延期", "default"),
    ("detail", "查看详情", "link"),
)
ACTIONS = frozenset(a for a, _, _ in BUTTONS)
CARD_NOTE = "（提醒卡片）"
MAX_TASKS_WITH_BUTTONS = 3  # WeCom cards take at most 6 buttons: 申请销号 and 申请延期 for three tasks
_DIGEST_TASK = re.compile(r"^- 第(\d{1,3})项", re.M)  # the digest's task lines (bot.reminders.Digest.body)
_TASK_REF = re.compile(r"^(?:(\d{1,6})-)?(\d{1,3})$")  # "13" or "2-13" (document 2's item 13)


@dataclass(frozen=True)
class Click:
    platform: str  # "dingtalk" | "wecom"
    user_id: str  # the clicking person's platform user id
    action: str  # close | extend | detail
    task: str  # "2-13" / "13"
    chat_id: str | None = None
    chat_type: str = "single"


def digest_tasks(markdown: str) -> list[str]:
    """The task numbers a reminder digest names, in order, each once."""
    return list(dict.fromkeys(_DIGEST_TASK.findall(markdown)))


def buttons_for(tasks: list[str]) -> list[tuple[str, str, str]]:
    """(text, key, style) per button: the three buttons for one task; 销号/延期 per task for a few."""
    if len(tasks) == 1:
        return [(text, button_key(action, tasks[0]), style) for action, text, style in BUTTONS]
    return [(f"{text[2:]} 第{t}项", button_key(action, t), style)
            for t in tasks[:MAX_TASKS_WITH_BUTTONS] for action, text, style in BUTTONS[:2]]


def overflow_note(tasks: list[str]) -> str:
    rest = tasks[MAX_TASKS_WITH_BUTTONS:] if len(tasks) > 1 else []
    return f"其余{len(rest)}项请在群里回复“申请销号 编号”。" if rest else ""


def plain_lines(markdown: str) -> list[str]:
    """The digest as short plain lines for a card's text fields."""
    text = re.sub(r"\*\*|^#+\s*", "", markdown, flags=re.M)
    return [line.strip() for line in text.splitlines() if line.strip()]


def button_key(action: str, task: str) -> str:
    """The key a button carries back (WeCom event_key, DingTalk params): short, no secrets."""
    return f"duban:{action}:{task}"


def parse_key(key: str) -> tuple[str, str] | None:
    parts = (key or "").split(":")
    if len(parts) != 3 or parts[0] != "duban" or parts[1] not in ACTIONS:
        return None
    return (parts[1], parts[2]) if _TASK_REF.match(parts[2]) else None


def detail_url(dashboard_url: str | None) -> str | None:
    """The dashboard's task list (its pages are addressed by store ids, which a card does not carry)."""
    return f"{dashboard_url.rstrip('/')}/tasks" if dashboard_url else None


def act(conversation, click: Click) -> str:
    """Carry out a click as its person; the answer is what the card then shows."""
    if not _TASK_REF.match(click.task):
        return "卡片内容无效，请在群里发送命令。"
    if click.action == "detail":
        return f"请在群里发送“第{click.task.split('-')[-1]}项是什么”查看详情。"
    if click.action == "extend":
        # a button carries no date: the request needs the new deadline and a reason, as in chat
        return (f"请在群里发送：申请延期 {click.task}：原时限 延至 新时限，理由"
                f"（例如“申请延期 {click.task}：2026-12-31 延至 2027-03-31，因汛期停工”）。")
    from bot.conversation import Turn  # the conversation is the asking core; imported where used

    turn = Turn(click.platform, click.user_id, f"申请销号 {click.task}：{CARD_NOTE}", click.chat_id, click.chat_type)
    reply = conversation.handle(turn).reply
    if reply.startswith("没有找到第"):  # the card named it, so it was in the plan: withdrawn since
        return f"第{click.task.split('-')[-1]}项已不在现行方案中（已撤销），无需办理。如有疑问请联系督办办。"
    if reply.startswith("已提交销号申请："):
        return "已提交销号申请，待督办办审核：" + reply.split("。", 1)[0].removeprefix("已提交销号申请：")
    return reply
