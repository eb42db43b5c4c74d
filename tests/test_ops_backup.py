"""`duban backup` while a real `duban serve` answers load, and `duban restore` (refused while it serves)."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp

from test_ops_crash import sign, SECRET
from test_ops_support import free_port, health, serve_env, start_serve, stop

from knowledge.deliveries import log_path


def duban(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *argv], capture_output=True, text=True,
                          env=serve_env(), timeout=120)


async def load(url: str, count: int, statuses: list[int], concurrency: int = 8) -> None:
    base = int(time.time() * 1000)
    todo = list(range(count))

    async def worker(session):
        while todo:
            i = todo.pop()
            ts = base + i
            body = {"msgId": f"bk-{i}", "msgtype": "text", "text": {"content": "帮助"}, "senderStaffId": "u",
                    "conversationType": "1", "conversationId": "c", "createAt": ts}
            async with session.post(url, json=body, headers={"timestamp": str(ts), "sign": sign(ts)}) as r:
                await r.read()
                statuses.append(r.status)

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(worker(s) for _ in range(concurrency)))


def rows(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_backup_while_serving_is_consistent_and_restore_brings_it_back(tmp_path):
    config = tmp_path / "duban.toml"
    config.write_text(f'[dingtalk]\napp_secret = "{SECRET}"\nsession_hosts = []\nreply_in_response = true\n'
                      '[reminders]\nenabled = false\n[server]\nreplay_window = 0\n', encoding="utf-8")
    db = tmp_path / "duban.db"
    port = free_port()
    server = start_serve(tmp_path, port, db, config)
    statuses: list[int] = []
    try:
        loader = threading.Thread(target=lambda: asyncio.run(load(f"http://127.0.0.1:{port}/dingtalk", 1500, statuses)))
        loader.start()
        backups = []
        while loader.is_alive() and len(backups) < 3:
            target = tmp_path / f"backup-{len(backups)}.db"
            done = duban("--db", str(db), "backup", str(target))
            assert done.returncode == 0, done.stderr
            assert "已备份" in done.stdout
            backups.append((target, len(statuses)))
        refused = duban("--db", str(db), "restore", str(backups[0][0]))
        loader.join(120)
        assert refused.returncode == 2 and "请先停止服务" in refused.stderr
    finally:
        stop(server)
    assert len(statuses) == 1500 and set(statuses) == {200}  # the server answered everything while backed up
    assert backups, "the load ended before a backup was taken"
    for target, _ in backups:
        assert rows(target, "PRAGMA quick_check") == "ok"
        assert rows(target, "SELECT count(*) FROM documents") == 1  # the example plan
    # the delivery log is a file of its own beside the store, not part of a backup
    assert rows(backups[-1][0], "SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'") == 0
    assert rows(log_path(db), "SELECT count(*) FROM deliveries") >= 1500

    restored = tmp_path / "restored.db"
    done = duban("--db", str(restored), "restore", str(backups[-1][0]))
    assert done.returncode == 0, done.stderr
    port = free_port()
    server = start_serve(tmp_path, port, restored, config)
    try:
        assert health(port)["documents"] == 1
    finally:
        stop(server)
    assert duban("--db", str(restored), "restore", str(config)).returncode == 2  # not a store: nothing changes
    assert rows(restored, "SELECT count(*) FROM documents") == 1
