"""Re-parsing: revised plans become new versions of the same document, tasks keep their identity
(progress, 销号, reminder history), exact diffs, one change notice per affected unit, re-planned
reminders, the watched inbox and the chat commands about documents.

The revisions are built here from the seed docx (../shared/fixtures/seed/shaoyang_plan.docx) with
python-docx, and the expected diffs are worked out by hand from ../shared/gold/seed_tasks.json:
  moved     list-7 整改时限 "2022 年 6 月 30 日前，新邵县…建成投产" → 2022 年 9 月 30 日 (bound to 新邵县;
            武冈市's own 2022-06-30 开工 milestone in the same sentence is unchanged)
  unit      市生态环境局 removed from list-2's 市直配合单位
  inserted  a new item 九 after item 八; old 九…二十五 renumbered 十…二十六
  withdrawn item 二十 (园区环境保护水平较低) deleted; the others keep their numbers
"""
from __future__ import annotations

import copy
import json
import shutil
import socket
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import docx
import pytest
from aiohttp import web
from docx.text.paragraph import Paragraph

from bot.cli import main
from bot.conversation import Conversation, Turn
from bot.inbox import Inbox
from bot.ingest_cli import ingest_one
from bot.platforms.dingtalk.sign import sign
from bot.reminders import enqueue_plan, plan_day, plan_json
from bot.sender import Sender
from bot.workdays import WorkCalendar
from knowledge import details, numbered, outbox, people, progress, queries
from knowledge.db import open_db
from parser.errors import DocumentError
from parser.units import UnitDirectory
from conftest import copy_store, store_content

TZ = ZoneInfo("Asia/Shanghai")
SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED_DOCX = SHARED / "fixtures" / "seed" / "shaoyang_plan.docx"
GOLD = SHARED / "gold" / "seed_tasks.json"
CN = ("一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六 十七 十八 十九 二十 二十一 二十二 二十三"
      " 二十四 二十五 二十六").split()
NEW_ITEM_TITLE = "城区黑臭水体治理成效不稳固，部分已完成整治的水体出现返黑返臭现象"
NEW_ITEM = [  # header, 督办领导, 主体责任单位, 牵头单位, 配合单位, 整改时限, 整改目标, "整改措施：", measure 1
    f"九、{NEW_ITEM_TITLE}。", "分管城市管理工作的副市长", "市城市管理和综合执法局", "市城市管理和综合执法局",
    "市水利局", "2023年6月30日前", "建立黑臭水体长效管护机制，已整治水体不返黑返臭。", None,
    "1. 开展黑臭水体返黑返臭排查，建立问题清单，逐一制定整改方案。"]
ROSTER = [
    {"name": "张三", "mobile": "13800000001", "dingtalk_id": "sy-zhangsan", "unit": "邵阳县", "role": "联络员"},
    {"name": "李四", "mobile": "13800000002", "dingtalk_id": "xs-lisi", "unit": "新邵县", "role": "联络员"},
    {"name": "王五", "mobile": "13800000003", "dingtalk_id": "admin-wangwu", "unit": "市生态环境局", "role": "管理员"},
]
DT_TOKEN = "versions-test-token"
DT_SECRET = "SECversions0123456789abcdef0123456789abcdef0123456789abcdef012345"


# ---- building revisions of the seed docx --------------------------------------------------


def _item(doc, n: int) -> list[Paragraph]:
    """The paragraphs of 清单 item n (its header up to the next item's header)."""
    ps = doc.paragraphs
    annex = next(i for i, p in enumerate(ps) if p.text == "附件")
    start = next(i for i, p in enumerate(ps) if i > annex and p.text.startswith(CN[n - 1] + "、"))
    end = next((i for i, p in enumerate(ps) if i > start and p.text.startswith(CN[n] + "、")), len(ps))
    return ps[start:end]


def _replace(p: Paragraph, old: str, new: str) -> None:
    for r in p.runs:
        if old in r.text:
            r.text = r.text.replace(old, new)
            return
    raise AssertionError(f"{old!r} not in {p.text[:60]!r}")


def move_date(doc) -> None:
    [p] = [p for p in _item(doc, 7) if p.text.startswith("整改时限：")]
    _replace(p, "2022 年 6 月 30 日前，新邵县", "2022 年 9 月 30 日前，新邵县")


def remove_unit(doc) -> None:
    [p] = [p for p in _item(doc, 2) if p.text.startswith("市直配合单位")]
    _replace(p, "市住房和城乡建设局、市生态环境局、", "市住房和城乡建设局、")


def insert_item(doc) -> None:
    for n in range(25, 8, -1):  # 二十五 → 二十六 … 九 → 十 (from the end: prefixes stay unique)
        _replace(_item(doc, n)[0], CN[n - 1] + "、", CN[n] + "、")
    eight = _item(doc, 8)
    anchor = eight[-1]._p
    for template, text in zip(eight[:len(NEW_ITEM)], NEW_ITEM):
        el = copy.deepcopy(template._p)
        anchor.addnext(el)
        anchor = el
        if text is not None:
            runs = Paragraph(el, template._parent).runs
            (runs[1] if len(runs) > 1 else runs[0]).text = text  # label run kept, value run replaced
            for r in runs[2:]:
                r.text = ""


def withdraw_item(doc) -> None:
    for p in _item(doc, 20):
        p._p.getparent().remove(p._p)


def move_earlier_and_add_unit(doc) -> None:
    item = _item(doc, 7)
    [p] = [p for p in item if p.text.startswith("整改时限：")]
    _replace(p, "2022 年 6 月 30 日前，新邵县", "2022 年 3 月 31 日前，新邵县")
    [p] = [p for p in item if p.text.startswith("市直配合单位")]
    _replace(p, "市生态环境局", "市生态环境局、市水利局")


def retitle(doc) -> None:
    doc.paragraphs[0].runs[0].text = "邵阳市第二轮中央生态环境保护督察整改方案（修订稿）"
    for r in doc.paragraphs[0].runs[1:]:
        r.text = ""


REVISIONS = {
    "moved": [move_date], "unit": [remove_unit], "inserted": [insert_item], "withdrawn": [withdraw_item],
    "moved_unit": [move_date, remove_unit], "moved_unit_inserted": [move_date, remove_unit, insert_item],
    "retitled": [retitle, move_date], "earlier_added": [move_earlier_and_add_unit],
}


@pytest.fixture(scope="module")
def gold() -> dict[str, dict]:
    if not SEED_DOCX.is_file() or not GOLD.is_file():
        pytest.skip(f"shared data not available at {SHARED}")
    return {f"{t['section']}-{t['number']}": t for t in json.loads(GOLD.read_text(encoding="utf-8"))["tasks"]}


@pytest.fixture(scope="module")
def revs(gold, tmp_path_factory) -> dict[str, Path]:
    """Each revision written once per module (file names are the plan's, as an office would send it)."""
    out: dict[str, Path] = {"seed": SEED_DOCX}
    for name, edits in REVISIONS.items():
        d = docx.Document(str(SEED_DOCX))
        for edit in edits:
            edit(d)
        path = tmp_path_factory.mktemp(name) / f"shaoyang_plan_{name}.docx"
        d.save(str(path))
        out[name] = path
    bad = tmp_path_factory.mktemp("bad") / "shaoyang_plan_v2.docx"
    data = SEED_DOCX.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # a revision cut off in transfer
    out["truncated"] = bad
    return out


@pytest.fixture(scope="module")
def directory() -> UnitDirectory:
    return UnitDirectory.load()


@pytest.fixture(scope="module")
def v1_template(revs, directory, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("v1") / "v1.db"
    db = open_db(path)
    assert ingest_one(SEED_DOCX, db, directory).status == "new"
    db.conn.close()
    return path


@pytest.fixture
def db_path(v1_template, tmp_path) -> Path:
    path = tmp_path / "duban.db"
    copy_store(v1_template, path)
    return path


@pytest.fixture
def db(db_path):
    return open_db(db_path)


# ---- expected diffs, by hand from the gold --------------------------------------------------


def moved_change(gold) -> dict:
    g = gold["list-7"]
    m = g["milestones"][0]
    assert (m["due"], m["units"]) == ("2022-06-30", ["新邵县"])
    return {"section": "list", "number": 7, "title": g["title"], "before_number": 7, "changes": [
        {"field": "deadline_text", "before": g["deadline_text"],
         "after": g["deadline_text"].replace("2022 年 6 月 30 日前，新邵县", "2022 年 9 月 30 日前，新邵县")},
        {"field": "milestone_due", "text": m["text"].replace("6 月", "9 月"), "units": ["新邵县"],
         "before": "2022-06-30", "after": "2022-09-30"}]}


def unit_change(gold) -> dict:
    g = gold["list-2"]
    assert "市生态环境局" in g["cooperating_units"]
    return {"section": "list", "number": 2, "title": g["title"], "before_number": 2, "changes": [
        {"field": "cooperating_units", "unit": "市生态环境局", "before": "removed", "after": None}]}


def expected_diff(name: str, gold) -> dict:
    if name == "moved":
        return {"added": [], "withdrawn": [], "changed": [moved_change(gold)]}
    if name == "unit":
        return {"added": [], "withdrawn": [], "changed": [unit_change(gold)]}
    if name == "moved_unit":  # changed tasks in the new version's order: list-2 before list-7
        return {"added": [], "withdrawn": [], "changed": [unit_change(gold), moved_change(gold)]}
    if name == "inserted":
        return {"added": [{"section": "list", "number": 9, "title": NEW_ITEM_TITLE}], "withdrawn": [],
                "changed": [{"section": "list", "number": n + 1, "title": gold[f"list-{n}"]["title"],
                             "before_number": n, "changes": [{"field": "number", "before": str(n),
                                                              "after": str(n + 1)}]} for n in range(9, 26)]}
    if name == "withdrawn":
        return {"added": [], "withdrawn": [{"section": "list", "number": 20, "title": gold["list-20"]["title"]}],
                "changed": []}
    raise KeyError(name)


def cli_json(capsys, *argv) -> dict:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def cli_text(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def current(db, number: int, section: str = "list"):
    [t] = numbered.task_by_number(db, number, section)
    return t


def uid_of(db, number: int, version: int) -> int:
    return db.execute("SELECT uid FROM tasks WHERE section='list' AND number=? AND version=?",
                      [str(number), version]).fetchone()[0]


def conversation(db, inbox=None, at=datetime(2022, 5, 20, 10, 0, tzinfo=TZ)) -> Conversation:
    return Conversation(db, UnitDirectory.load(), today=lambda: at.date(), now=lambda: at, inbox=inbox)


def say(conv: Conversation, user_id: str, text: str) -> str:
    return conv.handle(Turn("dingtalk", user_id, text)).reply


# ---- diffs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["moved", "unit", "inserted", "withdrawn"])
def test_each_revision_gives_the_exact_diff_between_files_and_on_ingest(name, revs, gold, db, directory, capsys):
    want = expected_diff(name, gold)
    assert cli_json(capsys, "diff", revs["seed"], revs[name], "--json") == want
    r = ingest_one(revs[name], db, directory)
    assert (r.status, r.version) == ("new_version", 2)
    assert r.diff == want  # the stored version compared with the parsed file: the same answer


def test_shifted_items_keep_their_identity_and_are_not_withdrawn_and_re_added(revs, db, directory):
    ingest_one(revs["inserted"], db, directory)
    for n in range(9, 26):
        assert uid_of(db, n, 1) == uid_of(db, n + 1, 2), f"old {n} / new {n + 1}"
    assert db.execute("SELECT count(*) FROM tasks WHERE status='withdrawn'").fetchone()[0] == 0
    assert uid_of(db, 9, 2) not in {uid_of(db, n, 1) for n in range(1, 26)}  # the inserted item is new
    assert current(db, 9).title == NEW_ITEM_TITLE


def test_withdrawn_task_is_kept_but_marked_and_leaves_the_current_list(revs, db, directory):
    ingest_one(revs["withdrawn"], db, directory)
    assert db.execute("SELECT version, status FROM tasks WHERE section='list' AND number='20' ORDER BY version"
                      ).fetchall() == [(1, "withdrawn")]
    assert numbered.task_by_number(db, 20, "list") == []
    assert len(queries.current_tasks(db)) == 37
    assert [s["withdrawn"] for s in progress.status_summary(db)] == [0]  # v1's row is not in the current version
    # nobody's due list has it any more, nor any other row of version 1
    assert not [i for i in queries.due_items(db, include_done=True) if i.task.number == "20"]
    assert {r[0] for r in db.execute("SELECT DISTINCT t.version FROM unit_due u JOIN tasks t ON t.id = u.task_id")} == {2}


def test_diff_of_stored_versions_equals_diff_of_the_two_files(revs, gold, db_path, directory, capsys):
    db = open_db(db_path)
    ingest_one(revs["moved_unit"], db, directory)
    by_doc = cli_json(capsys, "--db", db_path, "diff", "1", "--json")
    title = db.execute("SELECT title FROM documents").fetchone()[0]
    by_title = cli_json(capsys, "--db", db_path, "diff", title, "--from", "1", "--to", "2", "--json")
    by_files = cli_json(capsys, "diff", revs["seed"], revs["moved_unit"], "--json")
    assert by_doc == by_title == by_files == expected_diff("moved_unit", gold)
    code, out = cli_text(capsys, "--db", db_path, "diff", "1", "--from", "3", "--json")
    assert code == 2 and "没有第 3 版" in out


# ---- document identity -------------------------------------------------------------------------


def test_revision_with_the_same_title_is_version_2_of_the_same_document(revs, db, directory):
    r = ingest_one(revs["moved"], db, directory)
    assert (r.document_id, r.version, r.status, r.tasks) == (1, 2, "new_version", 38)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert db.execute("SELECT id, current_version FROM documents").fetchall() == [(1, 2)]
    assert db.execute("SELECT version, count(*) FROM tasks GROUP BY version").fetchall() == [(1, 38), (2, 38)]
    assert [d.due.isoformat() for d in details.milestones_of(db, current(db, 7).id)] == [
        "2022-09-30", "2022-12-31", "2022-06-30", "2024-06-30"]


def test_revision_under_another_title_with_the_same_tasks_is_a_new_version(revs, db, directory):
    r = ingest_one(revs["retitled"], db, directory)
    assert (r.document_id, r.version, r.status) == (1, 2, "new_version")
    assert db.execute("SELECT title FROM documents").fetchall() == [("邵阳市第二轮中央生态环境保护督察整改方案（修订稿）",)]
    assert [c["number"] for c in r.diff["changed"]] == [7]


def test_replaces_option_names_the_document_by_id_or_title(revs, db_path, capsys):
    code, out = cli_text(capsys, "--db", db_path, "ingest", revs["withdrawn"], "--replaces", "1")
    assert code == 0 and "新版本" in out
    title = open_db(db_path).execute("SELECT title FROM documents").fetchone()[0]
    code, out = cli_text(capsys, "--db", db_path, "ingest", revs["moved"], "--replaces", title)
    assert code == 0
    assert open_db(db_path).execute("SELECT id, current_version FROM documents").fetchall() == [(1, 3)]
    before = store_content(db_path)
    code, out = cli_text(capsys, "--db", db_path, "ingest", revs["unit"], "--replaces", "99")
    assert code == 2 and "没有找到要替换的文件：99" in out
    assert store_content(db_path) == before


def test_the_identical_file_again_changes_nothing(revs, db_path, directory, capsys):
    db = open_db(db_path)
    ingest_one(revs["moved"], db, directory)
    code, status_before = cli_text(capsys, "--db", db_path, "status")
    before = store_content(db_path)
    r = ingest_one(revs["moved"], db, directory)
    assert (r.status, r.version, r.tasks) == ("unchanged", 2, 38)
    code, out = cli_text(capsys, "--db", db_path, "ingest", revs["moved"])
    assert code == 0 and "未变化" in out
    assert store_content(db_path) == before
    assert cli_text(capsys, "--db", db_path, "status")[1] == status_before


def test_a_truncated_revision_leaves_the_current_version_untouched(revs, db_path, directory, capsys):
    db = open_db(db_path)
    before = store_content(db_path)
    with pytest.raises(DocumentError, match="损坏或不完整"):
        ingest_one(revs["truncated"], db, directory)
    code, out = cli_text(capsys, "--db", db_path, "ingest", revs["truncated"])
    assert code == 2 and "损坏或不完整" in out
    assert store_content(db_path) == before
    assert db.execute("SELECT current_version FROM documents").fetchall() == [(1,)]


# ---- 销号 and progress carry over --------------------------------------------------------------


def test_completed_task_and_its_progress_survive_revisions_and_renumbering(revs, db_path, directory, capsys):
    db = open_db(db_path)
    people.replace_roster(db, ROSTER)
    conv = conversation(db)
    assert say(conv, "xs-lisi", "进展 7：焚烧炉已安装").startswith("已记录第7项进展")
    assert say(conv, "sy-zhangsan", "销号 13").startswith("已提交销号申请：第13项")  # 邵阳县: 主体责任单位
    assert current(db, 13).status == "open"  # reminded until the 督办 office approves
    assert say(conv, "admin-wangwu", "审核通过 13").startswith("审核通过：第13项")
    completed_by = current(db, 13)

    ingest_one(revs["moved_unit"], db, directory)  # v2: list-13 untouched, list-7 changed
    t13 = current(db, 13)
    assert t13.status == "completed"
    assert not [i for i in queries.due_items(db, unit="邵阳县") if i.task.number == "13"]  # closed stays closed
    assert db.execute("SELECT completed_by FROM tasks WHERE id=?", [t13.id]).fetchone() == ("张三",)
    assert [(e.kind, e.official) for e in progress.history(db, t13.id)] == [("approve_close", "王五"),
                                                                             ("apply_close", "张三")]
    assert [(e.kind, e.text) for e in progress.history(db, current(db, 7).id)] == [("progress", "焚烧炉已安装")]
    code, out = cli_text(capsys, "--db", db_path, "status")
    assert out.count("已销号 第13项") == 1, out
    assert "37" in out and "2022-05-20T10:00:00" in out  # 37 open, the latest report
    assert [(s["version"], s["open"], s["completed"]) for s in progress.status_summary(db)] == [(2, 37, 1)]

    ingest_one(revs["moved_unit_inserted"], db, directory)  # v3: old 13 is now 14
    assert current(db, 14).status == "completed" and current(db, 14).title == completed_by.title
    assert current(db, 13).status == "open"
    assert uid_of(db, 13, 1) == uid_of(db, 13, 2) == uid_of(db, 14, 3)
    assert [e.kind for e in progress.history(db, current(db, 14).id)] == ["approve_close", "apply_close"]
    assert say(conv, "sy-zhangsan", "销号 14") == "第14项已经销号。"
    code, out = cli_text(capsys, "--db", db_path, "status")
    assert out.count("已销号 第14项") == 1 and "已销号 第13项" not in out, out


# ---- change notices ---------------------------------------------------------------------------


class FakeDingTalkRobot:
    """A DingTalk custom robot that checks the access token and 加签 (timestamp + HMAC sign)."""

    def __init__(self):
        self.received: list[dict] = []
        self.refused: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("access_token") != DT_TOKEN:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        ts = q.get("timestamp", "")
        if not ts.isdigit() or q.get("sign") != sign(DT_SECRET, ts) or abs(time.time() * 1000 - int(ts)) > 3.6e6:
            self.refused.append(ts)
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        self.received.append(json.loads(await request.read()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def notices(db) -> dict[str, tuple[str, str]]:
    rows = db.execute("SELECT unit, status, body FROM outbox WHERE kind='notice' ORDER BY id").fetchall()
    assert len({u for u, _, _ in rows}) == len(rows), "one notice per unit"
    return {u: (s, b) for u, s, b in rows}


async def test_each_affected_unit_gets_one_notice_delivered_through_its_channel(
        revs, db, directory, aiohttp_server, caplog):
    fake = FakeDingTalkRobot()
    app = web.Application()
    app.router.add_post("/robot/send", fake.handle)
    server = await aiohttp_server(app)
    outbox.set_channel(db, "新邵县", "dingtalk_robot",
                       {"webhook_url": str(server.make_url(f"/robot/send?access_token={DT_TOKEN}")),
                        "secret": DT_SECRET})
    outbox.set_channel(db, "市生态环境局", "console", {"logger": "duban.test.versions"})

    ingest_one(revs["moved_unit"], db, directory)
    got = notices(db)
    assert set(got) == {"新邵县", "市生态环境局"}  # not 武冈市: its own 2022-06-30 item did not move
    assert {u: s for u, (s, _) in got.items()} == {"新邵县": "pending", "市生态环境局": "pending"}
    title = db.execute("SELECT title FROM documents").fetchone()[0]
    assert got["新邵县"][1].splitlines()[1:-1] == [
        f"《{title}》已更新为第2版，涉及您单位的变化：",
        "- 第7项“2022 年 9 月 30 日前，新邵县垃圾焚烧发电项目建成”时限由 2022-06-30 调整为 2022-09-30（推迟）"]
    assert got["市生态环境局"][1].splitlines()[2:-1] == ["- 您单位不再是第2项的配合单位"]

    caplog.set_level("INFO", logger="duban.test.versions")
    async with aiohttp.ClientSession() as session:
        counts = await Sender(db, session).drain()
    assert counts == {"sent": 2, "retry": 0, "failed": 0}
    assert fake.refused == [] and len(fake.received) == 1
    text = fake.received[0]["markdown"]["text"]
    assert "第7项" in text and "2022-09-30" in text and "推迟" in text and "新邵县" in text
    assert "不再是第2项的配合单位" in caplog.text
    assert db.execute("SELECT unit, status FROM outbox WHERE kind='notice' ORDER BY unit").fetchall() == [
        ("市生态环境局", "sent"), ("新邵县", "sent")]


def test_date_moved_earlier_and_unit_added_are_told_to_the_units_concerned(revs, db, directory):
    ingest_one(revs["earlier_added"], db, directory)
    got = notices(db)
    assert set(got) == {"新邵县", "市水利局"}
    assert got["新邵县"][1].splitlines()[2:-1] == [
        "- 第7项“2022 年 3 月 31 日前，新邵县垃圾焚烧发电项目建成”时限由 2022-06-30 调整为 2022-03-31（提前）"]
    assert got["市水利局"][1].splitlines()[2:-1] == ["- 您单位新增为第7项的配合单位"]


def test_units_without_a_channel_get_their_notice_recorded_as_no_channel(revs, db, directory):
    ingest_one(revs["inserted"], db, directory)
    got = notices(db)
    assert {s for s, _ in got.values()} == {"no_channel"}
    # the new item's units are told about it, with their role; renumbered items are named old → new
    water = got["市水利局"][1]
    assert f"- 新增任务：第9项 {NEW_ITEM_TITLE[:40]}（您单位为配合单位）" in water
    assert "- 原第9项调整为第10项" not in water  # 市水利局 is not on old list-9
    assert "- 原第13项调整为第14项" in got["邵阳县"][1]


def test_withdrawn_task_is_announced_to_its_units(revs, db, directory, gold):
    ingest_one(revs["withdrawn"], db, directory)
    got = notices(db)
    line = f"- 任务已撤销：原第20项 {gold['list-20']['title']}"  # 园区环境保护水平较低
    # list-20: 市生态环境局, 市发展和改革委员会, 各县市区 (12 divisions), 邵阳经开区; no other change
    assert set(got) == {"市生态环境局", "市发展和改革委员会", "邵阳经开区", "双清区", "大祥区", "北塔区", "邵东市",
                        "武冈市", "新邵县", "邵阳县", "隆回县", "洞口县", "绥宁县", "新宁县", "城步苗族自治县"}
    assert all(b.splitlines()[2:-1] == [line] for _, b in got.values())


# ---- reminders re-planned after a moved date ------------------------------------------------------


def _reminders_of(db, unit: str, statuses=("pending",)) -> list[tuple]:
    marks = ",".join("?" * len(statuses))
    return sorted(db.execute(
        f"SELECT t.section, t.number, m.due, r.kind, o.id FROM reminders r JOIN outbox o ON o.id = r.message_id"
        f" JOIN milestones m ON m.id = r.milestone_id JOIN tasks t ON t.id = m.task_id"
        f" WHERE o.unit = ? AND o.status IN ({marks})", [unit, *statuses]).fetchall())


async def test_queued_reminder_for_a_moved_date_is_cancelled_and_the_day_re_planned(revs, db, directory):
    with socket.socket() as s:  # a port nobody listens on: the robot is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outbox.set_channel(db, "新邵县", "dingtalk_robot",
                       {"webhook_url": f"http://127.0.0.1:{port}/robot/send?access_token={DT_TOKEN}",
                        "secret": DT_SECRET, "timeout_s": 2})
    today = date(2022, 5, 31)  # 30 days before 2022-06-30
    now = datetime(2022, 5, 31, 8, 30, tzinfo=TZ)
    enqueue_plan(db, plan_day(db, today, WorkCalendar()), now)
    outbox.record_sweep(db, today.isoformat(), now)
    queued = _reminders_of(db, "新邵县")
    old_digest = {q[4] for q in queued}
    assert len(old_digest) == 1
    assert ("list", "7", "2022-06-30", "lead") in [q[:4] for q in queued]
    assert ("body", "（三）", "2022-06-30", "lead") in [q[:4] for q in queued]
    async with aiohttp.ClientSession() as session:
        assert await Sender(db, session, now=lambda: now).drain() == {"sent": 0, "retry": 1, "failed": 0}
    assert db.execute("SELECT status, attempts FROM outbox WHERE id=?", list(old_digest)).fetchone() == ("pending", 1)

    ingest_one(revs["moved"], db, directory, today=today)
    assert db.execute("SELECT status FROM outbox WHERE id=?", list(old_digest)).fetchone() == ("cancelled",)
    replanned = _reminders_of(db, "新邵县")
    assert replanned and {q[4] for q in replanned}.isdisjoint(old_digest)
    assert ("list", "7", "2022-06-30", "lead") not in [q[:4] for q in replanned]
    assert sorted(q[:4] for q in replanned) == sorted(q[:4] for q in queued if q[:2] != ("list", "7"))
    # 武冈市's 2022-06-30 开工 is unchanged: still recorded once (no channel), not cancelled or repeated
    wugang = _reminders_of(db, "武冈市", ("no_channel", "cancelled"))
    assert [q[:4] for q in wugang].count(("list", "7", "2022-06-30", "lead")) == 1

    later = plan_json(plan_day(db, date(2022, 8, 31), WorkCalendar()))
    [xinshao] = [m for m in later if m["unit"] == "新邵县"]
    assert {"section": "list", "number": 7, "due": "2022-09-30", "kind": "lead"} in xinshao["items"]
    assert all(i["due"] != "2022-09-30" or i["number"] != 7
               for m in later if m["unit"] != "新邵县" for i in m["items"])


# ---- the watched inbox ---------------------------------------------------------------------------


def test_half_copied_file_is_not_read_until_it_settles_then_moves_to_done(revs, db, directory, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    inbox = Inbox(folder, settle_seconds=0.4)
    (folder / "shaoyang_plan_v2.docx.part").write_bytes(b"partial download")
    (folder / ".~lock.shaoyang_plan_v2.docx#").write_bytes(b"lock")
    data = revs["moved"].read_bytes()
    target = folder / "shaoyang_plan_v2.docx"
    with target.open("wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        assert inbox.scan(db, directory) == []
        time.sleep(0.1)
        assert inbox.scan(db, directory) == []
        f.write(data[len(data) // 2:])
    assert inbox.scan(db, directory) == []  # size and mtime just changed: wait again
    assert db.execute("SELECT count(*) FROM inbox_log").fetchone() == (0,)
    time.sleep(0.45)
    [line] = inbox.scan(db, directory)
    assert "第2版" in line and "变更 1 项" in line
    assert not target.exists()
    assert [p.name.endswith("-shaoyang_plan_v2.docx") for p in (folder / "done").iterdir()] == [True]
    assert sorted(p.name for p in folder.iterdir()) == [".~lock.shaoyang_plan_v2.docx#", "done",
                                                        "shaoyang_plan_v2.docx.part"]
    assert db.execute("SELECT file, status, version FROM inbox_log").fetchall() == [
        ("shaoyang_plan_v2.docx", "new_version", 2)]


def test_garbage_file_goes_to_failed_with_its_reason_and_a_log_row(db, directory, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "整改方案修订.docx").write_bytes(b"this is not a word document " * 20)
    before = db.execute("SELECT count(*) FROM tasks").fetchone()
    [line] = Inbox(folder, settle_seconds=0).scan(db, directory, force=True)
    assert "解析失败" in line and "failed/" in line
    failed = sorted(p.name for p in (folder / "failed").iterdir())
    assert len(failed) == 2 and failed[0].endswith("-整改方案修订.docx") and failed[1] == failed[0] + ".error.txt"
    assert "不是有效的 Word 文档" in (folder / "failed" / failed[1]).read_text(encoding="utf-8")
    assert db.execute("SELECT file, status FROM inbox_log").fetchall() == [("整改方案修订.docx", "failed")]
    assert db.execute("SELECT count(*) FROM tasks").fetchone() == before
    assert db.execute("SELECT current_version FROM documents").fetchall() == [(1,)]


def _watch_until(inbox, db, done, seconds: float = 60.0) -> None:
    """Run the server's inbox watcher (its worker process ingests) until done() or the time is up."""
    import asyncio

    from bot.inbox import watch

    async def run():
        task = asyncio.create_task(watch(inbox, db, poll=0.2))
        try:
            for _ in range(int(seconds / 0.2)):
                if done():
                    return
                await asyncio.sleep(0.2)
        finally:
            task.cancel()

    asyncio.run(run())
    assert done()


def test_rescan_is_refused_and_logged_for_a_non_admin_and_done_for_an_admin(revs, db, directory, tmp_path):
    people.replace_roster(db, ROSTER)
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(revs["moved"], folder / "修订稿.docx")
    conv = conversation(db, inbox=Inbox(folder, settle_seconds=60))
    assert say(conv, "sy-zhangsan", "重新解析") == "只有管理员可以重新解析文件。此次操作已记录。"
    assert say(conv, "stranger", "重新解析") == "只有管理员可以重新解析文件。此次操作已记录。"
    assert db.execute("SELECT user_id, action, allowed FROM audit ORDER BY id").fetchall() == [
        ("sy-zhangsan", "重新解析", 0), ("stranger", "重新解析", 0)]
    assert (folder / "修订稿.docx").exists()
    assert db.execute("SELECT current_version FROM documents").fetchall() == [(1,)]

    reply = say(conv, "admin-wangwu", "重新解析")  # not settled yet (60 s), but forced: by the watcher
    assert reply.startswith("已安排重新解析收件箱中的 1 个文件") and (folder / "修订稿.docx").exists()
    assert db.execute("SELECT allowed FROM audit WHERE user_id='admin-wangwu'").fetchall() == [(1,)]
    _watch_until(conv.inbox, db, lambda: not (folder / "修订稿.docx").exists())
    assert db.execute("SELECT file, status, version FROM inbox_log").fetchall() == [("修订稿.docx", "new_version", 2)]

    listing = say(conv, "stranger", "文件列表").splitlines()
    title = db.execute("SELECT title FROM documents").fetchone()[0]
    assert len(listing) == 4 and listing[:2] == ["**已入库文件**", f"- [1] {title}（当前第2版）"]
    assert listing[2].startswith("  第2版：修订稿.docx，") and listing[3].startswith("  第1版：shaoyang_plan.docx，")


def test_history_question_lists_each_versions_deadline(revs, db, directory, gold):
    ingest_one(revs["moved"], db, directory)
    conv = conversation(db)
    old, new = gold["list-7"]["deadline_text"], moved_change(gold)["changes"][0]["after"]
    want = ["**第7项的历次版本**",
            f"- 第1版（当时编号7）：整改时限“{old}”；时限节点：2022-06-30、2022-12-31、2024-06-30",
            f"- 第2版（当时编号7）：整改时限“{new}”；时限节点：2022-06-30、2022-09-30、2022-12-31、2024-06-30"]
    assert say(conv, "anyone", "第7项原来的整改时限是什么").splitlines() == want
    assert say(conv, "anyone", "第七项原来的整改时限是什么").splitlines() == want


def test_history_of_a_withdrawn_task_says_it_was_withdrawn(revs, db, directory, gold):
    ingest_one(revs["withdrawn"], db, directory)
    assert say(conversation(db), "anyone", "第二十项原来的整改时限是什么") == (
        f"第20项只有一个版本（第1版），整改时限：{gold['list-20']['deadline_text']}。该项已在新版本中撤销。")


def test_history_follows_a_renumbered_task_to_its_old_number(revs, db, directory, gold):
    ingest_one(revs["inserted"], db, directory)
    reply = say(conversation(db), "anyone", "第14项之前的整改时限是什么")
    assert reply.splitlines()[0] == "**第14项的历次版本**"
    assert "- 第1版（当时编号13）：" in reply and "- 第2版（当时编号14）：" in reply
    assert gold["list-13"]["deadline_text"] in reply
