"""`duban export FILE.xlsx`: the 台账 read back with openpyxl from a store of the seed and the example plan."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from conftest import SEED_TXT, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
TODAY = "2026-11-25"  # the example's dates fall overdue, within 7 and 30 days and later; the seed's are all past


def make_store(tmp: Path) -> Path:
    db = tmp / "duban.db"
    code, _, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT), str(EXAMPLE)])
    assert code == 0, err
    return db


@pytest.fixture(scope="module")
def ledger(tmp_path_factory, shared):
    tmp = tmp_path_factory.mktemp("export")
    db = make_store(tmp)
    out = tmp / "台账.xlsx"
    code, stdout, err = run_cli(["--db", str(db), "export", str(out), "--today", TODAY])
    assert code == 0, err
    assert "2 个文件，53 项任务" in stdout
    return db, openpyxl.load_workbook(out)


def data_rows(ws):
    heads = [c.value for c in ws[2]]
    return [dict(zip(heads, (c.value for c in row))) for row in ws.iter_rows(min_row=3) if row[0].value is not None]


def tasks_json(db: Path, *extra: str) -> dict:
    code, out, err = run_cli(["--db", str(db), "tasks", "--json", "--today", TODAY, *extra])
    assert code == 0, err
    return json.loads(out)


def test_one_sheet_per_document_after_the_summary(ledger):
    _, wb = ledger
    assert wb.sheetnames[0] == "汇总"
    assert len(wb.sheetnames) == 3
    seed, example = wb.worksheets[1], wb.worksheets[2]
    assert "（文件1，第1版）督办台账 截至2026-11-25" in seed["A1"].value
    assert example["A1"].value.startswith("邵阳市2026年城乡人居环境问题整改方案（文件2")
    assert [c.value for c in seed[2]] == ["序号", "任务/问题", "督办领导", "主体责任单位", "牵头单位", "配合单位/责任单位",
                                          "整改时限", "时限节点", "进展", "状态", "销号日期", "来源", "申请销号"]


def test_one_row_per_task_and_every_milestone(ledger):
    db, wb = ledger
    seed, example = data_rows(wb.worksheets[1]), data_rows(wb.worksheets[2])
    assert len(seed) == 38 and len(example) == 15  # the tasks `duban ingest` reported
    # 57 and 33 milestones: each one a line of its task's 时限节点 cell
    assert sum(len(r["时限节点"].splitlines()) for r in seed if r["时限节点"]) == 57
    assert sum(len(r["时限节点"].splitlines()) for r in example if r["时限节点"]) == 33
    assert [r["序号"] for r in seed[:3]] == [1, 2, 3]
    assert any(str(r["序号"]).startswith("正文") for r in seed)
    row13 = next(r for r in seed if r["序号"] == 13)
    assert "市生态环境局" in (row13["牵头单位"] or "") + (row13["主体责任单位"] or "") + (row13["配合单位/责任单位"] or "")
    assert row13["来源"].startswith("《") and "附件 第13项" in row13["来源"]


def test_states_and_fills_match_the_tasks_json(ledger):
    db, wb = ledger
    expected = {(t["document"], t["label"]): t["状态"] for t in tasks_json(db)["tasks"]}
    fills = {"逾期": "F4B6B6", "临期≤7天": "FFE699", "正常": "C6EFCE", "长期坚持": "DDEBF7", "已销号": "D9D9D9"}
    seen = set()
    for doc, ws in ((1, wb.worksheets[1]), (2, wb.worksheets[2])):
        heads = [c.value for c in ws[2]]
        col = heads.index("状态") + 1
        for r in range(3, ws.max_row + 1):
            number = ws.cell(r, 1).value
            label = f"第{number}项" if isinstance(number, int) else number
            state = ws.cell(r, col).value
            assert expected[(doc, label)] == state
            assert ws.cell(r, col).fill.fgColor.rgb.endswith(fills[state])
            seen.add(state)
    assert {"逾期", "临期≤7天", "正常", "长期坚持"} <= seen


def test_layout_frozen_filtered_wrapped_and_printable(ledger):
    _, wb = ledger
    ws = wb.worksheets[1]
    assert ws.freeze_panes == "C3"
    assert ws.auto_filter.ref == f"A2:M{ws.max_row}"
    assert ws.column_dimensions["B"].width >= 30
    assert ws["H3"].alignment.wrap_text
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 8  # A3
    assert ws.print_title_rows == "$2:$2"


def test_summary_counts_per_unit_equal_the_units_tasks(ledger):
    db, wb = ledger
    ws = wb["汇总"]
    heads = [c.value for c in ws[2]]
    assert heads == ["单位", "逾期", "临期≤7天", "正常", "长期坚持", "已销号", "合计"]
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=3)}
    for unit in ("邵阳县", "市生态环境局"):
        data = tasks_json(db, "--unit", unit)
        words = [t["状态"] for t in data["tasks"]]
        assert rows[unit][1:] == [words.count(w) for w in heads[1:6]] + [len(words)]
    assert ws.freeze_panes == "B3"


def test_export_for_one_unit_and_one_document(tmp_path, ledger):
    db, _ = ledger
    out = tmp_path / "县.xlsx"
    code, _, err = run_cli(["--db", str(db), "export", str(out), "--unit", "邵阳县", "--doc", "2", "--today", TODAY])
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert len(wb.sheetnames) == 2
    labels = {t["label"] for t in tasks_json(db, "--unit", "邵阳县")["tasks"] if t["document"] == 2}
    got = {f"第{r['序号']}项" if isinstance(r["序号"], int) else r["序号"] for r in data_rows(wb.worksheets[1])}
    assert got == labels and got


def test_bad_requests_exit_2(tmp_path, ledger):
    db, _ = ledger
    for argv, message in ((["export", str(tmp_path / "x.pdf")], ".xlsx"),
                          (["export", str(tmp_path / "x.xlsx"), "--unit", "不存在的局"], "未找到单位"),
                          (["export", str(tmp_path / "x.xlsx"), "--doc", "99"], "没有编号或标题")):
        code, _, err = run_cli(["--db", str(db), *argv])
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def _run(db: Path, out: Path, terminal: bool) -> bytes:
    """`duban export` in a child process, its stderr a pseudo-terminal or a pipe; what it wrote there."""
    import os
    import pty
    import subprocess
    import sys
    argv = [sys.executable, "-m", "bot.cli", "--db", str(db), "export", str(out), "--today", TODAY]
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "PYTHONPATH": str(ROOT)}
    if not terminal:
        return subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, check=True).stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0
    return b"".join(chunks)


def test_a_progress_bar_on_a_terminal_and_nothing_when_piped(ledger, tmp_path):
    db, _ = ledger
    assert _run(db, tmp_path / "piped.xlsx", terminal=False) == b""
    shown = _run(db, tmp_path / "tty.xlsx", terminal=True).decode("utf-8", "replace")
    assert "导出台账" in shown and "\x1b[" in shown


def test_the_time_limit_cell_of_a_long_term_task_with_dated_nodes_points_at_them():
    from bot.workbench.ledger_model import _ongoing_limit

    assert _ongoing_limit(True, []) == "长期坚持"
    assert _ongoing_limit(True, [{"due": "2023-06-30"}]) == "持续推进（另见时限节点）"
    assert _ongoing_limit(False, [{"due": "2023-06-30"}]) == ""
