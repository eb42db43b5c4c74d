"""One package per platform, registered in one list: channel kinds and roster columns come from the registry;
officials' platform ids live in official_accounts (a migration keeps an older store's ids); the asking core
imports nothing from aiohttp; bot/channels does not import the platforms (no cycle)."""
from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.platforms import registry
from bot.roster import load_roster
from knowledge import db as store, people
from knowledge.db import open_db
from parser.units import UnitDirectory

ROOT = Path(__file__).resolve().parents[1]


def test_every_platform_is_one_package_in_the_registry():
    names = [p.name for p in registry.PLATFORMS]
    assert names == ["dingtalk", "wecom"]
    for spec in registry.PLATFORMS:
        assert (ROOT / "bot" / "platforms" / spec.name / "__init__.py").is_file()
    kinds = registry.channel_kinds()
    assert set(kinds) == {"dingtalk_robot", "dingtalk_app", "wecom_robot", "wecom_app", "wecom_aibot", "console"}
    assert registry.roster_headers() == {"钉钉userid": "dingtalk", "企业微信userid": "wecom"}


def test_unknown_kind_names_the_kinds_there_are():
    from bot.channels import ChannelConfigError
    with pytest.raises(ChannelConfigError, match="dingtalk_app"):
        registry.channel_from_config({"kind": "feishu_robot"}, None)


def test_the_asking_core_imports_nothing_from_aiohttp():
    code = ("import sys, bot.conversation, bot.answer, bot.intent, bot.render, bot.platforms.cards;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_channels_do_not_import_the_platforms():
    for path in (ROOT / "bot" / "channels").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                assert "platforms" not in target, f"{path.name} imports {target}"


# ---- official_accounts ------------------------------------------------------------------------------


def old_store(path: Path, monkeypatch) -> None:
    """A store as it was before official_accounts: ids in officials.dingtalk_id / wecom_id."""
    mine = people._official_accounts_by_platform
    store._import_migration_modules()  # every module registers its migrations into the real list first
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", [f for f in store.MIGRATIONS if f is not mine])
        db = open_db(path)
        db.execute("INSERT INTO officials (name, mobile, dingtalk_id, wecom_id, unit, role) VALUES"
                   " ('张三', '13800000001', 'zs-ding', 'zs-wx', '邵阳县', '联络员'),"
                   " ('李四', NULL, 'ls-ding', NULL, '市生态环境局', '管理员'),"
                   " ('王五', NULL, NULL, NULL, '新邵县', '联络员')")
        db.execute("INSERT INTO bindings VALUES ('wecom', 'user', 'zs-wx', '邵阳县', 'zs-wx', '2026-01-01T09:00:00')")
        db.conn.commit()
        db.conn.close()


def test_the_migration_keeps_every_platform_id(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    old_store(path, monkeypatch)
    db = open_db(path)
    assert sorted(db.execute("SELECT o.name, a.platform, a.user_id FROM official_accounts a JOIN officials o"
                             " ON o.id = a.official_id").fetchall()) == \
        [("张三", "dingtalk", "zs-ding"), ("张三", "wecom", "zs-wx"), ("李四", "dingtalk", "ls-ding")]
    assert {r[1] for r in db.execute("PRAGMA table_info(officials)")} == {"id", "name", "mobile", "unit", "role"}
    zs = people.official_by_platform_id(db, "wecom", "zs-wx")
    assert (zs.name, zs.mobile, zs.unit, zs.dingtalk_id, zs.wecom_id) == ("张三", "13800000001", "邵阳县", "zs-ding", "zs-wx")
    assert people.official_by_platform_id(db, "dingtalk", "ls-ding").is_admin
    assert people.unit_of_asker(db, "dingtalk", "zs-ding", None) == "邵阳县"
    assert [o.name for o in people.officials_of_unit(db, "新邵县")] == ["王五"]
    before = db.execute("SELECT value FROM generation").fetchone()[0]
    people.replace_roster(db, [{"name": "赵六", "unit": "邵阳县", "role": "联络员", "accounts": {"wecom": "zl"}}])
    assert db.execute("SELECT value FROM generation").fetchone()[0] > before  # answers kept before are stale
    assert db.execute("SELECT count(*) FROM bindings").fetchone()[0] == 0  # zs-wx left the roster
    db.conn.close()
    again = open_db(path)  # recorded once: opening again changes nothing
    assert again.execute("SELECT count(*) FROM migrations WHERE name = '_official_accounts_by_platform'").fetchone() == (1,)
    assert people.official_by_platform_id(again, "wecom", "zl").name == "赵六"


def test_an_interrupted_migration_leaves_the_old_layout_whole(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    old_store(path, monkeypatch)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE officials_new (x)")  # a name the migration needs is taken: it must fail…
    conn.commit()
    conn.close()
    with pytest.raises(Exception):
        open_db(path)
    conn = sqlite3.connect(path)
    cols = {r[1] for r in conn.execute("PRAGMA table_info(officials)")}
    assert {"dingtalk_id", "wecom_id"} <= cols  # …and roll back whole
    assert conn.execute("SELECT count(*) FROM officials").fetchone() == (3,)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'officials_accounts_import'").fetchone() == (0,)


def test_a_roster_file_fills_official_accounts_from_the_registry_columns(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text("姓名,手机,钉钉userId,企业微信userid,单位,角色\n张三,13800000001,zs-ding,zs-wx,邵阳县,联络员\n"
                   "李四,,,ls-wx,市生态环境局,管理员\n", encoding="utf-8")
    rows = load_roster(csv, UnitDirectory.load())
    db = open_db(tmp_path / "duban.db")
    people.replace_roster(db, rows)
    assert people.official_by_platform_id(db, "dingtalk", "zs-ding").wecom_id == "zs-wx"
    assert people.official_by_platform_id(db, "wecom", "ls-wx").accounts == {"wecom": "ls-wx"}


def test_a_platform_owns_its_config_section(tmp_path):
    from bot.settings import ConfigError, Settings, load_settings

    toml = tmp_path / "duban.toml"
    toml.write_text('[dingtalk]\nclient_id = "ding1"\napi_base = "http://127.0.0.1:9"\n'
                    '[wecom_aibot]\nbot_id = "aib1"\n', encoding="utf-8")
    s = load_settings(toml, env={"DUBAN_DINGTALK_CLIENT_SECRET": "sec", "DUBAN_WECOM_AIBOT_SECRET": "s2"})
    assert (s.dingtalk_client_id, s.dingtalk_client_secret, s.dingtalk_api_base) == ("ding1", "sec", "http://127.0.0.1:9")
    assert s.dingtalk_stream_enabled and s.wecom_aibot_longconn_enabled and not s.wecom_aibot_enabled
    assert "sec" not in repr(s)
    fresh = Settings()
    assert (fresh.dingtalk_api_base, fresh.wecom_aibot_ws_url) == ("https://api.dingtalk.com",
                                                                   "wss://openws.work.weixin.qq.com")
    assert not fresh.dingtalk_stream_enabled
    toml.write_text('[wecom_aibot]\nbotid = "typo"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="botid"):
        load_settings(toml, env={})


def test_channel_set_takes_the_options_each_kind_declares(tmp_path, capsys):
    from bot.cli import main
    from knowledge import outbox

    path = str(tmp_path / "duban.db")
    assert main(["--db", path, "channel", "set", "邵阳县", "--kind", "dingtalk_app", "--chat", "cidG=="]) == 0
    assert main(["--db", path, "channel", "set", "新邵县", "--kind", "wecom_aibot", "--to-users", "u1"]) == 0
    channels = outbox.channels(open_db(path))
    assert (channels["邵阳县"]["kind"], channels["邵阳县"]["open_conversation_id"]) == ("dingtalk_app", "cidG==")
    assert (channels["新邵县"]["kind"], channels["新邵县"]["userid"]) == ("wecom_aibot", "u1")
    capsys.readouterr()
    assert main(["--db", path, "channel", "set", "邵阳县", "--kind", "dingtalk_robot"]) == 2
    assert "--webhook" in capsys.readouterr().err


def test_every_channel_kind_is_named_after_its_platform():
    """Reminders @ officials by their id on the platform a digest goes to, read from the kind's name."""
    from bot.platforms.registry import PLATFORMS
    for p in PLATFORMS:
        assert all(c.kind.partition("_")[0] == p.name for c in p.channels), p.name
