"""`duban serve` as an operator meets it: a taken port, the store's default location, /healthz."""
from __future__ import annotations

import socket
import subprocess
import sys

from test_ops_support import free_port, health, serve_env, start_serve, stop


def test_a_taken_port_is_one_line_and_exit_2_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(tmp_path / "d.db"), "serve", "--port",
                               str(port)], cwd=tmp_path, capture_output=True, text=True, env=serve_env(), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # no "duban 已启动", no sweep, no example plan
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"端口 {port} 已被占用" in lines[0]
    assert not (tmp_path / "d.db").exists()  # nothing was opened


def test_the_default_store_does_not_depend_on_the_working_directory(tmp_path):
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(parents=True)
    env = serve_env(HOME=str(home))
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,手机,钉钉userId,企业微信userid,单位,角色\n张三,13800000000,zs,,市生态环境局,联络员\n",
                      encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "roster", "import", str(roster)], cwd=elsewhere,
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    store = home / ".local" / "share" / "duban" / "duban.db"
    assert store.exists() and not (elsewhere / "duban.db").exists()
    assert f"已新建数据库 {store}" in done.stderr  # said once, when created
    again = subprocess.run([sys.executable, "-m", "bot.cli", "roster", "import", str(roster)], cwd=tmp_path,
                           capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "新建" not in again.stderr
    state = tmp_path / "state"  # under systemd, StateDirectory= sets $STATE_DIRECTORY
    state.mkdir()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "roster", "import", str(roster)], cwd=elsewhere,
                          capture_output=True, text=True, env={**env, "STATE_DIRECTORY": str(state)}, timeout=60)
    assert done.returncode == 0 and (state / "duban.db").exists()


def test_healthz_reports_store_writer_sweep_channels_and_disk(tmp_path):
    from datetime import datetime, timezone

    from knowledge import outbox
    from knowledge.db import open_db

    db = tmp_path / "d.db"
    store = open_db(db)
    now = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    outbox.set_channel(store, "市生态环境局", "console", {}, now)
    outbox.mark_channel_broken(store, "市生态环境局", "群机器人已被移除", now)
    outbox.record_sweep(store, "2026-12-01", now)
    store.conn.close()
    port = free_port()
    server = start_serve(tmp_path, port, db)
    try:
        report = health(port)
    finally:
        stop(server)
    assert report["status"] == "degraded" and report["problems"] == ["channels"]
    assert report["failing_channels"] == [{"unit": "市生态环境局", "reason": "群机器人已被移除"}]
    assert report["last_sweep"]["day"] >= "2026-12-01"  # ours, or the one the server ran on start
    assert report["store"] == str(db) and report["documents"] == 1
    assert report["writer"] == {"queued": 0, "last_error": None}
    assert report["free_disk_mb"] > 0 and report["outbox"]["failed"] == 0
