"""`duban remind`, `duban channel` and `duban status`."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime

import aiohttp
from rich.console import Console
from rich.table import Table

from knowledge import cli_queries, outbox, progress
from knowledge.db import open_db

from . import clock
from .errors import UsageError
from .settings import ConfigError, load_settings
from .reminders import enqueue_plan, plan_day, plan_json
from .render import task_label as label

console = Console()


def _settings(args):
    """The server's settings (config file and environment); --holidays overrides the holidays file."""
    try:
        settings = load_settings(getattr(args, "config", None))
        if getattr(args, "holidays", None):
            settings.holidays_file = args.holidays
        settings.calendar()
    except ConfigError as e:
        raise UsageError(str(e)) from e
    return settings


async def _send(db, gap: float, settings) -> dict:
    from .platforms.registry import channel_defaults
    from .sender import Sender
    async with aiohttp.ClientSession() as session:
        return await Sender(db, session, gap=gap, channel_defaults=channel_defaults(settings)).drain(
            budget_s=settings.remind_max_seconds)


def cmd_remind(args) -> int:
    db = open_db(args.db)
    today = clock.today(args.today)
    settings = _settings(args)
    plan = plan_day(db, today, settings.calendar(), settings.policy())
    if args.dry_run:
        if args.json:
            print(json.dumps({"today": today.isoformat(), "covered": [d.isoformat() for d in plan.covered],
                              "calendar_note": plan.calendar_note, "messages": plan_json(plan),
                              "units_without_channel": plan.without_channel}, ensure_ascii=False, indent=1))
            return 0
        if plan.calendar_note:
            console.print(f"[yellow]{plan.calendar_note}[/yellow]")
        if not plan.covered:
            console.print(f"{today} 不是工作日，今天不发送提醒。")
        for d in plan.digests:
            where = d.channel["kind"] if d.channel else "[red]未配置渠道[/red]"
            console.rule(f"{d.unit} → {where}")
            console.print(d.body(today), markup=False)
        if plan.without_channel:
            console.print(f"[red]未配置推送渠道的单位：{'、'.join(plan.without_channel)}[/red]")
        return 0
    ids = enqueue_plan(db, plan, clock.now())
    if not args.today:  # a rehearsal for another date must not stand in for that day's real sweep
        outbox.record_sweep(db, today.isoformat(), clock.now())
    counts = asyncio.run(_send(db, args.gap, settings))
    if "deferred" in counts:
        console.print(f"新排队 {len(ids)} 条；另一个发送进程（duban serve）正在运行，由它发送 {counts['deferred']} 条")
    else:
        console.print(f"新排队 {len(ids)} 条；发送成功 {counts['sent']}，待重试 {counts['retry']}，失败 {counts['failed']}"
                      + (f"，结果未知 {counts['unknown']}（已重试一次，请确认是否送达）" if counts.get("unknown") else ""))
        if counts.get("left"):
            console.print(f"本次运行已达时限（{settings.remind_max_seconds:g} 秒），还有 {counts['left']} 条留待下次运行"
                          "（duban serve 或再次运行 duban remind）发送")
    if plan.without_channel:
        console.print(f"[red]未配置推送渠道的单位：{'、'.join(plan.without_channel)}[/red]")
    return 0 if not counts["failed"] else 1


def cmd_channel_set(args) -> int:
    from parser.units import UnitDirectory
    unit, known = UnitDirectory.load().resolve(args.unit)
    from .platforms.registry import channel_kinds
    options = {"webhook": args.webhook, "secret": args.secret, "to_users": args.to_users, "chat": args.chat}
    try:  # each platform package says which options its channel kinds need
        config = channel_kinds()[args.kind].from_cli(options)
    except ValueError as e:
        raise UsageError(str(e)) from None
    outbox.set_channel(open_db(args.db), unit, args.kind, config)
    console.print(f"已设置 {unit} 的推送渠道：{args.kind}" + ("" if known else "（提示：该单位不在单位名录中）"))
    return 0


def cmd_channel_list(args) -> int:
    table = Table(title="推送渠道")
    for col in ("单位", "类型", "状态"):
        table.add_column(col)
    for unit, cfg in sorted(outbox.channels(open_db(args.db)).items()):
        table.add_row(unit, cfg["kind"], f"不可用：{cfg['broken_reason']}" if cfg.get("broken_reason") else "正常")
    console.print(table)
    return 0


def cmd_status(args) -> int:
    db = open_db(args.db)
    table = Table(title="整改进度")
    for col in ("文件", "版本", "未完成", "已销号", "已撤销", "最近报送"):
        table.add_column(col)
    for s in progress.status_summary(db):
        table.add_row(s["title"], str(s["version"]), str(s["open"]), str(s["completed"]), str(s["withdrawn"]),
                      s["last_report"] or "")
    console.print(table)
    for section, number, title, at, by in cli_queries.recently_completed(db, 20):
        console.print(f"  已销号 {label(section, number)} {title[:30]}（{by}，{at}）")
    q = outbox.summary(db)
    if q:
        console.print("提醒队列：" + "，".join(f"{k} {v}" for k, v in sorted(q.items())))
    for unit, title, error in outbox.unknown_outcomes(db):
        console.print(f"结果未知（请确认是否送达）：{unit} {title} —— {error}", markup=False)
    from .platforms.registry import read_states
    for c in read_states(args.db):
        since = datetime.fromtimestamp(c["since"], clock.now().tzinfo).strftime("%m-%d %H:%M:%S")
        console.print(f"长连接 {c['name']}：{c['state']}（自 {since}，已连接 {c['connects']} 次）"
                      + (f"，最近错误：{c['last_error']}" if c.get("last_error") else ""), markup=False)
    return 0


def register(sub) -> None:
    sp = sub.add_parser("remind", help="计算并发送今天的到期提醒")
    sp.add_argument("--dry-run", action="store_true", help="只显示将发送给谁、发送什么")
    sp.add_argument("--config", help="TOML 配置文件（提醒策略、节假日文件、企业微信应用密钥等）")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--today")
    sp.add_argument("--holidays", help="补充节假日/调休的 TOML 文件（见 deploy/holidays.example.toml）")
    sp.add_argument("--gap", type=float, default=0.0, help=argparse_hidden())
    sp.set_defaults(func=cmd_remind)
    sp = sub.add_parser("channel", help="单位的推送渠道")
    cs = sp.add_subparsers(dest="channel_command", required=True)
    c = cs.add_parser("set", help="设置单位的推送渠道")
    c.add_argument("unit")
    c.add_argument("--kind", choices=channel_kind_names(), required=True)
    c.add_argument("--webhook")
    c.add_argument("--secret")
    c.add_argument("--to-users")
    c.add_argument("--chat", help="群会话 ID（钉钉 openConversationId / 企业微信 chatid）")
    c.set_defaults(func=cmd_channel_set)
    c = cs.add_parser("list", help="列出推送渠道")
    c.set_defaults(func=cmd_channel_list)
    sp = sub.add_parser("status", help="整改进度与提醒队列")
    sp.set_defaults(func=cmd_status)


def channel_kind_names() -> list[str]:
    from .platforms.registry import channel_kinds
    return list(channel_kinds())


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS
