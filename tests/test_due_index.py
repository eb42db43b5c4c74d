"""The per-unit due index on a real store: after every writer (ingest, a new version that moves a
date, 销号, 撤销销号) it holds exactly what a rebuild from the tables gives, and
the due lists read from it answer as the plan says."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import SEED_TXT
from test_store import ingest_file

AT = datetime(2022, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def directory():
    from parser.units import UnitDirectory

    return UnitDirectory.load()


@pytest.fixture()
def db(tmp_path, directory, shared):
    from knowledge.db import open_db

    store = open_db(tmp_path / "duban.db")
    ingest_file(store, SEED_TXT, directory)
    return store


def rows(db) -> list[tuple]:
    return db.execute("SELECT unit, done, due, milestone_id, task_id, bound FROM unit_due ORDER BY 1, 2, 3, 4").fetchall()


def assert_same_as_rebuilt(db) -> list[tuple]:
    from knowledge import due_index

    kept = rows(db)
    with db.atomic():
        due_index.reindex(db)
    assert rows(db) == kept
    return kept


def list_task(db, number: int):
    from knowledge import numbered

    [task] = numbered.task_by_number(db, number)
    return task


def due_keys(db, unit: str, **kw) -> list[tuple[str, str]]:
    from knowledge import queries

    return [(i.task.number, i.due.isoformat()) for i in queries.due_items(db, unit=unit, **kw)]


def test_seed_rows_follow_bindings_and_roles(db):
    kept = assert_same_as_rebuilt(db)
    by_unit = {}
    for unit, done, due, mid, tid, bound in kept:
        by_unit.setdefault(unit, set()).add(mid)
    assert len(by_unit[""]) == 57  # everyone's rows: every milestone of the plan
    list7 = list_task(db, 7)
    seven = {mid for (mid,) in db.execute("SELECT id FROM milestones WHERE task_id=?", [list7.id])}
    # list item 7's milestones are each bound to counties: 新邵县 owns one, 武冈市 two, the lead units none
    assert len(by_unit["新邵县"] & seven) == 1 and len(by_unit["武冈市"] & seven) == 2
    assert not by_unit["市发展和改革委员会"] & seven
    assert {b for u, *_, b in kept if u == "武冈市" and _[2] in seven} == {"武冈市"}
    assert {b for u, *_, b in kept if u == "市林业局"} == {""}  # its milestones are its tasks' own
    assert not [u for u in by_unit if u.startswith("联系") or u.startswith("分管")]  # 督办领导 answer for none
    # the one done milestone (list 13, 2021-04-30) is kept, marked done
    assert [(u, due) for u, done, due, *_ in kept if done] == [(u, "2021-04-30") for u in
                                                              sorted({"", "邵阳县", "市自然资源和规划局", "市生态环境局",
                                                                      "市应急管理局", "市林业局", "市水利局"})]


def test_limit_takes_the_earliest_across_the_unit_and_its_collectives(db):
    every = due_keys(db, "邵阳县")
    assert len(every) > 10
    for n in (1, 3, 10):
        first = due_keys(db, "邵阳县", limit=n)
        assert len(first) == n and not Counter(first) - Counter(every)
        assert [d for _, d in first] == sorted(d for _, d in every)[:n]
    window = due_keys(db, "邵阳县", start=date(2022, 1, 1), end=date(2022, 12, 31))
    assert window == [k for k in every if "2022-01-01" <= k[1] <= "2022-12-31"]


def test_new_version_replaces_the_rows(db, tmp_path, directory):
    from knowledge import queries

    assert ("23", "2022-03-31") in due_keys(db, "市卫生健康委员会")
    text = SEED_TXT.read_text(encoding="utf-8")
    changed = tmp_path / SEED_TXT.name
    changed.write_text(text.replace("整改时限：2022年3月31日", "整改时限：2022年4月30日"), encoding="utf-8")
    assert ingest_file(db, changed, directory).version == 2
    kept = assert_same_as_rebuilt(db)
    current = {t.id for t in queries.current_tasks(db)}
    assert {tid for *_, tid, bound in kept} <= current  # nothing of version 1 is left
    keys = due_keys(db, "市卫生健康委员会")
    assert ("23", "2022-04-30") in keys and ("23", "2022-03-31") not in keys


def test_closing_a_task_takes_its_milestones_off_every_units_list_and_reopening_brings_them_back(db):
    from knowledge import queries
    from knowledge.progress import add_entry

    thirteen = list_task(db, 13)
    before = due_keys(db, "市林业局")
    assert ("13", "2023-12-31") in before
    add_entry(db, thirteen.id, "complete", "已完成整改", unit="市自然资源和规划局", official=None,
              platform=None, user_id=None, at=AT)
    assert_same_as_rebuilt(db)
    assert not [k for k in due_keys(db, "市林业局") if k[0] == "13"]
    assert not [k for k in due_keys(db, "邵阳县", include_done=True) if k[0] == "13"]
    _, pairs = queries.tasks_with_next_due(db, "市林业局", 60)
    assert [(t.status, i) for t, i in pairs if t.id == thirteen.id] == [("completed", None)]
    add_entry(db, thirteen.id, "reopen", "", unit="市自然资源和规划局", official=None,
              platform=None, user_id=None, at=AT)
    assert_same_as_rebuilt(db)
    assert due_keys(db, "市林业局") == before


def test_a_closed_task_is_shown_as_closed_in_the_units_task_list(db, directory):
    from bot.answer import answer_question
    from knowledge.progress import add_entry

    thirteen = list_task(db, 13)
    add_entry(db, thirteen.id, "complete", "已完成整改", unit="市自然资源和规划局", official=None,
              platform=None, user_id=None, at=AT)
    got = answer_question(db, "我单位有哪些任务", asker_unit="市林业局", today=date(2022, 1, 5), directory=directory)
    assert got.intent == "unit_tasks"
    [line] = [ln for ln in got.reply.split("- **") if ln.startswith("第13项")]
    assert "已销号" in line and "下一时限" not in line
    asked = answer_question(db, "第13项完成了吗", asker_unit=None, today=date(2022, 1, 5), directory=directory).reply
    assert "（已销号 2022-01-05）" in asked and "状态：已销号" in asked and "销号：已完成整改（市自然资源和规划局）" in asked
    other = answer_question(db, "第12项进展如何", asker_unit=None, today=date(2022, 1, 5), directory=directory).reply
    assert "状态：未销号" in other and "尚无进展报告" in other and "整改时限" in other
    still = answer_question(db, "我单位还有哪些没销号", asker_unit="市林业局", today=date(2022, 1, 5), directory=directory)
    assert {t["number"] for t in still.tasks} == {t["number"] for t in got.tasks} - {13}
    assert f"未销号的整改任务共{len(still.tasks)}项" in still.reply


def test_a_store_made_before_the_index_gets_it_filled_on_open(db, tmp_path):
    from knowledge.db import open_db

    kept = rows(db)
    path = tmp_path / "duban.db"
    with db.atomic():
        db.execute("DROP TABLE unit_due")
        db.execute("DELETE FROM migrations WHERE name = '_m013_due_index'")
    db.conn.close()
    again = open_db(path)
    assert rows(again) == kept and len(kept) > 100
    assert due_keys(again, "新邵县")


def test_a_due_list_reads_its_first_lines_and_counts_the_rest(db, seed_gold):
    """Lines are one task's milestones on one date (bound to the same units); the count covers the
    whole list although only the first lines are read, and says "以上" past count_to."""
    from bot import render
    from bot.answer import answer_question
    from knowledge import queries

    today = date(2026, 6, 1)
    gold_lines = {(t["id"], m["due"], tuple(m["units"])) for t in seed_gold["tasks"] for m in t["milestones"]
                  if not m["done"] and m["due"] < today.isoformat()}
    n = len(gold_lines)
    every = queries.overdue(db, today)
    assert len({(i.task.id, i.due, tuple(i.units)) for i in every}) == n and n > 30
    first, total = queries.due_lines(db, end=date(2026, 5, 31), lines=15, count_to=200)
    assert total == n
    def key(i):
        return i.task.id, i.due, tuple(i.units)

    in_reply_order = list(dict.fromkeys(key(i) for i in every))  # by date, then 清单 items first, by number
    assert {key(i) for i in first} == set(in_reply_order[:15])
    assert queries.due_lines(db, end=date(2026, 5, 31), lines=15, count_to=20)[1] == 21
    reply = answer_question(db, "逾期任务", asker_unit=None, today=today).reply
    assert f"**已逾期（{n}项）**" in reply and f"另有{n - 15}项，" in reply
    capped = render.render_due("h", [render_entry(i, today) for i in first], [], soon_title=None, totals=(21, 0),
                               count_to=20)
    assert "已逾期（20项以上）" in capped and "另有5项以上" in capped


def render_entry(item, today):
    from bot.answer import entry

    return entry(item.task, today, item)


@pytest.mark.parametrize("question, unit", [("我单位有哪些任务", "市生态环境局"), ("我单位牵头的任务", "市生态环境局"),
                                            ("我单位配合的任务", "市林业局"), ("有哪些任务", "邵阳县"),
                                            ("我单位逾期的任务", "邵阳县"), ("逾期任务", "市发展和改革委员会")])
def test_a_reply_shows_the_first_lines_of_the_listed_answer_and_counts_all_of_it(db, directory, question, unit):
    """The reply reads only its first lines; `duban ask --json`'s task list is read separately, in
    full: both must agree on the order and the count."""
    import re

    from bot.answer import answer_question
    from bot.render import MAX_ITEMS, task_label

    got = answer_question(db, question, asker_unit=unit, today=date(2022, 1, 5), directory=directory)
    listed = got.tasks
    assert listed
    if got.intent == "unit_tasks":
        assert f"共{len(listed)}项" in got.reply
        shown = re.findall(r"^- \*\*(\S+)\*\* ", got.reply, flags=re.MULTILINE)
        assert shown == [task_label(e["section"], e["number"]) for e in listed][:MAX_ITEMS]
        if len(listed) > MAX_ITEMS:
            assert f"另有{len(listed) - MAX_ITEMS}项" in got.reply
    else:
        sections = re.findall(r"^\*\*[^（\n]+（(\d+)项）\*\*", got.reply, flags=re.MULTILINE)
        lines = {(e["section"], e["number"], e["due"], str(e["units"])) for e in listed}
        assert sum(map(int, sections)) == len(lines)


@pytest.fixture()
def two_plans(db, directory):
    """The seed and the bundled example plan: both number their items 1, 2, 3 …"""
    from pathlib import Path

    ingest_file(db, Path(__file__).resolve().parents[1] / "bot" / "data" / "example_plan.txt", directory)
    return db


def test_two_plans_numbered_alike_are_told_apart(two_plans, directory):
    from bot.answer import answer_question

    example = "邵阳市2026年城乡人居环境问题整改方案"
    both = answer_question(two_plans, "第3项谁牵头", asker_unit=None, today=date(2026, 11, 28), directory=directory)
    parts = both.reply.split("\n\n")
    assert [p.splitlines()[0] for p in parts] == ["《shaoyang_rectification_plan》", f"《{example}》"]
    assert "牵头单位：市发展和改革委员会" in parts[0] and "牵头单位：市住房和城乡建设局" in parts[1]
    # a unit with items in both: each line says which plan, and the reply names the plans once
    late = answer_question(two_plans, "逾期任务", asker_unit="市交通运输局", today=date(2027, 11, 28),
                           directory=directory)
    lines = [ln for ln in late.reply.splitlines() if ln.startswith("- **")]
    assert lines and all(("〔文件1〕" in ln) != ("〔文件2〕" in ln) for ln in lines)
    assert {ln.split("**")[1] for ln in lines} >= {"第18项〔文件1〕", "第7项〔文件2〕"}
    assert "〔文件1〕《shaoyang_rectification_plan》" in late.reply and f"〔文件2〕《{example}》" in late.reply
    assert {t["plan"] for t in late.tasks} == {"shaoyang_rectification_plan", example}
    # one plan only: no tags
    one = answer_question(two_plans, "逾期任务", asker_unit="市交通运输局", today=date(2026, 1, 5),
                          directory=directory)
    assert "〔文件" not in one.reply and "第18项" in one.reply


def test_a_date_alone_as_the_due_text_shows_the_task_instead():
    from bot.render import what_is_due

    for text in ("2021年12月31日", "2027年第三季度", "2022年底前", "2022 年 6 月 30 日前完成"):
        assert what_is_due({"text": text, "title": "某项任务"}) == "整改时限到期：某项任务", text
    assert what_is_due({"text": "2024年6月前建成投产", "title": "某项任务"}) == "2024年6月前建成投产"


def test_a_search_over_two_plans_says_which_plan_each_hit_is_in(two_plans, directory):
    from bot.answer import answer_question

    got = answer_question(two_plans, "生活垃圾的整改要求", asker_unit=None, today=date(2026, 11, 28), directory=directory)
    assert got.intent == "search"
    first = got.reply.splitlines()[0]
    assert first.startswith("与“生活垃圾”最相关的是《") and first.endswith("》中：")
    related = next(ln for ln in got.reply.splitlines() if ln.startswith("相关任务："))
    assert related.count("《") == 3
