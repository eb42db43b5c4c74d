"""`duban ingest / tasks / show` on a real temporary store, in-process (bot.cli.main), with the
expected rows worked out by hand from the gold."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEED_TXT, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
TABLE_STYLE = ROOT / "tests" / "data" / "styles" / "division_table.docx"


@pytest.fixture(scope="module")
def store(tmp_path_factory, shared) -> tuple[Path, str]:
    """A store filled by one `duban ingest` of three files; returns (db path, the command's stdout)."""
    db = tmp_path_factory.mktemp("cli") / "duban.db"
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"  # the summary table is sized when the command runs: keep names whole
    try:
        code, out, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT), str(EXAMPLE), str(TABLE_STYLE)])
    finally:
        os.environ.pop("COLUMNS") if old is None else os.environ.__setitem__("COLUMNS", old)
    assert code == 0, err
    return db, out


def duban(db: Path, *argv: str) -> tuple[int, str, str]:
    return run_cli(["--db", str(db), *argv])


def rows(out: str, label: str) -> list[str]:
    """Table rows whose 编号 cell is `label` (e.g. 第3项)."""
    return [line for line in out.splitlines() if re.match(rf"^│\s*{re.escape(label)}\s*│", line)]


def test_ingest_of_several_files_prints_a_summary_table(store):
    _, out = store
    assert "入库结果" in out
    for name, tasks, milestones in ((SEED_TXT.name, 38, 57), (EXAMPLE.name, 15, 33), (TABLE_STYLE.name, 6, 6)):
        [line] = [line for line in out.splitlines() if name in line]
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[:5] == [name, "新文件", "1", str(tasks), str(milestones)], line
    assert "declared 28, found 25" in out.replace("\n", "")


def test_ingest_again_reports_unchanged(store):
    db, _ = store
    code, out, err = duban(db, "ingest", str(EXAMPLE))
    assert code == 0, err
    assert "未变化" in out


def test_tasks_for_a_unit_within_30_days(store):
    """发改委 → 市发展和改革委员会 on 2021-12-01, window to 2021-12-31. From the gold: its tasks' open
    milestones up to then are list-3 (整改时限 2021-12-31) and list-22 (2021-12-31); list-2's and
    list-8's 2021-12-31 are bound to 邵阳县, list-13's are not its task; nothing is overdue yet."""
    db, _ = store
    code, out, err = duban(db, "tasks", "--unit", "发改委", "--within", "30", "--today", "2021-12-01")
    assert code == 0, err
    assert "市发展和改革委员会" in out
    assert "已逾期：无" in out
    listed = re.findall(r"^│\s*(第\d+项|正文\S+)\s*│\s*(\d{4}-\d\d-\d\d)\s*│\s*(\S+)\s*│", out, re.M)
    assert listed == [("第3项", "2021-12-31", "剩30天"), ("第22项", "2021-12-31", "剩30天")]


def test_tasks_for_a_county_includes_collective_and_bound_items(store):
    """邵阳县 on 2021-12-01, 30 days: list-2 goal and list-8 measure (bound to it), list-3 … (各县市区),
    list-13 (its own); 2021-09-30 of list-13 is overdue."""
    db, _ = store
    code, out, err = duban(db, "tasks", "--unit", "邵阳县", "--today", "2021-12-01")
    assert code == 0, err
    assert len(rows(out, "第13项")) == 3  # 2021-09-30 overdue, two 2021-12-31 measures
    assert "逾期62天" in rows(out, "第13项")[0]
    for label in ("第2项", "第3项", "第8项", "第14项", "第15项", "第21项", "第22项", "第24项"):
        assert rows(out, label), label
    assert not rows(out, "第7项")


def test_tasks_overdue_lists_every_late_milestone(store):
    """On 2022-01-15: list-13's 2021-09-30 and the fourteen 2021-12-31 milestones of the seed; the
    example plan (2026) and the 郴州 table (2025) have nothing late yet."""
    db, _ = store
    code, out, err = duban(db, "tasks", "--overdue", "--today", "2022-01-15")
    assert code == 0, err
    late = re.findall(r"│\s*(\d{4}-\d\d-\d\d)\s*│\s*逾期(\d+)天", out)
    assert sorted(late) == [("2021-09-30", "107")] + [("2021-12-31", "15")] * 14
    assert "天内到期" not in out or "30 天内到期：无" in out


def test_show_13_prints_the_task_its_deadlines_and_measures(store):
    db, _ = store
    code, out, err = duban(db, "show", "13", "--today", "2021-12-01")
    assert code == 0, err
    flat = out.replace("\n", "")
    assert "第13项" in out and "湖南省邵阳县长阳矿区" in flat
    assert "主体责任单位：邵阳县" in flat
    assert "整改时限：2023年12月31日前完成长阳矿区煤矸石修复及矿涌水治理工程" in flat
    assert "2021-04-30（已完成）" in flat
    assert "2021-09-30（逾期62天）" in flat
    assert len(re.findall(r"^\s+·", out, re.M)) == 9  # nine milestones
    assert re.search(r"^\s+3\.", out, re.M) and not re.search(r"^\s+4\.", out, re.M)  # three measures


def test_show_accepts_chinese_number_forms(store):
    db, _ = store
    for number in ("第13项", "十三"):
        code, out, err = duban(db, "show", number, "--section", "list", "--today", "2021-12-01")
        assert code == 0, (number, err)
        assert "第13项" in out
    code, out, err = duban(db, "show", "（一）1", "--section", "body")
    assert code == 0, err
    assert "切实增强践行习近平生态文明思想的政治自觉" in out.replace("\n", "")


def test_unknown_unit_is_a_one_line_error(store):
    db, _ = store
    code, out, err = duban(db, "tasks", "--unit", "不存在局", "--today", "2021-12-01")
    assert code != 0
    assert err.strip().splitlines() == ["duban: 未找到单位“不存在局”，请使用单位全称或常用简称"]


def test_unknown_task_number_is_a_one_line_error(store):
    db, _ = store
    code, out, err = duban(db, "show", "99")
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "没有编号为 99 的任务" in err


def test_console_script_reports_a_bad_date_in_one_line(store):
    """A real process of the entry point; a wrong --today is the user's mistake, not a traceback."""
    db, _ = store
    exe = Path(sys.executable).with_name("duban")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
    r = subprocess.run([*cmd, "--db", str(db), "tasks", "--today", "2021-13-01"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "YYYY-MM-DD" in r.stderr


def test_module_entry_point_reports_usage_errors_plainly(store):
    db, _ = store
    r = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(db), "tasks", "--unit", "不存在局"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "内部错误" not in r.stderr


def test_the_command_table_lists_what_each_module_registers():
    """`duban --help` lists commands without importing their modules (bot.cli.COMMANDS): the table must say
    exactly what each module's register() defines, with the same help."""
    import argparse
    import importlib

    from bot.cli import COMMANDS
    for module in {m for _, m, _ in COMMANDS}:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        defined = {a.dest: a.help for a in sub._choices_actions}
        assert defined == {name: h for name, m, h in COMMANDS if m == module}, module


def test_help_and_parse_load_no_server_or_store_modules():
    import subprocess
    import sys
    code = ("import sys; from bot.cli import build_parser; build_parser(None); build_parser('parse');"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'sqlite_utils', 'jieba')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _modules_after(code: str, *roots: str) -> list[str]:
    import subprocess
    import sys
    probe = f"{code}\nimport sys; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(roots)!r}))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(run.stdout.strip().splitlines()[-1])


def test_parse_prints_its_table_without_the_store_modules(shared):
    seed = shared / "seed" / "shaoyang_rectification_plan.txt"
    code = f"from bot.cli import main; assert main(['parse', {str(seed)!r}]) == 0"
    assert _modules_after(code, "aiohttp", "sqlite_utils", "jieba", "cn2an") == []


def test_ask_loads_neither_the_server_nor_cn2an(shared, tmp_path):
    """A fresh `duban ask` reads settings and answers without aiohttp; 第十三项 is read by the lexicon (cn2an's
    import alone is ~70 ms), and a topic question loads jieba without pkg_resources."""
    from bot.cli import main
    db = str(tmp_path / "d.db")
    assert main(["--db", db, "ingest", str(shared / "seed" / "shaoyang_rectification_plan.txt")]) == 0
    ask = f"from bot.cli import main; assert main(['--db', {db!r}, 'ask', '--today', '2026-06-01', %r]) == 0"
    assert _modules_after(ask % "第十三项谁牵头", "aiohttp", "cn2an", "pkg_resources") == []
    assert _modules_after(ask % "污水处理的任务有哪些", "aiohttp", "cn2an", "pkg_resources", "jieba") == ["jieba"]
