"""Task tables by header meaning (parser.table_forms, parser.tables): every named header form has a row
here, and each table layout rule (title rows, sub-rows, merged cells, none marks, section rows, scope
and office columns, short headers) a test through parse_blocks. Expectations are read off the cells."""
from __future__ import annotations

from datetime import date

import pytest

from parser.plan import parse_blocks
from parser.readers.blocks import Block
from parser.table_forms import HEADER_FORMS, header_key

# (header as printed, meaning) — at least one row per named form, and the headers the issue lists.
HEADER_ROWS = [
    ("序号", "number"), ("编号", "number"), ("序 号", "number"),
    ("市级督办领导", "supervising_leaders"), ("督办领导", "supervising_leaders"), ("牵头省领导", "supervising_leaders"),
    ("推广范围", "scope"), ("适用范围", "scope"),
    ("责任科室", "office"), ("责任处室", "office"), ("责任人", "office"),
    ("备注", "remark"), ("任务类别", "category"), ("问题类型", "category"), ("领域", "category"),
    ("主体责任单位", "principal_units"),
    ("牵头单位", "lead_units"), ("市直牵头单位", "lead_units"), ("牵头部门", "lead_units"),
    ("配合单位", "cooperating_units"), ("协办单位", "cooperating_units"), ("协作单位", "cooperating_units"),
    ("支持单位", "cooperating_units"),
    ("指导部门", "responsible_units"),
    ("责任单位", "responsible_units"), ("责任部门", "responsible_units"), ("落实单位", "responsible_units"),
    ("完成时限", "deadline"), ("时限要求", "deadline"), ("时间节点", "deadline"), ("整改时限", "deadline"),
    ("完成时间", "deadline"), ("截止日期", "deadline"), ("期限", "deadline"),
    ("整改目标", "goal"),
    ("整改措施", "measures"), ("工作措施", "measures"),
    ("问题", "problem"), ("督察反馈问题", "problem"),
    ("目标任务", "task"), ("工作任务", "task"), ("工作事项", "task"), ("改革举措", "task"), ("民生实事", "task"), ("重点任务", "task"),
    ("重点工作", "task"),
    ("主要内容", "content"), ("具体要求", "content"), ("工作内容", "content"), ("主 要 内 容", "content"),
]


@pytest.mark.parametrize("header, key", HEADER_ROWS)
def test_header_meaning(header, key):
    assert header_key(header) == key


def test_every_named_form_has_a_test_row():
    tested = {header_key(h) for h, _ in HEADER_ROWS}
    assert {form.key for form in HEADER_FORMS} <= tested
    assert {form.name for form in HEADER_FORMS} <= {h for h, _ in HEADER_ROWS}


def test_not_headers():
    for cell in ("1", "推进城区污水管网建设", "", "市生态环境局", "2024年6月底前"):
        assert header_key(cell) is None, cell


def parse_table(rows, title="某市2024年重点任务分工方案"):
    return parse_blocks([Block("para", title, heading=True), Block("table", rows=rows)], "x.docx").tasks


def brief(task):
    return (task.lead_units, task.cooperating_units or [], task.responsible_units or [],
            sorted(m.due for m in task.milestones))


# --- each named form in a table ------------------------------------------------------------------

@pytest.mark.parametrize("unit_header, role", [("牵头单位", "lead_units"), ("责任单位", "responsible_units"),
                                               ("配合单位", "cooperating_units"), ("指导部门", "responsible_units"),
                                               ("主体责任单位", "principal_units")])
@pytest.mark.parametrize("text_header", ["工作任务", "工作事项", "改革举措", "民生实事", "主要内容", "具体要求", "问题"])
def test_text_and_unit_columns_by_header(text_header, unit_header, role):
    rows = [["序号", text_header, unit_header, "时间节点"],
            ["1", "推进城区污水管网建设。", "市住房城乡建设局", "2024年6月底前"],
            ["2", "开展黑臭水体整治。", "市生态环境局", "2024年12月底前"]]
    one, two = parse_table(rows)
    assert (one.number, one.title, two.number) == (1, "推进城区污水管网建设", 2)
    assert (getattr(one, role), getattr(two, role)) == (["市住房城乡建设局"], ["市生态环境局"])
    assert ([m.due for m in one.milestones], [m.due for m in two.milestones]) == (
        [date(2024, 6, 30)], [date(2024, 12, 31)])


@pytest.mark.parametrize("deadline_header", ["完成时限", "时限要求", "时间节点", "完成时间"])
def test_deadline_columns(deadline_header):
    (t,) = parse_table([["序号", "工作任务", "责任单位", deadline_header],
                        ["1", "完成排查。", "市水利局", "2024年9月底前"]])
    assert (t.deadline_text, [m.due for m in t.milestones]) == ("2024年9月底前", [date(2024, 9, 30)])


def test_leader_column_and_task_with_content():
    (t,) = parse_table([["序号", "工作任务", "具体要求", "督办领导", "牵头单位", "完成时限"],
                        ["1", "推进截污纳管", "1.完成主干管网建设。\n2.2024年12月底前完成支管改造。", "分管副市长",
                         "市住房城乡建设局", "2024年6月底前"]])
    assert t.title == "推进截污纳管" and t.supervising_leaders == ["分管副市长"]
    assert t.measures == ["完成主干管网建设。", "2024年12月底前完成支管改造。"]
    assert sorted(m.due for m in t.milestones) == [date(2024, 6, 30), date(2024, 12, 31)]


# --- layout rules ----------------------------------------------------------------------------------

def test_header_under_title_rows_inside_the_table():
    rows = [["附件", "", "", ""], ["某市2024年重点任务分工表", "", "", ""],
            ["序号", "工作任务", "责任单位", "完成时限"], ["1", "完成排查。", "市水利局", "2024年9月底前"]]
    (t,) = parse_table(rows)
    assert (t.number, t.responsible_units) == (1, ["市水利局"])


def test_sub_rows_under_one_number_are_one_task_with_all_milestones_and_units():
    """A unit that leads in any sub-row is lead, once; the others keep their strongest role."""
    rows = [["序号", "工作任务", "具体要求", "牵头单位", "配合单位", "完成时限"],
            ["1", "推进截污纳管", "完成主干管网建设。", "市住房城乡建设局", "市城管局", "2024年6月底前"],
            ["", "", "完成支管到户改造。", "市城管局", "市住房城乡建设局、市财政局", "2024年12月底前"],
            ["", "", "建立管网维护机制。", "", "市财政局", "2025年3月底前"],
            ["2", "开展排查", "排查城区水体。", "市生态环境局", "", "2024年3月底前"]]
    one, two = parse_table(rows)
    assert brief(one) == (["市住房城乡建设局", "市城管局"], ["市财政局"], [],
                          [date(2024, 6, 30), date(2024, 12, 31), date(2025, 3, 31)])
    assert brief(two) == (["市生态环境局"], [], [], [date(2024, 3, 31)])


def test_repeated_number_of_a_merged_cell_is_the_same_task():
    rows = [["序号", "工作任务", "责任单位", "完成时限"],
            ["1", "推进截污纳管", "市住房城乡建设局", "2024年6月底前"],
            ["1", "推进截污纳管", "市城管局", "2024年12月底前"]]
    (t,) = parse_table(rows)
    assert brief(t) == ([], [], ["市住房城乡建设局", "市城管局"], [date(2024, 6, 30), date(2024, 12, 31)])


def test_merged_unit_and_deadline_cells_carry_down_but_cooperating_does_not():
    rows = [["序号", "工作任务", "牵头单位", "配合单位", "完成时限"],
            ["1", "完成河道清淤。", "市水利局", "各县市区", "2024年9月底前"],
            ["2", "建设补水泵站。", "", "", ""],
            ["3", "建立巡河制度。", "市河长办", "", "长期坚持"]]
    one, two, three = parse_table(rows)
    assert brief(two) == (["市水利局"], [], [], [date(2024, 9, 30)])
    assert three.lead_units == ["市河长办"] and three.ongoing


@pytest.mark.parametrize("none", ["/", "—", "——", "无", "－"])
def test_slash_and_dash_mean_none_and_stop_the_carry(none):
    rows = [["序号", "工作任务", "牵头单位", "配合单位", "完成时限"],
            ["1", "完成河道清淤。", "市水利局", "市财政局", "2024年9月底前"],
            ["2", "建设补水泵站。", "市城管局", none, none]]
    one, two = parse_table(rows)
    assert brief(two) == (["市城管局"], [], [], [])
    assert not two.deadline_text


def test_section_rows_spanning_the_table_are_headings_and_restart_numbers():
    rows = [["序号", "工作任务", "责任单位", "完成时限"],
            ["一、系统治理", "", "", ""],
            ["1", "完成排查。", "市水利局", "2024年9月底前"],
            ["2", "完成清淤。", "市水利局", "2024年10月底前"],
            ["二、长效管理", "", "", ""],
            ["1", "建立巡河制度。", "市河长办", "长期坚持"]]
    tasks = parse_table(rows)
    assert [t.number for t in tasks] == [1, 2, "二1"]
    assert [t.title for t in tasks] == ["完成排查", "完成清淤", "建立巡河制度"]


def test_a_section_row_does_not_join_the_task_above():
    rows = [["序号", "工作任务", "责任单位"], ["1", "完成排查。", "市水利局"], ["二、长效管理", "", ""],
            ["2", "建立巡河制度。", "市河长办"]]
    one, two = parse_table(rows)
    assert (one.title, one.responsible_units, two.number) == ("完成排查", ["市水利局"], 2)


def test_scope_and_office_columns_assign_no_units():
    rows = [["序号", "改革举措", "主要内容", "指导部门", "推广范围", "责任科室"],
            ["1", "推行告知承诺制", "对申请材料实行告知承诺。", "市司法局、市市场监管局", "全市", "法规科"]]
    (t,) = parse_table(rows)
    units = [u for role in ("lead_units", "responsible_units", "cooperating_units", "principal_units")
             for u in getattr(t, role) or []]
    assert units == ["市司法局", "市市场监管局"]


def test_header_with_fewer_labels_than_the_rows_have_cells():
    """The 序号 column has no label; the labels sit over the columns to its right."""
    rows = [["工作任务", "责任单位", "完成时限", ""],
            ["1", "完成排查。", "市水利局", "2024年9月底前"],
            ["2", "完成清淤。", "市城管局", "2024年10月底前"]]
    one, two = parse_table(rows)
    assert (one.number, one.title, one.responsible_units, [m.due for m in one.milestones]) == (
        1, "完成排查", ["市水利局"], [date(2024, 9, 30)])
    assert two.responsible_units == ["市城管局"]


def test_unlabelled_trailing_column_of_dates_is_the_time_limit():
    rows = [["序号", "工作任务", "责任单位"],
            ["1", "完成排查。", "市水利局", "2024年9月底前"],
            ["2", "完成清淤。", "市城管局", "持续推进"]]
    one, two = parse_table(rows)
    assert [m.due for m in one.milestones] == [date(2024, 9, 30)] and two.ongoing


def test_spanning_unit_label_covers_the_column_beside_it():
    rows = [["序号", "工作任务", "责任单位", "", "完成时限"],
            ["1", "完成排查。", "市水利局", "各县市区", "2024年9月底前"]]
    (t,) = parse_table(rows)
    assert t.responsible_units == ["市水利局", "各县市区"]


def test_table_without_numbers_is_one_task_a_row():
    rows = [["工作任务", "责任单位", "完成时限"], ["完成排查。", "市水利局", "2024年9月底前"],
            ["完成清淤。", "市城管局", "2024年10月底前"]]
    one, two = parse_table(rows)
    assert (one.number, two.number, two.responsible_units) == (1, 2, ["市城管局"])


def test_a_table_that_assigns_nothing_is_not_a_task_table():
    from parser.tables import is_task_table

    assert not is_task_table([["序号", "项目名称", "金额（万元）"], ["1", "污水管网", "300"]])
    assert not is_task_table([["姓名", "职务", "电话"], ["张三", "局长", "123"]])
    assert is_task_table([["序号", "改革举措", "主要内容", "指导部门", "推广范围"], ["1", "甲", "乙", "科技部", "全国"]])


def test_a_pasted_table_keeps_the_empty_number_cell_of_a_sub_row():
    """A sub-row pasted from a web page starts with tabs (its merged 序号 left empty): it belongs to item 1,
    with its own unit and time limit; "/" means no unit; 长期坚持 makes a task ongoing."""
    from pathlib import Path

    from parser.plan import parse_file
    plan = parse_file(Path(__file__).parent / "data" / "formats" / "tsv_sub_rows.txt")
    got = {t.number: t for t in plan.tasks}
    assert sorted(got) == [1, 2, 3]
    assert got[1].responsible_units == ["各区县（市）人民政府", "市财政局"]
    assert [m.due.isoformat() for m in got[1].milestones] == ["2024-08-31", "2024-12-31"]
    assert not got[2].responsible_units and got[3].ongoing and not got[3].milestones


def test_a_category_column_merged_over_its_rows_is_not_the_task(tmp_path):
    """"序号 | 任务类别 | 重点任务 | 牵头单位 | 配合单位 | 完成时限" with the category merged over two rows: each
    task is its own 重点任务 (the category cell is filled only on its first row), and an Excel date is a date."""
    import datetime

    import openpyxl

    from parser.plan import parse_file
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某市2024年优化营商环境重点任务清单"])
    ws.merge_cells("A1:F1")
    ws.append(["序号", "任务类别", "重点任务", "牵头单位", "配合单位", "完成时限"])
    for row in [(1, "政务服务", "推行“高效办成一件事”", "市政务服务中心", "市直各部门", datetime.datetime(2024, 6, 30)),
                (2, None, "深化“一网通办”", "市大数据局", "市政务服务中心", "2024年12月底前"),
                (3, "要素保障", "保障重点项目用地", "市自然资源和规划局", "各县市区人民政府", "持续推进"),
                (4, None, "降低企业用电成本", "市发展改革委", "国网某市供电公司", "2024年第三季度")]:
        ws.append(list(row))
    ws.merge_cells("B3:B4")
    ws.merge_cells("B5:B6")
    wb.save(tmp_path / "plan.xlsx")
    tasks = parse_file(tmp_path / "plan.xlsx").tasks
    assert [t.title for t in tasks] == ["推行“高效办成一件事”", "深化“一网通办”", "保障重点项目用地", "降低企业用电成本"]
    assert [[m.due for m in t.milestones] for t in tasks] == [
        [datetime.date(2024, 6, 30)], [datetime.date(2024, 12, 31)], [], [datetime.date(2024, 9, 30)]]
    assert tasks[2].ongoing and tasks[0].lead_units == ["市政务服务中心"]


@pytest.mark.parametrize("text_header", ["政策措施", "改革措施", "具体措施", "工作目标及措施"])
def test_without_a_task_column_the_measures_or_goal_column_is_the_task(text_header):
    rows = [["序号", text_header, "负责部门", "完成时限"],
            ["1", "将建筑工程施工许可权限下放至自贸试验区。", "市住房城乡建设局", "2024年6月底前"]]
    (t,) = parse_table(rows)
    assert t.title.startswith("将建筑工程施工许可权限下放")
    assert brief(t) == ([], [], ["市住房城乡建设局"], [date(2024, 6, 30)])


def test_where_the_reader_knows_the_merges_an_empty_cell_is_empty():
    """Word, PDF and .xlsx repeat a merged value in every row it covers: an empty cell names no unit and no date
    (pasted text and web tables leave covered cells empty, and there the value above carries down)."""
    rows = [["序号", "工作任务", "牵头单位", "完成时限"],
            ["1", "完成河道清淤。", "市水利局", "长期坚持"],
            ["2", "建设补水泵站。", "市水利局", "2024年9月底前"],
            ["3", "建立巡河制度。", "", ""]]
    tasks = parse_blocks([Block("para", "某市2024年重点任务分工方案", heading=True),
                          Block("table", rows=rows, merges_filled=True)], "x.docx").tasks
    assert brief(tasks[2]) == ([], [], [], []) and not tasks[2].ongoing
    assert brief(parse_table(rows)[2]) == (["市水利局"], [], [], [date(2024, 9, 30)])


def test_an_xlsx_repeats_its_merged_cells_and_leaves_an_empty_one_empty(tmp_path):
    import openpyxl

    from parser.plan import parse_file
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某区2022年稳经济工作任务台账"])
    ws.append(["序号", "重点任务", "牵头单位", "完成时限"])
    ws.append([1, "落实增值税留抵退税政策", "区财政局", "2022年6月底前"])
    ws.append([2, "加快地方政府专项债券发行", None, None])
    ws.append([3, "开展安全生产大检查", None, None])
    ws.merge_cells("C3:C4")  # 区财政局 leads 1 and 2; 3 names no lead and no date
    wb.save(tmp_path / "plan.xlsx")
    tasks = parse_file(tmp_path / "plan.xlsx").tasks
    assert [t.lead_units for t in tasks] == [["区财政局"], ["区财政局"], []]
    assert [[m.due for m in t.milestones] for t in tasks] == [[date(2022, 6, 30)], [], []]


@pytest.mark.parametrize("cell, units", [("区财政局\n区税务局", ["区财政局", "区税务局"]),
                                         ("市自然资源\n和规划局", ["市自然资源和规划局"]),
                                         ("市人民政府\n办公室", ["市人民政府办公室"]),
                                         ("各市、县级人民政府\n各省级环境保护部门",
                                          ["各市、县级人民政府", "各省级环境保护部门"])])
def test_a_line_break_in_a_unit_cell_separates_units_not_a_wrapped_name(cell, units):
    rows = [["序号", "工作任务", "责任单位", "完成时限"], ["1", "落实增值税留抵退税政策。", cell, "2024年6月底前"]]
    (t,) = parse_table(rows)
    assert t.responsible_units == units


def _docx_table(path, rows, title_paragraph=None, title_row=None):
    import docx

    document = docx.Document()
    if title_paragraph:
        document.add_paragraph(title_paragraph)
    table = document.add_table(rows=len(rows) + bool(title_row), cols=len(rows[0]))
    if title_row:
        merged = table.rows[0].cells[0].merge(table.rows[0].cells[-1])
        merged.text = title_row
    for r, row in enumerate(rows, start=bool(title_row)):
        for c, value in enumerate(row):
            table.rows[r].cells[c].text = value
    document.save(path)


@pytest.mark.parametrize("where", ["title_paragraph", "title_row"])
def test_a_word_table_s_title_ending_in_台账_gives_the_plan_its_title_and_year(tmp_path, where):
    """A title in a paragraph ending in 台账 (or 分工表), or in a first table row merged across the table, is the
    plan's title, and its year dates "8月底前" and "年内"."""
    from parser.plan import parse_file
    title = "某区2022年稳住经济增长政策措施任务分工台账"
    rows = [["序号", "重点任务", "牵头单位", "完成时限"],
            ["1", "加快专项债券发行使用", "区财政局", "8月底前"], ["2", "全面加强基础设施建设", "区发展改革局", "年内"]]
    _docx_table(tmp_path / "plan.docx", rows, **{where: title})
    plan = parse_file(tmp_path / "plan.docx")
    assert (plan.title, plan.year) == (title, 2022)
    assert [[m.due for m in t.milestones] for t in plan.tasks] == [[date(2022, 8, 31)], [date(2022, 12, 31)]]
