"""`duban ask "问题" --as 单位` and `duban chat --as 单位`: the bot's answer path in a terminal.

Registered through bot/cli.py's COMMANDS table.
"""
from __future__ import annotations

import json
import sys

from . import clock

_EXIT_WORDS = {"退出", "exit", "quit", "q", "再见"}


def _conversation(args):
    """The same Conversation the webhooks use; the local user speaks for the --as unit."""
    from .conversation import Conversation
    from .conversation import make_conversation
    from .settings import load_settings
    from knowledge.db import open_db

    settings = load_settings(None)
    base = make_conversation(settings, open_db(args.db))
    conv = Conversation(base.db, base.directory, today=lambda: clock.today(args.today), now=clock.now,
                        inbox=base.inbox)
    if args.as_unit:
        unit = conv.resolve(args.as_unit)
        if unit is None:
            from .errors import UsageError
            raise UsageError(f"未找到单位“{args.as_unit}”，请使用单位全称或常用简称")
        args.as_unit = unit
    return conv


def _answer(conv, text: str, args):
    from .conversation import Turn
    return conv.handle(Turn("local", "local", text, as_unit=args.as_unit))


def cmd_ask(args) -> int:
    answer = _answer(_conversation(args), args.question, args)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
    else:
        print(answer.reply)
    return 0


def cmd_chat(args) -> int:
    conv = _conversation(args)
    who = args.as_unit or "未绑定单位"
    print(f"督办助手（{who}）。输入问题，输入“帮助”查看用法，“退出”结束。", flush=True)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        if text.lower() in _EXIT_WORDS:
            break
        print(_answer(conv, text, args).reply, flush=True)
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
