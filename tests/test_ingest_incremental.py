"""Every writer touches only its own tasks' rows and the units they name (the ingest-at-scale target): the kept
figures (knowledge.counts) move by deltas that equal a full recount after each writer, an ingest rewrites no
other document's rows, a 销号 only its task's; a plan under another title is found from the title index;
the planner's statistics are refreshed as the store doubles, and a directory already stored is not rewritten."""
from __future__ import annotations

import copy
import json

import pytest
from test_counts import ADMIN, CORPUS, NOW, SEED, _plan, assert_kept_equals_recount

from knowledge import counts, documents, due_index, generation, progress, review
from knowledge.db import open_db
from knowledge.directory import known_unit_names, leader_titles, sync_directory
from knowledge.ingest import ingest_plan, sha256_of
from parser import UnitDirectory

WATCHED = ("unit_tasks", "unit_totals", "unit_due")


@pytest.fixture(scope="module")
def directory():
    return UnitDirectory.load()


@pytest.fixture
def db(tmp_path, directory):
    store = open_db(tmp_path / "incremental.db")
    for path in (SEED, CORPUS):
        plan, raw = _plan(path, directory)
        ingest_plan(store, plan, sha256_of(raw), directory=directory, now=NOW)
    return store


def _variant(plan, n: int, units: dict[str, str] | None = None):
    """Another plan: its own title and task titles, some units swapped."""
    other = copy.deepcopy(plan)
    other.title = f"{plan.title}（第{n}批）"
    for t in other.tasks:
        t.title = f"{t.title}（{n}）"
        for role in ("lead_units", "principal_units", "responsible_units", "cooperating_units"):
            setattr(t, role, [(units or {}).get(u, u) for u in getattr(t, role) or []])
    return other


def _watch(db) -> None:
    """Temporary triggers: each row written into the kept tables, with its unit and task (or '' / 0)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS written (tbl TEXT, op TEXT, unit TEXT, task_id INTEGER)")
    db.execute("DELETE FROM temp.written")
    for table in WATCHED:
        task = "task_id" if table != "unit_totals" else "0"
        for op, row in (("INSERT", "new"), ("DELETE", "old"), ("UPDATE", "new")):
            db.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS w_{table}_{op} AFTER {op} ON main.{table} BEGIN"
                       f" INSERT INTO written VALUES ('{table}', '{op}', {row}.unit,"
                       f" {task.replace('task_id', row + '.task_id')}); END")


def _written(db, table: str) -> list[tuple]:
    return db.execute("SELECT op, unit, task_id FROM temp.written WHERE tbl = ?", [table]).fetchall()


def _answering(db, task_ids: list[int]) -> set[str]:
    """The units that count these tasks: named on them, or members of a collective named, and everyone."""
    named = {r[0] for r in db.execute("SELECT DISTINCT unit FROM assignments WHERE task_id IN"
                                      " (SELECT value FROM json_each(?))", [json.dumps(task_ids)])}
    members = {r[0] for r in db.execute("SELECT member FROM collective_members WHERE collective IN"
                                        " (SELECT value FROM json_each(?))", [json.dumps(sorted(named))])}
    return named | members | {counts.EVERYONE}


def test_a_sequence_of_writers_keeps_the_figures_equal_to_a_recount(db, directory):
    seed, raw = _plan(SEED, directory)
    for n, swap in ((2, {"邵阳县": "各县市区"}), (3, {"市生态环境局": "市审计局"})):
        ingest_plan(db, _variant(seed, n, swap), sha256_of(raw + bytes([n])), directory=directory, now=NOW)
        assert_kept_equals_recount(db)
    revised = copy.deepcopy(seed)  # a new version: tasks withdrawn, units moved, a collective beside its member
    revised.tasks = revised.tasks[:-3]
    revised.tasks[0].lead_units = ["市审计局"]
    revised.tasks[1].responsible_units = [*(revised.tasks[1].responsible_units or []), "邵阳县", "各县市区"]
    assert ingest_plan(db, revised, sha256_of(raw + b"v2"), directory=directory, now=NOW,
                       replaces=1).status == "new_version"
    assert_kept_equals_recount(db)
    tasks = [r[0] for r in db.execute("SELECT id FROM tasks WHERE document_id = 1 AND version = 2 ORDER BY id")]
    for task in tasks[:3]:  # 销号 approved, then one reopened (撤销销号)
        unit = review.closer_units(db, task)[0]
        review.apply_close(db, task, review.Actor(unit, "王五", "联络员", "local", "t"), "整改完成", NOW)
        review.approve(db, task, ADMIN, NOW)
        assert_kept_equals_recount(db)
    progress.add_entry(db, tasks[0], "reopen", "验收未通过", unit=None, official="督办办", platform="local",
                       user_id="t", at=NOW)
    assert_kept_equals_recount(db)
    documents.archive(db, 3, at=NOW)
    assert_kept_equals_recount(db)
    ingest_plan(db, _variant(seed, 2, {"邵阳县": "各县市区"}), sha256_of(raw + bytes([2])),
                directory=directory, now=NOW)  # the same file again brings the removed document back
    assert documents.get(db, 3).active
    assert_kept_equals_recount(db)


def test_an_ingest_writes_only_the_new_plans_rows(db, directory):
    seed, raw = _plan(SEED, directory)
    _watch(db)
    result = ingest_plan(db, _variant(seed, 7), sha256_of(raw + b"7"), directory=directory, now=NOW)
    mine = {r[0] for r in db.execute("SELECT id FROM tasks WHERE document_id = ?", [result.document_id])}
    listed = _written(db, "unit_tasks")
    assert listed and {op for op, _, _ in listed} == {"INSERT"} and {t for _, _, t in listed} == mine
    assert len(listed) == db.execute("SELECT count(*) FROM unit_tasks WHERE document_id = ?",
                                     [result.document_id]).fetchone()[0]
    assert {t for _, _, t in _written(db, "unit_due")} <= mine
    totals = _written(db, "unit_totals")
    assert len(totals) == len({u for _, u, _ in totals})  # each unit's figures moved once
    assert {u for _, u, _ in totals} <= _answering(db, sorted(mine))
    assert_kept_equals_recount(db)


def test_a_close_rewrites_only_its_tasks_rows(db):
    task = db.execute("SELECT id FROM tasks WHERE document_id = 1 ORDER BY id LIMIT 1 OFFSET 5").fetchone()[0]
    _watch(db)
    progress.add_entry(db, task, "complete", "已完成", unit=None, official="督办办", platform="local", user_id="t",
                       at=NOW)
    assert {t for _, _, t in _written(db, "unit_tasks")} == {task}
    assert {u for _, u, _ in _written(db, "unit_totals")} <= _answering(db, [task])
    assert_kept_equals_recount(db)


def test_a_collective_gaining_a_member_is_counted_everywhere(db):
    with db.atomic():
        db.execute("INSERT INTO units (name, kind) VALUES ('新设区', 'locality')")
        db.execute("INSERT INTO collective_members VALUES ('各县市区', '新设区')")
    task = db.execute("SELECT id FROM tasks WHERE document_id = 2 ORDER BY id LIMIT 1").fetchone()[0]
    progress.add_entry(db, task, "complete", "已完成", unit=None, official="督办办", platform="local", user_id="t",
                       at=NOW)  # any writer then recounts the whole store: the member has 各县市区's tasks
    assert counts.figures(db, "新设区")["total"] == counts.figures(db, "各县市区")["total"] > 0
    assert_kept_equals_recount(db)


def test_a_plan_under_another_title_is_a_version_of_its_document(db, directory):
    seed, raw = _plan(SEED, directory)
    retitled = copy.deepcopy(seed)
    retitled.title, retitled.titled = "邵阳市突出环境问题整改工作方案（修订）", True
    retitled.tasks[0].deadline_text = "2026年12月底前"  # most titles agree: the same plan, changed
    result = ingest_plan(db, retitled, sha256_of(raw + b"retitled"), directory=directory, now=NOW)
    assert (result.document_id, result.status) == (1, "new_version")
    mixed = _variant(seed, 9)  # a few titles shared, most its own: a plan of its own
    for t, old in zip(mixed.tasks[:3], seed.tasks[:3]):
        t.title = old.title
    assert ingest_plan(db, mixed, sha256_of(raw + b"9"), directory=directory, now=NOW).status == "new"


def test_statistics_are_refreshed_as_the_tasks_double(tmp_path, directory):
    store = open_db(tmp_path / "stats.db")
    ran: list[str] = []
    store.conn.set_trace_callback(lambda sql: ran.append(sql) if sql.strip().upper() == "ANALYZE" else None)
    seed, raw = _plan(SEED, directory)
    last = 0
    for n in range(1, 5):
        ran.clear()
        ingest_plan(store, _variant(seed, n), sha256_of(raw + bytes([n])), directory=directory, now=NOW)
        now = store.execute("SELECT max(id) FROM tasks").fetchone()[0]
        assert bool(ran) == (now.bit_length() != last.bit_length()), (n, last, now)
        last = now
    assert store.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tasks'").fetchone()[0]


def test_names_in_roles_and_the_directory_follow_without_rewrites(db, directory):
    assert set(db.execute("SELECT role, unit FROM role_names").fetchall()) == \
        set(db.execute("SELECT DISTINCT role, unit FROM assignments").fetchall())
    assert "市生态环境局" in known_unit_names(db) and leader_titles(db)
    before, changes = generation.current(db), db.conn.total_changes
    with db.atomic():
        sync_directory(db, directory)  # as every ingest does: nothing changed, nothing written
    assert (generation.current(db), db.conn.total_changes) == (before, changes)
    assert due_index.units_answering_as(db, "邵阳县")[1:]  # the collectives it belongs to are still there
