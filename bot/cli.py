"""The `duban` command: parse, ingest, query; serve and chat live in their own modules."""
from __future__ import annotations

import argparse
import json
import os
import sys

from knowledge.errors import StoreError
from parser.errors import DocumentError

from . import clock
from .errors import UsageError


def _directory(args):
    from parser.units import UnitDirectory
    try:
        # without --units each document is read by the local directory of the city it names, if any
        return UnitDirectory.load(args.units) if getattr(args, "units", None) else None
    except (OSError, ValueError) as e:
        raise UsageError(f"无法读取单位名录 {args.units}：{e}") from e


def _db(args):
    from knowledge.db import open_db
    return open_db(args.db)


def cmd_parse(args) -> int:
    from parser.plan import parse_file
    plan = parse_file(args.file, year=args.year, directory=_directory(args))
    if args.json:
        print(json.dumps(plan.to_json(), ensure_ascii=False, indent=1))
    else:
        from .render_plan import print_plan
        print_plan(plan)
    return 0


def cmd_ingest(args) -> int:
    from .ingest_cli import ingest_files
    return ingest_files(args.files, _db(args), _directory(args), year=args.year, replaces=args.replaces)


def cmd_tasks(args) -> int:
    if args.json:  # every task of the unit with its 三色预警 state: the dashboard's figures
        from .workbench.tasks_json import print_task_states
        return print_task_states(_db(args), unit=args.unit, today=clock.today(args.today),
                                 overdue_only=args.overdue, document=args.doc)
    from .render_cli import print_due
    return print_due(_db(args), unit=args.unit, within=args.within, overdue_only=args.overdue,
                     today=clock.today(args.today), document=args.doc)


def cmd_show(args) -> int:
    from .render_cli import print_task
    return print_task(_db(args), args.number, section=args.section, today=clock.today(args.today), document=args.doc)


def _days(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为天数：{value}") from None
    if not 0 <= n <= 3650:
        raise argparse.ArgumentTypeError("天数应在 0 到 3650 之间")
    return n


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="duban", description="督办：整改方案任务、时限与责任单位的解析、查询和提醒")
    p.add_argument("--db", help="SQLite 数据库路径（默认：环境变量 DUBAN_DB、配置文件 [store] db、"
                                "$STATE_DIRECTORY/duban.db，否则 ~/.local/share/duban/duban.db）")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("parse", help="解析文件并输出任务、时限、责任单位")
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true", help="输出 JSON")
    sp.add_argument("--year", type=int, help="未注明年份的时限按此年份计算")
    sp.add_argument("--units", help="单位名录文件（TOML），默认邵阳市名录")
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("ingest", help="解析并入库一个或多个文件")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--replaces", help="作为已入库文件（编号或标题）的新版本")
    sp.add_argument("--year", type=int)
    sp.add_argument("--units")
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser("tasks", help="列出到期、逾期任务")
    sp.add_argument("--unit", help="单位（可用简称，如 发改委）")
    sp.add_argument("--within", type=_days, default=30, help="多少天内到期（默认 30，0–3650）")
    sp.add_argument("--overdue", action="store_true", help="只看逾期")
    sp.add_argument("--today", help="以该日期为今天（YYYY-MM-DD）")
    sp.add_argument("--doc", help="只看某个文件（文件列表中的编号或标题）")
    sp.add_argument("--json", action="store_true", help="输出 JSON：每项任务的状态（逾期/临期/正常/已销号/长期坚持）及各状态数")
    sp.set_defaults(func=cmd_tasks)

    sp = sub.add_parser("show", help="查看某项任务")
    sp.add_argument("number", help="编号，如 13 或 （一）1")
    sp.add_argument("--section", choices=["list", "body"])
    sp.add_argument("--today")
    sp.add_argument("--doc", help="文件编号或标题（多个文件有同一编号时指定）")
    sp.set_defaults(func=cmd_show)

    _add_commands(sub, command)
    return p


# Commands defined in their own modules: (command, module whose register() defines it, help). A module is
# imported only when one of its commands runs, so `duban --help` and `duban parse` load neither aiohttp
# nor the store's modules.
COMMANDS = [
    ("serve", "bot.serve_cli", "启动机器人服务（钉钉、企业微信回调）"),
    ("roster", "bot.serve_cli", "花名册"),
    ("remove", "bot.documents_cli", "移除一个文件（不再回答、不再提醒；记录保留）"),
    ("diff", "bot.diff_cli", "比较文件的两个版本，或两个文件"),
    ("remind", "bot.remind_cli", "计算并发送今天的到期提醒"),
    ("channel", "bot.remind_cli", "单位的推送渠道"),
    ("status", "bot.remind_cli", "整改进度与提醒队列"),
    ("ask", "bot.cli_chat", "像在群里一样提一个问题，打印机器人的回答"),
    ("chat", "bot.cli_chat", "在终端里与督办助手对话（逐行提问，退出：Ctrl-D 或“退出”）"),
    ("backup", "bot.backup_cli", "备份数据库（服务运行时也可执行）"),
    ("restore", "bot.backup_cli", "从备份恢复数据库（须先停止 duban serve）"),
    ("doctor", "bot.doctor", "检查配置（密钥、数据库、节假日数据、网络）并给出修复建议"),
    ("export", "bot.workbench.commands", "导出台账（.xlsx）或日历（.ics）"),
    ("import-progress", "bot.workbench.commands", "导入各单位填报进展的台账（.xlsx）"),
    ("calendar", "bot.workbench.commands", "单位日历订阅链接"),
    ("dashboard", "bot.workbench.commands", "督办工作台：管理员密码、单位只读链接"),
]


def _add_commands(sub, command: str | None) -> None:
    """The module of the command being run registers its commands in full; the others are listed by name."""
    import importlib
    wanted = {module for name, module, _ in COMMANDS if name == command}
    for module in wanted:
        importlib.import_module(module).register(sub)
    for name, _, help_text in COMMANDS:
        if name not in sub.choices:
            sub.add_parser(name, help=help_text, add_help=False)


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in argv (skipping the global --db and its value)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--db":
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_command_of(argv)).parse_args(argv)
    args.db_explicit = getattr(args, "db", None) is not None
    if getattr(args, "db", None) is None:
        from knowledge.paths import default_db_path
        args.db = str(default_db_path())
        if args.command != "parse":  # the default store's folder (~/.local/share/duban) may not exist yet
            os.makedirs(os.path.dirname(args.db) or ".", exist_ok=True)
    existed = os.path.exists(args.db)
    opened_before = _open_stores()
    try:
        code = args.func(args) or 0
        if not existed and os.path.exists(args.db):
            print(f"duban: 已新建数据库 {os.path.abspath(args.db)}", file=sys.stderr)
        return code
    except (DocumentError, UsageError, StoreError) as e:
        print(f"duban: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # anything unexpected: one line, the traceback only on request
        if os.environ.get("DUBAN_DEBUG"):
            raise
        print(f"duban: 内部错误（{type(e).__name__}: {e}）；设置 DUBAN_DEBUG=1 可查看详情", file=sys.stderr)
        return 1
    finally:
        _close_stores(keep=opened_before)


def _open_stores() -> list:
    db_module = sys.modules.get("knowledge.db")  # not loaded: no store open (and parse never loads it)
    return db_module.open_stores() if db_module is not None else []


def _close_stores(keep: list) -> None:
    """The stores the command opened, closed before it returns: their write-ahead logs are checkpointed
    into the files (a caller's own stores, as a test's, stay open)."""
    db_module = sys.modules.get("knowledge.db")
    if db_module is not None:
        db_module.close_stores(keep)


if __name__ == "__main__":
    sys.exit(main())
