"""Formats other than .txt/.docx/.pdf, told apart by content: a saved web page, .xlsx and .xls task
tables, a legacy Word .doc (and .wps), .ofd, and tab-separated tables pasted into text.
Fixtures and how they were made: tests/data/formats/README.md."""
from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from conftest import FIXTURES, parse_json, run_cli
from parser.errors import DocumentError
from parser.plan import parse_document, parse_file
from parser.readers import read_document, sniff_format

FORMATS = Path(__file__).parent / "data" / "formats"
HAS_SOFFICE = shutil.which("soffice") is not None
needs_soffice = pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not installed: .doc/.wps "
                                   "files are converted by it (apt-get install libreoffice-writer-nogui)")


def summary(task):
    return (task.lead_units, task.cooperating_units or [], sorted(m.due for m in task.milestones), task.ongoing)


# The 黑臭水体 table, as its cells say (README.md): item 2 has two sub-rows; 市水利局 is merged over 3–4;
# "/" and "—" name no unit.
TABLE_TASKS = {
    1: (["市生态环境局"], ["市住房城乡建设局", "市水利局"], [date(2024, 3, 31)], False),
    2: (["市住房城乡建设局", "市城管局"], ["市财政局"], [date(2024, 6, 30), date(2024, 12, 31)], False),
    3: (["市水利局"], ["各县市区"], [date(2024, 9, 30)], False),
    4: (["市水利局"], [], [date(2024, 10, 31)], False),
    5: (["市河长办"], ["各县市区"], [], True),
}


@pytest.mark.parametrize("name, kind", [("heichou_plan.html", "html"), ("heichou_table.xlsx", "xlsx"),
                                        ("heichou_table.xls", "xls"), ("nongcun_plan.ofd", "ofd"),
                                        ("shaoyang_plan.doc", "doc")])
def test_format_is_sniffed_from_content(name, kind):
    assert sniff_format((FORMATS / name).read_bytes()) == kind


@pytest.mark.parametrize("name", ["heichou_plan.html", "heichou_table.xlsx", "heichou_table.xls"])
def test_task_table_in_every_format(name):
    plan = parse_file(FORMATS / name)
    assert plan.year == 2024
    assert {t.number: summary(t) for t in plan.tasks} == TABLE_TASKS
    assert [t.title for t in plan.tasks][:2] == ["开展城区黑臭水体排查", "推进截污纳管工程"]
    assert [r.every for r in plan.tasks[4].recurring] == ["month"]  # 每月开展一次巡河


def test_a_file_named_wrongly_is_read_by_its_content(tmp_path):
    path = tmp_path / "分工表.docx"
    path.write_bytes((FORMATS / "heichou_table.xlsx").read_bytes())
    assert {t.number for t in parse_file(path).tasks} == set(TABLE_TASKS)


def test_spreadsheet_title_row_becomes_the_plan_title():
    blocks = read_document((FORMATS / "heichou_table.xlsx").read_bytes(), "x.xlsx")
    assert (blocks[0].kind, blocks[0].heading, blocks[0].text) == ("para", True, "某市2024年城市黑臭水体整治重点任务分工表")
    assert parse_file(FORMATS / "heichou_table.xlsx").title == "某市2024年城市黑臭水体整治重点任务分工表"
    table = blocks[1].rows
    # a merged cell is repeated in every row it covers (the reader knows the merges), as Word's are
    assert table[4] == ["2", "推进截污纳管工程", "完成支管到户改造。", "市城管局", "/", "2024年12月底前"]
    assert blocks[1].merges_filled
    assert table[6][5] == "2024年10月31日"  # a date cell reads as written in Chinese


def test_saved_web_page_drops_navigation_and_keeps_the_article():
    blocks = read_document((FORMATS / "heichou_plan.html").read_bytes(), "page.html")
    text = "\n".join(b.text for b in blocks if b.kind == "para")
    for chrome in ("首页", "政务公开", "当前位置", "登录", "搜索", "字号", "打印本页", "关闭窗口", "分享到", "相关阅读",
                   "版权所有", "网站标识码", "浏览次数", "document.write", "text-indent"):
        assert chrome not in text, chrome
    assert blocks[0].heading and blocks[0].text.startswith("某市人民政府办公室关于印发《某市2024年")
    assert "现印发给你们，请认真贯彻落实。" in text  # a line break in the markup is not one in the text
    (table,) = [b.rows for b in blocks if b.kind == "table"]
    assert table[1] == ["一、系统治理", "", "", "", "", ""]  # colspan: the covered cells are empty
    # rowspan: repeated in the rows below, as every reader that knows its merges gives them
    assert table[4][:2] == table[3][:2] == ["2", "推进截污纳管工程"] and table[6][3] == table[5][3] == "市水利局"
    plan = parse_file(FORMATS / "heichou_plan.html")
    assert plan.title == "某市2024年城市黑臭水体整治重点任务分工方案" and plan.doc_number == "某政办发〔2024〕3号"


def test_html_fragment_without_a_document_is_sniffed_and_read():
    page = "<table><tr><td>序号</td><td>工作任务</td><td>责任单位</td></tr><tr><td>1</td><td>完成排查</td><td>市水利局</td></tr></table>"
    assert sniff_format(page.encode()) == "html"
    (t,) = parse_document(("<p>某市整改方案</p>" + page).encode("gb18030"), "x.htm").tasks
    assert (t.title, t.responsible_units) == ("完成排查", ["市水利局"])


def test_ofd_text_layer_made_by_easyofd():
    plan = parse_file(FORMATS / "nongcun_plan.ofd")
    assert (plan.title, plan.year, plan.doc_number) == ("某县2024年农村人居环境整治重点任务分工方案", 2024, "某政办发〔2024〕12号")
    got = {t.number: summary(t) for t in plan.tasks}
    assert got == {
        "（一）": (["县农业农村局"], ["县卫生健康局", "县财政局"], [date(2024, 6, 30)] * 2, False),
        "（二）": (["县城管局"], ["各乡镇人民政府"], [date(2024, 12, 31)] * 2, False),
        "（三）": (["县农业农村局"], ["各乡镇人民政府"], [], True),
    }
    assert [r.every for r in plan.tasks[2].recurring] == ["quarter"]


def test_real_ofd_document_is_read_not_called_damaged(shared):
    data = (FIXTURES / "formats" / "lq_weishengju_pifu_2011.ofd").read_bytes()
    texts = [b.text for b in read_document(data, "x.ofd")]
    assert texts[:3] == ["测试符路桥区卫生局文件", "路卫发〔2011〕76号", "关于同意张阿三同志辞职的批复"]
    assert "— 1 —" not in texts  # page numbers dropped
    with pytest.raises(DocumentError) as caught:
        parse_document(data, "x.ofd")
    assert caught.value.code == "no_structure"


@pytest.mark.parametrize("name, what", [("heichou_table.xlsx", "Excel"), ("nongcun_plan.ofd", "OFD")])
def test_truncated_container_is_named_by_its_content(name, what):
    data = (FORMATS / name).read_bytes()
    with pytest.raises(DocumentError) as caught:
        read_document(data[:len(data) // 2], name)
    assert caught.value.code == "corrupt" and what in str(caught.value) and "Word" not in str(caught.value)


def test_password_protected_office_file_is_called_encrypted():
    data = (FORMATS / "heichou_table_encrypted.xlsx").read_bytes()
    assert sniff_format(data) == "encrypted"
    with pytest.raises(DocumentError) as caught:
        read_document(data, "分工表.xlsx")
    assert caught.value.code == "encrypted" and "已加密" in str(caught.value) and "损坏" not in str(caught.value)


def test_zip_that_is_no_document_is_unsupported():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("photos/a.txt", "x")
    with pytest.raises(DocumentError) as caught:
        read_document(buffer.getvalue(), "a.docx")
    assert caught.value.code == "unsupported" and "压缩包" in str(caught.value)


@needs_soffice
@pytest.mark.parametrize("name", ["shaoyang_plan.doc", "shaoyang_plan.wps"])
def test_legacy_word_binary_scores_like_the_seed(tmp_path, scorer, seed_gold, name):
    path = tmp_path / name
    path.write_bytes((FORMATS / "shaoyang_plan.doc").read_bytes())
    s = scorer.score(seed_gold, parse_json(path))
    assert (s["tasks_matched"], s["tasks_pred"], s["date_recall"], s["date_precision"], s["unit_role_f1"]) == (
        38, 38, 1.0, 1.0, 1.0)


def test_legacy_word_without_libreoffice_says_how_to_convert(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on this PATH
    with pytest.raises(DocumentError) as caught:
        read_document((FORMATS / "shaoyang_plan.doc").read_bytes(), "plan.doc")
    message = str(caught.value)
    assert caught.value.code == "unsupported" and "另存为" in message and ".docx" in message
    assert "已损坏" not in message
    code, out, err = run_cli(["parse", str(FORMATS / "shaoyang_plan.doc")])
    assert code == 2 and "另存为" in err and len(err.strip().splitlines()) == 1


def test_tab_separated_rows_in_text_become_a_table():
    text = ("某市2024年重点任务分工表\n"
            "一、总体要求\n"
            "序号\t工作任务\t牵头单位\t配合单位\t完成时限\n"
            "1\t完成城区污水管网排查\t市住房城乡建设局\t市财政局\t2024年6月底前\n"
            "2\t建设生活垃圾焚烧发电厂\t市城管局\n"  # trailing cells left out: 完成时限 merged from above
            "说明：以上任务按季度调度。\n")
    blocks = read_document(text.encode(), "x.txt")
    assert [b.kind for b in blocks] == ["para", "para", "table", "para"]
    assert blocks[2].rows[2] == ["2", "建设生活垃圾焚烧发电厂", "市城管局", "", ""]
    one, two = parse_document(text.encode(), "x.txt").tasks
    assert summary(one) == (["市住房城乡建设局"], ["市财政局"], [date(2024, 6, 30)], False)
    assert summary(two) == (["市城管局"], [], [date(2024, 6, 30)], False)  # 配合单位 is not carried down


def test_a_single_tabbed_line_stays_a_paragraph():
    blocks = read_document("一、总体要求\n（一）\t加强领导。\n（二）加强督办。\n".encode(), "x.txt")
    assert [b.kind for b in blocks] == ["para"] * 3


def test_corpus_table_document_05_scores_against_its_gold(shared, scorer, tmp_path):
    """国办发〔2018〕126号: the annex table (序号/改革举措/主要内容/指导部门/推广范围) as TSV, section rows
    written with four trailing tabs. Gold: ../shared/corpus/gold/05_*.json."""
    import json

    corpus = shared / "corpus"
    doc = next((corpus / "docs").glob("05_*.txt"))
    gold = json.loads(next((corpus / "gold").glob("05_*.json")).read_text(encoding="utf-8"))
    path = tmp_path / "05.txt"
    path.write_text(doc.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    pred = parse_json(path)
    s = scorer.score(gold, pred)
    assert s["tasks_matched"] == 17 and s["unit_any_f1"] >= 0.93, s
    by_title = {t["title"]: t for t in pred["tasks"]}
    for g in gold["tasks"]:  # every table row: its number and its 指导部门 as responsible units
        t = by_title[g["title"]]
        assert (str(t["number"]), t["responsible_units"], t["lead_units"]) == (
            g["number"], g["responsible_units"], []), g["number"]
    assert not any("全国" in u or "试验区" in u for t in pred["tasks"] for u in t["responsible_units"])  # 推广范围


def test_layout_tables_of_an_older_site_are_read_as_text():
    """The whole page inside a table (older government sites): the article paragraphs stay paragraphs and
    the task table inside it stays a table."""
    page = ("<html><body><table width='100%'><tr><td class='nav'><a href='/'>首页</a></td></tr>"
            "<tr><td><table><tr><td><p>某市整改方案</p><p>一、重点任务</p>"
            "<table border='1'><tr><td>序号</td><td>工作任务</td><td>责任单位</td></tr>"
            "<tr><td>1</td><td>完成排查。</td><td>市水利局</td></tr></table>"
            "<p>各单位要按时完成。</p></td></tr></table></td></tr></table></body></html>")
    blocks = read_document(page.encode(), "x.html")
    assert [(b.kind, b.text) for b in blocks] == [("para", "某市整改方案"), ("para", "一、重点任务"), ("table", ""),
                                                  ("para", "各单位要按时完成。")]
    assert blocks[2].rows == [["序号", "工作任务", "责任单位"], ["1", "完成排查。", "市水利局"]]
