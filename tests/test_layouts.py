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
    assert brief(t1) == (["市生态环境局"], None, ["市工业和信息化局", "各县市区人民政府"],
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
    assert brief(c) == ([], None, ["市生态环境局", "各县市区人民政府"], [date(2024, 12, 31)])
    assert (d.lead_units, d.cooperating_units, d.deadline_text, d.ongoing) == (
        ["市生态环境局"], ["市公安局"], "持续推进", True)  # 【牵头单位】…【配合单位】…【完成时限】…
    # another city's plan is read without 邵阳's directory: its districts are its own units, not flagged
    assert "珠晖区" in plan.unknown_units and not any("珠晖区" in w for w in plan.warnings)


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
    assert t2.cooperating_units == ["各县市区人民政府"] and t2.ongoing and not t2.milestones


def test_role_labels_inside_one_table_cell():
    rows = [["序号", "工作任务", "责任单位", "完成时间"],
            ["1", "完成饮用水水源地规范化建设。", "牵头单位：市生态环境局；配合单位：市水利局", "2024年底前"]]
    (t,) = parse_blocks([Block("para", "某市饮用水安全保障方案"), Block("table", rows=rows)], "x.docx").tasks
    assert (t.lead_units, t.cooperating_units) == (["市生态环境局"], ["市水利局"])
    assert [m.due for m in t.milestones] == [date(2024, 12, 31)]


def test_province_table_with_leader_column_and_numbered_years(tmp_path):
    """A 清单 table with its own column names (督察反馈问题 / 牵头省领导 / 责任单位 with （牵头）), measures
    written "1.2025年6月底前…" (number glued to the year) and a 立行立改，长期坚持 time limit."""
    import docx

    d = docx.Document()
    d.add_paragraph("湖南省贯彻落实第三轮中央生态环境保护督察报告整改方案", style="Title")
    d.add_paragraph("湘办发〔2024〕15号")
    d.add_paragraph("对照督察报告指出的 3 个方面 30 项问题，逐项明确整改目标、整改措施和整改时限。")
    d.add_paragraph("附件")
    t = d.add_table(rows=1, cols=7)
    for c, h in zip(t.rows[0].cells, ["序号", "督察反馈问题", "整改目标", "整改措施", "责任单位", "整改时限", "牵头省领导"]):
        c.text = h
    rows = [["1", "洞庭湖区部分矮围网围清理不彻底。", "2024年12月底前完成矮围网围清理。",
             "1.开展全面排查，2024年6月底前建立问题清单。\n2.分类处置，逐一销号。",
             "省水利厅（牵头），省农业农村厅、岳阳市、常德市人民政府", "2024年12月31日前", "分管水利工作的副省长"],
            ["2", "部分工业园区污水收集处理设施短板明显。", "补齐园区污水处理设施短板。",
             "1.2025年6月底前完成园区污水管网排查。\n2.实施“一园一策”整治。",
             "省生态环境厅、省住房城乡建设厅，各市州人民政府", "立行立改，长期坚持", "分管生态环境工作的副省长"],
            ["3", "湘江流域部分尾矿库环境风险突出。", "消除重大环境风险隐患。",
             "1.每季度开展一次尾矿库环境风险排查。\n2.2025年底前完成闭库治理。",
             "省应急管理厅（牵头），郴州市、衡阳市人民政府", "2025年底前", "分管应急管理工作的副省长"]]
    for r in rows:
        for c, v in zip(t.add_row().cells, r):
            c.text = v
    path = tmp_path / "province.docx"
    d.save(path)
    plan = parse_file(path)
    assert plan.year == 2024 and plan.declared_task_count == 30
    one, two, three = plan.tasks
    assert one.supervising_leaders == ["分管水利工作的副省长"]
    assert (one.lead_units, one.responsible_units) == (["省水利厅"], ["省农业农村厅", "岳阳市", "常德市"])
    assert sorted(m.due for m in one.milestones) == [date(2024, 6, 30), date(2024, 12, 31), date(2024, 12, 31)]
    assert [m.due for m in two.milestones] == [date(2025, 6, 30)] and two.ongoing  # not 2024-06-30
    assert len(two.measures) == 2 and two.measures[0].startswith("2025年6月底前")
    assert [(r.every, r.text) for r in three.recurring] == [("quarter", "每季度开展一次尾矿库环境风险排查")]
    assert sorted(m.due for m in three.milestones) == [date(2025, 12, 31), date(2025, 12, 31)]


def test_several_labels_on_one_line_and_quarter_end():
    """"责任单位：X  配合单位：Y  完成时限：…" on one line; "二季度末" is 06-30 of the document's year."""
    plan = parse_file(DATA / "labels_on_one_line.txt")
    one, two, three = plan.tasks
    assert (one.responsible_units, one.cooperating_units, one.deadline_text) == (
        ["市生态环境局"], ["市水利局"], "2023年9月底前")
    assert [m.due for m in one.milestones] == [date(2023, 9, 30)]
    assert two.responsible_units == ["各县市区人民政府"] and [m.due for m in two.milestones] == [date(2023, 12, 31)]
    assert three.lead_units == ["市住房城乡建设局"]
    assert sorted(m.due for m in three.milestones) == [date(2023, 6, 30), date(2023, 12, 31)]
    assert not plan.warnings


def test_table_sub_rows_of_one_item_are_merged_not_dropped():
    """Word tables often repeat a merged 序号 on every sub-row, or leave it empty: each sub-row's own
    measure, deadline and unit belong to the same item."""
    rows = [["序号", "问题", "整改措施", "责任单位", "整改时限"],
            ["1", "城区黑臭水体反弹。", "1.开展排查。", "市住房城乡建设局（牵头）", "2024年6月底前"],
            ["1", "城区黑臭水体反弹。", "2.实施清淤。", "市城管局", "2024年12月底前"],
            ["", "", "3.建立长效机制。", "", ""],
            ["2", "扬尘污染管控不力。", "1.加强工地巡查。", "市住房城乡建设局", "持续推进"]]
    one, two = parse_blocks([Block("para", "某市整改方案"), Block("table", rows=rows)], "x.docx").tasks
    assert (one.number, one.lead_units, one.responsible_units) == (1, ["市住房城乡建设局"], ["市城管局"])
    assert [m.due for m in one.milestones] == [date(2024, 6, 30), date(2024, 12, 31)]
    assert one.measures == ["开展排查。", "实施清淤。", "建立长效机制。"]
    assert two.number == 2 and two.ongoing


def test_roles_after_the_last_sub_item_close_the_whole_measure():
    plan = parse_file(DATA / "roles_after_last_sub_item.txt")
    one, two = plan.tasks
    assert (one.number, one.title) == ("（一）", "推进农村厕所革命")
    assert (one.lead_units, one.responsible_units) == (["市农业农村局"], ["各县市区人民政府"])
    assert [m.due for m in one.milestones] == [date(2023, 6, 30)]  # from sub-item 1, kept
    assert (two.number, [m.due for m in two.milestones]) == ("（二）", [date(2023, 12, 31)])


def test_hard_wrapped_gbk_text_without_blank_lines_scores_like_the_seed(tmp_path, shared, scorer, seed_gold):
    """Text copied out of a PDF viewer: one visual line per line (35 characters), no blank lines,
    GBK-encoded. Lines are rejoined (an open （牵头单位：… bracket continues even across a label)."""
    from conftest import parse_json

    text = (shared / "fixtures" / "seed" / "shaoyang_plan.rejoined.txt").read_text(encoding="utf-8")
    lines = []
    for para in (p.replace("\n", "") for p in text.split("\n\n") if p.strip()):
        lines += [para[i:i + 35] for i in range(0, len(para), 35)]
    path = tmp_path / "wrapped.txt"
    path.write_bytes("\n".join(lines).replace("³", "3").encode("gbk"))
    s = scorer.score(seed_gold, parse_json(path))
    assert (s["tasks_matched"], s["date_recall"], s["date_precision"], s["unit_role_f1"], s["binding_acc"]) == (
        38, 1.0, 1.0, 1.0, 1.0)


def test_items_named_as_problems_or_by_ordinal_are_numbered_items():
    from parser.paragraphs import marker_of

    for text, label in (("问题1：某县污水处理厂超标排放。", "1"), ("问题三、矿山修复滞后", "三"), ("任务12．推进…", "12"),
                        ("第5项：加强监管", "5"), ("第十二条 强化考核", "十二")):
        m = marker_of(text)
        assert (m.level, m.label) == (1, label), text
    for text in ("问题在于管网老化。", "第一项任务是加强监管", "任务清单如下："):
        assert marker_of(text) is None, text


def test_measures_numbered_on_one_line_are_one_measure_each():
    from parser.items import _inline_numbered

    assert _inline_numbered("1.开展排查。2.2024年3月底前完成招标。3.10月底前完成整治。") == [
        "开展排查。", "2024年3月底前完成招标。", "10月底前完成整治。"]
    assert _inline_numbered("（1）编制方案；（2）组织实施。") == ["编制方案；", "组织实施。"]
    for text in ("投入2.5亿元完成改造。", "1.开展排查。3.完成整治。", "开展排查。2.完成整治。"):
        assert _inline_numbered(text) == [text], text


def test_role_phrasings_in_a_closing_sentence():
    """"X为牵头单位，Y为配合单位", "X牵头负责，Y具体实施", "由X负责组织实施，Y负责监督指导", "X、Y按职责分工负责",
    space-separated labels in a parenthetical, and a recurring duty inside the role sentence."""
    plan = parse_file(DATA / "role_phrasings.txt")
    got = {t.number: t for t in plan.tasks}
    assert list(got) == ["1", "2", "3", "4", "5", "6"]
    assert brief(got["1"]) == (["市水利局"], ["市城管局", "市生态环境局"], [], [date(2024, 10, 31)])
    assert brief(got["2"]) == (["市住房城乡建设局"], None, ["各区县人民政府"], [date(2024, 9, 30)])  # no 配合 named
    assert brief(got["3"]) == ([], None, ["市城管局", "市生态环境局"], [date(2024, 12, 31)])
    assert brief(got["4"]) == ([], None, ["市城管局", "市商务局"], [date(2025, 6, 30)])
    assert brief(got["5"]) == ([], ["市公安局"], ["市生态环境局"], [date(2024, 11, 30)])
    assert got["5"].deadline_text == "2024年11月30日前"
    assert brief(got["6"]) == (["市生态环境局"], ["市公安局", "市检察院"], [], [])
    assert [(r.every, r.text) for r in got["6"].recurring] == [("quarter", "每季度开展一次联合执法")]


def test_two_levels_that_both_assign_work_in_a_web_copy():
    """Half-width punctuation of a web copy; a （N） item with its own units and numbered measures with
    units of their own are both tasks; the signature is no part of the last item."""
    plan = parse_file(DATA / "two_levels_web_copy.txt")
    got = {str(t.number): t for t in plan.tasks}
    assert list(got) == ["（一）", "（一）1", "（一）2", "（二）", "（三）"]
    assert brief(got["（一）"]) == (["市政务服务中心"], ["市司法局", "市财政局"], [], [date(2024, 6, 30)])
    assert brief(got["（一）1"]) == ([], None, ["市政务服务中心"], [date(2024, 3, 31)])
    assert got["（一）2"].responsible_units == ["市数据资源局", "市司法局"]
    assert got["（二）"].lead_units == ["市自然资源和规划局"]
    assert plan.issued == date(2024, 1, 15) and not got["（三）"].milestones


def test_a_person_in_the_role_sentence_is_the_supervising_leader_never_a_unit():
    lines = ["某某市老旧小区改造方案", "一、重点任务",
             "1.推进老旧小区改造，2024年底前完成120个小区改造。由王副市长负责，市住建局牵头，相关部门配合。"]
    task = parse_blocks([Block("para", x) for x in lines], "x.txt").tasks[0]
    assert (task.supervising_leaders, task.lead_units, task.cooperating_units) == (["王副市长"], ["市住建局"], ["相关部门"])


def test_a_limit_counted_from_the_issue_date():
    lines = ["某某市排查整治方案", "一、重点任务", "1.开展排查。于本方案印发后3个月内完成排查。（牵头单位：市公安局）"]
    undated = parse_blocks([Block("para", x) for x in lines], "x.txt")
    assert not undated.tasks[0].milestones and any("印发后3个月内" in w for w in undated.warnings)
    dated = parse_blocks([Block("para", x) for x in lines + ["某某市人民政府", "2024年3月1日"]], "x.txt")
    assert [m.due for m in dated.tasks[0].milestones] == [date(2024, 6, 1)] and not dated.warnings


def test_a_goal_of_the_plans_own_level_is_bound_to_no_county():
    """The example's 正文（二）: "市城区…力争到2028年底前…" follows two county deadlines; it binds to none."""
    plan = parse_file(Path(__file__).resolve().parents[1] / "bot" / "data" / "example_plan.txt")
    two = next(t for t in plan.tasks if t.section == "body" and t.number == "（二）")
    bound = {m.due.isoformat(): m.units for m in two.milestones}
    assert bound == {"2027-06-30": ["隆回县"], "2027-12-31": ["新宁县", "绥宁县"], "2028-12-31": []}


def test_items_numbered_across_headings_keep_their_printed_numbers():
    """1、…4、 run on across （一）（二） headings: the numbers do not repeat, so each keeps its own; a closing
    保障措施 paragraph without items is no task."""
    plan = parse_file(DATA / "numbered_across_headings.txt")
    assert [(t.number, t.origin.section) for t in plan.tasks] == [
        ("1", "正文 二（一）1"), ("2", "正文 二（一）2"), ("3", "正文 二（二）3"), ("4", "正文 二（二）4")]
    one, two, three, four = plan.tasks
    assert brief(one) == (["县政务服务中心"], ["县直相关单位"], [], [date(2024, 6, 30)])
    assert brief(two) == ([], None, ["县数据局"], [date(2024, 12, 31)])
    assert three.responsible_units == ["县市场监管局", "县发改局"] and [r.every for r in three.recurring] == ["quarter"]
    assert four.responsible_units == ["各乡镇人民政府", "县直各单位"] and plan.issued == date(2024, 3, 8)


def test_a_time_limit_of_only_a_year_is_that_years_end():
    """"完成时限：2025年" in a label, a bracket or a table column is the year's end, as 到2025年 is."""
    lines = ["某市整改方案", "一、重点任务", "1.推进改造。", "牵头单位：市住建局", "完成时限：2025年",
             "2.推进治理。（牵头单位：市水利局；完成时限：2024—2025年）"]
    plan = parse_blocks([Block("para", x) for x in lines], "x.txt")
    assert [[m.due for m in t.milestones] for t in plan.tasks] == [[date(2025, 12, 31)], [date(2025, 12, 31)]]
    table = [["序号", "工作任务", "牵头单位", "完成时限"], ["1", "推进改造", "市住建局", "2025年"]]
    [task] = parse_blocks([Block("table", rows=table)], "x.txt").tasks
    assert [m.due for m in task.milestones] == [date(2025, 12, 31)] and task.lead_units == ["市住建局"]


def test_dates_after_the_role_sentence_stay_with_the_task():
    """"X负责。2025年3月底前出台…，6月底前推广。": the sentences after the role sentence are the task's measure
    and keep their dates; "X负责，Y配合" names both; a person's clause elsewhere leads without hiding a date."""
    got = {t.number: t for t in parse_file(DATA / "dates_after_role_sentence.txt").tasks}
    assert brief(got["1"]) == (["市政务服务中心"], ["市大数据局"], [], [date(2024, 6, 30), date(2024, 12, 31)])
    assert brief(got["2"]) == ([], None, ["市市场监管局", "各县市区"], [date(2024, 9, 30)])
    assert [r.every for r in got["2"].recurring] == ["quarter"]  # 此后每季度更新一次清单
    assert brief(got["3"]) == (["市自然资源和规划局"], ["市税务局", "市住房和城乡建设局"], [], [date(2024, 12, 31)])
    assert got["3"].title == "优化不动产登记"  # the title does not run into the role sentence
    assert brief(got["4"]) == ([], None, ["市自然资源和规划局"], [date(2025, 3, 31), date(2025, 6, 30)])
    assert "负责" not in got["4"].title
    assert brief(got["5"]) == ([], ["市直各部门"], ["市大数据局"], [date(2024, 10, 31), date(2025, 12, 31)])
    assert got["5"].supervising_leaders == ["市长"]


def test_problems_under_headings_and_an_ongoing_clause_as_the_time_limit():
    """问题N： items under （一）/（二） headings are the tasks, numbered as printed; an item with no 时限 and no
    date whose measure says "…，长期坚持。" is long-term (not a task without a time limit)."""
    got = {t.number: t for t in parse_file(DATA / "problems_under_headings.txt").tasks}
    assert list(got) == ["1", "2", "3", "4"]
    assert brief(got["1"]) == (["区委组织部"], None, ["各街道党工委"], [date(2024, 6, 30)])
    assert brief(got["2"]) == (["区委组织部"], None, [], []) and got["2"].ongoing
    assert brief(got["3"]) == (["区委宣传部"], ["区网信办"], [], [date(2024, 3, 31)]) and not got["3"].ongoing
    assert brief(got["4"]) == (["区委办公室", "区政府办公室"], None, [], [date(2024, 12, 31)])


def test_a_recurring_time_limit_is_a_recurring_duty():
    """完成时限：每年12月底前 / 每季度 / "2024年6月底前，此后每半年一次": the duty recurs (reminded each period);
    before, such a task had no date and no duty, so nobody was ever reminded."""
    got = {t.number: t for t in parse_file(DATA / "recurring_time_limits.txt").tasks}
    assert [(r.every, r.text) for r in got["1"].recurring] == [("year", "每年12月底前")]
    assert [(r.every, r.text) for r in got["2"].recurring] == [("quarter", "每季度")]
    assert [m.due for m in got["3"].milestones] == [date(2024, 6, 30)]
    assert [(r.every, r.text) for r in got["3"].recurring] == [("half_year", "此后每半年一次")]


def test_a_closing_paragraph_after_a_unit_line_is_not_more_units():
    """A web copy without blank lines: each item's "责任单位：" line, then the closing paragraph, which starts
    with a unit's name but is sentences, not the rest of the list."""
    plan = parse_file(DATA / "closing_after_unit_lines.txt")
    assert [(t.number, t.responsible_units) for t in plan.tasks] == [
        ("（一）", ["市住房城乡建设局", "市财政局"]), ("（二）", ["市住房公积金管理中心"]),
        ("二", ["市住房城乡建设局"])]


def test_long_term_work_named_anywhere_in_a_plan_without_stated_time_limits():
    """No item states a 时限: "持续推进…" anywhere in an item makes it long-term, beside its dates."""
    from parser import parse_document

    text = ("某某区稳住经济一揽子措施\n"
            "1.推动公共领域新能源发展。持续推进充电桩建设，力争年内高速服务区充电桩覆盖率达80%。（牵头单位：区发改局）\n"
            "2.加快财政支出进度。及时拨付资金，加快支出进度。（牵头单位：区财政局）\n")
    plan = parse_document(text.encode(), "措施.txt", year=2022)
    assert [(t.number, t.ongoing, [m.due.isoformat() for m in t.milestones if m.due]) for t in plan.tasks] == [
        ("1", True, ["2022-12-31"]), ("2", False, [])]


def test_a_unit_list_wrapped_onto_a_line_with_the_time_limit_goes_on():
    from parser import parse_document

    text = ("某某市整改方案\n一、整改任务\n（一）加快老旧小区改造。推进城镇老旧小区改造。\n"
            "责任单位：市住房城乡建设局、市财政局、市自然资源\n和规划局。完成时限：2023年6月底前。\n")
    [task] = parse_document(text.encode(), "方案.txt", year=2023).tasks
    assert task.responsible_units == ["市住房城乡建设局", "市财政局", "市自然资源和规划局"]
    assert task.deadline_text.startswith("2023年6月底前") and [m.due.isoformat() for m in task.milestones] == ["2023-06-30"]


def _text_plan(text: str):
    from parser.readers import read_document
    return parse_blocks(read_document(text.encode(), "plan.txt"), "plan.txt")


HEAD = ("某市人民政府办公室关于促进房地产市场平稳健康发展的意见\n一、实施购房契税补贴\n给予已缴契税50%消费补贴。\n"
        "责任单位：市财政局\n二、规范房地产市场秩序\n严肃查处违规建设、销售、虚假宣传等行为。\n责任单位：市住房城乡建设局\n")


def test_the_closing_words_after_the_last_unit_line_are_not_a_unit():
    plan = _text_plan(HEAD + "本意见自印发之日起施行。\n")
    assert [t.responsible_units for t in plan.tasks] == [["市财政局"], ["市住房城乡建设局"]]


def test_the_issuing_office_over_the_date_is_not_a_unit_of_the_last_task():
    plan = _text_plan(HEAD + "某市人民政府办公室\n2022年5月21日\n")
    assert [t.responsible_units for t in plan.tasks] == [["市财政局"], ["市住房城乡建设局"]]
    assert plan.issued == date(2022, 5, 21) and plan.year == 2022


def test_a_unit_list_wrapped_onto_a_line_of_its_own_still_goes_on():
    plan = _text_plan(HEAD.replace("市住房城乡建设局\n", "市住房城乡建设局、市\n市场监管局\n") + "2022年5月21日\n")
    assert plan.tasks[1].responsible_units == ["市住房城乡建设局", "市市场监管局"]


def test_a_labelled_time_limit_on_its_own_line_is_not_the_signature_date():
    plan = _text_plan(HEAD.replace("责任单位：市财政局\n", "责任单位：市财政局\n完成时限：2023年6月30日\n")
                      .replace("责任单位：市住房城乡建设局\n", "责任单位：市住房城乡建设局\n完成时限：8月底前\n")
                      + "某市人民政府办公室\n2022年5月21日\n")
    assert (plan.issued, plan.year) == (date(2022, 5, 21), 2022)
    assert [[m.due for m in t.milestones] for t in plan.tasks] == [[date(2023, 6, 30)], [date(2022, 8, 31)]]


def test_a_signature_date_in_chinese_numerals_dates_the_plan_and_is_no_milestone():
    plan = _text_plan("某市提振消费若干措施\n（一）支持重点群体就业创业。8月底前出台青年就业创业行动方案。（责任单位：市人力社保局）\n"
                      "（二）着力解决欠薪问题。常态化开展治理欠薪工作。（责任单位：市人力社保局、市财政局）\n"
                      "某市人民政府办公厅\n二〇二五年七月十五日\n")
    assert (plan.issued, plan.year) == (date(2025, 7, 15), 2025)
    assert [[m.due for m in t.milestones] for t in plan.tasks] == [[date(2025, 8, 31)], []]
