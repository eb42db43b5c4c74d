"""Other official styles (tests/data/styles, bot/data/example_plan.txt) scored against their gold
through ../shared/tools/score.py, on `duban parse FILE --json`; year-less dates and --year."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import parse_json

ROOT = Path(__file__).resolve().parents[1]
STYLES = ROOT / "tests" / "data" / "styles"
DOCUMENTS = {
    "division_parenthetical": STYLES / "division_parenthetical.txt",
    "division_table": STYLES / "division_table.docx",
    "lead_cooperate_sentence": STYLES / "lead_cooperate_sentence.txt",
    "lead_in_responsible": STYLES / "lead_in_responsible.txt",
    "unlabelled_parentheses": STYLES / "unlabelled_parentheses.txt",
    "named_roles": STYLES / "named_roles.txt",
    "province_division": STYLES / "province_division.txt",
    "leader_table": STYLES / "leader_table.docx",
    "bracket_labels": STYLES / "bracket_labels.txt",
    "inline_roles": STYLES / "inline_roles.txt",
    "problem_labels": STYLES / "problem_labels.txt",
    "example_plan": ROOT / "bot" / "data" / "example_plan.txt",
}


def gold_of(name: str) -> dict:
    path = DOCUMENTS[name]
    return json.loads(path.with_name(path.stem + ".gold.json").read_text(encoding="utf-8"))


def by_number(doc: dict) -> dict:
    return {str(t["number"]): t for t in doc["tasks"]}


def dues(task: dict) -> Counter:
    return Counter(m["due"] for m in task["milestones"])


@pytest.fixture(scope="module", params=list(DOCUMENTS))
def scored(request, scorer):
    name = request.param
    doc = parse_json(DOCUMENTS[name])
    return name, doc, scorer.score(gold_of(name), doc)


def test_every_task_of_every_style_is_found(scored):
    name, _, s = scored
    assert s["tasks_matched"] == s["tasks_gold"] == s["tasks_pred"], (name, s)


def test_every_gold_milestone_date_is_found(scored):
    name, _, s = scored
    assert s["date_recall"] == 1.0, (name, s)


def test_no_invented_dates(scored):
    name, doc, s = scored
    assert s["date_precision"] == 1.0, (name, s)
    gold = {str(t["number"]): t for t in gold_of(name)["tasks"]}
    wrong = {n: (dues(gold[n]), dues(t)) for n, t in by_number(doc).items() if dues(gold[n]) != dues(t)}
    assert not wrong, (name, wrong)


def test_units_by_role_f1_at_least_98_percent(scored):
    name, _, s = scored
    assert s["unit_role_f1"] >= 0.98, (name, s)
    assert s["ongoing_acc"] == 1.0, (name, s)
    assert s["binding_acc"] in (None, 1.0), (name, s)


def test_units_outside_the_shaoyang_directory_are_kept(shared):
    """Another city's plan is read without the 邵阳 directory: its units are kept as written and listed as
    unknown to the store's directory, with no warning (there is no local directory to check them against)."""
    doc = parse_json(DOCUMENTS["lead_in_responsible"])
    units = {u for t in doc["tasks"] for r in ("lead_units", "responsible_units") for u in t[r] or []}
    assert {"汨罗市", "临湘市"} <= units
    assert {"汨罗市", "临湘市"} <= set(doc["unknown_units"])
    assert not any("不在单位名录" in w for w in doc["warnings"])


def test_milestone_bound_to_two_counties(shared):
    """'汨罗市、临湘市9月底前完成县级城市体检' binds both counties."""
    got = by_number(parse_json(DOCUMENTS["lead_in_responsible"]))["（三）"]
    assert [sorted(m["units"]) for m in got["milestones"] if m["units"]] == [["临湘市", "汨罗市"]]


def test_flood_season_date_is_one_milestone(shared):
    """'2024年汛前（4月底前）' is one milestone (04-30), not also a bare-year 2024-12-31
    (that was extra before the bare-year framing rule, text '对排查确定的18座病险水库实施除险加固，2024年')."""
    got = by_number(parse_json(DOCUMENTS["lead_cooperate_sentence"]))["（三）"]
    assert dues(got) == Counter({"2024-04-30": 1})


def test_year_of_a_yearly_plan_is_not_a_milestone(shared):
    """'2024年计划改造城镇老旧小区120个' labels the year's plan: not a bare-year milestone (it was, before
    the bare-year framing rule); '6月底前全部开工' and '年底前基本完工' are."""
    got = by_number(parse_json(DOCUMENTS["lead_in_responsible"]))["（一）"]
    assert dues(got) == Counter({"2024-12-31": 2, "2024-06-30": 1})


# --- the 文号's year and --year ----------------------------------------------------------------

def test_year_less_deadlines_take_the_document_number_year(shared):
    """常政办发〔2023〕12号: '10月底前', '年底前' → 2023; 益政办发〔2024〕9号 … 郴政办函〔2025〕21号."""
    doc = parse_json(DOCUMENTS["division_parenthetical"])
    assert (doc["year"], doc["doc_number"]) == (2023, "常政办发〔2023〕12号")
    got = by_number(doc)
    assert dues(got["1"]) == Counter({"2023-10-31": 2, "2023-06-30": 1})  # '10月底前完成砖瓦窑…'
    assert dues(got["3"]) == Counter({"2023-12-31": 2})  # '年底前城市生活污水集中收集率达到68%'
    assert dues(got["4"]) == Counter({"2023-09-30": 2})  # '2023年第三季度'
    assert parse_json(DOCUMENTS["lead_in_responsible"])["year"] == 2024
    table = parse_json(DOCUMENTS["division_table"])
    assert table["year"] == 2025
    assert "2025-09-30" in dues(by_number(table)["5"])  # year-less '9月底前' inside the 重点任务 cell


def test_year_option_overrides_the_document_year(shared):
    """--year replaces the 文号's year for year-less dates; written years stay as written."""
    doc = parse_json(DOCUMENTS["division_parenthetical"], "--year", "2030")
    assert doc["year"] == 2030
    got = by_number(doc)
    assert dues(got["1"]) == Counter({"2023-10-31": 1, "2023-06-30": 1, "2030-10-31": 1})
    assert dues(got["3"]) == Counter({"2023-12-31": 1, "2030-12-31": 1})
    assert dues(got["4"]) == Counter({"2023-09-30": 2})


def test_year_less_document_warns_and_year_option_supplies_it(tmp_path):
    """No 文号, no dated line, no year in the title: year-less deadlines cannot be dated, and the
    parser says so; --year dates them."""
    path = tmp_path / "no_year.txt"
    path.write_text(
        "某市生态环境保护重点任务分工方案\n\n一、深入打好蓝天保卫战\n\n"
        "1. 推进重点行业深度治理。10月底前完成砖瓦窑行业深度治理。"
        "（牵头单位：市生态环境局；责任单位：市水利局；完成时限：10月底前）\n\n"
        "2. 加强施工扬尘污染管控。年底前完成工地整治。"
        "（牵头单位：市住房城乡建设局；责任单位：市城管局；完成时限：年底前）\n", encoding="utf-8")
    doc = parse_json(path)
    assert doc["year"] is None
    assert [t["deadline_text"] for t in doc["tasks"]] == ["10月底前", "年底前"]
    assert all(t["milestones"] == [] for t in doc["tasks"])
    assert any("--year" in w for w in doc["warnings"])
    dated = parse_json(path, "--year", "2024")
    assert [sorted(dues(t)) for t in dated["tasks"]] == [["2024-10-31"], ["2024-12-31"]]
    assert not any("--year" in w for w in dated["warnings"])


def test_chinese_numeral_dates_and_next_year(shared):
    """二〇二四年五月三十一日前, 二〇二五年一月十日前 (the next year), G319/S225 are not dates."""
    got = by_number(parse_json(DOCUMENTS["lead_cooperate_sentence"]))
    assert dues(got["（五）"]) == Counter({"2024-05-31": 1})
    assert dues(got["（六）"]) == Counter({"2025-01-10": 1})
    assert dues(got["（一）"]) == Counter({"2024-09-30": 1})
    assert got["（四）"]["ongoing"] and not got["（四）"]["milestones"]


def test_recurring_duties_match_the_gold(scored):
    """Period and owner of every recurring duty ("各级党委、政府每年…" falls to 各级党委政府, no locality)."""
    name, doc, _ = scored
    gold = {str(t["number"]): t for t in gold_of(name)["tasks"]}
    got = {n: sorted((r["every"], tuple(r["units"])) for r in t["recurring"]) for n, t in by_number(doc).items()}
    want = {n: sorted((r["every"], tuple(r["units"])) for r in t.get("recurring") or []) for n, t in gold.items()}
    assert got == want, name


def test_a_time_label_before_or_after_a_role_sentence_keeps_both():
    from parser.plan import parse_document

    text = ("某市2024年工作方案\n\n某政办发〔2024〕1号\n\n一、重点任务\n\n"
            "（一）推进甲项工作。完成时限：2024年6月底前。由市发展改革委牵头，市财政局配合。\n\n"
            "（二）推进乙项工作。由市商务局牵头，市财政局配合。时间要求：2024年9月底前。\n")
    tasks = {t.number: t for t in parse_document(text.encode(), "x.txt").tasks}
    for number, lead, due in (("（一）", "市发展改革委", "2024-06-30"), ("（二）", "市商务局", "2024-09-30")):
        t = tasks[number]
        assert (t.lead_units, t.cooperating_units) == ([lead], ["市财政局"]), number
        assert [m.due.isoformat() for m in t.milestones] == [due], number


def test_the_date_line_dates_a_festival_named_without_a_year():
    from parser.plan import parse_document

    text = ("某市根治欠薪冬季攻坚行动方案\n\n某政办发〔2024〕30号\n\n2024年11月20日\n\n一、重点任务\n\n"
            "（一）全面排查欠薪隐患。春节前完成在建工程项目欠薪排查。（牵头单位：市人力资源社会保障局）\n")
    plan = parse_document(text.encode(), "x.txt")
    assert plan.issued.isoformat() == "2024-11-20" and plan.to_json()["issued"] == "2024-11-20"
    assert [m.due.isoformat() for m in plan.tasks[0].milestones] == ["2025-01-28"]
