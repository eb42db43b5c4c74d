"""The workbench's commands: export (台账 .xlsx or calendar .ics), import-progress, calendar links, dashboard
accounts and links. Registered by bot/cli.py; every command imports what it needs when it runs."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import clock
from ..errors import UsageError
from ..render_cli import _document, _resolve as resolve_unit


def _db(args):
    from knowledge.db import open_db
    return open_db(args.db)


def cmd_export(args) -> int:
    path = Path(args.file)
    kind = path.suffix.lower()
    if kind not in (".xlsx", ".ics"):
        raise UsageError("导出文件应以 .xlsx（台账）或 .ics（日历）结尾")
    db = _db(args)
    unit, doc, today = resolve_unit(db, args.unit), _document(db, args.doc), clock.today(args.today)
    if kind == ".ics":
        from ..settings import settings_of_command
        from .calendar_feed import build_feed  # the alarms the served feed has: the same settings
        path.write_bytes(build_feed(db, unit, lead_days=settings_of_command(args).lead_days, document=doc))
        print(f"已导出日历：{path}（{unit or '全部单位'}）")
        return 0
    from .ledger_export import export_ledger
    from .progress_bar import progress_bar
    with progress_bar("导出台账", None) as tick:  # counting the tasks first would read them twice
        done = export_ledger(db, path, document=doc, unit=unit, today=today, tick=tick)
    print(f"已导出台账：{path}（{done['documents']} 个文件，{done['tasks']} 项任务，截至 {today}）")
    return 0


_VERDICTS = {"applied": "已写入", "skipped": "跳过", "refused": "拒绝"}


def cmd_import_progress(args) -> int:
    from .ledger_import import import_progress
    from .progress_bar import progress_bar
    db = _db(args)
    unit = resolve_unit(db, args.as_unit)
    with progress_bar("导入进展", None) as tick:
        wrote, outcomes = import_progress(db, Path(args.file), unit=unit, partial=args.partial,
                                          today=clock.today(args.today), now=clock.now(), tick=tick)
    for o in outcomes:
        what = f"写入进展“{o.report}”" + ("并申请销号" if o.close else "") if o.verdict == "applied" else o.reason
        print(f"{o.sheet} 第{o.row}行 序号{o.label or '-'}：{_VERDICTS[o.verdict]} {what}".rstrip())
    counts = {v: sum(o.verdict == v for o in outcomes) for v in _VERDICTS}
    print(f"共 {len(outcomes)} 行：写入 {counts['applied']}，跳过 {counts['skipped']}，拒绝 {counts['refused']}")
    if counts["refused"] and not wrote and not args.partial:
        raise UsageError("有行被拒绝，本次未写入任何内容（修正后重新导入，或加 --partial 只写入有效行）")
    return 0


def _link_url(purpose: str, token: str) -> str:
    return f"/calendar/{token}.ics" if purpose == "calendar" else f"/u/{token}"


def cmd_links(args) -> int:
    """calendar / dashboard link management: list, add UNIT, revoke TOKEN|UNIT."""
    from knowledge import workbench_queries as wq
    db = _db(args)
    purpose = args.purpose
    if args.action in ("add", "revoke") and not args.target:
        raise UsageError("请给出单位名称（revoke 也可给出链接中的令牌）")
    if args.action == "add":
        unit = resolve_unit(db, args.target)
        token = wq.new_link(db, unit, purpose, clock.now())
        print(f"{unit}：{_link_url(purpose, token)}（在 duban serve 的地址后加上此路径）")
    elif args.action == "revoke":
        n = wq.revoke_links(db, args.target, purpose, clock.now())
        if not n:
            raise UsageError(f"没有可撤销的链接：{args.target}")
        print(f"已撤销 {n} 个链接")
    else:
        rows = wq.links(db, purpose)
        for r in rows:
            state = f"已撤销 {r['revoked_at']}" if r["revoked_at"] else "有效"
            print(f"{r['unit']}\t{_link_url(purpose, r['token'])}\t{r['created_at']}\t{state}")
        if not rows:
            print("还没有链接：duban " + ("calendar" if purpose == "calendar" else "dashboard link") + " add 单位")
    return 0


def _read_password() -> str:
    import getpass
    if sys.stdin.isatty():
        first = getpass.getpass("新密码：")
        if getpass.getpass("再输入一次：") != first:
            raise UsageError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_passwd(args) -> int:
    from knowledge import workbench_queries as wq
    from .auth import check_new_password, hash_password
    db = _db(args)
    if args.name not in wq.admin_names(db):
        raise UsageError(f"{args.name} 不是花名册中的管理员（duban roster import 导入角色为“管理员”的人员）")
    password = _read_password()
    problem = check_new_password(password)
    if problem:
        raise UsageError(problem)
    salt, digest, params = hash_password(password)
    wq.set_account(db, args.name, salt, digest, params, clock.now())
    print(f"已设置 {args.name} 的督办工作台密码")
    return 0


def register(sub) -> None:
    sp = sub.add_parser("export", help="导出台账（.xlsx）或日历（.ics）")
    sp.add_argument("file", help="输出文件：台账.xlsx 或 时限.ics")
    sp.add_argument("--doc", help="只导出该文件（编号或标题）")
    sp.add_argument("--unit", help="只导出该单位的任务")
    sp.add_argument("--today", help="以该日期为今天（YYYY-MM-DD）")
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser("import-progress", help="导入各单位填报进展的台账（.xlsx）")
    sp.add_argument("file")
    sp.add_argument("--as", dest="as_unit", required=True, help="填报单位")
    sp.add_argument("--partial", action="store_true", help="有被拒绝的行时，仍写入其余有效行")
    sp.add_argument("--today")
    sp.set_defaults(func=cmd_import_progress)

    sp = sub.add_parser("calendar", help="单位日历订阅链接")
    cs = sp.add_subparsers(dest="action", required=True)
    cs.add_parser("list", help="列出订阅链接").set_defaults(func=cmd_links, purpose="calendar")
    c = cs.add_parser("add", help="为单位新建订阅链接")
    c.add_argument("target", metavar="UNIT")
    c.set_defaults(func=cmd_links, purpose="calendar")
    c = cs.add_parser("revoke", help="撤销链接（链接中的令牌，或单位名称：撤销该单位全部链接）")
    c.add_argument("target", metavar="TOKEN_OR_UNIT")
    c.set_defaults(func=cmd_links, purpose="calendar")

    sp = sub.add_parser("dashboard", help="督办工作台：管理员密码、单位只读链接")
    ds = sp.add_subparsers(dest="dashboard_command", required=True)
    c = ds.add_parser("passwd", help="设置管理员（花名册角色“管理员”）的登录密码")
    c.add_argument("name")
    c.set_defaults(func=cmd_passwd)
    c = ds.add_parser("link", help="单位只读链接：list / add UNIT / revoke TOKEN_OR_UNIT")
    c.add_argument("action", choices=["list", "add", "revoke"])
    c.add_argument("target", nargs="?", default="")
    c.set_defaults(func=cmd_links, purpose="dashboard")
