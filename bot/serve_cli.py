"""`duban serve` (the bot server) and `duban roster import`."""
from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from aiohttp import web

from knowledge import people
from knowledge.db import open_db
from knowledge.ingest import ingest_plan, sha256_of
from parser.plan import parse_document

from . import clock
from .errors import UsageError
from .settings import ConfigError, load_settings
from .store_lock import StoreLock

EXAMPLE = "example_plan.txt"


def load_example_if_empty(db, directory) -> str | None:
    """An empty store gets the bundled example plan, so a fresh server has something to answer."""
    if db.execute("SELECT count(*) FROM documents").fetchone()[0]:
        return None
    data = resources.files("bot").joinpath("data", EXAMPLE).read_bytes()
    plan = parse_document(data, EXAMPLE, directory=directory)
    ingest_plan(db, plan, sha256_of(data), directory=directory)
    return plan.title


def cmd_serve(args) -> int:
    from .server import create_app, make_conversation
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        raise UsageError(str(e)) from e
    if args.db_explicit:
        settings.db = args.db
    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # log times in Asia/Shanghai like everything else, whatever the machine's zone
    logging.Formatter.converter = lambda *_: clock.now().timetuple()
    try:
        settings.calendar()
        hh, mm = (int(x) for x in settings.send_time.split(":"))
        assert 0 <= hh < 24 and 0 <= mm < 60
    except ConfigError as e:
        raise UsageError(str(e)) from e
    except (ValueError, AssertionError):
        raise UsageError(f"send_time 应为 HH:MM，例如 09:00（现为 {settings.send_time!r}）") from None
    conv = make_conversation(settings)
    serving = StoreLock(conv.db, "serve")
    if not serving.acquire():  # two servers would each let the other's redeliveries through
        raise UsageError(f"另一个 duban serve 正在使用数据库 {settings.db}；同一数据库只能运行一个服务进程。")
    loaded = load_example_if_empty(conv.db, conv.directory) if settings.load_example else None
    url = f"http://{settings.host}:{settings.port}"
    print(f"duban 已启动：{url}（数据库 {settings.db}）")
    if loaded:
        print(f"数据库为空，已载入示例文件：{loaded}")
    print(f"  健康检查：curl {url}/healthz")
    for name, on, path in (("钉钉", settings.dingtalk_enabled, "/dingtalk"), ("企业微信", settings.wecom_enabled, "/wecom")):
        print(f"  {name}回调：{url}{path}" + ("" if on else "（未配置密钥，该接口返回 404）"))
    if settings.wecom_enabled and not (settings.wecom_secret and settings.wecom_agent_id):
        print("  提示：未配置企业微信应用 Secret/AgentID，超过 2048 字节的回答将被截断，超过 4 秒的回答无法送达")
    print("  本地试用：duban chat --as 市生态环境局   （或 duban ask \"我单位哪些任务即将到期\" --as 邵阳县）")
    web.run_app(create_app(settings, conv), host=settings.host, port=settings.port, print=None)
    return 0


def cmd_roster_import(args) -> int:
    from parser.units import UnitDirectory
    from .roster import RosterError, load_roster
    try:
        rows = load_roster(args.file, UnitDirectory.load())
    except RosterError as e:
        raise UsageError(str(e)) from e
    n = people.replace_roster(open_db(args.db), rows)
    print(f"已导入花名册：{n} 人（{Path(args.file).name}）")
    return 0


def register(sub) -> None:
    sp = sub.add_parser("serve", help="启动机器人服务（钉钉、企业微信回调）")
    sp.add_argument("--host")
    sp.add_argument("--port", type=int)
    sp.add_argument("--config", help="TOML 配置文件（见 deploy/duban.example.toml）")
    sp.set_defaults(func=cmd_serve)
    sp = sub.add_parser("roster", help="花名册")
    rs = sp.add_subparsers(dest="roster_command", required=True)
    ri = rs.add_parser("import", help="导入花名册（CSV 或 .xlsx）")
    ri.add_argument("file")
    ri.set_defaults(func=cmd_roster_import)
