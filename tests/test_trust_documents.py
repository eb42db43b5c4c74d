"""One identity per document, `duban remove`, the example plan kept apart, versions only on real change.

Real inputs: the seed (.txt, and the same plan as .docx/.pdf from the fixtures), the bundled example plan.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.conversation import Conversation, Turn
from bot.example_plan import load_example
from bot.ingest_cli import ingest_one
from knowledge import documents, numbered, outbox, queries
from knowledge.db import open_db
from knowledge.sweep import sweep
from parser.units import UnitDirectory

from conftest import FIXTURES, SEED_TXT, run_cli

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "data" / "example_plan.txt"
EXAMPLE_TITLE = "邵阳市2026年城乡人居环境问题整改方案"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def directory():
    return UnitDirectory.load()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "duban.db"


def say(db, directory, text, as_unit=None, today=date(2026, 3, 2)) -> str:
    conv = Conversation(db, directory, today=lambda: today, now=lambda: NOW)
    return conv.handle(Turn("local", "local", text, as_unit=as_unit)).reply


def two_plans(db_path, directory):
    """The example first (document 1, as a demo store starts), then — in a store that is not a demo —
    the seed as document 2 and the example again, real this time, as document 3."""
    db = open_db(db_path)
    ingest_one(SEED_TXT, db, directory)
    ingest_one(EXAMPLE, db, directory)
    return db


# ---- one identity ---------------------------------------------------------------------------

def test_answer_labels_list_numbers_and_close_commands_use_the_same_number(db_path, directory):
    db = open_db(db_path)
    ingest_one(EXAMPLE, db, directory)  # document 1 (a real ingest of it: not marked as example)
    ingest_one(SEED_TXT, db, directory)  # document 2
    seed_id = db.execute("SELECT id FROM documents WHERE title = 'shaoyang_rectification_plan'").fetchone()[0]
    assert seed_id == 2
    listing = say(db, directory, "文件列表")
    assert "- [2] shaoyang_rectification_plan" in listing and f"- [1] {EXAMPLE_TITLE}" in listing
    late = say(db, directory, "逾期任务", as_unit="市交通运输局", today=date(2027, 11, 28))
    # the legend names each plan by the number 文件列表 shows, whatever order the answer meets them in
    assert "〔文件2〕《shaoyang_rectification_plan》" in late and f"〔文件1〕《{EXAMPLE_TITLE}》" in late
    lines = [ln for ln in late.splitlines() if ln.startswith("- **")]
    assert any("〔文件2〕" in ln for ln in lines) and any("〔文件1〕" in ln for ln in lines)
    # "2-8" is document 2's item 8 (the seed's), not the example's
    reply = say(db, directory, "进展 2-8：已完成方案编制", as_unit="市城市管理和综合执法局")
    assert reply.startswith("已记录第8项进展")
    seed8 = numbered.task_by_number(db, 8, "list")
    hist = {t.document_id: [r[0] for r in db.execute("SELECT text FROM progress WHERE task_id=?", [t.id])]
            for t in seed8}
    assert hist[2] == ["已完成方案编制"] and not hist.get(1)


def test_numbers_stay_the_same_after_a_restart_and_a_new_document(db_path, directory):
    db = two_plans(db_path, directory)
    before = {d.id: d.title for d in documents.all_documents(db)}
    db.conn.close()
    db = open_db(db_path)  # a restart
    ingest_one(FIXTURES / "table" / "shaoyang_list_table.docx", db, directory)
    after = {d.id: d.title for d in documents.all_documents(db)}
    assert {k: after[k] for k in before} == before


def test_cli_show_and_tasks_take_doc(db_path, directory):
    two_plans(db_path, directory).conn.close()
    code, out, err = run_cli(["--db", str(db_path), "show", "3", "--doc", "2", "--today", "2026-03-02"])
    assert code == 0, err
    assert out.count("文件") == 1 and f"文件2《{EXAMPLE_TITLE}》" in out
    code, out, _ = run_cli(["--db", str(db_path), "show", "3", "--today", "2026-03-02"])
    assert "文件1《shaoyang_rectification_plan》" in out and f"文件2《{EXAMPLE_TITLE}》" in out
    code, out, _ = run_cli(["--db", str(db_path), "tasks", "--doc", "1", "--today", "2021-12-01"])
    assert code == 0 and "第13项" in out and "〔文件" not in out  # one document: no tags needed
    code, _, err = run_cli(["--db", str(db_path), "show", "3", "--doc", "9"])
    assert code == 2 and "没有编号或标题为“9”的文件" in err


def test_json_output_carries_the_document_number(db_path, directory):
    two_plans(db_path, directory).conn.close()
    code, out, _ = run_cli(["--db", str(db_path), "ask", "逾期任务", "--today", "2027-06-01", "--json"])
    tasks = json.loads(out)["tasks"]
    assert {t["document"] for t in tasks} == {1, 2}
    assert {t["plan"] for t in tasks if t["document"] == 2} == {EXAMPLE_TITLE}


# ---- duban remove -----------------------------------------------------------------------------

def test_remove_takes_a_document_out_of_answers_and_reminders_but_keeps_its_history(db_path, directory):
    db = two_plans(db_path, directory)
    say(db, directory, "进展 1-13：已完成修复工程招标", as_unit="邵阳县")
    db.conn.close()
    code, out, err = run_cli(["--db", str(db_path), "remove", "1"])
    assert code == 0, err
    assert "已移除文件1《shaoyang_rectification_plan》" in out
    db = open_db(db_path)
    late = say(db, directory, "逾期任务", today=date(2027, 6, 1))
    assert "〔文件" not in late and "shaoyang" not in late
    assert {i.task.document_id for i in queries.due_items(db)} == {2}
    assert say(db, directory, "第13项谁牵头").startswith("没有找到第13项任务")  # the example has no item 13
    assert not [r for r in sweep(db, [date(2021, 12, 31), date(2022, 6, 30)]) if r.task_id in
                {t for (t,) in db.execute("SELECT id FROM tasks WHERE document_id = 1")}]
    listing = say(db, directory, "文件列表")
    assert "- [1]" not in listing and "已移除：[1] shaoyang_rectification_plan" in listing
    # the history and the audit stay
    assert db.execute("SELECT count(*) FROM progress WHERE text = '已完成修复工程招标'").fetchone()[0] == 1
    assert db.execute("SELECT action FROM audit WHERE action = '移除文件'").fetchall() == [("移除文件",)]
    code, out, _ = run_cli(["--db", str(db_path), "remove", "1"])
    assert code == 0 and "无需再次移除" in out
    code, _, err = run_cli(["--db", str(db_path), "remove", "没有这个文件"])
    assert code == 2 and "没有编号或标题" in err


def test_ingesting_a_removed_document_again_restores_it(db_path, directory):
    db = two_plans(db_path, directory)
    documents.archive(db, 1, at=NOW)
    ingest_one(SEED_TXT, db, directory)
    assert documents.get(db, 1).active and documents.get(db, 1).current_version == 1
    assert 1 in {i.task.document_id for i in queries.due_items(db)}


# ---- the example plan --------------------------------------------------------------------------

def test_example_is_loaded_only_into_an_empty_store_and_never_reminded(db_path, directory):
    db = open_db(db_path)
    note = load_example(db, directory)
    assert note.startswith(f"《{EXAMPLE_TITLE}》（文件1，示例") and "duban remove 1" in note
    assert load_example(db, directory) is None
    assert documents.get(db, 1).example
    outbox.set_channel(db, "市生态环境局", "console", {})
    assert queries.due_items(db, unit="市生态环境局")  # it answers questions …
    days = [date(2026, 1, 1) + (date(2026, 1, 2) - date(2026, 1, 1)) * i for i in range(366)]
    assert sweep(db, days) == []  # … but is never reminded about
    assert "示例" in say(db, directory, "文件列表")


def test_first_real_ingest_removes_the_example_and_says_so(db_path, directory):
    db = open_db(db_path)
    load_example(db, directory)
    result = ingest_one(SEED_TXT, db, directory)
    assert result.warnings[0] == (f"已移除示例文件《{EXAMPLE_TITLE}》（文件1），示例任务不再出现在回答和提醒中")
    assert {i.task.document_id for i in queries.due_items(db)} == {result.document_id}
    assert not documents.get(db, 1).active
    code, out, _ = run_cli(["--db", str(db_path), "ingest", str(FIXTURES / "table" / "shaoyang_list_table.docx")])
    assert "已移除示例文件" not in out  # said once


def test_a_store_that_is_not_empty_never_gets_the_example(db_path, directory):
    db = open_db(db_path)
    ingest_one(SEED_TXT, db, directory)
    documents.archive(db, 1, at=NOW)
    assert load_example(db, directory) is None  # held a document once: not a demo store


# ---- versions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("first,second", [("docx", "pdf"), ("txt", "docx")])
def test_the_same_plan_in_another_format_is_no_new_version(db_path, directory, first, second):
    files = {"txt": SEED_TXT, "docx": FIXTURES / "seed" / "shaoyang_plan.docx",
             "pdf": FIXTURES / "seed" / "shaoyang_plan.pdf"}
    db = open_db(db_path)
    a = ingest_one(files[first], db, directory)
    b = ingest_one(files[second], db, directory)
    assert (b.status, b.document_id, b.version) == ("unchanged", a.document_id, 1)
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert ingest_one(files[second], db, directory).status == "unchanged"  # known by its digest now


def test_spacing_widths_and_punctuation_are_no_change(db_path, directory, tmp_path):
    db = open_db(db_path)
    ingest_one(SEED_TXT, db, directory)
    text = SEED_TXT.read_text(encoding="utf-8")
    assert "2022年12月" in text
    respaced = (text.replace("2022年12月", "2022 年 12 月").replace("；", ";").replace("13", "１３", 1)
                .replace("。\n", "。 \n"))
    path = tmp_path / "shaoyang_rectification_plan.txt"
    path.write_text(respaced, encoding="utf-8")
    assert ingest_one(path, db, directory).status == "unchanged"
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'notice'").fetchone()[0] == 0


def test_a_real_change_is_a_new_version_and_its_notice_lists_only_that(db_path, directory, tmp_path):
    db = open_db(db_path)
    ingest_one(SEED_TXT, db, directory)
    text = SEED_TXT.read_text(encoding="utf-8")
    i = text.index("2022年12月")
    changed = (text[:i] + "2023年3月" + text[i + len("2022年12月"):]).replace("2022年6月", "2022 年 6 月")
    path = tmp_path / "shaoyang_rectification_plan.txt"
    path.write_text(changed, encoding="utf-8")
    result = ingest_one(path, db, directory)
    assert result.status == "new_version"
    fields = [c["field"] for t in result.diff["changed"] for c in t["changes"]]
    assert fields and set(fields) <= {"milestone_due", "deadline_text", "milestone_added", "milestone_removed"}
    assert all(("2023" in str(c.get("after")) or "2023" in str(c.get("before")) or c["field"] == "milestone_due")
               for t in result.diff["changed"] for c in t["changes"]), result.diff["changed"]
    bodies = [b for (b,) in db.execute("SELECT body FROM outbox WHERE kind = 'notice'")]
    assert bodies and not any("2022 年" in b for b in bodies)
