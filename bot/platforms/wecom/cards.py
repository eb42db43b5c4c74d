"""WeCom template cards (button_interaction) for reminder digests: the same card for app messages and the
AI bot; a click comes back as template_card_event with the button's key and is acted on as the clicker."""
from __future__ import annotations

import time

from bot.channels.base import OutMessage

from ..cards import buttons_for, detail_url, digest_tasks, overflow_note, plain_lines

STYLE = {"primary": 1, "default": 2, "link": 3}
SUB_TITLE_CHARS = 112  # WeCom shows about this much of sub_title_text
BUTTON_CHARS = 10


def template_card(msg: OutMessage, dashboard_url: str | None = None, now=time.time) -> dict | None:
    """The digest as a button_interaction card, or None when it is not a digest naming tasks."""
    tasks = digest_tasks(msg.markdown)
    if msg.kind != "reminder" or not tasks:
        return None
    lines = plain_lines(msg.markdown)
    body = "\n".join(lines[2:] if len(lines) > 2 else lines)
    note = overflow_note(tasks)
    if len(body) + len(note) + 1 > SUB_TITLE_CHARS:
        body = body[:SUB_TITLE_CHARS - len(note) - 2] + "…"
    card = {"card_type": "button_interaction",
            "main_title": {"title": (msg.title or "督办提醒")[:26], "desc": lines[1][:30] if len(lines) > 1 else ""},
            "sub_title_text": body + ("\n" + note if note else ""),
            "task_id": f"duban_{msg.ref or 0}_{int(now())}",
            "button_list": [{"text": text[:BUTTON_CHARS], "style": STYLE[style], "key": key}
                            for text, key, style in buttons_for(tasks)]}
    if dashboard_url:
        card["card_action"] = {"type": 1, "url": detail_url(dashboard_url)}
    return card
