"""Layouts beyond the seed: inline role labels, 【】 labels, labelled items under several sections,
"X负责" sentences, two-row table headers and title rows. Expectations are written by hand."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from parser.plan import parse_blocks, parse_file
from parser.readers.blocks import Block

DATA = Path(__file__).parent / "data" / "layouts"


def brief(task):
    return (task.lead_units, task.cooperating_units, task.responsible_units, sorted(m.due for m in task.milestones))


def test_inline_labels_after_the_measure_give_roles_and_deadline():
    plan = parse_file(DATA / "inline_labels.txt")
    assert plan.year == 2023  # 娄政办发〔2023〕8号
    t1, t2, t3 = plan.tasks
    assert (t1.number, t1.title) == ("1", "推进钢铁行业超低排放改造")
    assert brief(t1) == (["市生态环境局"], None, ["市工业和信息化局", "各县市区"],
                         [date(2023, 9, 30), date(2023, 12, 31)])
    assert t1.deadline_text == "2023年12月31日前"
    assert brief(t2) == (["市生态环境局"], ["市市场监管局"], [], [date(2023, 10, 31)])  # 10月底前 takes 2023
    assert brief(t3) == (["市公安局"], ["市交通运输局", "市生态环境局"], [], [date(2023, 12, 31)])


def test_labelled_items_under_two_sections_are_numbered_with_their_section():
    plan = parse_file(DATA / "labelled_items_two_sections.txt")
    assert [t.number for t in plan.tasks] == ["一（一）", "一（二）", "二（一）", "二（二）"]
    a, b, c, d = plan.tasks
    assert a.supervising_leaders == ["分管生态环境工作的副市长"]  # 牵头领导
    assert brief(a) == (["市生态环境局"], None, ["市水利局", "珠晖区", "雁峰区"],
                        [date(2024, 6, 30), date(2024, 9, 30)])  # 6月底前 inside 整改措施
    assert b.lead_units == ["市工信局"] and b.responsible_units == ["市发展改革委"] and b.ongoing
    assert brief(c) == ([], None, ["市生态环境局", "各县市区"], [date(2024, 12, 31)])
    assert (d.lead_units, d.cooperating_units, d.deadline_text, d.ongoing) == (
        ["市生态环境局"], ["市公安局"], "持续推进", True)  # 【牵头单位】…【配合单位】…【完成时限】…
    assert any("珠晖区" in w for w in plan.warnings)  # another city's districts are kept and flagged


def test_a_closing_responsible_sentence_names_the_unit():
    plan = parse_file(DATA / "responsible_sentence.txt", year=2023)
    assert [(t.number, t.responsible_units) for t in plan.tasks] == [
        ("1", ["市公安局"]), ("2", ["市城管局", "市生态环境局"])]  # "各级党委、政府要切实负责" is no task


def test_table_with_a_title_row_and_two_header_rows():
    rows = [["某市2025年水污染防治重点任务分工表", "", "", "", ""],
            ["序号", "重点任务", "责任单位", "", "完成时限"],
            ["", "", "牵头单位", "配合单位", ""],
            ["1", "加快推进城区污水管网建设，2025年6月底前完成主干管建设。", "市住房城乡建设局", "市财政局、市自然资源局",
             "2025年12月31日前"],
            ["2", "开展黑臭水体整治。", "市生态环境局", "各县市区人民政府", "持续推进"]]
    plan = parse_blocks([Block("para", "某市2025年水污染防治任务分工方案"), Block("table", rows=rows)], "x.docx")
    t1, t2 = plan.tasks
    assert (t1.section, t1.number) == ("list", 1)
    assert brief(t1) == (["市住房城乡建设局"], ["市财政局", "市自然资源局"], None,
                         [date(2025, 6, 30), date(2025, 12, 31)])
    assert t2.cooperating_units == ["各县市区"] and t2.ongoing and not t2.milestones


def test_role_labels_inside_one_table_cell():
    rows = [["序号", "工作任务", "责任单位", "完成时间"],
            ["1", "完成饮用水水源地规范化建设。", "牵头单位：市生态环境局；配合单位：市水利局", "2024年底前"]]
    (t,) = parse_blocks([Block("para", "某市饮用水安全保障方案"), Block("table", rows=rows)], "x.docx").tasks
    assert (t.lead_units, t.cooperating_units) == (["市生态环境局"], ["市水利局"])
    assert [m.due for m in t.milestones] == [date(2024, 12, 31)]
