"""Real plans from other issuers (../shared/corpus: State Council, provinces, cities, districts) scored
against their hand-checked gold with ../shared/tools/score.py, and one row per role-clause and text form
the parser reads in them."""
from __future__ import annotations

import json

import pytest

from conftest import SHARED
from parser.normalize import normalize_width, split_lost_breaks
from parser.plan import parse_document
from parser.role_clauses import find_prose_roles, find_role_brackets, parse_clauses

CORPUS = SHARED / "corpus"
DOCS = sorted((CORPUS / "docs").glob("*.txt"))


def _parse(path):
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]  # the first line names the source
    return parse_document(text.encode("utf-8"), path.name).to_json()


@pytest.fixture(scope="module")
def scores(scorer):
    out = {}
    for path in DOCS:
        gold = json.loads((CORPUS / "gold" / (path.stem + ".json")).read_text(encoding="utf-8"))
        out[path.stem] = scorer.score(gold, _parse(path))
    return out


def test_every_corpus_document_is_read(scores):
    assert len(scores) == 11
    refused = [name for name, s in scores.items() if s["tasks_pred"] == 0]
    assert not refused


def test_pooled_figures_meet_the_targets(scores):
    gold = sum(s["tasks_gold"] for s in scores.values())
    matched = sum(s["tasks_matched"] for s in scores.values())
    pred = sum(s["tasks_pred"] for s in scores.values())
    dates = sum(s["dates_gold"] for s in scores.values())
    hit = sum(round(s["date_recall"] * s["dates_gold"]) for s in scores.values())
    unit = sum(s["unit_any_f1"] * s["tasks_gold"] for s in scores.values()) / gold
    assert matched / gold >= 0.97 and matched / pred >= 0.95, (matched, gold, pred)
    assert hit / dates >= 0.95, (hit, dates)
    assert unit >= 0.93, unit


@pytest.mark.parametrize("name", [p.stem for p in DOCS])
def test_each_document_finds_its_tasks(scores, name):
    s = scores[name]
    assert s["tasks_matched"] >= 0.9 * s["tasks_gold"], s
    assert s["unit_any_f1"] >= 0.55, s


# one row per role-clause form: (name, bracket content, expected fields)
ROLE_FORMS = [
    ("lead_and_others", "X牵头", None),
    ("list_with_verb", "工业和信息化部、发展改革委、科技部等负责",
     {"responsible_units": "工业和信息化部、发展改革委、科技部"}),
    ("lead_then_participants", "生态环境部牵头，国家发展改革委、国家统计局参与",
     {"lead_units": "生态环境部", "cooperating_units": "国家发展改革委、国家统计局"}),
    ("guide_then_carry_out", "生态环境部指导，试点城市政府负责落实",
     {"responsible_units": "生态环境部、试点城市政府"}),
    ("comma_groups_one_verb", "各地级以上市人民政府，省住房城乡建设厅、自然资源厅，省税务局按职责分工负责",
     {"responsible_units": "各地级以上市人民政府、省住房城乡建设厅、自然资源厅、省税务局"}),
    ("list_and_collective", "商务部、农业农村部等和各有关省级人民政府负责",
     {"responsible_units": "商务部、农业农村部、各有关省级人民政府"}),
    ("bare_list", "市发改委，市政府相关部门，各县市区政府",
     {"responsible_units": "市发改委、市政府相关部门、各县市区政府"}),
    ("with_time", "市财政局、市发展改革委负责，持续推进",
     {"responsible_units": "市财政局、市发展改革委", "deadline": "持续推进"}),
    ("not_roles_a_name_part", "市", None),
    ("not_roles_an_explanation", "以下简称自贸试验区", None),
]


@pytest.mark.parametrize("name,text,want", ROLE_FORMS, ids=[r[0] for r in ROLE_FORMS])
def test_role_clause_forms(name, text, want):
    got = parse_clauses(text)
    if want is None and name == "lead_and_others":
        assert got is None  # "X" names no unit
        return
    assert got == want


def test_bracket_notes_govern_later_items():
    first = find_role_brackets("…建设。（工业和信息化部、发展改革委等负责。列第一位者为牵头单位，下同）")
    assert first[0].first_is_lead
    carry = find_role_brackets("…（市卫生健康委、市财政局按职责分工负责。以下均需各区政府、北京经济技术开发区管委会负责，不再列出）")
    assert carry[0].carry == "各区政府、北京经济技术开发区管委会"


def test_units_named_as_subjects_in_prose():
    got = find_prose_roles("2015年底前，地方各级人民政府要组织开展一次环境保护全面排查。乡镇人民政府、街道办事处要协助做好相关工作。"
                           "生态环境部会同有关部门组建协调小组。鼓励各地制定更严格的标准。")
    assert got == {"responsible_units": "地方各级人民政府", "cooperating_units": "乡镇人民政府、街道办事处、有关部门",
                   "lead_units": "生态环境部"}


def test_prose_forms_of_subjects():
    got = find_prose_roles("生态环境部会同国家发展改革委、财政部等部门确定试点城市。各省、市、县级人民政府要确定重点监管对象。"
                           "省级环境保护部门每年要对本行政区域开展稽查。")
    assert got == {"lead_units": "生态环境部", "cooperating_units": "国家发展改革委、财政部",
                   "responsible_units": "各省、市、县级人民政府、省级环境保护部门"}


def test_prose_subjects_that_name_one_collective():
    got = find_prose_roles("环境保护重点区域、流域地方政府要强化协同监管。环境保护、工商、供水、供电等部门和单位要配合人民法院"
                           "做好执行工作。地方环境保护部门和其他负有环境监管职责的部门，每年要发布重点监管对象名录。")
    assert got == {"responsible_units": "环境保护重点区域、流域地方政府、地方环境保护部门、其他负有环境监管职责的部门",
                   "cooperating_units": "环境保护、工商、供水、供电等部门和单位"}


def test_prose_subjects_with_what_they_answer_for_or_when():
    got = find_prose_roles("县级以上地方各级人民政府对本行政区域环境监管执法工作负领导责任。审计机关在开展经济责任审计时，"
                           "要对执行环境保护法律法规情况进行审计。市、县两级环境保护部门承担日常环境监管执法责任。")
    assert got == {"responsible_units": "县级以上地方各级人民政府、审计机关、市、县两级环境保护部门"}


def test_a_ministry_whose_name_holds_a_place_word_is_listed_whole():
    got = find_prose_roles("生态环境部会同自然资源部、住房城乡建设部、农业农村部等部门筛选确定。")
    assert got == {"lead_units": "生态环境部", "cooperating_units": "自然资源部、住房城乡建设部、农业农村部"}


def test_widths_and_lost_line_breaks():
    assert normalize_width("(牵头单位:市发改委;配合单位:市财政局)２０２３年") == "（牵头单位：市发改委;配合单位：市财政局）2023年"
    assert normalize_width("9:30前") == "9:30前"
    line = "通知如下：　　一、总体要求　　（一）加快完善法规。各地要抓紧。　　（二）实施联动。公安机关要配合。"
    assert split_lost_breaks(line) == ["通知如下：", "一、总体要求", "（一）加快完善法规。各地要抓紧。", "（二）实施联动。公安机关要配合。"]


def test_a_whole_crawled_plan_on_one_line_is_read_by_its_markers():
    path = next(p for p in DOCS if "oneline" in p.stem)
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]
    assert "\n" not in text.strip()
    numbers = [t["number"] for t in _parse(path)["tasks"]]
    assert numbers[:3] == ["（一）", "（二）", "（三）"] and len(numbers) == 15


# dates in prose: (name, text, expected due dates) with doc year 2022, issued 2022-07-25
DATE_FORMS = [
    ("month_without_year", "确保专项债券资金8月底前使用完毕", ["2022-08-31"]),
    ("within_the_year", "力争年内建成投用19个基础设施项目", ["2022-12-31"]),
    ("bare_year_of_a_quantified_action", "2023年新增筹建保障性租赁住房不少于22万套", ["2023-12-31"]),
    ("span_from_issue", "自本方案印发之日起3个月内完成清理", ["2022-10-25"]),
    ("benefit_window", "中小微企业在2022年1月1日至2022年12月31日期间新购置的设备", []),
    ("validity", "政策执行至2022年底", []),
    ("print_date_of_the_colophon", "重庆市人民政府办公厅　　　　　　2025年7月16日印发", []),
    ("issue_a_rule_by_a_date", "2025年9月底前印发实施细则", ["2025-09-30"]),
    ("window_from_issue", "自本意见印发之日起至2023年12月31日前，暂停征收", []),
    ("permission", "2022年未缴费月度，可于2023年底前进行补缴", []),
    ("span_binding_beneficiaries", "剩余尾款在一年内交清", []),
    ("span_as_attribute", "从入驻园区之日起3个月内招用的员工", []),
    ("year_inside_a_name", "积极开展2023年新能源汽车下乡活动", []),
    ("duration_not_quantity", "2022年对小微企业承租国有房屋减免6个月租金", []),
    ("benefit_terms_as_a_range", "实施购房契税补贴2022年4月25日至2022年12月31日", []),
    ("eligibility_for_a_benefit", "2022年4月25日前，在市区内购买商品住宅（含二手房），并在2022年4月25日至2022年12月31日"
                                  "期间缴纳契税的，给予已缴契税20%消费补贴", []),
    ("tax_relief_until", "2027年12月31日前，对从事二手车经销的纳税人销售其收购的二手车，减按0.5%征收增值税", []),
    ("fee_waiver_until", "到2030年前，对实行两部制电价的集中式充换电设施用电免收需量（容量）电费", []),
    ("benefit_work_by_a_date", "2022年底前完成补贴资金拨付", ["2022-12-31"]),
    ("benefit_policy_to_issue", "2022年10月底前出台购房补贴政策", ["2022-10-31"]),
    ("binds_beneficiaries", "借款人应于2022年12月31日前归还全部应还未还的贷款本息", []),
    ("year_of_a_standard", "按当年最低工资标准（2022年最低工资标准为1970元/月）给予就业见习补贴（用于基本生活费）", []),
    ("year_placing_a_value", "缴费基数在2023年当地个人缴费基数上下限范围内自主选择", []),
    ("target_year_after_zai", "在2025年实现城乡全覆盖", ["2025-12-31"]),
    ("basically_achieved", "2024年基本建成城市一刻钟便民生活圈", ["2024-12-31"]),
    ("subsidy_funds_moved_by_a_date", "市财政局于2023年9月底前将补助资金下拨至各县市区", ["2023-09-30"]),
    ("tax_relief_publicity_by_a_date", "2023年11月30日前，市税务局负责做好减免税政策宣传辅导", ["2023-11-30"]),
    ("review_of_applicants_by_a_date", "市人社局对申请人于2023年12月31日前完成资格审核", ["2023-12-31"]),
    ("year_after_yu", "各县市区于2024年组织验收", ["2024-12-31"]),
    ("standardised_by_a_year", "力争2024年标准化厂房建成投用", ["2024-12-31"]),
]


@pytest.mark.parametrize("name,text,want", DATE_FORMS, ids=[r[0] for r in DATE_FORMS])
def test_date_forms_in_prose(name, text, want):
    from datetime import date

    from parser.dates import find_dates
    assert [h.due.isoformat() for h in find_dates(text, 2022, date(2022, 7, 25))] == want


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    """The whole corpus ingested into one store, through `duban ingest`."""
    from conftest import run_cli
    folder = tmp_path_factory.mktemp("corpus")
    files = []
    for path in DOCS:
        target = folder / path.name
        target.write_text(path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
        files.append(str(target))
    db = str(folder / "corpus.db")
    code, out, err = run_cli(["--db", db, "ingest", *files])
    assert code == 0, err
    return db


def _ask(db, question, asker, today):
    from conftest import run_cli
    code, out, err = run_cli(["--db", db, "ask", question, "--as", asker, "--today", today, "--json"])
    assert code == 0, err
    return json.loads(out)


def _titles(answer):
    return json.dumps(answer, ensure_ascii=False)


def test_a_store_of_the_whole_corpus_answers_for_national_organs(corpus_store):
    # a State Council plan writes 发展改革委; the store keeps the organ as 国家发展改革委, 发改委 finds it
    gold = json.loads((CORPUS / "gold" / "01_guofa2018-42_nongjihua.json").read_text(encoding="utf-8"))
    named = [t["title"].split("。")[0][:10] for t in gold["tasks"]
             if "发展改革委" in t["responsible_units"] + t["lead_units"]]
    short = _titles(_ask(corpus_store, "发改委有哪些任务", "国家发展改革委", "2022-06-01"))
    full = _titles(_ask(corpus_store, "国家发展改革委的任务", "国家发展改革委", "2022-06-01"))
    assert named and all(n in short for n in named[:3]) and all(n in full for n in named[:3])
    led = _titles(_ask(corpus_store, "生态环境部牵头的任务", "生态环境部", "2019-01-01"))
    assert "强化顶层设计引领" in led  # 11 二（一）: 生态环境部牵头


def test_a_store_of_the_whole_corpus_gives_a_district_its_due_list(corpus_store):
    answer = _titles(_ask(corpus_store, "我单位哪些任务即将到期", "区发改局", "2022-08-01"))
    assert "加快专项债券发行使用" in answer and "2022-08-31" in answer  # 03 item 14: 8月底前


# one row per entry of parser.role_forms.ROLE_FORMS, in its order of precedence
ITEM_FORMS = [
    ("labelled_bracket", "推进改造。（牵头单位：市住建局；配合单位：市财政局）", {"lead_units": "市住建局", "cooperating_units": "市财政局"}),
    ("role_brackets", "推进改造。（市住建局牵头，市财政局参与）", {"lead_units": "市住建局", "cooperating_units": "市财政局"}),
    ("inline_labels", "推进改造。责任单位：市住建局。完成时限：2024年6月底前", {"responsible_units": "市住建局",
                                                                   "deadline": "2024年6月底前"}),
    ("role_sentence", "推进改造。由市住建局牵头，市财政局配合。", {"lead_units": "市住建局", "cooperating_units": "市财政局"}),
    ("prose_subjects", "推进改造。各区政府要加快进度。", {"responsible_units": "各区政府"}),
]


@pytest.mark.parametrize("name,text,want", ITEM_FORMS, ids=[r[0] for r in ITEM_FORMS])
def test_item_role_forms_in_their_order(name, text, want):
    from parser.role_forms import ROLE_FORMS, find_roles
    assert [n for n, _ in ROLE_FORMS] == [r[0] for r in ITEM_FORMS]
    found_name, (fields, _, rest) = find_roles(text)
    assert found_name == name and fields == want and rest.startswith("推进改造")


def _as_docx(text: str) -> bytes:
    """The document as Word writes it: a paragraph per line, tab-separated rows as a table."""
    import io

    from docx import Document
    doc = Document()
    for kind, chunk in _chunks(text):
        if kind == "table":
            width = max(len(r) for r in chunk)
            table = doc.add_table(rows=len(chunk), cols=width)
            for r, row in enumerate(chunk):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            doc.add_paragraph(chunk)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _as_html(text: str) -> bytes:
    """The document as a government site serves it: navigation, then <p> per line and <table> rows."""
    import html
    out = ['<!DOCTYPE html><html><head><title>政府信息公开</title></head><body>'
           '<div class="nav"><a href="/">首页</a> <a href="/zwgk">政务公开</a></div><div class="article">']
    for kind, chunk in _chunks(text):
        if kind == "table":
            out.append("<table>" + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                                           for row in chunk) + "</table>")
        else:
            out.append(f"<p>{html.escape(chunk)}</p>")
    return ("".join(out) + "</div><div class=\"footer\">主办单位：某市人民政府办公室</div></body></html>").encode()


def _chunks(text: str):
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if "\t" in lines[i]:
            j = i
            while j < len(lines) and "\t" in lines[j]:
                j += 1
            yield "table", [ln.split("\t") for ln in lines[i:j]]
            i = j
        else:
            yield "para", lines[i]
            i += 1


@pytest.mark.parametrize("fmt", ["docx", "html"])
def test_the_corpus_reads_the_same_from_word_and_from_a_web_page(scores, scorer, fmt):
    """Each corpus document written as a .docx and as a saved web page scores as its text does."""
    make = {"docx": _as_docx, "html": _as_html}[fmt]
    for path in DOCS:
        gold = json.loads((CORPUS / "gold" / (path.stem + ".json")).read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8").split("\n", 1)[1]
        got = scorer.score(gold, parse_document(make(text), f"{path.stem}.{fmt}").to_json())
        want = scores[path.stem]
        assert (got["tasks_matched"], got["tasks_pred"], got["date_recall"], got["unit_any_f1"]) == (
            want["tasks_matched"], want["tasks_pred"], want["date_recall"], want["unit_any_f1"]), path.stem
