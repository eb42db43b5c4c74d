"""`duban doctor` on real configurations: what is missing is named with its fix (exit 1), a sound setup
passes (exit 0); channels are probed over TCP (a listening port on 127.0.0.1 and a closed one)."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

from conftest import run_cli
from knowledge import outbox
from knowledge.db import open_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns


def test_doctor_names_each_problem_with_its_fix(tmp_path, monkeypatch):
    for name in ("DUBAN_DINGTALK_APP_SECRET", "DUBAN_WECOM_TOKEN", "DUBAN_WECOM_AES_KEY", "DUBAN_WECOM_CORP_ID",
                 "DUBAN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "d.db"
    store = open_db(db)
    dead = closed_port()
    outbox.set_channel(store, "邵阳县", "dingtalk_robot",
                       {"webhook_url": f"http://127.0.0.1:{dead}/robot/send?access_token=x"},
                       datetime(2026, 12, 1, tzinfo=timezone.utc))
    store.conn.close()
    config = tmp_path / "duban.toml"
    config.write_text('[wecom]\ntoken = "t"\naes_key = "short"\ncorp_id = "ww1"\n'
                      '[server]\ntoday = "2026-12-01"\n', encoding="utf-8")
    code, out, _ = run_cli(["--db", str(db), "doctor", "--config", str(config)])
    assert code == 1
    assert "✗ 企业微信 EncodingAESKey 不是 43 个字符" in out
    assert "✗ 未配置企业微信应用 Secret/AgentID" in out
    assert "✗ 2027 年节假日安排未知" in out and "加入 [2027]" in out
    assert f"✗ 邵阳县 的提醒渠道：127.0.0.1:{dead} 无法连接" in out
    assert "✓ 数据库可写，完整性检查通过" in out


def test_a_sound_setup_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("DUBAN_CONFIG", raising=False)
    db = tmp_path / "d.db"
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        store = open_db(db)
        outbox.set_channel(store, "邵阳县", "dingtalk_robot",
                           {"webhook_url": f"http://127.0.0.1:{port}/robot/send?access_token=x"},
                           datetime(2026, 12, 1, tzinfo=timezone.utc))
        store.conn.close()
        holidays = tmp_path / "holidays.toml"
        holidays.write_text('[2027]\nholidays = ["2027-01-01"]\nworkdays = []\n', encoding="utf-8")
        config = tmp_path / "duban.toml"
        config.write_text(f'[dingtalk]\napp_secret = "s"\n[reminders]\nholidays_file = "{holidays}"\n'
                          '[server]\ntoday = "2026-12-01"\n', encoding="utf-8")
        code, out, _ = run_cli(["--db", str(db), "doctor", "--config", str(config)])
    assert code == 0, out
    assert f"✓ 邵阳县 的提醒渠道：127.0.0.1:{port} 可连接" in out and "一切正常" in out
