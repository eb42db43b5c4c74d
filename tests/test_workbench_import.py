"""`duban import-progress`: export → a unit fills 进展 with openpyxl → import → the reports are in the store,
with the chat's rights and audit, all rows or none."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from conftest import SEED_TXT, run_cli, copy_store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
TODAY = "2026-11-25"
UNIT = "邵阳县"


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared) -> Path:
    """A store of the seed and the example, and the 台账 exported from it for 邵阳县."""
    tmp = tmp_path_factory.mktemp("import")
    db = tmp / "duban.db"
    code, _, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT), str(EXAMPLE)])
    assert code == 0, err
    code, _, err = run_cli(["--db", str(db), "export", str(tmp / "台账.xlsx"), "--unit", UNIT, "--today", TODAY])
    assert code == 0, err
    return tmp


@pytest.fixture
def store(base, tmp_path) -> tuple[Path, Path]:
    """A fresh copy of the store and of the exported 台账 for each test."""
    copy_store(base / "duban.db", tmp_path / "duban.db")
    shutil.copy(base / "台账.xlsx", tmp_path / "台账.xlsx")
    return tmp_path / "duban.db", tmp_path / "台账.xlsx"


def fill(path: Path, sheet: int, edits: dict) -> dict:
    """Write {序号: (column heading, text)} into a sheet of the workbook; returns {序号: task title}."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[sheet]
    heads = [c.value for c in ws[2]]
    titles = {}
    for row in ws.iter_rows(min_row=3):
        serial = row[0].value
        if serial in edits:
            heading, text = edits[serial]
            row[heads.index(heading)].value = text
            titles[serial] = row[1].value.split("\n")[0]
    wb.save(path)
    return titles


def reports(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT t.document_id, t.number, p.kind, p.text, p.unit FROM progress p JOIN tasks t"
                         " ON t.id = p.task_id ORDER BY p.id").fetchall()


def audit(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT platform, action, detail, allowed FROM audit ORDER BY id").fetchall()


def duban(db: Path, *argv: str):
    return run_cli(["--db", str(db), *argv])


def test_round_trip_three_reports(store):
    db, xlsx = store
    fill(xlsx, 1, {2: ("进展", "已完成吉电长乐光伏项目立案查处"), 15: ("进展", "尾矿库闭库方案已报批"),
                   21: ("进展", "污水管网完成80%")})
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", UNIT, "--today", TODAY)
    assert code == 0, err
    # every task row of the sheet is listed: three written, the untouched ones skipped
    assert out.count("：已写入") == 3 and "写入 3，" in out and "，拒绝 0" in out and out.count("：跳过 没有新的进展") > 10
    assert sorted(r[1:] for r in reports(db)) == sorted([
        ("2", "progress", "已完成吉电长乐光伏项目立案查处", UNIT), ("15", "progress", "尾矿库闭库方案已报批", UNIT),
        ("21", "progress", "污水管网完成80%", UNIT)])
    assert [a[3] for a in audit(db)] == [1, 1, 1] and all(a[0] == "excel" for a in audit(db))
    # the chat sees them
    code, out, err = duban(db, "ask", "第15项进展如何", "--as", UNIT, "--today", TODAY)
    assert code == 0 and "尾矿库闭库方案已报批" in out, out + err
    code, out, err = duban(db, "show", "15", "--today", TODAY)  # and `duban show` lists them
    assert code == 0 and "进展：" in out and "尾矿库闭库方案已报批" in out.replace("\n", ""), out + err
    # a second export carries them in 进展, and importing the same file again adds nothing
    code, _, err = duban(db, "export", str(xlsx.with_name("again.xlsx")), "--unit", UNIT, "--today", TODAY)
    ws = openpyxl.load_workbook(xlsx.with_name("again.xlsx")).worksheets[1]
    row15 = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == 15)
    assert "尾矿库闭库方案已报批" in row15[8] and UNIT in row15[8]
    code, out, err = duban(db, "import-progress", str(xlsx.with_name("again.xlsx")), "--as", UNIT)
    assert code == 0 and "写入 0" in out
    assert len(reports(db)) == 3


def test_a_refused_row_applies_nothing_unless_partial(store):
    db, xlsx = store
    # a seed task that names neither 邵阳县 nor a collective it belongs to: refused, as in chat
    with sqlite3.connect(db) as c:
        number, title = c.execute(
            "SELECT number, title FROM tasks t WHERE document_id = 1 AND section = 'list' AND NOT EXISTS"
            " (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.role != 'supervising_leaders' AND (a.unit = ?"
            " OR a.unit IN (SELECT collective FROM collective_members WHERE member = ?)))", [UNIT, UNIT]).fetchone()
    fill(xlsx, 1, {2: ("进展", "已立案"), 15: ("进展", "方案已报批")})
    wb = openpyxl.load_workbook(xlsx)
    wb.worksheets[1].append([int(number), title, None, None, None, None, None, None, "冒充进展"])
    wb.save(xlsx)
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", UNIT)
    assert code == 2 and "未写入任何内容" in err
    assert "拒绝 邵阳县不是该项任务的责任单位" in out
    assert reports(db) == []
    assert [a[3] for a in audit(db)] == [0]  # the refused attempt is audited, nothing else
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", UNIT, "--partial")
    assert code == 0, err
    assert sorted(r[3] for r in reports(db)) == sorted(["方案已报批", "已立案"])


def test_rows_are_matched_by_task_text_when_numbers_moved(store):
    db, xlsx = store
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.worksheets[1]
    rows = list(ws.iter_rows(min_row=3))
    a, b = next(r for r in rows if r[0].value == 2), next(r for r in rows if r[0].value == 15)
    a[0].value, b[0].value = 15, 2  # numbers swapped, task text kept
    a[8].value = "按任务内容匹配"
    wb.save(xlsx)
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", UNIT)
    assert code == 0, err
    assert [r[1:4] for r in reports(db)] == [("2", "progress", "按任务内容匹配")]


def test_unknown_numbers_foreign_sheets_and_bad_files_are_refused(store, tmp_path):
    db, xlsx = store
    wb = openpyxl.load_workbook(xlsx)
    wb.worksheets[1].append([999, "没有这一项", None, None, None, None, None, None, "进展"])
    wb.create_sheet("别的表")["A1"] = "随手记的表格"
    wb.save(xlsx)
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", UNIT)
    assert code == 2
    assert "没有序号为“999”的任务" in out and "不是 duban 导出的台账工作表" in out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    code, _, err = duban(db, "import-progress", str(bad), "--as", UNIT)
    assert code == 2 and "无法读取 Excel 文件" in err
    code, _, err = duban(db, "import-progress", str(xlsx), "--as", "不存在的局")
    assert code == 2 and "未找到单位" in err


def test_close_applications_go_through_the_workflow(base, tmp_path):
    """申请销号 from the 台账: a lead or principal unit's row becomes a pending application (the task stays
    open until the 督办 office approves); a unit that only cooperates is refused, as in chat."""
    from knowledge import review
    from knowledge.db import open_db
    db = tmp_path / "duban.db"
    copy_store(base / "duban.db", db)
    unit = "市生态环境局"
    xlsx = tmp_path / "局.xlsx"
    assert duban(db, "export", str(xlsx), "--unit", unit, "--doc", "2", "--today", TODAY)[0] == 0
    store = open_db(db)
    numbers = {int(r[0]): r[1] for r in store.execute("SELECT number, id FROM tasks WHERE document_id = 2 AND"
                                                      " section = 'list'")}
    exported = {r[0] for r in openpyxl.load_workbook(xlsx).worksheets[1].iter_rows(min_row=3, values_only=True)
                if isinstance(r[0], int)}
    closer = next(n for n in sorted(exported) if unit in review.closer_units(store, numbers[n]))
    helper = next(n for n in sorted(exported) if unit not in review.closer_units(store, numbers[n]))
    fill(xlsx, 1, {closer: ("申请销号", "是")})
    fill(xlsx, 1, {closer: ("进展", "已全部完成整改并通过验收")})
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", unit)
    assert code == 0, err
    assert "并申请销号" in out
    pending = review.pending(open_db(db), numbers[closer], "close")
    assert pending is not None and pending.unit == unit and pending.text == "已全部完成整改并通过验收"
    assert open_db(db).execute("SELECT status FROM tasks WHERE id = ?", [numbers[closer]]).fetchone()[0] == "open"
    fill(xlsx, 1, {helper: ("申请销号", "是")})
    code, out, err = duban(db, "import-progress", str(xlsx), "--as", unit)
    assert code == 2 and "不是该项任务的牵头单位或主体责任单位，不能申请销号" in out
    assert "已有待审核的销号申请" in out  # the first row again: its application is pending
    assert len(review.pending_reviews(open_db(db))) == 1
