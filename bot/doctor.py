"""`duban doctor`: checks the configuration a server will run with and says what to fix.

Each check is one function in CHECKS, in the order an operator would fix things; each returns findings
(ok, what was found, how to fix it). Exit 0 when nothing needs fixing, 1 otherwise (2: bad arguments)."""
from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from knowledge import deliveries, health, outbox
from knowledge.db import StoreError, open_db

from . import clock
from .settings import ConfigError, Settings, settings_of_command
from .store_lock import StoreLock

CONNECT_TIMEOUT_S = 3.0


@dataclass
class Finding:
    ok: bool
    what: str
    fix: str = ""


def check_store(s: Settings) -> list[Finding]:
    path = Path(s.db)
    out = [Finding(True, f"数据库：{path.resolve()}" + ("" if path.exists() else "（尚不存在，首次启动时创建）"))]
    folder = path.parent if path.parent != Path("") else Path(".")
    if not folder.exists():
        return out + [Finding(False, f"数据库所在目录 {folder} 不存在", f"创建该目录并交给运行服务的用户：mkdir -p {folder}")]
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    out.append(Finding(free_mb >= health.LOW_DISK_MB, f"磁盘剩余 {free_mb} MB", f"清理磁盘，至少留出 {health.LOW_DISK_MB} MB"))
    if not path.exists():
        writable = os.access(folder, os.W_OK)
        return out + [Finding(writable, "数据库目录可写" if writable else f"目录 {folder} 不可写",
                              f"chown 运行服务的用户 {folder}")]
    try:
        db = open_db(path)
        deliveries.attach_log(db)  # the delivery log beside it: checked, and its lock taken, with the store
        with db.atomic():  # takes the write lock, writes nothing
            pass
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        db.conn.close()
    except (StoreError, sqlite3.DatabaseError, OSError) as e:
        return out + [Finding(False, f"数据库不可写：{e}", "检查文件权限和磁盘；必要时用 duban restore 从备份恢复")]
    out.append(Finding(check == "ok", "数据库可写，完整性检查通过" if check == "ok" else f"数据库已损坏：{check}",
                       "停止服务，用 duban restore 备份文件 恢复"))
    serving = StoreLock.for_path(path, "serve")
    if serving.acquire():
        serving.release()
        out.append(Finding(True, "当前没有 duban serve 在使用该数据库"))
    else:
        out.append(Finding(True, "duban serve 正在使用该数据库"))
    return out


def check_secrets(s: Settings) -> list[Finding]:
    out = []
    if s.dingtalk_enabled:
        out.append(Finding(True, "钉钉机器人 AppSecret 已配置（/dingtalk）"))
    if s.wecom_enabled:
        good_key = len(s.wecom_aes_key or "") == 43
        out.append(Finding(good_key, "企业微信回调已配置（/wecom）" if good_key else "企业微信 EncodingAESKey 不是 43 个字符",
                           "从企业微信后台复制完整的 EncodingAESKey（DUBAN_WECOM_AES_KEY）"))
        has_app = bool(s.wecom_secret and s.wecom_agent_id)
        out.append(Finding(has_app, "企业微信应用 Secret/AgentID 已配置" if has_app else "未配置企业微信应用 Secret/AgentID",
                           "设置 DUBAN_WECOM_SECRET 和 DUBAN_WECOM_AGENT_ID，否则长回答会被截断、慢回答无法送达"))
    elif s.wecom_token or s.wecom_aes_key or s.wecom_corp_id:
        out.append(Finding(False, "企业微信回调配置不完整", "Token、EncodingAESKey、CorpID 三项都要设置"))
    if not out:
        out.append(Finding(False, "没有配置任何聊天平台：机器人收不到消息",
                           "设置 DUBAN_DINGTALK_APP_SECRET，或企业微信的 DUBAN_WECOM_TOKEN / _AES_KEY / _CORP_ID"))
    return out


def check_holidays(s: Settings) -> list[Finding]:
    try:
        calendar = s.calendar()
    except ConfigError as e:
        return [Finding(False, str(e), "修正 [reminders] holidays_file 指向的文件")]
    year = clock.today(s.today).year
    out = []
    for y in (year, year + 1):
        known = calendar.knows(y)
        out.append(Finding(known, f"{y} 年节假日安排" + ("已知" if known else "未知：提醒将按周一至周五计算"),
                           f"在 holidays_file（见 deploy/holidays.example.toml）中加入 [{y}] 的放假和调休日期"))
    return out


def _endpoints(s: Settings, db_path: Path) -> dict[str, str]:
    """host:port → what uses it: the platform APIs configured, and every reminder channel's URL."""
    urls = {}
    if s.wecom_enabled and s.wecom_secret:
        urls[s.wecom_api_base] = "企业微信应用接口"
    if getattr(s, "dingtalk_stream_enabled", False):
        urls[s.dingtalk_api_base] = "钉钉开放平台接口"
    if db_path.exists():
        try:
            db = open_db(db_path)
            for unit, cfg in outbox.channels(db).items():
                for value in cfg.values():
                    if isinstance(value, str) and value.startswith(("http://", "https://")):
                        urls.setdefault(value, f"{unit} 的提醒渠道")
            db.conn.close()
        except (StoreError, sqlite3.DatabaseError):
            pass
    out = {}
    for url, who in urls.items():
        parts = urlsplit(url)
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            out.setdefault(f"{parts.hostname}:{port}", who)
    return out


async def _reachable(hostport: str) -> str | None:
    host, port = hostport.rsplit(":", 1)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), CONNECT_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError) as e:
        return type(e).__name__ if not str(e) else str(e)
    writer.close()
    return None


def check_channels(s: Settings) -> list[Finding]:
    endpoints = _endpoints(s, Path(s.db))
    if not endpoints:
        return [Finding(True, "没有需要连接的推送渠道或平台接口")]

    async def probe():
        return await asyncio.gather(*(_reachable(h) for h in endpoints))
    out = []
    for (hostport, who), error in zip(endpoints.items(), asyncio.run(probe())):
        out.append(Finding(error is None, f"{who}：{hostport} " + ("可连接" if error is None else f"无法连接（{error}）"),
                           "检查服务器的出站网络、防火墙和代理，以及渠道地址是否填写正确"))
    return out


CHECKS = (("数据库", check_store), ("平台密钥", check_secrets), ("节假日", check_holidays), ("网络", check_channels))


def cmd_doctor(args) -> int:
    settings = settings_of_command(args)
    problems = 0
    for title, check in CHECKS:
        print(f"[{title}]")
        for f in check(settings):
            print(f"  {'✓' if f.ok else '✗'} {f.what}" + ("" if f.ok else f"\n      → {f.fix}"))
            problems += not f.ok
    print("一切正常。" if not problems else f"发现 {problems} 个问题，按 → 后的提示修复后再运行 duban doctor。")
    return 0 if not problems else 1


def register(sub) -> None:
    sp = sub.add_parser("doctor", help="检查配置（密钥、数据库、节假日数据、网络）并给出修复建议")
    sp.add_argument("--config", help="TOML 配置文件（默认 DUBAN_CONFIG 或 /etc/duban/duban.toml）")
    sp.set_defaults(func=cmd_doctor)
