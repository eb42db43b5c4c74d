"""Operating duban with several plans, several processes and imperfect configuration."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.cli import main
from bot.conversation import Conversation, Turn
from bot.platforms.wecom import WeComPlatform
from bot.platforms.wecom.crypto import WeComCrypto, parse_xml
from bot.platforms.base import Reply
from bot.reminders import enqueue_plan, plan_day
from bot.sender import Sender
from bot.workdays import WorkCalendar
from knowledge import outbox, people
from knowledge.db import open_db
from parser.units import UnitDirectory

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
NOW = datetime(2021, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def two_plans(tmp_path):
    db = tmp_path / "d.db"
    assert main(["--db", str(db), "ingest", str(SEED), str(EXAMPLE)]) == 0
    return db


def say(db, user: str, text: str, platform: str = "dingtalk") -> str:
    conv = Conversation(open_db(db), UnitDirectory.load(), today=lambda: date(2021, 12, 1), now=lambda: NOW)
    return conv.handle(Turn(platform, user, text)).reply


def test_closing_a_number_found_in_two_plans_takes_the_askers_own(two_plans):
    db = open_db(two_plans)
    people.replace_roster(db, [{"name": "张三", "unit": "市住房和城乡建设局", "role": "联络员", "dingtalk_id": "zs"},
                               {"name": "李四", "unit": "市审计局", "role": "管理员", "dingtalk_id": "ls"}])
    # 第3项 of the example plan is led by 市住房和城乡建设局; the seed's 第3项 is not theirs
    assert "已提交销号申请" in say(two_plans, "zs", "销号 3")
    # the 督办 office decides: an administrator of another unit is asked which plan's, then names it
    reply = say(two_plans, "ls", "审核通过 3")
    assert "多个文件" in reply and "审核通过 1-3" in reply
    assert "没有待审核" in say(two_plans, "ls", "审核通过 1-3")
    assert "已销号" in say(two_plans, "ls", "审核通过 2-3")
    rows = dict(open_db(two_plans).execute("SELECT document_id, status FROM tasks WHERE number='3' AND section='list'"))
    assert rows == {1: "open", 2: "completed"}


async def test_a_second_sender_leaves_delivery_to_the_one_running(two_plans):
    db = open_db(two_plans)
    outbox.set_channel(db, "邵阳县", "console", {})
    enqueue_plan(db, plan_day(db, date(2021, 12, 24), WorkCalendar()), NOW)
    async with aiohttp.ClientSession() as session:
        running = Sender(db, session, now=lambda: NOW)
        assert running.lock.acquire()  # as `duban serve` holds it
        other = Sender(open_db(two_plans), session, now=lambda: NOW)
        counts = await other.drain()
        assert counts["sent"] == 0 and counts["deferred"] >= 1
        running.lock.release()
        assert (await other.drain())["sent"] >= 1


def test_digests_with_no_channel_go_out_once_a_channel_is_set(two_plans, capsys):
    args = ["--db", str(two_plans), "remind", "--today", "2021-12-24"]
    assert main(args) == 0
    db = open_db(two_plans)
    assert db.execute("SELECT status FROM outbox WHERE unit='邵阳县'").fetchall() == [("no_channel",)]
    outbox.set_channel(db, "邵阳县", "console", {}, now=datetime(2021, 12, 24, 10, tzinfo=NOW.tzinfo))
    assert main(args) == 0
    assert "第8项" in capsys.readouterr().out  # the console channel printed 邵阳县's digest
    assert db.execute("SELECT status FROM outbox WHERE unit='邵阳县'").fetchall() == [("sent",)]


def test_someone_taken_off_the_roster_loses_their_binding(two_plans):
    db = open_db(two_plans)
    people.replace_roster(db, [{"name": "王五", "unit": "邵阳县", "role": "联络员", "wecom_id": "ww"}])
    assert "已绑定" in say(two_plans, "ww", "绑定 邵阳县", platform="wecom")
    people.replace_roster(db, [])
    assert "绑定" in say(two_plans, "ww", "我单位哪些任务即将到期", platform="wecom")  # told to bind again


def test_serve_refuses_a_holidays_file_it_cannot_read(tmp_path):
    cfg = tmp_path / "duban.toml"
    cfg.write_text('[reminders]\nholidays_file = "missing.toml"\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--config", str(cfg), "--port", "1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "节假日文件" in out.stderr and "Traceback" not in out.stderr


def test_tasks_window_out_of_range_is_a_usage_error(two_plans, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--db", str(two_plans), "tasks", "--within", "99999999"])
    assert e.value.code == 2 and "3650" in capsys.readouterr().err


async def test_long_wecom_answer_without_app_credentials_is_shortened_not_dropped():
    crypto = WeComCrypto("tok", "RKEirEsqUqOxAtlABMZRolagveusrT1Y31cJ3jCq93x", "wwcorp")
    long_text = "\n".join(f"- 第{i}项 2021-12-31（剩30天）：完成整改任务的具体内容说明" for i in range(200))

    async def answer(inbound):
        return Reply(long_text)

    platform = WeComPlatform(answer=answer, seen=lambda p, m: False, token="tok",
                             encoding_aes_key="RKEirEsqUqOxAtlABMZRolagveusrT1Y31cJ3jCq93x", corp_id="wwcorp")
    from bot.platforms.base import Inbound
    inbound = Inbound(platform="wecom", msg_id="1", user_id="u1", text="我单位哪些任务即将到期")
    body = await platform._reply(inbound, "nonce")
    outer = parse_xml(body)
    inner = parse_xml(crypto.decrypt(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]))
    assert "已截断" in inner["Content"] and len(inner["Content"].encode()) <= 2048
    assert inner["Content"].startswith("- 第0项")
    time.sleep(0)  # nothing left running in the background


async def test_the_inbox_watcher_ingests_off_the_event_loop(tmp_path):
    import asyncio
    import contextlib
    from bot.inbox import Inbox, watch

    db = open_db(tmp_path / "w.db")
    inbox = Inbox(tmp_path / "inbox", settle_seconds=0.2)
    inbox.folder.mkdir()
    (inbox.folder / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    task = asyncio.create_task(watch(inbox, db, UnitDirectory.load(), poll=0.1))
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if (inbox.folder / "done").exists() and any((inbox.folder / "done").iterdir()):
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert db.execute("SELECT count(*) FROM tasks").fetchone()[0] == 15
    assert not (inbox.folder / EXAMPLE.name).exists()


def test_the_example_config_loads_and_environment_overrides_it():
    from bot.settings import ConfigError, load_settings

    s = load_settings(ROOT / "deploy" / "duban.example.toml", env={})
    assert (s.host, s.port, s.send_time, s.lead_days, s.replay_window) == ("127.0.0.1", 8080, "09:00", [30, 7, 1], 300)
    assert not s.dingtalk_enabled and not s.wecom_enabled
    s = load_settings(ROOT / "deploy" / "duban.example.toml",
                      env={"DUBAN_DINGTALK_APP_SECRET": "x", "DUBAN_REPLAY_WINDOW": "0",
                           "DUBAN_DINGTALK_SESSION_HOSTS": "127.0.0.1:9999"})
    assert s.dingtalk_enabled and s.replay_window == 0 and "127.0.0.1:9999" in s.dingtalk_session_hosts
    assert "x" not in repr(s)  # secrets never printed
    with pytest.raises(ConfigError):
        load_settings(ROOT / "README.md", env={})


def test_a_running_server_sees_what_another_process_changed(two_plans):
    """The server keeps answers and askers' units between messages; the roster, a 销号 and the unit
    directory written through other connections (the command line) reach its next answer."""
    server = Conversation(open_db(two_plans), UnitDirectory.load(), today=lambda: date(2021, 12, 1), now=lambda: NOW)

    def ask(text: str) -> str:
        return server.handle(Turn("dingtalk", "zs", text)).reply

    assert "还不知道您是哪个单位" in ask("我单位哪些任务即将到期")
    other = open_db(two_plans)
    people.replace_roster(other, [{"name": "张三", "unit": "市住房和城乡建设局", "role": "联络员", "dingtalk_id": "zs"}])
    assert "市住房和城乡建设局" in ask("我单位哪些任务即将到期")
    people.replace_roster(other, [{"name": "张三", "unit": "市审计局", "role": "联络员", "dingtalk_id": "zs"}])
    assert "市审计局" in ask("我单位哪些任务即将到期")
    people.replace_roster(other, [{"name": "张三", "unit": "市住房和城乡建设局", "role": "联络员", "dingtalk_id": "zs"}])
    assert "已销号" not in ask("第3项完成了吗")
    assert "已提交销号申请" in say(two_plans, "zs", "销号 3")  # another connection
    assert "申请销号" in ask("第3项完成了吗")
    from knowledge import review
    t3 = other.execute("SELECT id FROM tasks WHERE number='3' AND section='list' AND document_id=2").fetchone()[0]
    review.approve(other, t3, review.Actor("市审计局", "李四", "管理员"), NOW)  # the 督办 office, elsewhere
    assert "已销号" in ask("第3项完成了吗")
    assert ask("城建老局哪些任务即将到期").startswith("没有找到单位“城建老局”")
    other.execute("INSERT INTO unit_aliases VALUES ('城建老局', '市住房和城乡建设局')")
    other.conn.commit()
    assert ask("城建老局哪些任务即将到期").startswith("**市住房和城乡建设局** · 到期提醒")


def test_a_command_in_a_burst_reaches_the_next_message_of_that_burst(two_plans):
    """Webhook messages of one burst share one reading of the store's generation: a 销号 among them
    must still reach the answers that follow it."""
    db = open_db(two_plans)
    people.replace_roster(db, [{"name": "张三", "unit": "市住房和城乡建设局", "role": "联络员", "dingtalk_id": "zs"},
                               {"name": "李四", "unit": "市审计局", "role": "管理员", "dingtalk_id": "ls"}])
    conv = Conversation(open_db(two_plans), UnitDirectory.load(), today=lambda: date(2021, 12, 1), now=lambda: NOW)
    from knowledge import generation
    burst = generation.current(conv.db)

    def say_in_burst(text: str) -> str:
        return conv.handle(Turn("dingtalk", "zs", text, stamp=burst)).reply

    assert "已销号" not in say_in_burst("第3项完成了吗")
    assert "已提交销号申请" in say_in_burst("销号 3")
    assert "申请销号" in say_in_burst("第3项完成了吗")
    assert "已销号" in conv.handle(Turn("dingtalk", "ls", "审核通过 2-3", stamp=burst)).reply
    assert "已销号" in say_in_burst("第3项完成了吗")


def test_kept_answers_outlive_commands_that_only_read(two_plans):
    """文件列表 and the other reading commands change nothing: the answers kept before them are still given (a
    province's mix of questions has them every few dozen messages), while a 销号 drops them."""
    db = open_db(two_plans)
    people.replace_roster(db, [{"name": "张三", "unit": "市住房和城乡建设局", "role": "联络员", "dingtalk_id": "zs"}])
    conv = Conversation(open_db(two_plans), UnitDirectory.load(), today=lambda: date(2021, 12, 1), now=lambda: NOW)

    def say(text: str):
        return conv.handle(Turn("dingtalk", "zs", text))

    first = say("第3项完成了吗")
    listing = say("文件列表")
    assert "文件" in listing.reply
    assert say("第3项完成了吗") is first  # kept, not computed again
    assert say("文件列表") is listing  # a reading command's reply is kept too
    assert "已提交销号申请" in say("销号 3").reply
    again = say("第3项完成了吗")
    assert again is not first and "申请销号" in again.reply
    assert say("销号 3") is not say("销号 3")  # a command that writes is carried out every time
