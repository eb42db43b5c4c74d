"""Officials' questions over the seed plan, answered through `duban ask --json`.

tests/data/questions.json holds the questions; each expected (section, number, due) set was worked
out from the gold annotation (/work/shared/gold/seed_tasks.json: milestones, their bound units, the
task's units by role, 各县市区 = the 12 county-level divisions), not from this code's output.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path
import pytest

from bot import cli
from bot.answer import answer_question
from bot.intent import parse_question, tokenizer
from knowledge import progress
from knowledge.db import open_db
from knowledge.ingest import ingest_plan, sha256_of
from parser.plan import parse_file
from parser.units import UnitDirectory
from conftest import copy_store

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
QUESTIONS = json.loads((Path(__file__).parent / "data" / "questions.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "duban.db"
    db = open_db(path)
    directory = UnitDirectory.load()
    ingest_plan(db, parse_file(SEED, directory=directory), sha256_of(SEED.read_bytes()), directory)
    db.conn.commit()
    return path


@pytest.fixture(scope="module")
def db(seed_db):
    return open_db(seed_db)


def ask(capsys, db_path, question, asker=None, today="2021-12-01", as_json=True) -> dict | str:
    argv = ["--db", str(db_path), "ask", question, "--today", today]
    if asker:
        argv += ["--as", asker]
    if as_json:
        argv.append("--json")
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out) if as_json else out


def triples(tasks) -> set:
    return {(t["section"], t["number"], t["due"]) for t in tasks}


def test_question_set_is_large_and_covers_every_intent():
    assert len(QUESTIONS) >= 70
    assert {q["intent"] for q in QUESTIONS} >= {"due_soon", "overdue", "due_in_window", "task", "search",
                                                "unit_tasks", "help", "unknown"}


@pytest.mark.parametrize("case", QUESTIONS, ids=[f"{i:02d}-{q['q']}" for i, q in enumerate(QUESTIONS)])
def test_question_answers_match_gold(case, seed_db, capsys):
    got = ask(capsys, seed_db, case["q"], case["as"], case["today"])
    assert got["intent"] == case["intent"]
    assert got["unit"] == case["unit"]
    if case["window"] is not None:
        assert got["window"] == case["window"]
    assert triples(got["tasks"]) == {tuple(t) for t in case["tasks"]}
    assert got["reply"].strip()
    for text in case.get("reply_contains", []):
        assert text in got["reply"]


# ---- rendered replies ----------------------------------------------------------------------

def test_due_reply_names_task_date_days_and_units_by_role(seed_db, capsys):
    reply = ask(capsys, seed_db, "本月到期的任务", "新邵县", "2022-06-20", as_json=False)
    assert "第7项" in reply and "2022-06-30（剩10天）" in reply
    assert "新邵县垃圾焚烧发电项目建成投产" in reply
    assert "正文（三）" in reply
    assert "牵头单位：市农业农村局" in reply  # list-10, the whole task's units
    # the 2021-12-31 items, overdue seen from 2022-06-20, are one line after the month asked about
    assert "逾期171天" not in reply and reply.rstrip().endswith("另有9项已逾期（发送“逾期任务”查看）")


def test_the_asked_window_comes_first_then_one_line_for_what_is_overdue(seed_db, capsys):
    """With the seed, "本周到期" used to show 15 overdue lines before the week that was asked about."""
    reply = ask(capsys, seed_db, "我单位哪些任务即将到期", "邵阳县", "2021-12-01", as_json=False)
    lines = reply.strip().splitlines()
    assert lines[1] == "**30天内到期（11项）**" and lines[-1] == "另有1项已逾期（发送“逾期任务”查看）"
    assert "2021-09-30" not in reply  # 第13项's overdue item: counted, not listed
    week = ask(capsys, seed_db, "本周到期", None, "2022-06-27", as_json=False).strip().splitlines()
    everyone_late = ask(capsys, seed_db, "逾期任务", None, "2022-06-27", as_json=False)
    n_late = re.search(r"\*\*已逾期（(\d+)项）\*\*", everyone_late).group(1)
    assert week[1].startswith("**本周到期") and week[-2] == f"另有{n_late}项已逾期（发送“逾期任务”查看）"
    assert not [ln for ln in week if "逾期" in ln and ln.startswith("- ")]
    late = ask(capsys, seed_db, "逾期任务", "邵阳县", "2021-12-01", as_json=False)
    assert "第13项 2021-09-30（逾期62天）" in late.replace("**", "")


def test_due_today_says_so(db):
    a = answer_question(db, "本月到期的任务", asker_unit="新邵县", today=date(2022, 6, 30))
    assert "今天到期" in a.reply


def test_milestone_bound_to_xinshao_is_not_wugangs(db):
    xs = answer_question(db, "6月底前要完成的任务", asker_unit="新邵县", today=date(2022, 6, 1))
    wg = answer_question(db, "6月底前要完成的任务", asker_unit="武冈市", today=date(2022, 6, 1))
    xs7 = [t for t in xs.tasks if t["number"] == 7]
    wg7 = [t for t in wg.tasks if t["number"] == 7]
    assert [t["units"] for t in xs7] == [["新邵县"]] and "新邵县垃圾焚烧发电项目建成投产" in xs7[0]["text"]
    assert [t["units"] for t in wg7] == [["武冈市"]] and "主体工程开工" in wg7[0]["text"]
    sy = answer_question(db, "6月底前要完成的任务", asker_unit="邵阳县", today=date(2022, 6, 1))
    assert not [t for t in sy.tasks if t["number"] == 7]


def test_county_collective_tasks_count_for_each_member(db):
    a = answer_question(db, "有哪些逾期任务", asker_unit="城步苗族自治县", today=date(2022, 1, 5))
    assert (("list", 3, "2021-12-31") in triples(a.tasks))  # principal 各县市区
    assert (("list", 15, "2021-12-31") in triples(a.tasks))  # principal 各县市 (no districts)
    d = answer_question(db, "有哪些逾期任务", asker_unit="双清区", today=date(2022, 1, 5))
    assert ("list", 15, "2021-12-31") not in triples(d.tasks)


def test_completed_milestone_is_never_listed_as_due(db):
    a = answer_question(db, "有哪些逾期任务", asker_unit="邵阳县", today=date(2022, 6, 20))
    assert "2021-04-30" not in {t["due"] for t in a.tasks}
    detail = answer_question(db, "第13项什么时候完成", asker_unit=None, today=date(2022, 6, 20))
    assert "2021-04-30（已完成）" in detail.reply


def test_long_lists_are_capped_with_a_narrowing_hint(db):
    a = answer_question(db, "逾期任务", asker_unit=None, today=date(2026, 6, 1))
    assert "另有" in a.reply and "请缩小范围" in a.reply
    assert a.reply.count("\n- ") <= 2 * 15 + 2


def test_max_bytes_keeps_reply_within_limit(db):
    a = answer_question(db, "逾期任务", asker_unit=None, today=date(2026, 6, 1), max_bytes=2048)
    assert len(a.reply.encode()) <= 2048
    assert "第" in a.reply and "逾期" in a.reply


def test_task_question_answers_what_was_asked(db):
    lead = answer_question(db, "第十三项谁牵头", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "牵头单位：市自然资源和规划局" in lead and "督办领导" not in lead
    leaders = answer_question(db, "第7项督办领导是谁", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "督办领导：分管发展和改革工作的副市长" in leaders
    units = answer_question(db, "第13项谁负责", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "主体责任单位：邵阳县" in units and "配合单位：市生态环境局" in units
    measures = answer_question(db, "蔡锷乡垃圾填埋场的整改要求", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "第11项" in measures and "整改措施" in measures and "蔡锷乡" in measures


# ---- the asker, unknown units and unknown questions ----------------------------------------

def test_unbound_asker_asking_about_my_unit_is_told_how_to_bind(db):
    a = answer_question(db, "我单位哪些任务即将到期", asker_unit=None, today=date(2021, 12, 1))
    assert a.tasks == [] and "请先发送“绑定 单位名称”，例如：绑定 市生态环境局" in a.reply


def test_unknown_question_gets_short_help(db):
    a = answer_question(db, "今天天气怎么样", asker_unit="邵阳县", today=date(2021, 12, 1))
    assert a.intent == "unknown" and "可以这样问" in a.reply and "第13项" in a.reply


def test_unknown_unit_is_reported_with_closest_names(db):
    a = answer_question(db, "市环保厅本月到期的任务", asker_unit="邵阳县", today=date(2021, 12, 1))
    assert "没有找到单位“市环保厅”" in a.reply and "市生态环境局" in a.reply and a.tasks == []


def test_empty_store_says_to_ingest_first(tmp_path, capsys):
    reply = ask(capsys, tmp_path / "empty.db", "有哪些逾期任务", "邵阳县", as_json=False)
    assert "请先导入文件：duban ingest 文件" in reply


def test_chat_answers_lines_until_exit(seed_db, capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("第13项谁牵头\n退出\n第7项是什么\n"))
    assert cli.main(["--db", str(seed_db), "chat", "--as", "邵阳县", "--today", "2021-12-01"]) == 0
    out = capsys.readouterr().out
    assert "市自然资源和规划局" in out and "部门责任落实不力" not in out


# ---- understanding ---------------------------------------------------------------------------

def test_jieba_segments_unit_names_whole_after_loading():
    tokenizer(["市生态环境局", "市住房和城乡建设局"])
    words = tokenizer().lcut("市生态环境局下个月到期的任务")
    assert "市生态环境局" in words


def test_chinese_and_fullwidth_numbers_give_the_same_task():
    names = UnitDirectory.load().all_names()
    for text in ("第十三项是什么", "第13项是什么", "第１３项是什么", "13号任务", "清单第13项"):
        intent = parse_question(text, today=date(2021, 12, 1), unit_names=names)
        assert (intent.kind, intent.number, intent.section) == ("task", 13, "list"), text


def test_body_task_numbers_keep_full_width_brackets():
    names = UnitDirectory.load().all_names()
    intent = parse_question("正文（一）1谁牵头", today=date(2021, 12, 1), unit_names=names)
    assert (intent.number, intent.section, intent.ask) == ("（一）1", "body", "lead")


def test_city_name_means_whole_city_not_a_similar_county(db):
    a = answer_question(db, "邵阳市有哪些逾期任务", asker_unit="新邵县", today=date(2022, 6, 20))
    assert a.unit is None and ("list", 2, "2021-12-31") in triples(a.tasks)  # 邵阳县's item shows city-wide


def test_three_character_typo_gets_suggestions_not_a_guess(db):
    a = answer_question(db, "新绍县有哪些任务", asker_unit=None, today=date(2021, 12, 1))
    assert a.tasks == [] and "没有找到单位“新绍县”" in a.reply and "新邵县" in a.reply


def test_a_supervising_leader_s_tasks_match_the_gold(seed_db, capsys, seed_gold):
    """"市长督办的任务" / "分管发展和改革工作的副市长有哪些任务": every 督办领导 title in the plan."""
    leaders: dict[str, set] = {}
    for t in seed_gold["tasks"]:
        for title in t["supervising_leaders"] or []:
            leaders.setdefault(title, set()).add((t["section"], t["number"]))
    assert len(leaders) == 13
    for title, want in leaders.items():
        got = ask(capsys, seed_db, f"{title}督办哪些任务", None, "2021-12-20")
        assert (got["intent"], got["unit"]) == ("leader_tasks", title)
        assert {(t["section"], t["number"]) for t in got["tasks"]} == want, title
        assert f"**{title}**督办的整改任务共{len(want)}项" in got["reply"]
    # a title holding a unit's name is the leader (市委书记, not 市委); a task number still wins
    assert ask(capsys, seed_db, "市委书记有哪些任务", None)["intent"] == "leader_tasks"
    assert ask(capsys, seed_db, "市委有哪些任务", None)["unit"] == "市委"
    assert ask(capsys, seed_db, "第7项督办领导是谁", None)["intent"] == "task"
    for text in ("副市长督办的任务", "12345市长热线办理情况"):  # not the 市长's
        assert ask(capsys, seed_db, text, None)["intent"] != "leader_tasks", text


@pytest.mark.parametrize("text, start, end", [
    ("2022年上半年到期的任务", "2022-01-01", "2022-06-30"),
    ("上半年到期", "2022-01-01", "2022-06-30"),  # this year's is past: next year's
    ("下半年到期的", "2021-12-20", "2021-12-31"),  # what of it is past is overdue instead
    ("三季度到期的任务", "2022-07-01", "2022-09-30"),
    ("2022年第一季度到期的任务", "2022-01-01", "2022-03-31"),
    ("元旦前要完成的", "2021-12-20", "2021-12-31"),
    ("春节前要完成的", "2021-12-20", "2022-01-31"),
    ("中秋前完成", "2021-12-20", "2022-09-09"),
    ("十四五期间要完成的任务", "2021-12-20", "2025-12-31"),
    ("“十五五”末到期", "2021-12-20", "2030-12-31"),
    ("“十五五”期间到期的", "2026-01-01", "2030-12-31"),
    ("明年上半年到期的任务", "2022-01-01", "2022-06-30"),
    ("今年三季度到期的", "2021-07-01", "2021-09-30"),  # over: the whole quarter, its open items overdue
    ("2020年第三季度到期的任务", "2020-07-01", "2020-09-30"),
    ("下一季度到期的任务", "2022-01-01", "2022-03-31"),
    ("十三五期间", "2016-01-01", "2020-12-31"),
    ("今天有什么到期的", "2021-12-20", "2021-12-20"),
    ("明年3月到期的任务", "2022-03-01", "2022-03-31"),  # a month of next year, not all of it
    ("2022年3月到期的", "2022-03-01", "2022-03-31"),
    ("明年一月份要完成什么", "2022-01-01", "2022-01-31"),
    ("2021年11月到期的任务", "2021-11-01", "2021-11-30"),  # over: its open items are overdue
    ("下下个月到期的", "2022-02-01", "2022-02-28"),
    ("12月中旬前要完成的", "2021-12-20", "2021-12-20"),
    ("明年6月上旬前", "2021-12-20", "2022-06-10"),
    ("后年3月到期", "2023-03-01", "2023-03-31"),
    ("周五前要完成哪些", "2021-12-20", "2021-12-24"),  # 2021-12-20 is a Monday
    ("下周三前到期的", "2021-12-20", "2021-12-29"),
    ("星期天前", "2021-12-20", "2021-12-26"),
    ("明天要完成哪些任务", "2021-12-21", "2021-12-21"),
    ("本周一前到期的", "2021-12-20", "2021-12-20"),  # today is that Monday
    ("上周五前到期的", "2021-12-20", "2021-12-20"),  # past: nothing ahead, what is left is overdue
    ("3月5号和6号到期的任务", "2022-03-05", "2022-03-06"),  # days, not task numbers 5 and 6
    ("12月25日到期的", "2021-12-25", "2021-12-25"),
    ("2022年3月上旬到期的任务", "2022-03-01", "2022-03-10"),
    ("12月下旬到期的", "2021-12-21", "2021-12-31"),
    ("十号前到期的任务", "2021-12-20", "2022-01-10"),  # the 10th of this month is past: next month's
    ("25号到期的", "2021-12-25", "2021-12-25"),
])
def test_named_periods_and_festivals_as_windows(text, start, end):
    from bot.windows import parse_window

    w = parse_window(text, date(2021, 12, 20))
    assert (w.start.isoformat(), w.end.isoformat()) == (start, end)


@pytest.mark.parametrize("text", ["3月5号和6号到期的任务", "十号前到期的任务", "25号到期的"])
def test_days_of_the_month_are_not_task_numbers(seed_db, capsys, text):
    assert ask(capsys, seed_db, text, "市生态环境局", "2021-12-20")["intent"] != "task"


@pytest.mark.parametrize("text", ["十四五能源发展规划的要求", "前三季度空气质量", "上一季度的情况"])
def test_plan_names_and_cumulative_quarters_are_not_windows(text):
    from bot.windows import parse_window

    assert parse_window(text, date(2021, 12, 20)) is None


def test_several_units_in_one_question_are_each_answered_in_order(seed_db, capsys):
    got = ask(capsys, seed_db, "发改委、住建局和水利局有哪些任务", None, "2021-12-20")
    heads = [ln for ln in got["reply"].splitlines() if ln.startswith("**")]
    assert [h.split("**")[1] for h in heads] == ["市发展和改革委员会", "市住房和城乡建设局", "市水利局"]
    alone = {u: ask(capsys, seed_db, f"{u}有哪些任务", None, "2021-12-20")["tasks"]
             for u in ("市发展和改革委员会", "市住房和城乡建设局", "市水利局")}
    assert got["tasks"] == [t for u in alone for t in alone[u]]
    roles = ask(capsys, seed_db, "发改委牵头、住建局配合的任务", None, "2021-12-20")["reply"]
    assert "**市发展和改革委员会**牵头的整改任务" in roles and "**市住房和城乡建设局**配合的整改任务" in roles
    due = ask(capsys, seed_db, "发改委和住建局2022年到期的任务", None, "2021-12-20")
    assert due["intent"] == "due_in_window" and due["reply"].count("到期提醒") == 2


def test_a_period_already_over_lists_what_of_it_is_still_open(seed_db, capsys):
    got = ask(capsys, seed_db, "2021年第四季度到期的任务", "邵阳县", "2022-03-01")
    assert got["window"] == ["2021-10-01", "2021-12-31"]
    assert {t["due"] for t in got["tasks"]} <= {"2021-12-31"} and got["tasks"]
    assert "2021年第4季度到期、仍未完成" in got["reply"] and "已逾期" not in got["reply"]


def test_long_term_tasks_are_the_gold_s_ongoing_ones(seed_db, capsys, seed_gold):
    """"长期坚持的任务": the tasks the gold marks ongoing (持续推进 / 长期坚持), for everyone or one unit."""
    ongoing = [t for t in seed_gold["tasks"] if t["ongoing"]]
    got = ask(capsys, seed_db, "全市长期坚持的任务", None)  # 全市长期: no 市长 in it
    assert (got["intent"], got["unit"]) == ("unit_tasks", None)
    assert {(t["section"], t["number"]) for t in got["tasks"]} == {(t["section"], t["number"]) for t in ongoing}
    assert f"长期坚持（持续推进）的整改任务共{len(ongoing)}项" in got["reply"]
    roles = ("principal_units", "lead_units", "cooperating_units", "responsible_units")
    mine = {(t["section"], t["number"]) for t in ongoing if any("市生态环境局" in (t[r] or []) for r in roles)}
    got = ask(capsys, seed_db, "我单位哪些任务是持续推进的", "市生态环境局")
    assert {(t["section"], t["number"]) for t in got["tasks"]} == mine and mine


def test_closed_tasks_and_roles_a_unit_does_not_hold(seed_db, capsys, tmp_path):
    none = ask(capsys, seed_db, "哪些任务已经销号", "市生态环境局")
    assert none["tasks"] == [] and "目前没有已销号的任务" in none["reply"]
    # 邵阳县 answers for tasks as principal unit, never as the lead
    lead = ask(capsys, seed_db, "邵阳县牵头的任务", None)
    assert lead["tasks"] == [] and "没有邵阳县牵头的任务" in lead["reply"]
    closed = tmp_path / "closed.db"
    copy_store(seed_db, closed)
    store = open_db(closed)
    task_id = store.execute("SELECT id FROM tasks WHERE section = 'list' AND number = '13'").fetchone()[0]
    progress.add_entry(store, task_id, "complete", "", unit="市自然资源和规划局", official="李四", platform="local",
                       user_id="ls", at=datetime(2021, 11, 30, 10, tzinfo=timezone.utc))
    for text in ("哪些任务已经销号", "我单位完成了的任务", "已办结的任务有哪些"):
        got = ask(capsys, closed, text, "市生态环境局")
        assert [(t["section"], t["number"]) for t in got["tasks"]] == [("list", 13)], text
        assert "已销号" in got["reply"]
    still = ask(capsys, closed, "我单位还有哪些没销号", "市生态环境局")
    assert ("list", 13) not in {(t["section"], t["number"]) for t in still["tasks"]} and still["tasks"]


@pytest.mark.parametrize("question, unit, role, start, end", [
    ("发改委牵头的任务什么时候到期", "市发展和改革委员会", "lead_units", "2021-12-01", "2021-12-31"),
    ("我单位配合的任务明年到期的有哪些", "市生态环境局", "cooperating_units", "2022-01-01", "2022-12-31"),
    ("城管局牵头的哪些任务2022年到期", "市城市管理和综合执法局", "lead_units", "2022-01-01", "2022-12-31"),
])
def test_due_lists_in_one_role_hold_the_gold_s_milestones_of_those_tasks(seed_db, capsys, seed_gold,
                                                                        question, unit, role, start, end):
    want = {(t["section"], t["number"], m["due"]) for t in seed_gold["tasks"] if unit in (t[role] or [])
            for m in t["milestones"] if not m["done"] and "2021-12-01" <= m["due"] and start <= m["due"] <= end
            and (not m["units"] or unit in m["units"])}  # the overdue ones are only counted
    got = ask(capsys, seed_db, question, "市生态环境局")
    assert got["unit"] == unit and got["window"] == [start, end]
    assert triples(got["tasks"]) == want and want
    assert f"**{unit}**{ {'lead_units': '牵头', 'cooperating_units': '配合'}[role]} · 到期提醒" in got["reply"]
    # without the role: every task naming the unit, a longer list
    everyone = ask(capsys, seed_db, question.replace("牵头的", "的").replace("配合的", "的"), "市生态环境局")
    assert triples(everyone["tasks"]) >= want
    if role == "cooperating_units":  # 市生态环境局 leads many of its tasks: the plain list is longer
        assert triples(everyone["tasks"]) > want


def test_figures_of_a_unit_match_the_gold_and_its_own_lists(seed_db, capsys, seed_gold):
    roles = {"lead_units": "牵头", "principal_units": "主体责任", "responsible_units": "责任", "cooperating_units": "配合"}
    unit = "市生态环境局"
    mine = [t for t in seed_gold["tasks"] if any(unit in (t[r] or []) for r in roles)]
    got = ask(capsys, seed_db, "我单位一共有几项任务", unit)
    assert (got["intent"], got["unit"]) == ("summary", unit)
    by_role = "、".join(f"{w}{n}项" for r, w in roles.items() if (n := sum(unit in (t[r] or []) for t in mine)))
    assert f"- 整改任务：共{len(mine)}项（其中{by_role}）" in got["reply"]
    assert f"- 已销号：0项；未销号：{len(mine)}项（完成率0%）" in got["reply"]
    assert f"- 长期坚持（持续推进）：{sum(t['ongoing'] for t in mine)}项" in got["reply"]
    late = ask(capsys, seed_db, "我单位有哪些逾期任务", unit, as_json=False)
    soon = ask(capsys, seed_db, "我单位哪些任务即将到期", unit, as_json=False)
    n_late = late.split("**已逾期（", 1)[1].split("项", 1)[0]
    n_soon = soon.split("**30天内到期（", 1)[1].split("项", 1)[0]
    assert f"- 时限节点：已逾期{n_late}个，30天内到期{n_soon}个" in got["reply"]
    # the whole plan: "一共" without a unit; a unit named
    everyone = ask(capsys, seed_db, "一共有多少项任务", unit)
    assert everyone["unit"] is None and f"共{len(seed_gold['tasks'])}项" in everyone["reply"]
    assert ask(capsys, seed_db, "发改委的整改情况怎么样", unit)["unit"] == "市发展和改革委员会"
    # a number or a state still asks for the task or the list
    assert ask(capsys, seed_db, "第13项整改情况", unit)["intent"] == "task"
    assert ask(capsys, seed_db, "逾期的有几项", unit)["intent"] == "overdue"
    assert ask(capsys, seed_db, "已销号多少项", unit)["intent"] == "unit_tasks"
    assert ask(capsys, seed_db, "长阳矿区的整改情况", unit)["intent"] == "search"  # about a place, not figures


def test_a_unit_s_contacts_come_from_the_roster(seed_db, capsys, tmp_path):
    from knowledge import people

    path = tmp_path / "roster.db"
    copy_store(seed_db, path)
    people.replace_roster(open_db(path), [
        {"name": "张三", "unit": "市发展和改革委员会", "role": "联络员", "mobile": "13800000001"},
        {"name": "李四", "unit": "市发展和改革委员会", "role": "负责人", "mobile": "13800000002"},
        {"name": "王五", "unit": "市生态环境局", "role": "联络员"}])
    got = ask(capsys, path, "发改委的联络员是谁", "市生态环境局")
    assert (got["intent"], got["unit"]) == ("contacts", "市发展和改革委员会")
    assert got["reply"].splitlines()[1:] == ["- 李四（负责人）", "- 张三（联络员）"]  # no numbers in a group
    assert "王五（联络员）" in ask(capsys, path, "我单位的联系人", "市生态环境局")["reply"]
    assert "花名册中没有市住房和城乡建设局的人员" in ask(capsys, path, "住建局找谁联系", None)["reply"]
    assert "请说明是哪个单位" in ask(capsys, path, "联系人是谁", None)["reply"]
    # a hotline in a question is a topic, not a contact
    assert ask(capsys, path, "12345热线电话投诉的问题", None)["intent"] != "contacts"


@pytest.mark.parametrize("question, numbers", [
    ("第13项和第14项谁牵头", [13, 14]), ("第13、14项的整改时限", [13, 14]), ("第3至5项是什么", [3, 4, 5]),
    ("13和14号谁牵头", [13, 14]), ("清单第十三、十四项", [13, 14]), ("第13项谁牵头", [13]),
    ("第3-12项", [3, 4, 5, 6, 7]),  # five at a time, and the rest named
])
def test_several_task_numbers_are_each_answered_in_order(seed_db, capsys, gold_by_key, question, numbers):
    got = ask(capsys, seed_db, question, None)
    assert got["intent"] == "task"
    heads = [ln.split("**")[1] for ln in got["reply"].splitlines() if ln.startswith("**第")]
    assert heads == [f"第{n}项" for n in numbers]
    if question == "第3-12项":
        assert "另有5项未列出" in got["reply"] and "第8至12项" in got["reply"]
    if "牵头" in question:  # each part names its own lead units, as in the gold
        for n, part in zip(numbers, got["reply"].split("\n\n")):
            assert "、".join(gold_by_key[f"list-{n}"]["lead_units"]) in part


@pytest.mark.parametrize("question, unit", [
    ("帮我看看发改那边的任务", "市发展和改革委员会"), ("住建的任务", "市住房和城乡建设局"),
    ("环保这边下月到期", "市生态环境局"), ("城管有几项逾期", "市城市管理和综合执法局"),
    ("住建部门下个月到期的", "市住房和城乡建设局"),
])
def test_two_character_short_forms_name_their_unit(seed_db, capsys, question, unit):
    """Officials type 发改 / 住建 / 环保 / 城管: that unit, not the asker's own."""
    assert ask(capsys, seed_db, question, "市水利局")["unit"] == unit


def test_colloquial_open_tasks(seed_db, capsys):
    got = ask(capsys, seed_db, "咱们局还有啥没干完的", "市生态环境局")
    assert got["intent"] == "unit_tasks" and "未销号的整改任务" in got["reply"]


def test_leap_day_and_topic_words_are_no_trouble():
    from bot.windows import parse_window

    w = parse_window("2月底前要完成的", date(2024, 2, 29))  # today is the end of February
    assert (w.start, w.end) == (date(2024, 2, 29), date(2024, 2, 29))
    w = parse_window("2月下旬前", date(2024, 3, 1))
    assert w.end == date(2025, 2, 28)


@pytest.mark.parametrize("question", ["环保督察整改任务有哪些", "文旅产业的任务"])
def test_a_short_form_inside_a_topic_word_is_no_unit(seed_db, capsys, question):
    assert ask(capsys, seed_db, question, "市水利局")["unit"] != "市生态环境局"
    assert ask(capsys, seed_db, question, "市水利局")["unit"] != "市文化旅游广电体育局"


# ---- answers an official can trust (the wrong answers once given, each as a case) -------------

EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "data" / "example_plan.txt"


@pytest.fixture(scope="module")
def two_plans_db(tmp_path_factory):
    """The seed as 文件1, the bundled example plan as 文件2 (both number their items 1, 2, 3 …)."""
    db = open_db(tmp_path_factory.mktemp("two") / "duban.db")
    directory = UnitDirectory.load()
    for path in (SEED, EXAMPLE):
        ingest_plan(db, parse_file(path, directory=directory), sha256_of(path.read_bytes()), directory)
    return db


def test_a_document_qualified_number_answers_that_documents_item(two_plans_db):
    # "2-13谁牵头" used to list the 17 tasks the asker leads
    a = answer_question(two_plans_db, "2-13谁牵头", asker_unit="市生态环境局", today=date(2026, 3, 2))
    assert a.intent == "task" and a.reply == "文件2中没有第13项任务。发送“文件列表”可查看文件编号。"
    a = answer_question(two_plans_db, "2-3谁牵头", asker_unit="市生态环境局", today=date(2026, 3, 2))
    assert "牵头单位：市住房和城乡建设局" in a.reply and "《" not in a.reply  # the example's 第3项 only
    a = answer_question(two_plans_db, "文件1第3项谁牵头", asker_unit=None, today=date(2026, 3, 2))
    assert "牵头单位：市发展和改革委员会" in a.reply and {t["document"] for t in a.tasks} == {1}
    both = answer_question(two_plans_db, "第3项谁牵头", asker_unit=None, today=date(2026, 3, 2))
    assert {t["document"] for t in both.tasks} == {1, 2}


def test_history_with_two_plans_says_which_plan(two_plans_db):
    from bot.conversation import Conversation, Turn
    conv = Conversation(two_plans_db, UnitDirectory.load(), today=lambda: date(2026, 3, 2),
                        now=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    reply = conv.handle(Turn("local", "local", "第七项原来的整改时限是什么")).reply
    parts = reply.split("\n\n")
    assert [p.splitlines()[0] for p in parts] == ["〔文件1〕《shaoyang_rectification_plan》",
                                                   "〔文件2〕《邵阳市2026年城乡人居环境问题整改方案》"]
    one = conv.handle(Turn("local", "local", "2-7原来的整改时限是什么")).reply
    assert one.startswith("第7项只有一个版本") and "〔文件" not in one


def test_a_leader_no_task_names_is_said_as_empty(tmp_path):
    db = open_db(tmp_path / "example.db")
    directory = UnitDirectory.load()
    ingest_plan(db, parse_file(EXAMPLE, directory=directory), sha256_of(EXAMPLE.read_bytes()), directory)
    a = answer_question(db, "市长督办的任务", asker_unit="市生态环境局", today=date(2026, 3, 2))
    assert (a.intent, a.reply, a.tasks) == ("leader_tasks", "没有市长督办的任务。", [])


@pytest.mark.parametrize("text, kind", [("逾其任务", "overdue"), ("到其的任务", "due_soon"), ("愈期任务", "overdue"),
                                        ("有哪些超其的", "overdue")])
def test_typos_on_key_words_are_corrected(text, kind):
    assert parse_question(text, today=date(2021, 12, 1), unit_names=[]).kind == kind


@pytest.mark.parametrize("text", ["到其他单位的任务", "超其所能", "逾越职责"])
def test_ordinary_words_are_not_taken_for_typos(text):
    intent = parse_question(text, today=date(2021, 12, 1), unit_names=[])
    assert intent.text == text and intent.kind not in ("overdue", "due_soon")


@pytest.mark.parametrize("text", ["What tasks are overdue?", "who leads task 13", "ok"])
def test_a_question_without_chinese_gets_a_short_chinese_help(db, text):
    a = answer_question(db, text, asker_unit=None, today=date(2021, 12, 1))
    assert a.reply.startswith("请用中文提问") and a.tasks == [] and len(a.reply) < 120


def test_a_bare_number_is_still_a_task(db):
    assert answer_question(db, "13", asker_unit=None, today=date(2021, 12, 1)).intent == "task"


def test_topic_search_puts_the_task_about_it_first(db):
    # 第15项 is about 尾矿库 (its title and problem); 第5项 names 尾矿库治理 among other problems
    for q in ("尾矿库治理谁负责", "尾矿库治理什么时候完成"):
        reply = answer_question(db, q, asker_unit=None, today=date(2021, 12, 1)).reply
        assert reply.splitlines()[1].startswith("**第15项**"), q
        assert "第5项" in reply.splitlines()[-1]  # still among the related ones


def test_continuing_only_where_the_document_says_so(db, seed_gold):
    ongoing = {(t["section"], str(t["number"])) for t in seed_gold["tasks"] if t.get("ongoing")}
    assert ("list", "1") in ongoing and ("body", "（一）1") not in ongoing
    body = answer_question(db, "正文（一）1什么时候完成", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "持续推进" not in body and "时限节点：文件未列明具体时限" in body
    listed = answer_question(db, "第1项什么时候完成", asker_unit=None, today=date(2021, 12, 1)).reply
    assert "时限节点：无具体日期（持续推进）" in listed
    units = answer_question(db, "市委办公室有哪些任务", asker_unit=None, today=date(2021, 12, 1)).reply
    items = units.split("\n- ")[1:]
    assert items and all(("（持续推进）" in it) == it.startswith("**第") for it in items
                         if "无未完成的时限节点" in it), units


def test_long_answers_split_between_items(db):
    from bot.render import split_at_items
    reply = answer_question(db, "逾期任务", asker_unit=None, today=date(2026, 6, 1)).reply
    parts = split_at_items(reply, 600)
    assert len(parts) > 2 and "\n".join(parts) == reply
    for part in parts:
        assert len(part.encode()) <= 600
        assert not part.startswith("  ")  # never starts with an item's unit line: items stay whole
