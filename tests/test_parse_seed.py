"""The seed plan (邵阳市 整改方案) in every format, scored through ../shared/tools/score.py on the
output of `duban parse FILE --json`, plus the gold README's rules one by one.

Done when: from the seed .txt, .docx and .pdf, 38/38 tasks (25 list + 13 body), >=99% of gold
milestones with the right date, unit F1 >= 0.98 over (task, role, unit), and the same extraction
from all three; from the table variant, 25/25 list items with their units and deadlines.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import ALL_FORMATS, FIXTURES, SEED_FORMATS, SEED_TXT, TABLE_FORMATS, parse_json, task_key

ROLES = ["supervising_leaders", "principal_units", "lead_units", "cooperating_units", "responsible_units"]


@pytest.fixture(scope="module", params=list(SEED_FORMATS))
def seed_doc(request, shared):
    return request.param, parse_json(SEED_FORMATS[request.param])


@pytest.fixture(scope="module", params=list(TABLE_FORMATS))
def table_doc(request, shared):
    return request.param, parse_json(TABLE_FORMATS[request.param])


@pytest.fixture(scope="module", params=list(ALL_FORMATS))
def any_doc(request, shared):
    """Every format of the seed, the table variant included (its body is the seed's)."""
    return request.param, parse_json(ALL_FORMATS[request.param])


def by_key(doc: dict) -> dict[str, dict]:
    return {task_key(t): t for t in doc["tasks"]}


def dues(task: dict) -> Counter:
    return Counter(m["due"] for m in task["milestones"])


def bound(task: dict) -> Counter:
    """Milestones tied to specific units: (due, sorted units)."""
    return Counter((m["due"], tuple(sorted(m["units"]))) for m in task["milestones"] if m["units"])


def norm_ws(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", text)


# --- thresholds through score.py ------------------------------------------------------------

def test_every_format_finds_all_38_tasks(seed_doc, seed_gold, scorer):
    fmt, doc = seed_doc
    s = scorer.score(seed_gold, doc)
    assert (s["tasks_gold"], s["tasks_pred"], s["tasks_matched"]) == (38, 38, 38), (fmt, s)
    assert (doc["list_item_count"], doc["body_task_count"], doc["task_count"]) == (25, 13, 38), fmt


def test_every_format_dates_at_least_99_percent_of_gold_milestones(seed_doc, seed_gold, scorer):
    fmt, doc = seed_doc
    s = scorer.score(seed_gold, doc)
    assert s["dates_gold"] == 57
    assert s["date_recall"] >= 0.99, (fmt, s)
    assert s["date_precision"] >= 0.98, (fmt, s)  # no invented dates either


def test_every_format_unit_role_f1_at_least_98_percent(seed_doc, seed_gold, scorer):
    fmt, doc = seed_doc
    s = scorer.score(seed_gold, doc)
    assert s["unit_role_f1"] >= 0.98, (fmt, s)


def test_every_format_binds_milestones_to_units_and_marks_ongoing(seed_doc, seed_gold, scorer):
    fmt, doc = seed_doc
    s = scorer.score(seed_gold, doc)
    assert s["binding_acc"] >= 0.9, (fmt, s)  # 10 bound milestones: at most one miss
    assert s["ongoing_acc"] == 1.0, (fmt, s)


def test_three_formats_give_the_same_extraction(shared):
    """Same sections, numbers, titles, units by role and milestone dues (with bound units)."""
    def projection(doc):
        return [
            {
                "section": t["section"], "number": t["number"], "title": t["title"],
                **{r: t[r] for r in ROLES},
                "dues": sorted((m["due"], tuple(m["units"]), m["done"]) for m in t["milestones"]),
                "ongoing": t["ongoing"],
            }
            for t in doc["tasks"]
        ]

    txt, docx, pdf = (projection(parse_json(SEED_FORMATS[f])) for f in ("txt", "docx", "pdf"))
    for name, other in (("docx", docx), ("pdf", pdf)):
        diffs = [(a["section"], a["number"], k) for a, b in zip(txt, other) for k in a if a[k] != b[k]]
        assert len(other) == len(txt) and not diffs, (name, diffs[:10])


def test_deadline_text_is_the_same_in_every_format(any_doc, gold_by_key):
    """整改时限 raw text (whitespace aside: PDF and Word re-flow it) for all 25 list items."""
    fmt, doc = any_doc
    got = {k: norm_ws(t["deadline_text"]) for k, t in by_key(doc).items() if t["section"] == "list"}
    want = {k: norm_ws(t["deadline_text"]) for k, t in gold_by_key.items() if t["section"] == "list"}
    assert got == want, fmt


# --- table variant ----------------------------------------------------------------------------

def test_table_variant_has_25_list_items_scored_against_gold_list(table_doc, seed_gold, scorer):
    fmt, doc = table_doc
    gold_list = [t for t in seed_gold["tasks"] if t["section"] == "list"]
    pred_list = [t for t in doc["tasks"] if t["section"] == "list"]
    s = scorer.score(gold_list, pred_list)
    assert (s["tasks_gold"], s["tasks_pred"], s["tasks_matched"]) == (25, 25, 25), (fmt, s)
    assert s["date_recall"] >= 0.99 and s["date_precision"] >= 0.98, (fmt, s)
    assert s["unit_role_f1"] >= 0.98, (fmt, s)


def test_table_variant_rows_carry_their_units_and_deadlines(table_doc, gold_by_key):
    """Each of the 25 rows: every role's units and the milestone dues equal the gold item's
    (vMerge continuation cells such as 市级督办领导 rows 三–五 take the merged value)."""
    fmt, doc = table_doc
    got = by_key(doc)
    wrong = []
    for n in range(1, 26):
        g, p = gold_by_key[f"list-{n}"], got.get(f"list-{n}")
        if p is None:
            wrong.append((n, "missing"))
            continue
        for r in ROLES:
            if (g[r] or []) != (p[r] or []):
                wrong.append((n, r, g[r], p[r]))
        if dues(g) != dues(p):
            wrong.append((n, "dues", dues(g), dues(p)))
    assert not wrong, (fmt, wrong)


def test_table_variant_full_document_also_scores_38(table_doc, seed_gold, scorer):
    fmt, doc = table_doc
    s = scorer.score(seed_gold, doc)
    assert s["tasks_matched"] == 38 and s["date_recall"] >= 0.99 and s["unit_role_f1"] >= 0.98, (fmt, s)


# --- declared vs found --------------------------------------------------------------------------

def test_declared_28_found_25_is_a_warning_not_invented_tasks(any_doc):
    fmt, doc = any_doc
    assert doc["declared_task_count"] == 28
    assert doc["list_item_count"] == 25 and doc["task_count"] == 38
    assert any("28" in w and "25" in w for w in doc["warnings"]), (fmt, doc["warnings"])


# --- the gold README's rules --------------------------------------------------------------------

def test_deadline_inside_measure_binds_county(seed_doc, gold_by_key):
    """list-7 整改时限 and body-3 measure: each 垃圾焚烧发电项目 date is bound to its county."""
    fmt, doc = seed_doc
    got = by_key(doc)
    assert bound(got["list-7"]) == Counter({
        ("2022-06-30", ("新邵县",)): 1,
        ("2022-12-31", ("洞口县", "邵东市")): 1,
        ("2022-06-30", ("武冈市",)): 1,  # 主体工程开工
        ("2024-06-30", ("武冈市",)): 1,  # 建成投产
    }), fmt
    assert bound(got["body-（三）"]) == Counter({
        ("2022-06-30", ("新邵县",)): 1, ("2022-12-31", ("洞口县", "邵东市")): 1, ("2024-06-30", ("武冈市",)): 1,
    }), fmt
    assert bound(got["list-7"]) == bound(gold_by_key["list-7"])


def test_measure_naming_a_county_binds_it_and_others_stay_whole_task(seed_doc, gold_by_key):
    """list-8 measure 4 names 邵阳县 twice; list-2's goal belongs to 邵阳县 (hard case 2);
    list-24's counties are only the location, so its milestones stay unbound."""
    fmt, doc = seed_doc
    got = by_key(doc)
    assert bound(got["list-8"]) == Counter({("2021-12-31", ("邵阳县",)): 1, ("2025-12-31", ("邵阳县",)): 1}), fmt
    assert bound(got["list-2"]) == Counter({("2021-12-31", ("邵阳县",)): 1}), fmt
    assert bound(got["list-24"]) == Counter(), fmt
    total_bound = sum(sum(bound(t).values()) for t in doc["tasks"])
    assert total_bound == 10, fmt  # gold: 10 milestones tied to specific units


def test_done_milestone_already_completed(any_doc):
    """'已于2021年4月完成' is done; '（2021年9月30日前完成）' has no 已, so it is not."""
    fmt, doc = any_doc
    done = [(task_key(t), m["due"]) for t in doc["tasks"] for m in t["milestones"] if m["done"]]
    assert done == [("list-13", "2021-04-30")], fmt
    list13 = by_key(doc)["list-13"]
    assert [m["done"] for m in list13["milestones"] if m["due"] == "2021-09-30"] == [False], fmt


def test_month_only_date_is_month_end(seed_doc):
    """'2024年6月前' (list-7, body-3) is 2024-06-30, never June 1st."""
    fmt, doc = seed_doc
    got = by_key(doc)
    for key in ("list-7", "body-（三）"):
        assert dues(got[key])["2024-06-30"] == 1, (fmt, key)
    every_due = [m["due"] for t in doc["tasks"] for m in t["milestones"]]
    assert not [d for d in every_due if d.endswith("-01")], fmt
    assert every_due.count("2024-06-30") == 2


@pytest.mark.parametrize("key", ["list-9", "list-10", "list-12", "list-13", "list-18", "list-25"])
def test_title_years_are_not_milestones(seed_doc, gold_by_key, key):
    """Years inside 《…》 titles, bracketed periods (2019—2021 年), standard numbers (GB5084—2021),
    '2021年度…目标任务' and the plan name '展望到二〇三五' yield no milestone."""
    fmt, doc = seed_doc
    assert dues(by_key(doc)[key]) == dues(gold_by_key[key]), (fmt, key)


def test_problem_text_and_past_years_yield_no_milestone(any_doc):
    """Everything before 市级督办领导 is the problem description: '2014年…关停', '直到2018年',
    '2020 年底前应完成治理 26 座尾矿库', '湖南省2021年3月21日…报送' give nothing."""
    fmt, doc = any_doc
    early = [(task_key(t), m["due"]) for t in doc["tasks"] for m in t["milestones"] if m["due"] < "2021-04-30"]
    assert early == [], fmt
    got = by_key(doc)
    assert dues(got["list-3"]) == Counter({"2021-12-31": 1}), fmt
    assert dues(got["list-15"]) == Counter({"2021-12-31": 3}), fmt  # deadline, goal, measure


def test_distinct_due_dates_match_the_gold_table(seed_doc, seed_gold):
    fmt, doc = seed_doc
    got = Counter(m["due"] for t in doc["tasks"] for m in t["milestones"])
    want = Counter(m["due"] for t in seed_gold["tasks"] for m in t["milestones"])
    assert got == want, (fmt, got - want, want - got)
    assert (got["2021-12-31"], got["2025-12-31"], got["2035-12-31"], got["2050-12-31"]) == (14, 14, 1, 1)


def test_ongoing_items(any_doc):
    """持续推进 alone or after a date: list 1, 2, 4, 5, 13, 14, 19, 22; body tasks never."""
    fmt, doc = any_doc
    ongoing = sorted(t["number"] for t in doc["tasks"] if t["section"] == "list" and t["ongoing"])
    assert ongoing == [1, 2, 4, 5, 13, 14, 19, 22], fmt
    assert not [t["number"] for t in doc["tasks"] if t["section"] == "body" and t["ongoing"]], fmt


def test_collectives_not_expanded(seed_doc):
    fmt, doc = seed_doc
    got = by_key(doc)
    assert got["list-15"]["principal_units"] == ["各县市"], fmt  # counties and cities, not districts
    assert got["body-（一）1"]["responsible_units"] == ["各县市区", "邵阳经开区"], fmt
    assert got["body-（二）"]["responsible_units"] == ["市住房和城乡建设局", "市林业局", "相关县市区"], fmt
    assert "市生态环境保护委员会成员单位" in got["body-（一）2"]["responsible_units"], fmt
    every_unit = {u for t in doc["tasks"] for r in ROLES[1:] for u in (t[r] or [])}
    assert "人民政府" not in every_unit and "管委会" not in every_unit, fmt


def test_locality_pairs_collapse_and_city_pair_stays_two_units(seed_doc):
    fmt, doc = seed_doc
    got = by_key(doc)
    assert got["list-7"]["principal_units"] == ["邵东市", "新邵县", "武冈市", "洞口县"], fmt
    assert got["list-13"]["principal_units"] == ["邵阳县"], fmt
    assert got["list-1"]["principal_units"] == ["市委", "市人民政府", "各县市区", "邵阳经开区"], fmt
    assert got["body-（一）1"]["lead_units"] == ["市委办公室", "市人民政府办公室"], fmt  # 市政府办公室 → full form


def test_unit_list_broken_across_page_break(seed_doc, gold_by_key):
    """'市人民检察院、' + '市公安局' (body-9) and list-5's 市直牵头单位 are split by a page break in the txt."""
    fmt, doc = seed_doc
    got = by_key(doc)
    assert got["body-（九）"]["lead_units"] == ["市中级人民法院", "市人民检察院", "市公安局", "市生态环境局"], fmt
    assert got["list-5"]["lead_units"] == gold_by_key["list-5"]["lead_units"], fmt
    assert got["list-5"]["lead_units"] == ["市发展和改革委员会", "市自然资源和规划局", "市生态环境局", "市应急管理局"]


def test_items_without_cooperating_line_have_empty_cooperating_units(any_doc):
    fmt, doc = any_doc
    empty = sorted(t["number"] for t in doc["tasks"] if t["section"] == "list" and t["cooperating_units"] == [])
    assert empty == [4, 6, 18, 20, 21], fmt


def test_measure_groups_under_unit_headings(any_doc):
    fmt, doc = any_doc
    got = by_key(doc)
    assert got["list-2"]["measure_groups"] == [{"unit": "市发展和改革委员会", "count": 6}, {"unit": "邵阳县", "count": 3}]
    assert got["list-4"]["measure_groups"] == [{"unit": "市发展和改革委员会", "count": 2},
                                               {"unit": "市工业和信息化局", "count": 2}], fmt
    assert [k for k, t in got.items() if t.get("measure_groups")] == ["list-2", "list-4"], fmt


def test_measure_counts_match_gold(any_doc, gold_by_key):
    """Numbered '1. ' paragraphs under 整改措施 (98 in all); lead-ins, 一是/二是 and （一） heads don't count."""
    fmt, doc = any_doc
    got = by_key(doc)
    wrong = {k: (g["measures_count"], got[k]["measures_count"]) for k, g in gold_by_key.items()
             if g["measures_count"] != got[k]["measures_count"]}
    assert not wrong, (fmt, wrong)
    assert sum(t["measures_count"] for t in doc["tasks"]) == 98


def test_measure_starting_with_a_year_is_still_numbered(seed_doc, gold_by_key):
    """list-6 '1. 2021年12月31日前，…' is measure 1, not a decimal '1. 2021' (it was lost before)."""
    fmt, doc = seed_doc
    list6 = by_key(doc)["list-6"]
    assert list6["measures_count"] == gold_by_key["list-6"]["measures_count"] == 3, fmt
    assert not [m["text"] for m in list6["milestones"] if m["text"].startswith("1.")], fmt


def test_titles_are_first_sentence_cut_to_60(any_doc, gold_by_key):
    """Verbatim first sentence / heading without its number marker, cut at 60 characters, in every format."""
    fmt, doc = any_doc
    got = by_key(doc)
    wrong = {k: (g["title"], got[k]["title"]) for k, g in gold_by_key.items() if g["title"] != got[k]["title"]}
    assert not wrong, (fmt, wrong)
    assert all(len(t["title"]) <= 60 for t in doc["tasks"]), fmt


def test_pdf_titles_keep_the_source_spacing(gold_by_key):
    """The PDF's own space characters, not its justification gaps ('2020年' set wide is not '2020 年'),
    and the space lost where a spaced number wraps ('尚有\n11 座' → '尚有 11 座')."""
    got = by_key(parse_json(SEED_FORMATS["pdf"]))
    assert {k: t["title"] for k, t in got.items()} == {k: g["title"] for k, g in gold_by_key.items()}


def test_recurring_duties_have_their_period(seed_doc, gold_by_key):
    """每季度 / 每月一总结 / 每周一调度 / 一天一调度 / 年度验收 … per task (periods only)."""
    fmt, doc = seed_doc
    got = by_key(doc)
    known_bugs: set[str] = set()
    wrong = {k: (Counter(r["every"] for r in g["recurring"]), Counter(r["every"] for r in got[k]["recurring"]))
             for k, g in gold_by_key.items() if k not in known_bugs}
    wrong = {k: v for k, v in wrong.items() if v[0] != v[1]}
    assert not wrong, (fmt, wrong)


def test_list7_has_one_daily_duty_only():
    got = by_key(parse_json(SEED_TXT))["list-7"]
    assert Counter(r["every"] for r in got["recurring"]) == Counter({"week": 2, "month": 1, "day": 1})


def test_yearly_acceptance_is_recurring(seed_doc):
    """list-12 '督促县市区开展年度修复任务验收': 年度 marks a yearly cycle (it was missed before)."""
    fmt, doc = seed_doc
    assert [r["every"] for r in by_key(doc)["list-12"]["recurring"]] == ["year"], fmt


# --- GBK text --------------------------------------------------------------------------------------

def test_gbk_text_is_read(shared):
    """bad/gbk.txt is the first 3000 characters of the seed in GBK: the reader decodes it exactly
    (³ written as 3), and the parse keeps the complete body tasks (一)1–4 with their units."""
    from parser.readers import read_document

    path = FIXTURES / "bad" / "gbk.txt"
    blocks = read_document(path.read_bytes(), path.name)
    text = "".join(b.text for b in blocks if b.kind == "para")
    want = SEED_TXT.read_text(encoding="utf-8")[:3000].replace("³", "3")
    assert norm_ws(text) == norm_ws(want)

    doc = parse_json(path)
    assert [t["number"] for t in doc["tasks"]] == ["（一）1", "（一）2", "（一）3", "（一）4"]
    first = doc["tasks"][0]
    assert first["title"] == "切实增强践行习近平生态文明思想的政治自觉"
    assert first["responsible_units"] == ["各县市区", "邵阳经开区"]
    # the full form 市人民政府办公室 never occurs in the first 3000 characters: the short form is kept
    assert first["lead_units"] == ["市委办公室", "市政府办公室"]


# --- the console script ----------------------------------------------------------------------------

def test_console_script_parse_json_scores_like_in_process(shared, seed_gold, scorer, tmp_path):
    """One real process of the installed `duban` entry point (not the in-process main)."""
    exe = Path(sys.executable).with_name("duban")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
    env = {**os.environ, "DUBAN_DB": str(tmp_path / "unused.db")}
    r = subprocess.run([*cmd, "parse", str(SEED_TXT), "--json"], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    s = scorer.score(seed_gold, doc)
    assert s["tasks_matched"] == 38 and s["date_recall"] == 1.0 and s["unit_role_f1"] >= 0.98, s
    assert doc == parse_json(SEED_TXT)
    assert not (tmp_path / "unused.db").exists()  # parse never touches the store


def test_recurring_duties_name_their_units(gold_by_key):
    got = by_key(parse_json(SEED_TXT))
    wrong = {}
    for k, g in gold_by_key.items():
        if k == "list-7":  # its extra daily duty is covered above
            continue
        want = Counter((r["every"], tuple(r["units"])) for r in g["recurring"])
        have = Counter((r["every"], tuple(r["units"])) for r in got[k]["recurring"])
        if want != have:
            wrong[k] = (want, have)
    assert not wrong, wrong
