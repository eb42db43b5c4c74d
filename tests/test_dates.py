"""Tests for parser.dates: date forms, negatives, and a seed-level multiset check."""
from __future__ import annotations

import datetime
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from parser.dates import DateHit, find_dates

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
GOLD = SHARED / "gold" / "seed_tasks.json"
D = datetime.date


def dues(text, doc_year=None):
    return [h.due for h in find_dates(text, doc_year)]


# ---------------------------------------------------------------------------
# positive forms: (text, doc_year, expected dues)
POSITIVE = [
    # X年X月X日(前/之前/以前/底前), spacing, full-width and Chinese numerals
    ("2022年6月30日前，新邵县垃圾焚烧发电项目建成投产", None, [D(2022, 6, 30)]),
    ("2022 年 6 月 30 日前，邵东市项目建成投产", None, [D(2022, 6, 30)]),
    ("整改时限：2021 年 12 月 31 日", None, [D(2021, 12, 31)]),
    ("于２０２２年１２月３１日之前完成验收", None, [D(2022, 12, 31)]),
    ("二〇二二年六月三十日以前完成排查", None, [D(2022, 6, 30)]),
    ("二零二三年十二月三十一日前全面完成", None, [D(2023, 12, 31)]),
    ("务必于2022年3月15号前报送材料", None, [D(2022, 3, 15)]),
    # month forms → last day of the month
    ("武冈市垃圾焚烧发电项目2024年6月前建成投产", None, [D(2024, 6, 30)]),
    ("2022年2月底前完成清单销号", None, [D(2022, 2, 28)]),
    ("2024年2月末完成", None, [D(2024, 2, 29)]),
    # 年度内 / 年度末: the year's end (年度 alone labels a year's targets: see NEGATIVE)
    ("本年度内完成整治", 2024, [D(2024, 12, 31)]),
    ("2024年度末前完成验收", None, [D(2024, 12, 31)]),
    ("二〇二二年十二月底完成整治", None, [D(2022, 12, 31)]),
    ("2022年9月完成项目验收", None, [D(2022, 9, 30)]),
    ("2022年5月中旬前完成方案编制", None, [D(2022, 5, 20)]),
    ("2022年5月下旬前完成", None, [D(2022, 5, 31)]),
    ("2022年10月份完成", None, [D(2022, 10, 31)]),
    # year end
    ("2021 年底前，基本完成全市废弃矿山核查", None, [D(2021, 12, 31)]),
    ("确保2023年底前全市排污许可证质量核查率达到100%", None, [D(2023, 12, 31)]),
    ("到2022年年底，全市黑臭水体基本消除", None, [D(2022, 12, 31)]),
    ("2022年末实现全覆盖", None, [D(2022, 12, 31)]),
    ("二〇二二年底前完成", None, [D(2022, 12, 31)]),
    ("力争2023年内完成主体工程", None, [D(2023, 12, 31)]),
    # half years and quarters
    ("2022年上半年完成招标", None, [D(2022, 6, 30)]),
    ("2022年下半年开工建设", None, [D(2022, 12, 31)]),
    ("2022年第一季度末前完成", None, [D(2022, 3, 31)]),
    ("2022年二季度完成验收", None, [D(2022, 6, 30)]),
    ("2023年第3季度前建成", None, [D(2023, 9, 30)]),
    ("2022年四季度底前完成", None, [D(2022, 12, 31)]),
    # X年前 / 到X年 / bare year as the time of a target
    ("力争在2035年前，完成资水航道整治工程", None, [D(2035, 12, 31)]),
    ("在2050年前，完善邵阳港基础设施建设", None, [D(2050, 12, 31)]),
    ("2024年前全部完成改造", None, [D(2024, 12, 31)]),
    ("到2025年，天地一体的生态环境监测网络基本建成", None, [D(2025, 12, 31)]),
    ("到 2025 年全市森林覆盖率稳定在60%以上", None, [D(2025, 12, 31)]),
    ("2025年市本级城市生活污水集中收集率达到70%", None, [D(2025, 12, 31)]),
    ("2021年重点围绕煤炭加工等22个行业开展证书质量核查", None, [D(2021, 12, 31)]),
    ("2023年，县级城市建成区黑臭水体全部消除", None, [D(2023, 12, 31)]),
    ("二〇三五年基本实现美丽邵阳建设目标", None, [D(2035, 12, 31)]),
    # ranges → the end
    ("2021年6月至12月开展专项整治", None, [D(2021, 12, 31)]),
    ("2021年6月—2022年12月，分批实施", None, [D(2022, 12, 31)]),
    ("2022年3月1日至3月31日集中宣传", None, [D(2022, 3, 31)]),
    ("2022年3月1日-15日开展自查", None, [D(2022, 3, 15)]),
    ("2021年至2023年分年度推进", None, [D(2023, 12, 31)]),
    ("2021—2023年，分三批完成整治", None, [D(2023, 12, 31)]),
    ("2021年9月起至2022年6月底，开展专项行动", None, [D(2022, 6, 30)]),
    # plan periods
    ("到“十四五”末，产业结构质量迈向中高端层次", None, [D(2025, 12, 31)]),
    ("“十四五”期间，全市城镇新增和改造污水收集管网370公里", None, [D(2025, 12, 31)]),
    ('到"十四五"末，全市单位GDP能耗下降14%', None, [D(2025, 12, 31)]),
    ("「十四五」时期，完成农村改厕8万户", None, [D(2025, 12, 31)]),
    ("十四五期间累计完成造林50万亩", None, [D(2025, 12, 31)]),
    ("到“十五五”末，全面建成", None, [D(2030, 12, 31)]),
    ("“十三五”期末，全市完成", 2019, [D(2020, 12, 31)]),
    # doc_year-relative forms
    ("年底前完成全部整改", 2021, [D(2021, 12, 31)]),
    ("6月30日前报送整改方案", 2022, [D(2022, 6, 30)]),
    ("9月底前完成排查", 2022, [D(2022, 9, 30)]),
    ("十一月三十日前完成", 2022, [D(2022, 11, 30)]),
    ("上半年完成招标，下半年开工", 2022, [D(2022, 6, 30), D(2022, 12, 31)]),
    ("年内完成验收销号", 2022, [D(2022, 12, 31)]),
    ("次年3月底前完成复核", 2021, [D(2022, 3, 31)]),
    ("明年6月底前建成", 2021, [D(2022, 6, 30)]),
    ("今年底前全部完成", 2022, [D(2022, 12, 31)]),
    ("第三季度末前完成", 2022, [D(2022, 9, 30)]),
    # numeric forms seen in tables
    ("完成时限：2022.12.31", None, [D(2022, 12, 31)]),
    ("2022.6前完成", None, [D(2022, 6, 30)]),
    ("2022/9/30前", None, [D(2022, 9, 30)]),
    ("2022-06-30前完成", None, [D(2022, 6, 30)]),
    # several commitments in one sentence
    ("2021年12月31日前完成“一厂一策”系统化整改方案；2025年12月31日前，进水COD浓度提高到100毫克/升以上",
     None, [D(2021, 12, 31), D(2025, 12, 31)]),
    ("到“十四五”末，产业结构迈向中高端，到2025年，新兴产业比重达36%", None,
     [D(2025, 12, 31), D(2025, 12, 31)]),
    # a past date inside a completion note is still a commitment
    ("对砖厂违法生产经营行为进行查处（2021年9月30日前完成）", 2022, [D(2021, 9, 30)]),
    ("截止2022年6月30日前完成全部整改", 2021, [D(2022, 6, 30)]),
    # within-year ranges, baselines next to targets, 起草 is not 起
    ("2022年1—6月完成排查", None, [D(2022, 6, 30)]),
    ("2022年一至三季度完成", None, [D(2022, 9, 30)]),
    ("6月1日至6月30日开展集中整治", 2022, [D(2022, 6, 30)]),
    ("第十四个五年规划期间，全市新增造林10万亩", None, [D(2025, 12, 31)]),
    ("到二〇二五年，全市森林覆盖率达到62%", None, [D(2025, 12, 31)]),
    ("2025年在2020年基础上下降18%", None, [D(2025, 12, 31)]),
    ("到2025年，单位GDP能耗比2020年下降13.5%", 2021, [D(2025, 12, 31)]),
    ("2022年底前在现有基础上提高10%", None, [D(2022, 12, 31)]),
    ("2022年3月底前起草实施细则", None, [D(2022, 3, 31)]),
    ("2021年11月底前完成，并长期坚持", 2021, [D(2021, 11, 30)]),
    ("2022年6月底前完成整改，2023年底前完成验收销号", None, [D(2022, 6, 30), D(2023, 12, 31)]),
    # before a festival: the day before it (lunar festivals and 清明 from the calendar)
    ("2022年春节前完成欠薪清零", None, [D(2022, 1, 31)]),
    ("2023年春节之前完成安置", None, [D(2023, 1, 21)]),
    ("2022年元旦前完成", None, [D(2021, 12, 31)]),
    ("2022年国庆节前建成通车", None, [D(2022, 9, 30)]),
    ("2024年五一前完成", None, [D(2024, 4, 30)]),
    ("2023年端午节前完成河道清理", None, [D(2023, 6, 21)]),
    ("2024年中秋前完成", None, [D(2024, 9, 16)]),
    ("2030年清明节前完成林区排查", None, [D(2030, 4, 4)]),
    # the flood season starts on 4月1日 in the south: its eve is the end of March
    ("2023年汛期前完成病险水库除险加固", None, [D(2023, 3, 31)]),
    ("2022年汛前完成河道清淤", None, [D(2022, 3, 31)]),
    ("2024年汛前（2024年4月底前）完成主体工程", None, [D(2024, 4, 30)]),  # the bracket says which day
    ("2024年汛前（4月底前）完成主体工程", 2023, [D(2024, 4, 30)]),  # … in the year just named, not the document's
    ("2023年春节前（1月20日前）完成", None, [D(2023, 1, 20)]),
    ("2023年年中完成主体工程", None, [D(2023, 6, 30)]),
    ("2023年中建成投运", None, [D(2023, 6, 30)]),
]


@pytest.mark.parametrize("text,doc_year,expected", POSITIVE)
def test_positive_forms(text, doc_year, expected):
    assert dues(text, doc_year) == expected


NEGATIVE = [
    ("完成2024年度目标任务", None),
    ("《沅江流域协同推进生态优先绿色发展实施方案(2021—2025年)》", None),
    ("完成《湖南省2021年农药减量增效工作方案》", 2021),
    ("《湖南省 2021 年农药减量增效工作方案》", None),
    ("严格落实《湖南省生态环境监测能力提升建设项目（2020—2022年）》要求", None),
    ("《“十四五”全国城镇生活垃圾无害化处理设施建设规划》", None),
    ("专项整治行动方案（2019—2021 年）要求", None),
    ("整治行动（2019-2021年）", None),
    ("达到《农田灌溉水质标准》(GB5084—2021)要求", None),
    ("按照 GB/T 9704-2012 排版", None),
    ("执行GB 3838-2002标准", None),
    ("根据（湘环发〔2020〕27 号）要求", None),
    ("根据[2020]15号文件", None),
    ("省农业农村厅下达的2021年度农药、化肥减量目标任务", 2021),
    ("2022年度工作要点", None),
    ("科学制定“十四五”规划", None),
    ("科学制定“十四五”建设计划", None),
    ("纳入省“十四五”能源发展规划", None),
    ("梳理“十四五”拟建、在建的“两高”项目", None),
    ("组织编制全市“十四五”及展望到二〇三五综合交通运输体系规划", None),
    ("补齐“十三五”老旧污水管网改造欠账", None),
    ("在 2020 年已完成尾矿库污染治理任务的基础上，组织开展回头看", None),
    ("2014年，随着产业政策趋紧，当地煤矿企业相继关停退出", None),
    ("直到2018年,邵阳县才利用湖南省土地整理资金", None),
    ("本应于2018年年底编制完成的专项规划", None),
    ("截至2020年底，全市累计完成治理26座", None),
    ("截止2020年底，全市已完成治理", None),
    ("自2019年以来，共查处案件45起", None),
    ("2020年以来，全省十余家产业园区被挂牌督办", None),
    ("较2020年下降18%", None),
    ("比2015年下降13.5%", None),
    ("与2020年相比下降10%", None),
    ("以2020年为基准年", None),
    ("2020年，全省规模以上工业中，原材料行业营收占比仍然接近30%", None),
    ("2020年，湖南省十种有色金属产量215万吨，同比增长7.5%", None),
    ("湖南省规划的2020年占比提高到6%的要求", 2021),
    ("曾于2019年6月被约谈", None),
    ("自2022年1月1日起施行", None),
    ("2022年3月1日起实施", None),
    ("督察期间交办的 278 件信访举报件", None),
    ("全市 2000 亩耕地", None),
    ("年满60周岁，占比38.6%", None),
    ("提升生产规模至30万吨/年以上", None),
    ("6个矿洞每天超万吨", None),
    ("每年年底前报送年度报告", 2022),
    ("每月15日前报送进展", 2022),
    ("每季度末开展一次调度", 2022),
    ("三年内完成", 2022),
    ("5年内全部完成", 2022),
    ("前三季度全市空气质量优良率", 2022),
    ("去年底已完成", 2022),
    ("年底前完成", None),          # no doc_year: cannot resolve
    ("6月30日前完成", None),
    ("“十三五”期间，全市累计完成造林", 2021),
    ("2022年6月30日以后", None),
    ("同年12月底前完成", 2022),
    ("当年发现问题当年12月底前整改", 2022),
    ("直至 2019 年年底才完成，推迟近一年", None),
    ("2019年年底才完成", None),
    ("全市完成2020.5亩", None),
    ("2021年10月起，每月开展一次", None),
    ("2035年远景目标", None),
    ("恢复到2020年的水平", None),
    ("半年内完成", 2022),
    ("3个月内完成", 2022),
    ("立行立改，长期坚持", 2022),
    ("2015年前建成的污水处理厂", 2021),
    ("2021年6月至今", None),
    ("按照2021年省督察反馈意见要求", None),
    ("2021年中央生态环境保护督察反馈问题全面完成整改", None),
    ("2021年省生态环境保护督察交办问题全部办结", None),
    ("2022年春节期间加强值守", None),
    ("2022年春节后开工建设", None),
    ("2021年汛期安全度汛", None),
    ("2023年中央生态环境保护督察", None),
    ("2019年出台的《管理办法》", None),
]


@pytest.mark.parametrize("text,doc_year", NEGATIVE)
def test_not_dates(text, doc_year):
    assert find_dates(text, doc_year) == []


def test_done_flag():
    hits = find_dates("进行生态修复（已于2021年4月完成），对砖厂违法行为进行查处（2021年9月30日前完成）")
    assert [(h.due, h.done) for h in hits] == [(D(2021, 4, 30), True), (D(2021, 9, 30), False)]
    assert find_dates("2021年6月已完成拆除")[0].done
    assert find_dates("该项目已经于2022年3月建成")[0].done
    assert not find_dates("2021年12月31日前完成")[0].done


def test_hit_fields_and_spans():
    text = "整改时限：2022 年 6 月 30 日前，新邵县项目建成投产；2024年6月前建成投产。"
    hits = find_dates(text)
    assert [text[h.start:h.end] for h in hits] == ["2022 年 6 月 30 日前", "2024年6月前"]
    assert [(h.kind, h.approximate) for h in hits] == [("day", False), ("month", True)]
    assert find_dates("2021年底前")[0].kind == "year_end"
    assert find_dates("到“十四五”末，完成")[0].kind == "plan_period"
    assert find_dates("2022年上半年")[0].kind == "half"
    assert find_dates("2022年二季度")[0].kind == "quarter"
    assert find_dates("力争在2035年前完成")[0].kind == "year"
    assert find_dates("年底前完成", 2021)[0].kind == "relative"
    assert isinstance(find_dates("2021年12月31日")[0], DateHit)
    # full-width punctuation does not shift spans
    text = "（２０２１年１２月３１日前完成）"
    h = find_dates(text)[0]
    assert text[h.start:h.end] == "２０２１年１２月３１日前"


def test_invalid_calendar_dates_are_skipped():
    assert find_dates("2022年2月30日前") == []
    assert find_dates("2022年13月") == []


def test_performance_on_large_random_cjk():
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FA6)] + list("年月日底前一二三十〇0123456789，。（）《》“”")
    # 5 million characters: more than 5 MB however it is encoded
    text = "".join(rng.choices(alphabet, k=5_000_000))
    t0 = time.perf_counter()
    find_dates(text, 2021)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.skipif(not (SHARED / "fixtures" / "bad" / "huge_line.txt").exists(), reason="no fixture")
def test_performance_on_huge_line_fixture():
    text = (SHARED / "fixtures" / "bad" / "huge_line.txt").read_text(encoding="utf-8")
    t0 = time.perf_counter()
    find_dates(text)
    find_dates(text, 2021)
    assert time.perf_counter() - t0 < 1.0


def test_performance_on_adversarial_runs():
    # dense runs of near-dates: every position is a candidate, still linear
    for chunk in ("2021" + " " * 50, "二〇二一年", "年" * 3, "十四五", "《" * 2, "6月", "2021年6月至"):
        text = chunk * (100_000 // len(chunk))
        t0 = time.perf_counter()
        find_dates(text, 2021)
        assert time.perf_counter() - t0 < 1.0, chunk


# ---------------------------------------------------------------------------
# seed-level checks against the gold annotation

CN_NUM = "一二三四五六七八九十"


def _cn(n: int) -> str:
    """1..99 as written in item headings (十三, 二十五)."""
    if n <= 10:
        return CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_NUM[tens - 1]) + "十" + (CN_NUM[ones - 1] if ones else "")


def _paragraphs() -> list[str]:
    return [p.strip() for p in SEED.read_text(encoding="utf-8").splitlines() if p.strip()]


def _gold() -> dict[str, dict]:
    return {t["id"]: t for t in json.loads(GOLD.read_text(encoding="utf-8"))["tasks"]}


def _list_regions() -> dict[str, str]:
    """list-N → 整改时限 … end of the item, page-break fragments joined with ""."""
    paras = _paragraphs()
    i = paras.index("附件") + 1
    items: dict[int, list[str]] = {}
    n = 0
    for p in paras[i:]:
        if p.startswith(_cn(n + 1) + "、"):
            n += 1
            items[n] = []
        if n:
            items[n].append(p)
    regions = {}
    for n, ps in items.items():
        text = "".join(ps)
        at = re.search(r"整改时限\s*[:：]", text)
        regions[f"list-{n}"] = text[at.start():]
    return regions


def _body_regions() -> dict[str, str]:
    """body tasks of 四、整改措施: measure text up to the （牵头单位 parenthetical."""
    paras = _paragraphs()
    a, b = paras.index("四、整改措施"), paras.index("五、保障措施")
    tasks: dict[str, list[str]] = {}
    current = None
    for p in paras[a + 1:b]:
        m = re.match(r"（([二三四五六七八九十])）", p)
        if m:
            current = f"body-{CN_NUM.index(m.group(1)) + 1}"
        elif (m := re.match(r"([1-4])\. ", p)) and (current is None or current.startswith("body-1")):
            current = f"body-1-{m.group(1)}"
        elif p.startswith("（一）"):
            continue
        if current:
            tasks.setdefault(current, []).append(p)
    out = {}
    for tid, ps in tasks.items():
        text = "".join(ps)
        cut = re.search(r"[（(]牵头单位", text)
        out[tid] = text[:cut.start()] if cut else text
    return out


def _mismatches(regions: dict[str, str], gold: dict[str, dict], doc_year) -> dict[str, tuple]:
    bad = {}
    for tid, text in regions.items():
        want = Counter(m["due"] for m in gold[tid]["milestones"])
        got = Counter(h.due.isoformat() for h in find_dates(text, doc_year))
        if want != got:
            bad[tid] = (sorted((want - got).elements()), sorted((got - want).elements()))
    return bad


@pytest.mark.skipif(not SEED.exists(), reason="shared seed not available")
@pytest.mark.parametrize("doc_year", [None, 2021])
def test_seed_list_items_match_gold_multiset(doc_year):
    regions = _list_regions()
    assert len(regions) == 25
    # report form: task → (missing dues, extra dues)
    assert _mismatches(regions, _gold(), doc_year) == {}


@pytest.mark.skipif(not SEED.exists(), reason="shared seed not available")
@pytest.mark.parametrize("doc_year", [None, 2021])
def test_seed_body_tasks_match_gold_multiset(doc_year):
    regions = _body_regions()
    gold = _gold()
    assert sorted(regions) == sorted(t for t in gold if t.startswith("body-"))
    assert _mismatches(regions, gold, doc_year) == {}


@pytest.mark.skipif(not GOLD.exists(), reason="shared gold not available")
def test_each_gold_milestone_text_yields_its_due():
    checked = 0
    for task in _gold().values():
        for m in task["milestones"]:
            text = m["text"]
            if not re.search(r"[0-9０-９]\s*年|十[一二三四五六七八九]五”?(?:末|期间)", text):
                continue  # the date phrase was cut to keep the text short
            got = {h.due.isoformat(): h.done for h in find_dates(text)}
            assert m["due"] in got, (task["id"], text)
            assert got[m["due"]] == m["done"], (task["id"], text)
            checked += 1
    assert checked >= 50


def test_a_festival_without_a_year_is_the_next_one_after_the_document_s_date():
    issued_late, issued_early = datetime.date(2024, 11, 20), datetime.date(2024, 1, 5)
    assert dues("春节前完成欠薪排查", 2024) == []  # no date line: which Spring Festival is unknown
    assert [h.due for h in find_dates("春节前完成欠薪排查", 2024, issued_late)] == [D(2025, 1, 28)]
    assert [h.due for h in find_dates("春节前完成欠薪排查", 2024, issued_early)] == [D(2024, 2, 9)]
    assert [h.due for h in find_dates("国庆节前完成", 2024, issued_late)] == [D(2025, 9, 30)]
    assert find_dates("每年春节前开展专项检查", 2024, issued_late) == []  # a yearly duty


@pytest.mark.parametrize("text, due", [
    ("立行立改，3个月内完成整改", D(2025, 2, 20)), ("三年内完成", D(2027, 11, 20)), ("半年内完成", D(2025, 5, 20)),
    ("30天内完成", D(2024, 12, 20)), ("两周内报送方案", D(2024, 12, 4)), ("近三年内累计完成", None),
])
def test_a_span_counts_from_the_document_s_date(text, due):
    """"3个月内完成" in a plan dated 2024-11-20; without a date line it is no date at all."""
    assert [h.due for h in find_dates(text, 2024, datetime.date(2024, 11, 20))] == ([due] if due else [])
    assert find_dates(text, 2024) == []


@pytest.mark.parametrize("text, value", [
    ("13", 13), ("十三", 13), ("十", 10), ("二十五", 25), ("一百零二", 102), ("两", 2), ("廿五", 25),
    ("二〇二二", 2022), ("二O二二", 2022), ("一千二百", 1200), ("三四十", None), ("十三项", None), ("", None),
])
def test_one_reading_of_numerals_for_plans_and_questions(text, value):
    """The lexicon reads numbers for the item numbers, the dates and the questions alike."""
    from bot.windows import to_int
    from parser import cn_number
    from parser.lexicon import cn_value
    assert cn_value(text) == cn_number(text) == to_int(text) == value


@pytest.mark.parametrize("text, due", [
    ("即日起至2024年12月", datetime.date(2024, 12, 31)), ("即日起至12月底", datetime.date(2024, 12, 31)),
    ("自印发之日至2024年底", datetime.date(2024, 12, 31)), ("从2024年起至2025年12月", datetime.date(2025, 12, 31)),
])
def test_a_time_limit_field_that_runs_until_a_date_ends_on_it(text, due):
    """In a 完成时限 field the period's end is the deadline; in running text the same span is a validity
    window ("自本意见印发之日起至…") and no deadline."""
    from parser.milestones import Localities, extract
    loc = Localities(set(), None, {}, set())
    assert [m.due for m in extract(text, "deadline", loc, 2024, issued=datetime.date(2024, 3, 1))] == [due]
    assert extract(text, "measure", loc, 2024, issued=datetime.date(2024, 3, 1)) == []
