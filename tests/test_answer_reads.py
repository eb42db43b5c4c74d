"""The answer path's cheaper reads give what the plain reads give: a 清单 number from the kept lists, a task's
detail read with others, a unit named in a question found from the names by their first characters."""
from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from bot.answer import _names
from bot.ingest_cli import ingest_one
from bot.unit_mentions import _find_name, _name_index, find_unit
from knowledge import details, numbered
from knowledge.db import open_db
from parser.units import UnitDirectory

from conftest import SEED_TXT

EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "data" / "example_plan.txt"


@pytest.fixture(scope="module")
def directory():
    return UnitDirectory.load()


@pytest.fixture(scope="module")
def db(tmp_path_factory, directory):
    """Two plans numbered alike: the seed and the example plan."""
    db = open_db(tmp_path_factory.mktemp("store") / "duban.db")
    ingest_one(SEED_TXT, db, directory)
    ingest_one(EXAMPLE, db, directory)
    return db


def _askers(db) -> list[str | None]:
    return [None] + [r[0] for r in db.execute("SELECT DISTINCT unit FROM assignments ORDER BY unit LIMIT 40")]


def test_a_list_number_asked_of_every_plan_is_read_from_the_kept_lists_as_from_the_plans(db):
    for number in range(1, 45):
        plain = db.execute("SELECT count(*)" + numbered._BY_NUMBER + " AND t.section = 'list'",
                           {"n": str(number)}).fetchone()[0]
        assert numbered.count_by_number(db, number, "list") == plain
        for asker in _askers(db):
            for limit in (1, 3):
                prefer = asker if asker and plain > limit else None
                expected = numbered._ids_by_number(db, number, "list", prefer, limit)
                assert [t.id for t in numbered.task_by_number(db, number, "list", limit=limit, prefer_unit=asker,
                                                             total=plain)] == expected, (number, asker, limit)


def test_details_read_together_are_each_tasks_own_detail(db):
    tasks = numbered.task_by_number(db, 13, "list") + numbered.task_by_number(db, 7, "list")
    for task, detail in zip(tasks, details.of_tasks(db, tasks)):
        row = db.execute("SELECT title, deadline_text FROM tasks WHERE id = ?", [task.id]).fetchone()
        assert (detail["title"], detail["deadline_text"], detail["task"]) == (*row, task)
        measures = [r[0] for r in db.execute("SELECT text FROM measures WHERE task_id = ? ORDER BY position", [task.id])]
        assert detail["measures"] == measures
        assert detail["milestones"] == details.milestones_of(db, task.id)  # read one task at a time
        assert details.task_detail(db, task.id) == detail


def _longest_name(text: str, names: tuple[str, ...]):
    """The reference, every name tried: the longest found wins, of two as long the first in character order;
    else one edit away from a single name of ≥4 characters with the same first and last character."""
    index = _name_index(names).names
    for k in sorted(index, key=lambda k: (-len(k), k)):
        i = _find_name(text, k) if len(k) == 2 else text.find(k)
        if i >= 0:
            return index[k], (i, i + len(k)), False
    hits = {}
    for k in index:
        for size in (len(k) - 1, len(k), len(k) + 1):
            for i in range(0, len(text) - size + 1):
                piece = text[i:i + size]
                if len(k) >= 4 and size >= 4 and piece[0] == k[0] and piece[-1] == k[-1] \
                        and Levenshtein.distance(piece, k) <= 1:
                    hits.setdefault(k, (i, i + size))
    top = [k for k in hits if len(k) == max(map(len, hits))]
    return (index[top[0]], hits[top[0]], True) if len(top) == 1 else (None, None, False)


@pytest.mark.parametrize("question", [
    "发改委下个月到期的任务", "市生态环境局牵头的任务", "市生太环境局有哪些任务",
    "分管发展和改革工作的副市长督办的任务",
    "邵阳县和新邵县本月到期", "各县市区的任务", "环保督察的整改要求", "我单位哪些任务即将到期", "住建局",
])
def test_a_unit_named_in_a_question_is_the_longest_known_name_in_it(db, directory, question):
    names, _, _ = _names(db, directory)
    assert find_unit(question, names) == _longest_name(question, names)
