"""Units of any city: customary organ forms (parser/data/organs.toml), the names a store keeps for a plan."""
from __future__ import annotations

from parser.organs import OrganTable, canonical_plan, plan_aliases
from parser.plan import parse_blocks
from parser.readers.blocks import Block


def _plan(lines):
    return parse_blocks([Block("para", x) for x in lines], "x.txt")


def test_customary_forms_after_any_level_prefix():
    table = OrganTable.load()
    assert set(table.forms_of("区发改局")) == {"区发展和改革局", "区发展改革局"}
    assert {"省住房和城乡建设厅", "省住建厅"} <= set(table.forms_of("省住房城乡建设厅"))
    assert "恩阳区人力资源和社会保障局" in table.forms_of("恩阳区人社局")
    assert table.forms_of("区财政局") == []  # no other form


def test_a_state_council_plan_names_national_organs_without_guojia():
    plan = _plan(["国务院关于推进农业机械化的指导意见", "国发〔2018〕42号", "一、主要任务",
                  "（一）完善创新体系。加快研发。（工业和信息化部、发展改革委、科技部等负责）"])
    assert plan.tasks[0].responsible_units == ["工业和信息化部", "发展改革委", "科技部"]  # as written
    stored = canonical_plan(plan)
    assert stored.tasks[0].responsible_units == ["工业和信息化部", "国家发展改革委", "科技部"]
    assert plan_aliases(stored)["发改委"] == "国家发展改革委"
    assert plan.tasks[0].responsible_units == ["工业和信息化部", "发展改革委", "科技部"]  # the parse is unchanged


def test_a_provincial_plan_keeps_its_own_organs_and_fills_an_elided_prefix():
    plan = _plan(["广东省人民政府办公厅关于印发提振消费若干措施的通知", "粤办函〔2023〕305号", "一、稳定消费",
                  "（一）扩大保障性住房供给。推动重点城市规划建设。（省住房城乡建设厅、自然资源厅，省发展改革委按职责分工负责）"])
    stored = canonical_plan(plan)
    assert stored.tasks[0].responsible_units == ["省住房城乡建设厅", "省自然资源厅", "省发展改革委"]
    assert plan_aliases(stored)["省发改委"] == "省发展改革委"
