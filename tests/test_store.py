"""The SQLite store on a real temporary database: ingest, versions, one transaction, and the
questions officials ask (what is due for my unit, what is overdue, task 13, search)."""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from conftest import SEED_TXT, gold_key
from knowledge import details, numbered


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ingest_file(db, path: Path, directory):
    from knowledge.ingest import ingest_plan, sha256_of
    from parser.plan import parse_document

    data = path.read_bytes()
    return ingest_plan(db, parse_document(data, path.name, directory=directory), sha256_of(data), directory=directory)


@pytest.fixture(scope="module")
def directory():
    from parser.units import UnitDirectory

    return UnitDirectory.load()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, directory, shared):
    """(db, path, IngestResult) for a store holding the seed plan only."""
    from knowledge.db import open_db

    path = tmp_path_factory.mktemp("store") / "duban.db"
    db = open_db(path)
    result = ingest_file(db, SEED_TXT, directory)
    return db, path, result


def count(db, sql: str, params=()) -> int:
    return db.execute(sql, params).fetchone()[0]


# --- ingest ---------------------------------------------------------------------------------------

def test_seed_ingest_stores_38_tasks_and_57_milestones(seeded, seed_gold):
    db, _, result = seeded
    assert (result.status, result.version, result.tasks, result.milestones) == ("new", 1, 38, 57)
    assert count(db, "SELECT count(*) FROM tasks") == 38
    assert count(db, "SELECT count(*) FROM tasks WHERE section='list'") == 25
    assert count(db, "SELECT count(*) FROM milestones") == 57
    assert count(db, "SELECT count(*) FROM milestones WHERE done=1") == 1
    assert count(db, "SELECT count(DISTINCT milestone_id) FROM milestone_units") == 10
    roles = ("principal_units", "lead_units", "cooperating_units", "responsible_units")
    want = sum(len(set(t[r] or [])) for t in seed_gold["tasks"] for r in roles)
    assert want == 254  # gold README: 254 unit-role assignments without 督办领导
    assert count(db, "SELECT count(*) FROM assignments WHERE role != 'supervising_leaders'") == want
    assert count(db, "SELECT count(*) FROM versions") == 1
    assert "declared 28, found 25" in db.execute("SELECT warnings FROM versions").fetchone()[0]


def test_reingesting_the_same_file_changes_nothing(seeded, directory):
    db, path, _ = seeded
    before = file_sha(path)
    again = ingest_file(db, SEED_TXT, directory)
    assert (again.status, again.version, again.tasks, again.milestones) == ("unchanged", 1, 38, 57)
    assert file_sha(path) == before
    assert count(db, "SELECT count(*) FROM tasks") == 38


def test_ingest_is_one_transaction(seeded, directory):
    """A plan whose second task cannot be stored (its milestone's due is a string, so .isoformat()
    fails after the document, version and first task rows were written) leaves no trace."""
    from knowledge.ingest import ingest_plan
    from parser.model import Milestone, Plan, Task

    db, path, _ = seeded
    good = Task(section="list", number=1, title="一个能写入的任务", lead_units=["市生态环境局"],
                milestones=[Milestone(due=date(2022, 1, 31), text="2022年1月31日", source="deadline")])
    bad = Task(section="list", number=2, title="一个写不进去的任务", lead_units=["市水利局"],
               milestones=[Milestone(due="2022年6月30日", text="2022年6月30日", source="deadline")])
    plan = Plan(title="会失败的方案", source_name="broken.txt", tasks=[good, bad], unknown_units=["新单位甲"])
    before = file_sha(path)
    with pytest.raises(AttributeError):
        ingest_plan(db, plan, "f" * 64, directory=directory)
    assert file_sha(path) == before
    assert count(db, "SELECT count(*) FROM documents WHERE title='会失败的方案'") == 0
    assert count(db, "SELECT count(*) FROM tasks") == 38
    assert count(db, "SELECT count(*) FROM units WHERE name='新单位甲'") == 0
    assert not db.conn.in_transaction
    # the store still works afterwards
    assert ingest_file(db, SEED_TXT, directory).status == "unchanged"


def test_changed_file_with_the_same_title_becomes_a_new_version(tmp_path, directory, shared):
    """Same document (title), new bytes: version 2 replaces version 1's tasks in every query."""
    from knowledge import queries
    from knowledge.db import open_db

    db = open_db(tmp_path / "v.db")
    assert ingest_file(db, SEED_TXT, directory).status == "new"
    changed = tmp_path / SEED_TXT.name  # same name → same title (the seed text has no title line)
    text = SEED_TXT.read_text(encoding="utf-8")
    assert text.count("整改时限：2022年3月31日") == 1
    changed.write_text(text.replace("整改时限：2022年3月31日", "整改时限：2022年4月30日"), encoding="utf-8")
    result = ingest_file(db, changed, directory)
    assert (result.status, result.version, result.tasks) == ("new_version", 2, 38)
    [list23] = numbered.task_by_number(db, 23)
    assert [m.due for m in details.task_detail(db, list23.id)["milestones"]] == [date(2022, 4, 30)]
    everyone = queries.due_items(db, start=date(2022, 3, 1), end=date(2022, 4, 30))
    assert [(i.task.number, i.due) for i in everyone] == [("23", date(2022, 4, 30))]
    hits = queries.search(db, "长阳矿区", limit=20)  # list-13 and body-（二） mention it
    assert {(h.section, h.number) for h in hits} == {("list", "13"), ("body", "（二）")}
    assert all(h.id > 38 for h in hits)  # version 2's rows only, the old version is not searched


# --- questions ------------------------------------------------------------------------------------

def expected_due_for(gold: dict, mine: set[str], end: str) -> Counter:
    """From the gold by hand: an unbound milestone belongs to every unit of its task (督办领导 aside),
    a bound one only to the units it names; done milestones are not due."""
    roles = ("principal_units", "lead_units", "cooperating_units", "responsible_units")
    want = Counter()
    for t in gold["tasks"]:
        task_units = {u for r in roles for u in t[r] or []}
        for m in t["milestones"]:
            if m["done"] or m["due"] > end:
                continue
            if (set(m["units"]) & mine) if m["units"] else (task_units & mine):
                want[(gold_key(t), m["due"])] += 1
    return want


def got_due(items) -> Counter:
    return Counter((f"{i.task.section}-{i.task.number_value}", i.due.isoformat()) for i in items)


def test_collectives_contain_the_county(seeded):
    db, _, _ = seeded
    groups = {r[0] for r in db.execute("SELECT collective FROM collective_members WHERE member='邵阳县'")}
    assert {"各县市区", "各县市"} <= groups
    districts = {r[0] for r in db.execute("SELECT collective FROM collective_members WHERE member='双清区'")}
    assert "各县市区" in districts and "各县市" not in districts  # 各县市 excludes districts


def test_due_items_for_a_county_include_collective_tasks_and_its_bound_milestones(seeded, seed_gold):
    """邵阳县 answers for 各县市区 and 各县市 tasks, for list-8's milestones bound to 邵阳县 and list-2's
    goal, but not for list-7's 新邵县 milestone or body-3's county plants."""
    from knowledge import queries

    db, _, _ = seeded
    items = queries.due_items(db, unit="邵阳县")
    got = got_due(items)
    assert got == expected_due_for(seed_gold, {"邵阳县", "各县市区", "各县市"}, "9999-12-31")
    assert got[("list-8", "2021-12-31")] == 1 and got[("list-8", "2025-12-31")] == 3  # 整改时限, measure 1, measure 4 (bound)
    assert got[("list-2", "2021-12-31")] == 1
    assert got[("list-15", "2021-12-31")] == 3  # 各县市
    assert got[("list-3", "2021-12-31")] == 1  # 各县市区
    assert not [k for k in got if k[0] in ("list-7", "body-（三）")]
    assert all(not i.done for i in items)


def test_bound_milestone_goes_only_to_its_county(seeded, seed_gold):
    from knowledge import queries

    db, _, _ = seeded
    got = got_due(queries.due_items(db, unit="新邵县"))
    assert got == expected_due_for(seed_gold, {"新邵县", "各县市区", "各县市"}, "9999-12-31")
    assert got[("list-7", "2022-06-30")] == 1  # 新邵县's plant, not 武冈市's 主体工程开工
    assert got[("body-（三）", "2022-06-30")] == 1
    assert ("list-7", "2024-06-30") not in got and ("list-8", "2021-12-31") not in got


def test_done_milestone_is_not_due_unless_asked(seeded):
    from knowledge import queries

    db, _, _ = seeded
    assert not [i for i in queries.due_items(db, unit="邵阳县") if i.due == date(2021, 4, 30)]
    done = [i for i in queries.due_items(db, unit="邵阳县", include_done=True) if i.done]
    assert [(i.task.number, i.due) for i in done] == [("13", date(2021, 4, 30))]


def test_overdue_lists_open_milestones_before_today(seeded, seed_gold):
    """On 2022-01-01: 2021-09-30 (list-13) and the fourteen 2021-12-31s; the done 2021-04-30 is not."""
    from knowledge import queries

    db, _, _ = seeded
    late = queries.overdue(db, date(2022, 1, 1))
    assert Counter(i.due.isoformat() for i in late) == Counter({"2021-09-30": 1, "2021-12-31": 14})
    assert queries.overdue(db, date(2021, 12, 31)) == [i for i in late if i.due < date(2021, 12, 31)]
    for_county = queries.overdue(db, date(2022, 1, 1), unit="邵阳县")
    assert got_due(for_county) == expected_due_for(seed_gold, {"邵阳县", "各县市区", "各县市"}, "2021-12-31")


def test_task_by_number(seeded):

    db, _, _ = seeded
    [t] = numbered.task_by_number(db, 13)
    assert (t.section, t.number_value) == ("list", 13)
    assert t.title.startswith("湖南省邵阳县长阳矿区")
    assert t.units["principal_units"] == ["邵阳县"]
    [b] = numbered.task_by_number(db, "（一）1", "body")
    assert b.title == "切实增强践行习近平生态文明思想的政治自觉"
    assert numbered.task_by_number(db, 99) == []
    detail = details.task_detail(db, t.id)
    assert len(detail["milestones"]) == 9 and len(detail["measures"]) == 3


def test_search_finds_the_task_by_its_words(seeded):
    from knowledge import queries

    db, _, _ = seeded
    hits = queries.search(db, "长阳矿区")
    assert hits and (hits[0].section, hits[0].number_value) == ("list", 13)
    assert ("list", 7) in {(h.section, h.number_value) for h in queries.search(db, "垃圾焚烧发电")}


def test_search_past_the_ranking_cap_puts_title_matches_first(seeded, monkeypatch):
    """A phrase found in more tasks than are ranked: tasks naming it in their title come first, then the
    others; the same tasks are found either way."""
    from knowledge import queries

    db, _, _ = seeded
    ranked = queries.search(db, "尾矿库", limit=10)
    monkeypatch.setattr(queries, "RANK_AT_MOST", 1)
    unranked = queries.search(db, "尾矿库", limit=10)
    assert {h.id for h in unranked} == {h.id for h in ranked} and len(ranked) >= 2
    titled = [h for h in unranked if "尾矿库" in h.title]
    assert titled and unranked[:len(titled)] == titled


def test_search_with_a_two_character_query(seeded):
    """Trigram full-text search needs 3 characters; 2-character questions still find tasks."""
    from knowledge import queries

    db, _, _ = seeded
    hits = queries.search(db, "长阳")
    assert ("list", 13) in {(h.section, h.number_value) for h in hits}
    assert queries.search(db, "砖厂") and queries.search(db, "  ") == []


def test_tasks_for_unit_resolve_collectives(seeded):
    from knowledge import queries

    db, _, _ = seeded
    numbers = {(t.section, t.number_value) for t in queries.tasks_for_unit(db, "邵阳县")}
    assert {("list", 13), ("list", 3), ("list", 15), ("body", "（一）1")} <= numbers
    assert ("list", 7) not in numbers
    assert ("list", 15) not in {(t.section, t.number_value) for t in queries.tasks_for_unit(db, "双清区")}


def test_duban_db_environment_variable_sets_the_default_path(tmp_path, monkeypatch, shared):
    from conftest import run_cli
    from knowledge.db import default_db_path

    target = tmp_path / "from_env.db"
    monkeypatch.setenv("DUBAN_DB", str(target))
    assert default_db_path() == target
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["ingest", str(SEED_TXT)])
    assert code == 0, err
    assert target.exists() and not (tmp_path / "duban.db").exists()
    monkeypatch.delenv("DUBAN_DB")
    for name in ("DUBAN_CONFIG", "STATE_DIRECTORY", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # not the working directory: the user's data folder
    assert default_db_path() == tmp_path / ".local" / "share" / "duban" / "duban.db"


def test_delivery_claims_survive_the_move_to_the_delivery_log(tmp_path, monkeypatch):
    """A store made with the keyed claim tables keeps its claims in the log: a redelivery after the
    upgrade is still a duplicate, and a captured signature still cannot carry another message."""
    from datetime import datetime, timezone

    from knowledge import db as store
    from knowledge import deliveries

    at = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
    seen_at = at.isoformat(timespec="seconds")
    path = tmp_path / "old.db"
    store._import_migration_modules()  # every module registers its migrations into the real list first
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", [f for f in store.MIGRATIONS
                                        if f.__name__ not in ("_m011_delivery_log", "delivery_answers")])
        old = store.open_db(path)
        with old.atomic():  # what the earlier server wrote for two messages
            old.execute("INSERT INTO signed_requests VALUES ('1732783262128', 'sig', 'msg-1', ?)", [seen_at])
            old.execute("INSERT INTO seen_messages VALUES ('dingtalk', 'msg-1', ?)", [seen_at])
            old.execute("INSERT INTO seen_messages VALUES ('wecom', '7001', ?)", [seen_at])
        old.conn.close()
    db = store.open_db(path)
    assert not {"seen_messages", "signed_requests"} & set(db.table_names())
    assert deliveries.claim_delivery(db, "dingtalk", "msg-1", at, ("1732783263000", "sig2")) == "duplicate"
    assert deliveries.claim_delivery(db, "wecom", "7001", at) == "duplicate"
    assert deliveries.claim_delivery(db, "dingtalk", "msg-2", at, ("1732783262128", "sig")) == "replayed"
    assert deliveries.claim_delivery(db, "dingtalk", "msg-2", at, ("1732783262999", "sig")) == "new"
    assert deliveries.claim_delivery(store.open_db(path), "dingtalk", "msg-2", at) == "duplicate"


def test_units_by_role_on_the_task_row_match_the_assignments_also_after_the_migration(tmp_path, directory, shared):
    """Each task's units by role are kept as one JSON row (read with every answer); a store made
    before that table gets it filled from the assignments when opened."""
    from knowledge import queries
    from knowledge.db import open_db

    path = tmp_path / "duban.db"
    db = open_db(path)
    ingest_file(db, SEED_TXT, directory)

    def from_assignments(store) -> dict:
        out: dict = {}
        for tid, role, unit in store.execute("SELECT task_id, role, unit FROM assignments ORDER BY task_id, role, position"):
            out.setdefault(tid, {}).setdefault(role, []).append(unit)
        return out

    def from_rows(store) -> dict:
        return {t.id: {r: us for r, us in t.units.items() if us} for t in queries.current_tasks(store)}

    want = from_assignments(db)
    assert from_rows(db) == want and len(want) == 38
    [list13] = numbered.task_by_number(db, 13)
    assert list13.units["lead_units"] == ["市自然资源和规划局"]
    assert list13.units["cooperating_units"] == ["市生态环境局", "市应急管理局", "市林业局", "市水利局"]
    with db.atomic():
        db.execute("DROP TABLE task_units")
        db.execute("DELETE FROM migrations WHERE name = '_m009_task_units'")
    db.conn.close()
    again = open_db(path)
    assert from_rows(again) == want


def test_names_in_the_store_by_role_match_a_plain_distinct(seeded, seed_gold):
    """known_unit_names / leader_titles read one index seek per name; they must equal the DISTINCTs."""
    from knowledge.directory import known_unit_names, leader_titles

    db, _, _ = seeded
    plain = {r[0] for r in db.execute("SELECT name FROM units UNION SELECT alias FROM unit_aliases UNION SELECT"
                                      " DISTINCT unit FROM assignments WHERE role != 'supervising_leaders'")}
    assert set(known_unit_names(db)) == plain and len(plain) > 39
    gold = {t for task in seed_gold["tasks"] for t in task["supervising_leaders"] or []}
    assert set(leader_titles(db)) == gold and len(gold) == 13


def test_generation_moves_with_every_change_an_answer_depends_on(tmp_path, directory, shared):
    from datetime import datetime, timezone

    from knowledge import generation, outbox, people, progress
    from knowledge.db import open_db
    from knowledge.deliveries import claim_delivery

    path = tmp_path / "g.db"
    db, other = open_db(path), open_db(path)  # the server's connection and, say, the command line's
    seen = [generation.current(db)]

    def moved() -> bool:
        seen.append(generation.current(db))
        return seen[-1] > seen[-2]

    ingest_file(other, SEED_TXT, directory)
    assert moved()
    people.replace_roster(other, [{"name": "张三", "unit": "邵阳县", "role": "联络员", "dingtalk_id": "zs"}])
    assert moved()
    people.bind(other, "dingtalk", "chat", "c1", "邵阳县", "zs", datetime.now(timezone.utc))
    assert moved()
    task_id = other.execute("SELECT id FROM tasks WHERE number = '13' AND section = 'list'").fetchone()[0]
    progress.add_entry(other, task_id, "complete", "", unit="邵阳县", official="张三", platform="dingtalk",
                       user_id="zs", at=datetime.now(timezone.utc))
    assert moved()
    for sql in ("UPDATE units SET kind = 'organ' WHERE name = '邵阳县'",  # an upsert keeps the count
                "INSERT INTO unit_aliases VALUES ('邵阳老县', '邵阳县')",
                "DELETE FROM collective_members WHERE member = '邵阳县'"):
        with other.atomic():
            other.execute(sql)
        assert moved(), sql
    # what changes with every message or reminder does not throw the kept answers away
    claim_delivery(other, "dingtalk", "m1", datetime.now(timezone.utc))
    outbox.set_channel(other, "邵阳县", "console", {})
    people.record(other, datetime.now(timezone.utc), "dingtalk", "zs", "绑定", "邵阳县", True)
    assert not moved()


def test_the_title_index_is_built_for_an_older_store_and_follows_every_write(tmp_path, directory, monkeypatch):
    """A store from before the title index gets it (from the tasks already there) when opened; tasks
    added or retitled later are in it too."""
    from knowledge import queries
    from knowledge.db import open_db

    path = tmp_path / "old.db"
    db = open_db(path)
    ingest_file(db, SEED_TXT, directory)
    for name in ("tasks_title_ai", "tasks_title_ad", "tasks_title_au"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE tasks_title_fts")
    db.execute("DELETE FROM migrations WHERE name = '_m016_title_index'")
    db.conn.commit()
    db = open_db(path)
    monkeypatch.setattr(queries, "RANK_AT_MOST", 1)  # the path that asks the title index

    def titled(phrase):
        return [h.title for h in queries.search(db, phrase, limit=10) if phrase in h.title]

    assert titled("尾矿库") and titled("尾矿库") == [h.title for h in queries.search(db, "尾矿库", limit=10)][:len(titled("尾矿库"))]
    task_id = db.execute("SELECT id FROM tasks WHERE title LIKE '%尾矿库%' LIMIT 1").fetchone()[0]
    with db.atomic():
        db.execute("UPDATE tasks SET title = '矸石山综合治理' WHERE id = ?", [task_id])
    assert "矸石山综合治理" in titled("矸石山综合治理")
    assert db.execute("SELECT count(*) FROM tasks_title_fts WHERE tasks_title_fts MATCH '\"尾矿库\"'").fetchone()[0] == \
        db.execute("SELECT count(*) FROM tasks WHERE title LIKE '%尾矿库%'").fetchone()[0]
