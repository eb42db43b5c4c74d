"""Deadline reminders end to end: who gets which digest on which day, holidays, 销号 from chat, and
the outbox/sender against fake DingTalk robots on 127.0.0.1 — including a real `duban remind`
process killed with SIGKILL.

Everything runs on a real SQLite store filled by `duban ingest` of the seed plan. The expected
reminders below were worked out by hand from ../shared/gold/seed_tasks.json (milestone dates,
bound units, units by role) and the unit directory's collectives:
各县市区 = the 12 county-level divisions; 各县市 = the 9 counties and county-level cities (no 区).

Policy under test: leads 30/7/1 days, the due day, overdue every 7 days, escalation to the task's
督办领导 from 7 days overdue; a reminder whose date is a day off goes out on the working day before.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from fakes import DT_SECRET, DT_TOKEN, FakeDingTalk, ThreadedServer, serve

from bot.cli import main
from bot.conversation import Conversation, Turn
from bot.reminders import enqueue_plan, plan_day
from bot.scheduler import sweep_if_due
from bot.sender import Sender
from bot.settings import Settings
from bot.workdays import WorkCalendar
from knowledge import outbox, people
from knowledge.db import open_db
from parser.units import UnitDirectory
from conftest import copy_store

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
TZ = ZoneInfo("Asia/Shanghai")

DISTRICTS = ["双清区", "大祥区", "北塔区"]
COUNTIES_AND_CITIES = ["邵东市", "武冈市", "新邵县", "邵阳县", "隆回县", "洞口县", "绥宁县", "新宁县", "城步苗族自治县"]
ALL_COUNTY_LEVEL = DISTRICTS + COUNTIES_AND_CITIES  # 各县市区

# The 14 milestones due 2021-12-31 (gold), by list number; 15 has three (deadline, goal, measure),
# 13 two (two measures). list-2 (goal) and list-8 (measure 4) are bound to 邵阳县 alone.
DUE_1231_ALL = ["2", "3", "6", "8", "11", "13", "13", "14", "15", "15", "15", "21", "22", "24"]
# …what a county or county-level city other than 邵阳县 gets (各县市区 tasks + 各县市 list-15)
DUE_1231_COUNTY = ["3", "6", "11", "14", "15", "15", "15", "21", "22", "24"]
# …what a district gets (no list-15: 各县市 excludes districts)
DUE_1231_DISTRICT = ["3", "6", "11", "14", "21", "22", "24"]
# …市生态环境局: principal of 6, 21; cooperating on 11, 13, 15, 22, 24
DUE_1231_ECO_BUREAU = ["6", "11", "13", "13", "15", "15", "15", "21", "22", "24"]


def items(kind: str, due: str | None, *numbers: str, section: str = "list") -> list[tuple]:
    return [(section, n, due, kind) for n in numbers]


def norm(xs) -> list[tuple]:
    return sorted(xs, key=lambda t: tuple("" if v is None else str(v) for v in t))


# ---- store and CLI helpers ---------------------------------------------------------------


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory) -> Path:
    """The seed plan stored once by `duban ingest`; each test works on its own copy."""
    if not SEED.is_file():
        pytest.skip(f"seed not available at {SEED}")
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    assert main(["--db", str(path), "ingest", str(SEED)]) == 0
    return path


@pytest.fixture
def db_path(seed_template, tmp_path) -> Path:
    path = tmp_path / "duban.db"
    copy_store(seed_template, path)
    return path


def cli(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def dry_run(capsys, db_path: Path, today: str, *extra: str) -> dict:
    code, out = cli(capsys, "--db", db_path, "remind", "--dry-run", "--json", "--today", today, *extra)
    assert code == 0, out
    return json.loads(out)


def digest_items(payload: dict, unit: str) -> list[tuple]:
    """(section, number, due, kind) of every item in `unit`'s digest, sorted ([] if it gets none)."""
    msgs = [m for m in payload["messages"] if m["unit"] == unit]
    assert len(msgs) <= 1, f"{unit} got {len(msgs)} digests in one send"
    return norm((i["section"], str(i["number"]), i["due"], i["kind"]) for m in msgs for i in m["items"])


def non_recurring(xs: list[tuple]) -> list[tuple]:
    return [x for x in xs if x[3] != "recurring"]


def units_of(payload: dict) -> set[str]:
    return {m["unit"] for m in payload["messages"]}


ROSTER = [
    {"name": "张三", "mobile": "13800000001", "dingtalk_id": "sy-zhangsan", "unit": "邵阳县", "role": "联络员"},
    {"name": "李四", "mobile": "13800000002", "dingtalk_id": "xs-lisi", "unit": "新邵县", "role": "联络员"},
    {"name": "王五", "mobile": "13800000003", "dingtalk_id": "admin-wangwu", "unit": "市生态环境局", "role": "管理员"},
]


def conversation(db, at: datetime) -> Conversation:
    return Conversation(db, UnitDirectory.load(), today=lambda: at.date(), now=lambda: at)


def say(conv: Conversation, user_id: str, text: str) -> str:
    return conv.handle(Turn("dingtalk", user_id, text, chat_id="cid-1", chat_type="group")).reply


# ---- (a) the right digests to the right units on the right days ---------------------------------


def test_30_days_before_2021_12_31_each_unit_gets_its_own_and_its_collectives_items(capsys, db_path):
    p = dry_run(capsys, db_path, "2021-12-01")
    assert p["today"] == "2021-12-01" and p["covered"] == ["2021-12-01"] and p["calendar_note"] is None
    monthly = items("recurring", None, "（一）1", section="body")  # 县、乡两级…每月至少研究一次 (1 Dec)
    assert digest_items(p, "邵阳县") == norm(items("lead", "2021-12-31", *DUE_1231_ALL) + monthly)
    # 新邵县 is one of list-7's four localities: its 每月一总结 is due too; not 邵阳县's bound items
    assert digest_items(p, "新邵县") == norm(items("lead", "2021-12-31", *DUE_1231_COUNTY) + monthly
                                            + items("recurring", None, "7"))
    assert digest_items(p, "北塔区") == norm(items("lead", "2021-12-31", *DUE_1231_DISTRICT) + monthly)
    assert digest_items(p, "市生态环境局") == norm(items("lead", "2021-12-31", *DUE_1231_ECO_BUREAU)
                                              + items("recurring", None, "7"))
    assert not {"各县市区", "各县市"} & units_of(p)  # collectives are fanned out, never addressed
    assert "邵阳县" in p["units_without_channel"] and "市生态环境局" in p["units_without_channel"]


def test_7_days_before_the_friday_digest_also_covers_the_weekend(capsys, db_path):
    p = dry_run(capsys, db_path, "2021-12-24")
    assert p["covered"] == ["2021-12-24", "2021-12-25", "2021-12-26"]
    assert digest_items(p, "邵阳县") == norm(items("lead", "2021-12-31", *DUE_1231_ALL))
    assert digest_items(p, "大祥区") == norm(items("lead", "2021-12-31", *DUE_1231_DISTRICT))


def test_1_day_before_and_list13_september_item_13_weeks_overdue_escalates(capsys, db_path):
    p = dry_run(capsys, db_path, "2021-12-30")
    assert p["covered"] == ["2021-12-30"]
    assert digest_items(p, "新邵县") == norm(items("lead", "2021-12-31", *DUE_1231_COUNTY))
    # list-13 "（2021年9月30日前完成）": 2021-12-30 is 91 days = 13 weeks after it
    assert digest_items(p, "邵阳县") == norm(items("lead", "2021-12-31", *DUE_1231_ALL)
                                            + items("overdue", "2021-09-30", "13"))
    assert digest_items(p, "联系邵阳县的市委常委") == items("escalation", "2021-09-30", "13")
    # the done milestone (已于2021年4月完成) never reminds anyone
    assert all(i["due"] != "2021-04-30" for m in p["messages"] for i in m["items"])


def test_due_day_before_new_year_holiday_covers_it_and_recurring_duties_fire_once_per_period(capsys, db_path):
    p = dry_run(capsys, db_path, "2021-12-31")
    # 2022-01-01..03 are the New Year holiday: today's send covers them
    assert p["covered"] == ["2021-12-31", "2022-01-01", "2022-01-02", "2022-01-03"]
    assert non_recurring(digest_items(p, "邵阳县")) == norm(items("due", "2021-12-31", *DUE_1231_ALL))
    assert non_recurring(digest_items(p, "新邵县")) == norm(items("due", "2021-12-31", *DUE_1231_COUNTY))
    # new week (Mon 01-03), month, quarter and year begin in the covered days. 市发展和改革委员会:
    # list-1 two yearly duties (配合), list-2 and list-4 yearly duties named for it, list-7 每周一调度,
    # 每周驻守, 每月一总结 (牵头); due: list-3 and list-22 (list-2/list-8 items are 邵阳县's)
    assert digest_items(p, "市发展和改革委员会") == norm(
        items("due", "2021-12-31", "3", "22") + items("recurring", None, "1", "1", "2", "4", "7", "7", "7"))
    # the next working day: no period starts, nothing recurring again
    p2 = dry_run(capsys, db_path, "2022-01-04")
    assert p2["covered"] == ["2022-01-04"]
    assert not [i for m in p2["messages"] for i in m["items"] if i["kind"] == "recurring"]
    # the next Monday: only the weekly duties (list-7 ×2)
    p3 = dry_run(capsys, db_path, "2022-01-10")
    assert digest_items(p3, "新邵县") == items("recurring", None, "7", "7")


def test_7_days_overdue_goes_to_the_units_and_escalates_to_each_tasks_supervising_leader(capsys, db_path):
    p = dry_run(capsys, db_path, "2022-01-07")
    assert p["covered"] == ["2022-01-07", "2022-01-08", "2022-01-09"]
    assert digest_items(p, "新邵县") == norm(items("overdue", "2021-12-31", *DUE_1231_COUNTY))
    assert digest_items(p, "邵阳县") == norm(items("overdue", "2021-12-31", *DUE_1231_ALL))
    esc = {  # 市级督办领导 of each task with a 2021-12-31 milestone (gold)
        "联系邵阳县的市委常委": ["2", "13", "13"],
        "分管发展和改革工作的副市长": ["3", "22"],
        "分管生态环境工作的副市长": ["6", "21"],
        "分管城市管理工作的副市长": ["8", "11"],
        "分管自然资源和规划工作的副市长": ["14"],
        "分管应急管理工作的副市长": ["15", "15", "15"],
        "分管林业工作的副市长": ["24"],
    }
    for leader, numbers in esc.items():
        assert digest_items(p, leader) == norm(items("escalation", "2021-12-31", *numbers)), leader
    got_escalation = {m["unit"] for m in p["messages"] if any(i["kind"] == "escalation" for i in m["items"])}
    assert got_escalation == set(esc)
    assert not any(i["kind"] == "overdue" for m in p["messages"] if m["unit"] in esc for i in m["items"])
    # six days overdue is not yet a repeat: on 01-06 only list-13's 2021-09-30 item (14 weeks) is due
    q = dry_run(capsys, db_path, "2022-01-06")
    assert {(i["number"], i["due"]) for m in q["messages"] for i in m["items"]} == {(13, "2021-09-30")}


def test_bound_milestones_remind_only_their_unit(capsys, db_path):
    """2022-05-31 is 30 days before 2022-06-30: body-3 and list-7 bind that date to 新邵县 (its
    plant) and list-7 also to 武冈市 (开工); 邵东市 and 洞口县 are due 2022-12-31 instead."""
    p = dry_run(capsys, db_path, "2022-05-31")
    lead = "2022-06-30"
    assert digest_items(p, "新邵县") == norm(items("lead", lead, "（三）", section="body")
                                            + items("lead", lead, "7", "10"))
    assert digest_items(p, "武冈市") == norm(items("lead", lead, "7", "10"))
    assert digest_items(p, "邵东市") == items("lead", lead, "10")
    assert digest_items(p, "洞口县") == items("lead", lead, "10")
    assert digest_items(p, "邵阳县") == norm(items("lead", lead, "10", "13"))
    # the 牵头 units of body-3/list-7 are not told about a county's own plant
    assert digest_items(p, "市发展和改革委员会") == []


def test_collective_tasks_fan_out_to_every_member_and_各县市_leaves_out_the_districts(capsys, db_path):
    p = dry_run(capsys, db_path, "2021-12-01")
    for unit in ALL_COUNTY_LEVEL:
        numbers = [x[1] for x in digest_items(p, unit) if x[3] == "lead"]
        assert "3" in numbers, unit  # list-3: 各县市区
        assert numbers.count("15") == (3 if unit in COUNTIES_AND_CITIES else 0), unit  # list-15: 各县市
    assert "邵阳经开区" in units_of(p)  # named beside 各县市区


# ---- (b) holidays and the calendar ----------------------------------------------------------------


def test_overdue_repeat_falling_in_national_day_goes_out_on_the_working_day_before(capsys, db_path):
    """list-10 (due 2022-06-30) is 14 weeks overdue on 2022-10-06, inside the National Day holiday
    (10-01..07): it is sent on Friday 09-30, whose send covers the whole holiday."""
    p = dry_run(capsys, db_path, "2022-09-30")
    assert p["covered"] == [f"2022-{d}" for d in ("09-30", "10-01", "10-02", "10-03", "10-04", "10-05",
                                                  "10-06", "10-07")]
    assert ("list", "10", "2022-06-30", "overdue") in digest_items(p, "市农业农村局")
    assert digest_items(p, "分管农业农村工作的副市长") == items("escalation", "2022-06-30", "10")
    for day in range(1, 8):
        q = dry_run(capsys, db_path, f"2022-10-0{day}")
        assert q["covered"] == [] and q["messages"] == [], day


@pytest.fixture(scope="session")
def national_day_template(tmp_path_factory) -> Path:
    """The seed with list-23's deadline moved from 2022年3月31日 to 2022年10月8日 (a Saturday 调休
    working day): its 7-day and 1-day leads (10-01, 10-07) fall inside the National Day holiday."""
    if not SEED.is_file():
        pytest.skip("seed not available")
    folder = tmp_path_factory.mktemp("national_day")
    text = SEED.read_text(encoding="utf-8")
    assert text.count("整改时限：2022年3月31日") == 1
    plan = folder / "shaoyang_plan_oct.txt"
    plan.write_text(text.replace("整改时限：2022年3月31日", "整改时限：2022年10月8日"), encoding="utf-8")
    path = folder / "oct.db"
    assert main(["--db", str(path), "ingest", str(plan)]) == 0
    return path


def test_lead_days_on_a_public_holiday_are_sent_the_working_day_before_and_a_saturday_workday_counts(
        capsys, national_day_template, tmp_path):
    db_path = tmp_path / "oct.db"
    copy_store(national_day_template, db_path)
    unit = "市卫生健康委员会"  # list-23 主体责任单位 / 牵头单位
    due = "2022-10-08"
    assert digest_items(dry_run(capsys, db_path, "2022-09-08"), unit) == items("lead", due, "23")  # 30 days
    p = dry_run(capsys, db_path, "2022-09-30")  # 7-day (10-01) and 1-day (10-07) leads, both holidays
    assert set(digest_items(p, unit)) == {("list", "23", due, "lead")}
    for day in range(1, 8):
        assert dry_run(capsys, db_path, f"2022-10-0{day}")["messages"] == []
    q = dry_run(capsys, db_path, "2022-10-08")  # Saturday, a 调休 working day: the due day itself
    assert q["covered"] == ["2022-10-08"]
    assert digest_items(q, unit) == items("due", due, "23")
    # the digest names the item once although two lead days fall into today's send
    _, text = cli(capsys, "--db", db_path, "remind", "--dry-run", "--today", "2022-09-30")
    body = text[text.index(f"督办提醒：{unit}"):]
    body = body[:body.index("办结后")]
    assert body.count("第23项") == 1


def test_spring_festival_overdue_is_sent_on_the_sunday_make_up_workday(capsys, db_path):
    """2022-01-29/30 (Sat/Sun) were 调休 working days before the Spring Festival (01-31..02-06).
    2021-12-31 + 35 days = 02-04 and 2021-09-30 + 126 days = 02-03 fall in the holiday."""
    assert dry_run(capsys, db_path, "2022-01-29")["covered"] == ["2022-01-29"]
    p = dry_run(capsys, db_path, "2022-01-30")
    assert p["covered"] == ["2022-01-30", "2022-01-31"] + [f"2022-02-0{d}" for d in range(1, 7)]
    assert non_recurring(digest_items(p, "新邵县")) == norm(items("overdue", "2021-12-31", *DUE_1231_COUNTY))
    assert non_recurring(digest_items(p, "邵阳县")) == norm(items("overdue", "2021-12-31", *DUE_1231_ALL)
                                                           + items("overdue", "2021-09-30", "13"))
    assert dry_run(capsys, db_path, "2022-02-04")["messages"] == []


def test_year_without_calendar_data_falls_back_to_monday_to_friday_and_says_so(capsys, db_path, tmp_path):
    p = dry_run(capsys, db_path, "2027-01-06")  # 2025-12-31 + 371 days (53 weeks), a Wednesday
    assert "2027" in p["calendar_note"] and "周一至周五" in p["calendar_note"]
    assert p["covered"] == ["2027-01-06"]
    assert digest_items(p, "市交通运输局") == items("overdue", "2025-12-31", "18")
    assert digest_items(p, "分管交通运输工作的副市长") == items("escalation", "2025-12-31", "18")
    assert dry_run(capsys, db_path, "2027-01-08")["covered"] == ["2027-01-08", "2027-01-09", "2027-01-10"]
    assert dry_run(capsys, db_path, "2027-01-09")["covered"] == []
    _, text = cli(capsys, "--db", db_path, "remind", "--dry-run", "--today", "2027-01-06")
    assert "2027 年没有法定节假日数据" in text
    # an operator's holidays file makes the year known: 01-06 off → sent on 01-05, no note
    holidays = tmp_path / "holidays.toml"
    holidays.write_text('[2027]\nholidays = ["2027-01-06"]\nworkdays = []\n', encoding="utf-8")
    q = dry_run(capsys, db_path, "2027-01-05", "--holidays", str(holidays))
    assert q["calendar_note"] is None and q["covered"] == ["2027-01-05", "2027-01-06"]
    assert digest_items(q, "市交通运输局") == items("overdue", "2025-12-31", "18")


# ---- (c) escalation routing ------------------------------------------------------------------------


def test_escalation_uses_a_leaders_own_channel_else_the_督办领导_fallback(capsys, db_path):
    assert cli(capsys, "--db", db_path, "channel", "set", "联系邵阳县的市委常委", "--kind", "console")[0] == 0
    assert cli(capsys, "--db", db_path, "channel", "set", "督办领导", "--kind", "console")[0] == 0
    p = dry_run(capsys, db_path, "2022-01-07")
    assert digest_items(p, "联系邵阳县的市委常委") == norm(items("escalation", "2021-12-31", "2", "13", "13"))
    # every other leader has no channel of their own: their escalations reach 督办领导
    assert digest_items(p, "督办领导") == norm(items("escalation", "2021-12-31", "3", "22", "6", "21", "8", "11",
                                                   "14", "15", "15", "15", "24"))
    assert not [u for u in p["units_without_channel"] if u.startswith("分管")]
    # body tasks have no 市级督办领导 at all: body-3's 新邵县 item, 7 days overdue on 2022-07-07
    q = dry_run(capsys, db_path, "2022-07-07")
    assert ("body", "（三）", "2022-06-30", "escalation") in digest_items(q, "督办领导")


# ---- (d) 进展 / 销号 from chat --------------------------------------------------------------------


def test_销号_by_a_responsible_official_stops_reminders_and_撤销销号_restores_them(capsys, db_path):
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    conv = conversation(db, datetime(2021, 11, 30, 16, 0, tzinfo=TZ))
    assert "已提交销号申请" in say(conv, "sy-zhangsan", "销号 13")  # reminded until the 督办 office approves
    assert "已销号" in say(conv, "admin-wangwu", "审核通过 13")
    assert db.execute("SELECT status, completed_by FROM tasks WHERE section='list' AND number='13'").fetchone() \
        == ("completed", "张三")
    p = dry_run(capsys, db_path, "2021-12-01")
    without_13 = [n for n in DUE_1231_ALL if n != "13"]
    assert non_recurring(digest_items(p, "邵阳县")) == norm(items("lead", "2021-12-31", *without_13))
    assert "13" not in [x[1] for x in digest_items(p, "市生态环境局")]
    assert "联系邵阳县的市委常委" not in units_of(dry_run(capsys, db_path, "2021-12-30"))
    assert "已撤销销号" in say(conv, "sy-zhangsan", "撤销销号 13")
    p = dry_run(capsys, db_path, "2021-12-01")
    assert non_recurring(digest_items(p, "邵阳县")) == norm(items("lead", "2021-12-31", *DUE_1231_ALL))
    kinds = [r[0] for r in db.execute("SELECT kind FROM progress ORDER BY id")]
    assert kinds == ["apply_close", "approve_close", "reopen"]


def test_销号_by_another_units_official_is_refused_and_audited_but_an_administrator_may(capsys, db_path):
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    at = datetime(2021, 12, 2, 10, 30, tzinfo=TZ)
    conv = conversation(db, at)
    reply = say(conv, "xs-lisi", "销号 13")  # 新邵县 has nothing to do with list-13
    assert "不能申请销号" in reply
    assert db.execute("SELECT status FROM tasks WHERE section='list' AND number='13'").fetchone() == ("open",)
    assert db.execute("SELECT user_id, action, allowed FROM audit ORDER BY id DESC LIMIT 1").fetchone() \
        == ("xs-lisi", "申请销号", 0)
    assert "不在花名册中" in say(conv, "someone-unknown", "13 已完成")  # not on the roster at all
    row = db.execute("SELECT user_id, allowed FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("someone-unknown", 0)
    # progress with who and when, from an official of a responsible unit
    assert "已记录第13项进展" in say(conv, "sy-zhangsan", "进展 13：已完成招标")
    assert db.execute("SELECT kind, text, unit, official, at FROM progress").fetchall() == [
        ("progress", "已完成招标", "邵阳县", "张三", "2021-12-02T10:30:00+08:00")]
    # the roster's 管理员 (of another unit) approves the responsible unit's application
    assert "已提交销号申请" in say(conv, "sy-zhangsan", "13 已完成")
    assert "已销号" in say(conv, "admin-wangwu", "审核通过 13")
    assert db.execute("SELECT status, completed_by FROM tasks WHERE section='list' AND number='13'").fetchone() \
        == ("completed", "张三")
    allowed = db.execute("SELECT user_id, action, allowed FROM audit ORDER BY id").fetchall()
    assert allowed[-2:] == [("sy-zhangsan", "申请销号", 1), ("admin-wangwu", "销号审核通过", 1)]


def test_status_shows_completed_tasks_with_who_and_when(capsys, db_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    conv = conversation(db, datetime(2021, 12, 3, 9, 15, tzinfo=TZ))
    say(conv, "sy-zhangsan", "销号 13")
    say(conv, "admin-wangwu", "审核通过 13")
    code, out = cli(capsys, "--db", db_path, "status")
    assert code == 0
    line = next(line for line in out.splitlines() if "已销号 第" in line)
    assert "第13项" in line and "张三" in line and "2021-12-03T09:15:00+08:00" in line
    rows = [[c.strip() for c in line.strip().strip("│").split("│")] for line in out.splitlines()
            if line.startswith("│")]
    assert [r[2:5] for r in rows] == [["37", "1", "0"]]  # open, completed (已销号), withdrawn


# ---- (e) sending through the outbox to a fake DingTalk robot -------------------------------------------


NOW = datetime(2021, 12, 1, 9, 0, tzinfo=TZ)


class Now:
    """An injectable wall clock for the sender."""

    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def robot(aiohttp_server, fake: FakeDingTalk) -> str:
    server = await serve(aiohttp_server, [("POST", "/robot/send", fake.handle)])
    return str(server.make_url(f"/robot/send?access_token={DT_TOKEN}"))


async def shaoyang_robot_in_mode(aiohttp_server, db, mode: str) -> FakeDingTalk:
    """邵阳县's channel on a fake DingTalk robot answering in `mode`, with 2021-12-01's digests queued."""
    fake = FakeDingTalk()
    fake.mode = mode
    outbox.set_channel(db, "邵阳县", "dingtalk_robot", {"webhook_url": await robot(aiohttp_server, fake),
                                                      "secret": DT_SECRET})
    queue_day(db, date(2021, 12, 1))
    return fake


def queue_day(db, today: date, at: datetime = NOW) -> list[int]:
    return enqueue_plan(db, plan_day(db, today, WorkCalendar()), at)


def statuses(db) -> dict[str, str]:
    return dict(db.execute("SELECT unit, status FROM outbox WHERE status != 'no_channel'").fetchall())


async def test_digests_reach_a_signed_dingtalk_robot_one_per_unit_with_mentions(aiohttp_server, session, db_path):
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    fake = FakeDingTalk()
    url = await robot(aiohttp_server, fake)
    for unit in ("邵阳县", "新邵县"):
        outbox.set_channel(db, unit, "dingtalk_robot", {"webhook_url": url, "secret": DT_SECRET})
    queue_day(db, date(2021, 12, 1))
    counts = await Sender(db, session, now=Now(NOW)).drain()
    assert counts == {"sent": 2, "retry": 0, "failed": 0}
    by_title = {b["markdown"]["title"]: b for b in fake.received}
    assert set(by_title) == {"督办提醒：邵阳县", "督办提醒：新邵县"}
    assert all(set(q) == {"access_token", "timestamp", "sign"} for q in fake.queries)  # 加签 verified by the fake
    sy = by_title["督办提醒：邵阳县"]
    assert sy["at"]["atMobiles"] == ["13800000001"] and "@13800000001" in sy["markdown"]["text"]
    text = sy["markdown"]["text"]
    assert "第13项 2021-12-31（剩30天）" in text and "第2项" in text and "销号 编号" in text
    assert "第13项" not in by_title["督办提醒：新邵县"]["markdown"]["text"]
    assert statuses(db) == {"邵阳县": "sent", "新邵县": "sent"}


async def test_5xx_is_retried_after_the_backoff_and_then_delivered_once(aiohttp_server, session, db_path):
    db = open_db(db_path)
    fake = await shaoyang_robot_in_mode(aiohttp_server, db, "http503")
    now = Now(NOW)
    sender = Sender(db, session, now=now, base_backoff=30)
    assert await sender.drain() == {"sent": 0, "retry": 1, "failed": 0}
    row = db.execute("SELECT status, attempts, next_attempt_at, last_error FROM outbox WHERE unit='邵阳县'").fetchone()
    assert row[:3] == ("pending", 1, "2021-12-01T09:00:30+08:00") and "503" in row[3]
    fake.mode = "ok"
    now.t = NOW + timedelta(seconds=10)  # before the backoff: nothing is tried
    assert await sender.drain() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(fake.queries) == 1
    now.t = NOW + timedelta(seconds=31)
    assert await sender.drain() == {"sent": 1, "retry": 0, "failed": 0}
    assert [b["markdown"]["title"] for b in fake.received] == ["督办提醒：邵阳县"]
    # the second failure of a row waits twice as long
    assert sender.backoff(2) == 60


async def test_rate_limit_130101_is_retried_after_ten_minutes_not_failed(aiohttp_server, session, db_path):
    db = open_db(db_path)
    fake = await shaoyang_robot_in_mode(aiohttp_server, db, "ratelimit")
    assert await Sender(db, session, now=Now(NOW)).drain() == {"sent": 0, "retry": 1, "failed": 0}
    row = db.execute("SELECT status, next_attempt_at, last_error FROM outbox WHERE unit='邵阳县'").fetchone()
    assert row[:2] == ("pending", "2021-12-01T09:10:00+08:00") and "130101" in row[2]
    assert outbox.channels(db)["邵阳县"]["broken_reason"] is None
    fake.mode = "ok"
    # a later run (a fresh sender: `duban remind` again, or serve's loop) after the block
    assert await Sender(db, session, now=Now(NOW + timedelta(minutes=10, seconds=1))).drain() \
        == {"sent": 1, "retry": 0, "failed": 0}
    assert len(fake.received) == 1


async def test_a_robot_blocked_by_130101_does_not_hold_up_other_units_robots(aiohttp_server, session, db_path):
    db = open_db(db_path)
    blocked, other = FakeDingTalk(), FakeDingTalk()
    blocked.mode = "ratelimit"
    url_blocked, url_other = await robot(aiohttp_server, blocked), await robot(aiohttp_server, other)
    # digests go out in unit order: 市生态环境局, 新邵县 (both on the blocked robot), then 邵阳县
    for unit, url in (("市生态环境局", url_blocked), ("新邵县", url_blocked), ("邵阳县", url_other)):
        outbox.set_channel(db, unit, "dingtalk_robot", {"webhook_url": url, "secret": DT_SECRET})
    queue_day(db, date(2021, 12, 1))
    counts = await asyncio.wait_for(Sender(db, session, now=Now(NOW)).drain(), timeout=10)
    assert counts == {"sent": 1, "retry": 2, "failed": 0}
    assert [b["markdown"]["title"] for b in other.received] == ["督办提醒：邵阳县"]
    assert len(blocked.queries) == 1  # 新邵县 waits for the block to end without asking again
    later = {u: t for u, t in db.execute("SELECT unit, next_attempt_at FROM outbox WHERE status='pending'")}
    assert set(later) == {"市生态环境局", "新邵县"}
    assert all(t >= "2021-12-01T09:09:59+08:00" for t in later.values())
    blocked.mode = "ok"
    counts = await Sender(db, session, now=Now(NOW + timedelta(minutes=10, seconds=1))).drain()
    assert counts == {"sent": 2, "retry": 0, "failed": 0}


async def test_a_queued_digest_is_not_sent_about_a_task_closed_before_delivery(aiohttp_server, session, db_path):
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    fake = await shaoyang_robot_in_mode(aiohttp_server, db, "http503")
    assert (await Sender(db, session, now=Now(NOW)).drain())["retry"] == 1
    conv = conversation(db, NOW + timedelta(seconds=10))
    say(conv, "sy-zhangsan", "销号 13")
    say(conv, "admin-wangwu", "审核通过 13")
    fake.mode = "ok"
    await Sender(db, session, now=Now(NOW + timedelta(minutes=1))).drain()
    digests = [m for m in fake.received if not m["markdown"]["title"].startswith("审核通过")]
    assert len(digests) == 1 and len(fake.received) == 2  # and 邵阳县 is told its application was approved
    assert "第13项" not in digests[0]["markdown"]["text"]


async def test_bad_secret_fails_the_digest_and_marks_the_channel_broken_not_retried(aiohttp_server, session,
                                                                                       db_path, capsys,
                                                                                       monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    db = open_db(db_path)
    fake = FakeDingTalk()
    url = await robot(aiohttp_server, fake)
    outbox.set_channel(db, "邵阳县", "dingtalk_robot", {"webhook_url": url, "secret": "SECwrong"})
    outbox.set_channel(db, "新邵县", "dingtalk_robot", {"webhook_url": url, "secret": DT_SECRET})
    queue_day(db, date(2021, 12, 1))
    sender = Sender(db, session, now=Now(NOW))
    assert await sender.drain() == {"sent": 1, "retry": 0, "failed": 1}
    assert statuses(db) == {"邵阳县": "failed", "新邵县": "sent"}
    assert "310000" in outbox.channels(db)["邵阳县"]["broken_reason"]
    tried = len(fake.queries)
    assert await Sender(db, session, now=Now(NOW + timedelta(days=1))).drain() == {"sent": 0, "retry": 0,
                                                                                 "failed": 0}
    assert len(fake.queries) == tried  # never retried
    # the next day's digest for the broken channel fails at once, without a request
    queue_day(db, date(2021, 12, 30), NOW + timedelta(days=29))
    assert (await Sender(db, session, now=Now(NOW + timedelta(days=29))).drain())["failed"] == 1
    assert len(fake.queries) == tried + 1  # only 新邵县's
    code, out = cli(capsys, "--db", db_path, "channel", "list")
    assert code == 0
    sy = next(line for line in out.splitlines() if "邵阳县" in line)
    assert "不可用" in sy and "310000" in sy
    assert "SECwrong" not in out and DT_TOKEN not in out
    assert "正常" in next(line for line in out.splitlines() if "新邵县" in line)


# ---- (f, g) a real `duban remind` process: killed, restarted, run twice ----------------------------------


KILL_UNITS = ["邵阳县", "新邵县", "武冈市", "北塔区", "市生态环境局"]


@pytest.fixture
def fake_robot():
    fake = FakeDingTalk()
    with ThreadedServer([("POST", "/robot/send", fake.handle)]) as server:
        fake.url = server.url(f"/robot/send?access_token={DT_TOKEN}")
        yield fake


def with_channels(capsys, db_path: Path, url: str, units=KILL_UNITS) -> None:
    for unit in units:
        code, _ = cli(capsys, "--db", db_path, "channel", "set", unit, "--kind", "dingtalk_robot", "--webhook", url,
                      "--secret", DT_SECRET)
        assert code == 0


def remind_process(db_path: Path, today: str, gap: float = 0.5) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "--db", str(db_path), "remind", "--today", today,
                             "--gap", str(gap)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(predicate, timeout: float = 20.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def outbox_count(db_path: Path, status: str | None = None) -> int:
    con = sqlite3.connect(db_path, timeout=5)
    try:
        if status:
            return con.execute("SELECT count(*) FROM outbox WHERE status=?", [status]).fetchone()[0]
        return con.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        con.close()


def delivered(fake: FakeDingTalk) -> Counter:
    return Counter(b["markdown"]["title"].removeprefix("督办提醒：") for b in fake.received)


def run_to_end(db_path: Path, today: str) -> None:
    proc = remind_process(db_path, today, gap=0.05)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out.decode(), err.decode())


def test_sender_killed_between_digests_loses_and_doubles_nothing(capsys, db_path, fake_robot):
    with_channels(capsys, db_path, fake_robot.url)
    proc = remind_process(db_path, "2021-12-01")
    try:
        # two digests accepted and recorded as sent: the process is now in its --gap pause
        wait_until(lambda: len(fake_robot.received) >= 2 and outbox_count(db_path, "sent") >= 2,
                   what="two digests sent")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = len(fake_robot.received)
    assert 2 <= before < len(KILL_UNITS)
    run_to_end(db_path, "2021-12-01")
    assert delivered(fake_robot) == Counter({u: 1 for u in KILL_UNITS})
    assert outbox_count(db_path, "sent") == len(KILL_UNITS)


def test_sender_killed_after_enqueue_before_any_delivery_sends_everything_once_on_restart(
        capsys, db_path, fake_robot):
    with_channels(capsys, db_path, fake_robot.url)
    fake_robot.hold_s = 30.0  # the first request hangs at the "platform"
    proc = remind_process(db_path, "2021-12-01")
    try:
        wait_until(lambda: len(fake_robot.queries) >= 1, what="the first request")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert fake_robot.received == []
    assert outbox_count(db_path, "posting") == 1 and outbox_count(db_path, "sent") == 0
    fake_robot.hold_s = 0.0
    run_to_end(db_path, "2021-12-01")
    assert delivered(fake_robot) == Counter({u: 1 for u in KILL_UNITS})


def test_sender_killed_after_all_sends_and_rerun_sends_nothing_more(capsys, db_path, fake_robot):
    with_channels(capsys, db_path, fake_robot.url)
    proc = remind_process(db_path, "2021-12-01", gap=0.3)
    try:
        wait_until(lambda: outbox_count(db_path, "sent") == len(KILL_UNITS), what="all digests sent")
        proc.send_signal(signal.SIGKILL)  # in the pause after the last digest
    finally:
        proc.kill()
        proc.wait()
    run_to_end(db_path, "2021-12-01")
    assert delivered(fake_robot) == Counter({u: 1 for u in KILL_UNITS})


def test_the_same_days_remind_run_twice_sends_nothing_new(capsys, db_path, fake_robot):
    with_channels(capsys, db_path, fake_robot.url, units=["邵阳县", "新邵县"])
    code, out = cli(capsys, "--db", db_path, "remind", "--today", "2021-12-01")
    assert code == 0 and "发送成功 2" in out
    keys = outbox_count(db_path)
    code, out = cli(capsys, "--db", db_path, "remind", "--today", "2021-12-01")
    assert code == 0 and "新排队 0 条" in out and "发送成功 0" in out
    assert outbox_count(db_path) == keys
    assert delivered(fake_robot) == Counter({"邵阳县": 1, "新邵县": 1})
    # the dry run after sending shows nothing left for that day
    assert dry_run(capsys, db_path, "2021-12-01")["messages"] == []
    # a later day is new work
    code, out = cli(capsys, "--db", db_path, "remind", "--today", "2021-12-24")
    assert code == 0
    assert delivered(fake_robot) == Counter({"邵阳县": 2, "新邵县": 2})


def test_scheduler_queues_one_sweep_per_working_day_after_the_send_time(db_path):
    db = open_db(db_path)
    settings = Settings()
    cal = WorkCalendar()
    assert sweep_if_due(db, settings, cal, datetime(2021, 12, 1, 8, 59, tzinfo=TZ)) is None
    queued = sweep_if_due(db, settings, cal, datetime(2021, 12, 1, 9, 0, tzinfo=TZ))
    assert queued == outbox_count(db_path) > 0
    assert sweep_if_due(db, settings, cal, datetime(2021, 12, 1, 15, 0, tzinfo=TZ)) is None
    assert outbox_count(db_path) == queued
