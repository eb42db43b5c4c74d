"""`duban ask "问题" --as 单位` and `duban chat --as 单位`: the bot's answer path in a terminal.

Registered from bot/cli_extra.py: `cli_chat.register(sub)`.
"""
from __future__ import annotations

import json
import sys

from . import clock

_EXIT_WORDS = {"退出", "exit", "quit", "q", "再见"}


def _answer(db, text: str, args):
    from .answer import answer_question
    return answer_question(db, text, asker_unit=args.as_unit, today=clock.today(args.today))


def cmd_ask(args) -> int:
    from knowledge.db import open_db
    answer = _answer(open_db(args.db), args.question, args)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
    else:
        print(answer.reply)
    return 0


def cmd_chat(args) -> int:
    from knowledge.db import open_db
    db = open_db(args.db)
    who = args.as_unit or "未绑定单位"
    print(f"督办助手（{who}）。输入问题，输入“帮助”查看用法，“退出”结束。", flush=True)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        if text.lower() in _EXIT_WORDS:
            break
        print(_answer(db, text, args).reply, flush=True)
        print(flush=True)
    return 0


def register(sub) -> None:
    sp = sub.add_parser("ask", help="像在群里一样提一个问题，打印机器人的回答")
    sp.add_argument("question", help="问题，如“我单位哪些任务即将到期”")
    sp.add_argument("--as", dest="as_unit", help="提问人所在单位（可用简称，如 发改委）")
    sp.add_argument("--today", help="以该日期为今天（YYYY-MM-DD）")
    sp.add_argument("--json", action="store_true", help="输出 JSON：intent、unit、window、tasks、reply")
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser("chat", help="在终端里与督办助手对话（逐行提问，退出：Ctrl-D 或“退出”）")
    sp.add_argument("--as", dest="as_unit", help="提问人所在单位")
    sp.add_argument("--today", help="以该日期为今天（YYYY-MM-DD）")
    sp.set_defaults(func=cmd_chat)
