"""销号 and 延期 as a workflow over the seed plan: who may apply, who decides, every refusal, the audit,
the applicant told, reminders stopping only on approval and following an approved new date.

Units by role come from the gold (/work/shared/gold/seed_tasks.json): list-13 has 主体责任单位 邵阳县,
牵头单位 市自然资源和规划局 and 配合单位 市生态环境局 among others; list-7's 2022-06-30 milestones are
bound one to 新邵县 and one to 武冈市.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.conversation import Conversation, Turn
from bot.ingest_cli import ingest_one
from knowledge import details, documents, numbered, people, progress, queries, review
from knowledge.db import open_db
from knowledge.sweep import sweep
from parser.units import UnitDirectory

from conftest import GOLD_SEED, SEED_TXT

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 12, 1, 10, 0, tzinfo=TZ)
ROSTER = [
    {"name": "张三", "dingtalk_id": "sy", "unit": "邵阳县", "role": "联络员"},  # 13: 主体责任单位
    {"name": "赵六", "dingtalk_id": "zr", "unit": "市自然资源和规划局", "role": "联络员"},  # 13: 牵头单位
    {"name": "钱七", "dingtalk_id": "eco", "unit": "市生态环境局", "role": "联络员"},  # 13: 配合单位 only
    {"name": "李四", "dingtalk_id": "xs", "unit": "新邵县", "role": "联络员"},
    {"name": "孙八", "dingtalk_id": "db", "unit": "市委督查室", "role": "督办"},
    {"name": "王五", "dingtalk_id": "admin", "unit": "市生态环境局", "role": "管理员"},
]


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "duban.db")
    ingest_one(SEED_TXT, db, UnitDirectory.load())
    people.replace_roster(db, ROSTER)
    return db


@pytest.fixture
def conv(db):
    return Conversation(db, UnitDirectory.load(), today=lambda: NOW.date(), now=lambda: NOW)


def say(conv, who: str, text: str) -> str:
    return conv.handle(Turn("dingtalk", who, text)).reply


def task(db, n: int):
    return numbered.task_by_number(db, n, "list")[0]


def audit(db) -> list[tuple]:
    return db.execute("SELECT user_id, action, allowed FROM audit ORDER BY id").fetchall()


def notices(db) -> list[tuple]:
    return db.execute("SELECT unit, title, body FROM outbox WHERE kind = 'notice' ORDER BY id").fetchall()


def sy_due(db) -> set:
    return {i.task.number for i in queries.due_items(db, unit="邵阳县")}


def test_gold_roles_the_tests_rely_on():
    gold = {f"{t['section']}-{t['number']}": t for t in json.loads(GOLD_SEED.read_text(encoding="utf-8"))["tasks"]}
    t13 = gold["list-13"]
    assert t13["principal_units"] == ["邵阳县"] and t13["lead_units"] == ["市自然资源和规划局"]
    assert "市生态环境局" in t13["cooperating_units"]


def test_principal_unit_applies_and_reminders_go_on_until_the_office_approves(db, conv):
    reply = say(conv, "sy", "申请销号 13：已完成招标")
    assert reply.startswith("已提交销号申请：第13项") and "审核" in reply
    assert task(db, 13).status == "open" and "13" in sy_due(db)
    assert [r.text for r in review.pending_reviews(db)] == ["已完成招标"]
    reply = say(conv, "db", "审核通过 13")
    assert reply.startswith("审核通过：第13项") and "已通知邵阳县" in reply
    assert task(db, 13).status == "completed" and "13" not in sy_due(db)
    assert not [r for r in sweep(db, [date(2021, 12, 31)]) if r.task_id == task(db, 13).id]
    (unit, title, body), = notices(db)
    assert unit == "邵阳县" and title == "审核通过：第13项" and "已审核通过" in body and "提醒停止" in body
    assert [e.kind for e in progress.history(db, task(db, 13).id)] == ["approve_close", "apply_close"]
    assert audit(db) == [("sy", "申请销号", 1), ("db", "销号审核通过", 1)]


def test_lead_unit_may_apply_and_the_old_close_command_becomes_an_application(db, conv):
    assert say(conv, "zr", "销号 13").startswith("已提交销号申请：第13项")
    assert task(db, 13).status == "open"


def test_a_cooperating_unit_alone_is_refused_and_the_attempt_audited(db, conv):
    reply = say(conv, "eco", "申请销号 13：已完成")
    assert reply == "市生态环境局不是第13项的牵头单位或主体责任单位，不能申请销号（配合单位请由牵头单位申请）。此次操作已记录。"
    assert review.pending_reviews(db) == [] and audit(db) == [("eco", "申请销号", 0)]


def test_closer_roles_are_configurable_per_document(db, conv):
    documents.set_closers(db, task(db, 13).document_id, ["lead_units"])
    assert "不能申请销号" in say(conv, "sy", "申请销号 13：已完成")
    assert say(conv, "zr", "申请销号 13：已完成").startswith("已提交销号申请")
    with pytest.raises(ValueError):
        documents.set_closers(db, task(db, 13).document_id, ["cooperating_units"])


def test_refusals_of_the_workflow(db, conv):
    assert say(conv, "db", "审核通过 13") == "第13项没有待审核的销号或延期申请。"
    say(conv, "sy", "申请销号 13：已完成招标")
    assert "已有待审核的销号申请" in say(conv, "zr", "申请销号 13")
    assert say(conv, "sy", "审核通过 13").startswith("只有督办办")  # an applicant cannot approve
    assert say(conv, "stranger", "审核通过 13").startswith("只有督办办")
    assert say(conv, "admin", "退回 13").startswith("退回须说明理由")
    assert task(db, 13).status == "open"
    assert ("sy", "销号审核通过", 0) in audit(db) and ("stranger", "销号审核通过", 0) in audit(db)
    assert say(conv, "stranger", "申请销号 13：完成了").startswith("您不在花名册中")


def test_returned_with_a_reason_the_applicant_is_told_and_may_apply_again(db, conv):
    say(conv, "sy", "申请销号 13：已完成招标")
    reply = say(conv, "admin", "退回 13：缺少验收材料")
    assert reply == "已退回第13项的销号申请（理由：缺少验收材料）；已通知邵阳县。"
    assert task(db, 13).status == "open" and "13" in sy_due(db)
    (unit, title, body), = notices(db)
    assert unit == "邵阳县" and "被退回，理由：缺少验收材料" in body
    assert say(conv, "sy", "申请销号 13：已补充验收材料").startswith("已提交销号申请")
    hist = progress.history(db, task(db, 13).id)
    assert [(e.kind, e.text) for e in hist][:2] == [("apply_close", "已补充验收材料"),
                                                   ("return_close", "缺少验收材料（申请单位：邵阳县）")]


def test_extension_moves_one_milestone_after_approval_and_keeps_the_old_date(db, conv):
    t7 = task(db, 7)
    before = {(i.due.isoformat(), tuple(i.units)) for i in details.milestones_of(db, t7.id)}
    assert ("2022-06-30", ("新邵县",)) in before and ("2022-06-30", ("武冈市",)) in before
    reply = say(conv, "xs", "申请延期 7：2022-06-30 延至 2022-09-30，因设备到货延迟")
    assert reply == ("已提交延期申请：第7项时限节点 2022-06-30 申请延至 2022-09-30（理由：设备到货延迟）。"
                     "督办办审核通过前仍按原时限提醒。")
    assert {(i.due.isoformat(), tuple(i.units)) for i in details.milestones_of(db, t7.id)} == before
    reply = say(conv, "db", "同意延期 7")
    assert reply.startswith("审核通过：第7项时限节点由 2022-06-30 延至 2022-09-30")
    after = {(i.due.isoformat(), tuple(i.units)) for i in details.milestones_of(db, t7.id)}
    assert ("2022-09-30", ("新邵县",)) in after and ("2022-06-30", ("武冈市",)) in after  # only 新邵县's moved
    xs = [i for i in queries.due_items(db, unit="新邵县") if i.task.number == "7"]
    assert "2022-09-30" in {i.due.isoformat() for i in xs} and "2022-06-30" not in {i.due.isoformat() for i in xs}
    assert review.extensions_of(db, t7.id) and list(review.extensions_of(db, t7.id).values()) == ["2022-06-30"]
    reminded = {r.due for r in sweep(db, [date(2022, 6, 30), date(2022, 9, 30)]) if r.unit == "新邵县"
                and r.task_id == t7.id}
    assert date(2022, 9, 30) in reminded and date(2022, 6, 30) not in reminded
    assert [e.kind for e in progress.history(db, t7.id)][:2] == ["approve_extension", "apply_extension"]
    shown = say(conv, "xs", "第7项什么时候完成")
    assert "- 2022-09-30（剩" in shown and "（原时限 2022-06-30，已批准延期）" in shown
    assert notices(db)[0][0] == "新邵县" and "延至 2022-09-30" in notices(db)[0][2]


def test_extension_refusals(db, conv):
    assert say(conv, "eco", "申请延期 13：2021-09-30 延至 2022-03-31，因汛期").startswith("市生态环境局不是第13项")
    assert "应晚于原时限" in say(conv, "sy", "申请延期 13：2021-09-30 延至 2021-08-31，因汛期")
    assert "请说明延期理由" in say(conv, "sy", "申请延期 13：2021-09-30 延至 2022-03-31")
    assert "请注明要延期的是哪一个" in say(conv, "sy", "申请延期 13：延至 2024-03-31，因汛期")
    assert "请写明新的时限" in say(conv, "sy", "申请延期 13：再给一个月")
    assert say(conv, "sy", "申请延期 13：2021-09-30 延至 2022-03-31，因汛期停工").startswith("已提交延期申请")
    assert "已有待审核的延期申请" in say(conv, "sy", "申请延期 13：2021-09-30 延至 2022-04-30，因汛期停工")
    assert say(conv, "db", "不同意延期 13：理由不充分").startswith("已退回第13项的延期申请")
    assert "2021-09-30" in {i.due.isoformat() for i in details.milestones_of(db, task(db, 13).id)}


def _revised(tmp_path):
    """The seed with one other task's wording changed (list-25's problem): a new version that keeps
    list-7 and list-13 as they are."""
    text = SEED_TXT.read_text(encoding="utf-8")
    gold = {f"{t['section']}-{t['number']}": t for t in json.loads(GOLD_SEED.read_text(encoding="utf-8"))["tasks"]}
    title = gold["list-25"]["title"]
    assert text.count(title) == 1
    path = tmp_path / SEED_TXT.name
    path.write_text(text.replace(title, title + "（经复核）"), encoding="utf-8")
    return path


def test_an_approved_extension_and_a_pending_application_outlive_a_revision(db, conv, tmp_path):
    say(conv, "xs", "申请延期 7：2022-06-30 延至 2022-09-30，因设备到货延迟")
    say(conv, "db", "同意延期 7")
    say(conv, "sy", "申请销号 13：已完成招标")
    result = ingest_one(_revised(tmp_path), db, UnitDirectory.load())
    assert result.status == "new_version" and result.version == 2
    t7 = task(db, 7)
    dues = {(i.due.isoformat(), tuple(i.units)) for i in details.milestones_of(db, t7.id)}
    assert ("2022-09-30", ("新邵县",)) in dues and ("2022-06-30", ("新邵县",)) not in dues
    assert list(review.extensions_of(db, t7.id).values()) == ["2022-06-30"]
    assert say(conv, "db", "审核通过 13").startswith("审核通过：第13项")
    assert task(db, 13).status == "completed" and "13" not in sy_due(db)


def test_every_refusal_is_audited_and_no_one_approves_their_own_application(db, conv):
    people.replace_roster(db, ROSTER + [{"name": "周九", "dingtalk_id": "zr-admin", "unit": "市自然资源和规划局",
                                         "role": "管理员"}])
    assert say(conv, "zr-admin", "申请销号 13：已完成").startswith("已提交销号申请")  # the lead unit's own 管理员
    assert say(conv, "zr-admin", "审核通过 13").startswith("不能审核本人提交的申请")
    assert task(db, 13).status == "open"
    assert say(conv, "admin", "审核通过 13").startswith("审核通过：第13项")
    say(conv, "sy", "申请销号 13")  # already closed
    say(conv, "db", "退回 7")  # nothing pending, no reason
    refused = [(u, a) for u, a, ok in audit(db) if not ok]
    assert refused == [("zr-admin", "销号审核通过"), ("sy", "申请销号"), ("db", "销号申请退回")]


def test_a_roster_may_name_the_督办_role(tmp_path):
    """督办 (the 督办 office's staff) is a roster role: a roster naming it imports, and it may review."""
    from conftest import run_cli
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,手机,钉钉userId,企业微信userid,单位,角色\n王督办,13800000001,dt-wang,,市政府办公室,督办\n",
                      encoding="utf-8")
    code, out, err = run_cli(["--db", str(tmp_path / "d.db"), "roster", "import", str(roster)])
    assert code == 0, err
    from knowledge.review import REVIEWER_ROLES
    assert "督办" in REVIEWER_ROLES
