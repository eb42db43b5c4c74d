"""`duban serve` (the bot server) and `duban roster import`."""
from __future__ import annotations

import errno
import socket
from pathlib import Path

from aiohttp import web

from knowledge import people
from knowledge.db import open_db

from . import logging_setup
from .errors import UsageError
from .settings import ConfigError, settings_of_command
from .store_lock import StoreLock


def load_example_if_empty(db, directory) -> str | None:
    """An empty store gets the bundled example plan, so a fresh server has something to answer."""
    from .example_plan import load_example
    return load_example(db, directory)


def cmd_serve(args) -> int:
    from .server import create_app, make_conversation
    settings = settings_of_command(args)
    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    sock = bind_port(settings.host, settings.port)  # before anything starts: a taken port stops here
    logging_setup.setup(settings.log_level, settings.log_file)
    try:
        settings.calendar()
        hh, mm = (int(x) for x in settings.send_time.split(":"))
        assert 0 <= hh < 24 and 0 <= mm < 60
    except ConfigError as e:
        raise UsageError(str(e)) from e
    except (ValueError, AssertionError):
        raise UsageError(f"send_time 应为 HH:MM，例如 09:00（现为 {settings.send_time!r}）") from None
    new_store = not Path(settings.db).exists()
    if new_store:
        Path(settings.db).parent.mkdir(parents=True, exist_ok=True)
    conv = make_conversation(settings)
    serving = StoreLock(conv.db, "serve")
    if not serving.acquire():  # two servers would each let the other's redeliveries through
        raise UsageError(f"另一个 duban serve 正在使用数据库 {settings.db}；同一数据库只能运行一个服务进程。")
    loaded = load_example_if_empty(conv.db, conv.directory) if settings.load_example else None
    url = f"http://{settings.host}:{settings.port}"
    print(f"duban 已启动：{url}（数据库 {Path(settings.db).resolve()}{'，新建' if new_store else ''}）")
    if loaded:
        print(f"数据库为空，已载入示例文件：{loaded}")
    print(f"  健康检查：curl {url}/healthz")
    from .platforms.registry import startup_lines
    for line in startup_lines(settings):  # every way in, configured or not (HTTP callbacks, long connections)
        print(f"  {line.replace('{url}', url)}")
    print("  本地试用：duban chat --as 市生态环境局   （或 duban ask \"我单位哪些任务即将到期\" --as 邵阳县）")
    web.run_app(create_app(settings, conv), sock=sock, print=None, access_log=None)
    return 0


def bind_port(host: str, port: int) -> socket.socket:
    """The listening socket, bound now; a port already in use is a one-line error (exit 2)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise UsageError(f"无法解析监听地址 {host}：{e.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(512)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(f"端口 {port} 已被占用（{host}:{port}），请换一个端口（--port）或先停止占用它的程序。") from None
        raise UsageError(f"无法监听 {host}:{port}：{e.strerror}") from None
    sock.setblocking(False)
    return sock


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
