"""The unit figures kept as the plans change (knowledge/counts.py) equal a full recount after every writer
that moves them: ingest, 销号 approval (and 撤销销号), a new version, `duban remove` and restore."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from knowledge import counts, documents, due_index, progress, queries, review
from knowledge.db import open_db
from knowledge.ingest import ingest_plan, sha256_of
from parser import UnitDirectory, parse_document

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
CORPUS = SHARED / "corpus" / "docs" / "06_guangdong2023_tizhenxiaofei.txt"
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
ADMIN = review.Actor("市人民政府办公室", "李四", "管理员")


def _plan(path: Path, directory):
    raw = path.read_bytes()
    if raw.startswith(b"# source:"):
        raw = raw.split(b"\n", 1)[1]
    return parse_document(raw, path.name, directory=directory), raw


def _units(db) -> list[str | None]:
    return [None, *[r[0] for r in db.execute("SELECT DISTINCT unit FROM assignments ORDER BY unit")],
            *[r[0] for r in db.execute("SELECT DISTINCT member FROM collective_members ORDER BY member")]]


def assert_kept_equals_recount(db) -> int:
    """Every unit's kept figures equal the ones counted from the tasks; the kept rows equal a full rebuild."""
    checked = 0
    for unit in _units(db):
        kept = {k: v for k, v in queries.task_counts(db, unit).items() if v}
        recounted = {k: v for k, v in queries.recounted_task_counts(db, unit).items()
                     if v and k in counts.FIGURES}
        assert kept == recounted, unit
        checked += 1
    for unit in _units(db)[1:]:  # each unit's kept list (its rows and its collectives'): its current tasks by state
        listed = db.execute("SELECT state, count(DISTINCT task_id) FROM unit_tasks WHERE unit IN (SELECT value FROM"
                            " json_each(?)) AND roles & ? GROUP BY state",
                            [json.dumps(due_index.units_answering_as(db, unit), ensure_ascii=False),
                             counts.ANSWERS]).fetchall()
        figures = queries.recounted_task_counts(db, unit)
        by_state = dict(listed)
        assert sum(by_state.values()) == figures["total"], unit
        assert (by_state.get(1, 0), by_state.get(2, 0)) == (figures["ongoing"], figures["completed"]), unit
    kept = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in ("unit_totals", "unit_tasks")}
    with db.atomic():
        counts.recount(db)
    assert {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in kept} == kept
    return checked


@pytest.fixture
def store(tmp_path):
    directory = UnitDirectory.load()
    db = open_db(tmp_path / "counts.db")
    for path in (SEED, CORPUS):
        plan, raw = _plan(path, directory)
        ingest_plan(db, plan, sha256_of(raw), directory=directory, now=NOW)
    return db, directory


def test_figures_after_ingest_match_a_recount(store):
    db, _ = store
    assert assert_kept_equals_recount(db) > 50
    everyone = queries.task_counts(db, None)
    assert everyone["total"] == db.execute("SELECT count(*) FROM tasks").fetchone()[0] > 38
    # 邵阳县 answers for the tasks of 各县市区 too: more than the tasks naming it by name
    named = db.execute("SELECT count(DISTINCT task_id) FROM assignments WHERE unit = '邵阳县'"
                       " AND role != 'supervising_leaders'").fetchone()[0]
    assert queries.task_counts(db, "邵阳县")["total"] > named


def test_figures_follow_a_close_approved_and_reopened(store):
    db, _ = store
    unit = "市生态环境局"
    before = queries.task_counts(db, unit)
    task = next(t for (t,) in db.execute("SELECT id FROM tasks WHERE document_id = 1 ORDER BY id")
                if unit in review.closer_units(db, t))
    review.apply_close(db, task, review.Actor(unit, "王五", "联络员", "local", "t"), "整改完成", NOW)
    assert queries.task_counts(db, unit)["completed"] == before["completed"]  # applied for, not yet approved
    review.approve(db, task, ADMIN, NOW)
    after = queries.task_counts(db, unit)
    assert after["completed"] == before["completed"] + 1 and after["total"] == before["total"]
    assert queries.task_counts(db, None)["completed"] == 1
    assert_kept_equals_recount(db)
    progress.add_entry(db, task, "reopen", "验收未通过", unit=unit, official="王五", platform="local", user_id="t",
                       at=NOW)
    assert queries.task_counts(db, unit) == before
    assert_kept_equals_recount(db)


def test_figures_follow_a_new_version(store):
    db, directory = store
    plan, raw = _plan(SEED, directory)
    revised = copy.deepcopy(plan)
    revised.tasks = revised.tasks[:-2]  # two tasks withdrawn
    revised.tasks[0].lead_units = ["市审计局"]  # and one task led by another unit
    before = queries.task_counts(db, None)["total"]
    result = ingest_plan(db, revised, sha256_of(raw + b"v2"), directory=directory, now=NOW, replaces=1)
    assert result.status == "new_version"
    assert queries.task_counts(db, None)["total"] == before - 2
    assert queries.task_counts(db, "市审计局")["lead_units"] >= 1
    assert_kept_equals_recount(db)


def test_figures_follow_remove_and_restore(store):
    db, _ = store
    before = queries.task_counts(db, "市生态环境局")
    documents.archive(db, 1, at=NOW)
    assert queries.task_counts(db, None)["total"] == db.execute(
        "SELECT count(*) FROM tasks WHERE document_id = 2").fetchone()[0]
    assert queries.task_counts(db, "市生态环境局")["total"] < before["total"]
    assert_kept_equals_recount(db)
    with db.atomic():
        documents.restore(db, 1)
    assert queries.task_counts(db, "市生态环境局") == before
    assert_kept_equals_recount(db)


def test_a_store_made_before_the_figures_gets_them_counted(tmp_path, store):
    db, _ = store
    path = Path(db.execute("PRAGMA database_list").fetchone()[2])
    db.execute("DROP TABLE unit_totals")
    db.execute("DROP TABLE unit_tasks")
    db.execute("DELETE FROM migrations WHERE name IN ('_m021_task_tally', '_m024_unit_totals')")
    db.conn.commit()
    db.conn.close()
    again = open_db(path)
    assert assert_kept_equals_recount(again) > 50


def _brute_force_list(db, unit, role, state):
    """A unit's tasks (state, role) sorted as a reply lists them, from the tasks and the due index alone."""
    mine = [unit] + [r[0] for r in db.execute("SELECT collective FROM collective_members WHERE member = ?", [unit])]
    status = {None: "t.status != 'withdrawn'", "completed": "t.status = 'completed'",
              "ongoing": "t.status = 'open' AND t.ongoing = 1", "open": "t.status = 'open'"}[state]
    role_sql = "a.role = ?" if role else "a.role != ?"
    rows = db.execute(
        f"SELECT DISTINCT t.id, t.section, t.number_int FROM tasks t JOIN assignments a ON a.task_id = t.id"
        f" JOIN json_each(?) j ON j.value = a.unit WHERE {role_sql} AND {status}"
        " AND t.version = (SELECT current_version FROM documents d WHERE d.id = t.document_id)",
        [json.dumps(mine, ensure_ascii=False), role or "supervising_leaders"]).fetchall()
    due = dict(db.execute("SELECT task_id, min(due) FROM unit_due u JOIN json_each(?) j ON j.value = u.unit"
                          " WHERE done = 0 GROUP BY task_id", [json.dumps(mine, ensure_ascii=False)]).fetchall())
    key = {r[0]: (r[0] not in due, due.get(r[0], ""), r[1] != "list", r[2] or 0, r[0]) for r in rows}
    return sorted(key, key=key.get)


@pytest.mark.parametrize("role, state", [(None, None), (None, "ongoing"), (None, "completed"), (None, "open"),
                                         ("lead_units", None), ("cooperating_units", None),
                                         ("principal_units", "open")])
def test_a_units_list_from_the_kept_rows_is_the_full_sort(store, role, state):
    db, _ = store
    for task in [r[0] for r in db.execute("SELECT id FROM tasks WHERE document_id = 1 ORDER BY id LIMIT 4")]:
        progress.add_entry(db, task, "complete", "已完成", unit=None, official="督办办", platform="local",
                           user_id="t", at=NOW)
    for unit in ("市生态环境局", "邵阳县", "市发展和改革委员会", "省商务厅", "各县市区"):
        want = _brute_force_list(db, unit, role, state)
        for limit, show in ((60, 15), (5, 3), (60, None)):
            n, pairs = queries.tasks_with_next_due(db, unit, limit, show=show, role=role, state=state)
            assert n == min(len(want), limit + 1), (unit, limit)
            assert [t.id for t, _ in pairs] == want[:min(show or limit, limit)], (unit, limit, show)
