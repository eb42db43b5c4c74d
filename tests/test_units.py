"""Unit directory and role-field splitting, checked against the gold annotation of the seed plan."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from parser.units import UnitDirectory, split_leaders, split_units, split_units_with_notes

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"
GOLD = SHARED / "gold" / "seed_tasks.json"
DATA = Path(__file__).resolve().parents[1] / "parser" / "data" / "units_shaoyang.toml"

LIST_LABELS = {"市级督办领导": "supervising_leaders", "主体责任单位": "principal_units",
               "市直牵头单位": "lead_units", "市直配合单位": "cooperating_units"}
UNIT_ROLES = ("principal_units", "lead_units", "cooperating_units", "responsible_units")


@pytest.fixture(scope="module")
def d() -> UnitDirectory:
    return UnitDirectory.load()


# ---- raw role fields from the seed text -----------------------------------------------------

def _paragraphs() -> list[str]:
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def _body_fields(paras: list[str]) -> list[dict[str, str]]:
    """The "（牵头单位：…；责任单位：…）" parenthetical of each 整改措施 paragraph, in order.
    A page break can split it across two paragraphs (body-9): join until the bracket closes."""
    found, i = [], 0
    while i < len(paras):
        p = paras[i]
        m = re.search(r"[（(]牵头单位[：:]", p)
        if m:
            text = p[m.start():]
            while not re.search(r"[)）]$", text):
                i += 1
                text += paras[i]
            inner = re.match(r"[（(]牵头单位[：:](.*)[；;]责任单位[：:](.*)[)）]$", text)
            found.append({"lead_units": inner[1], "responsible_units": inner[2]})
        i += 1
    return found


def _list_fields(paras: list[str]) -> list[dict[str, str]]:
    """Role lines of each 附件 item (一、…二十五、). A line ending in 、 or ， continues in the next
    paragraph (list-5 市直牵头单位)."""
    start = paras.index("附件")
    items: list[dict[str, str]] = []
    i = start + 1
    while i < len(paras):
        p = paras[i]
        if re.match(r"^[一二三四五六七八九十]+、", p):
            items.append({})
        m = re.match(r"^(市级督办领导|主体责任单位|市直牵头单位|市直配合单位)[：:](.*)$", p)
        if m and items:
            value = m[2]
            while value.endswith(("、", "，", ",")):
                i += 1
                value += paras[i]
            items[-1][LIST_LABELS[m[1]]] = value
        i += 1
    return items


@pytest.fixture(scope="module")
def seed_cases() -> list[tuple[dict, dict[str, str]]]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["tasks"]
    paras = _paragraphs()
    raw = _body_fields(paras) + _list_fields(paras)
    assert len(raw) == len(gold) == 38
    return list(zip(gold, raw))


def test_seed_has_13_body_and_25_list_role_fields():
    paras = _paragraphs()
    assert len(_body_fields(paras)) == 13
    assert len(_list_fields(paras)) == 25


def test_split_units_reproduces_gold_for_all_38_tasks_and_roles(seed_cases):
    mismatches = []
    for task, raw in seed_cases:
        for role in UNIT_ROLES:
            if task[role] is None:
                continue
            got = split_units(raw[role]) if role in raw else []
            if got != task[role]:
                mismatches.append((task["id"], role, raw.get(role), got, task[role]))
    assert mismatches == []


def test_split_leaders_reproduces_gold_supervising_leaders(seed_cases):
    for task, raw in seed_cases:
        if task["section"] == "list":
            assert split_leaders(raw["supervising_leaders"]) == task["supervising_leaders"], task["id"]


def test_every_gold_unit_is_known_to_the_default_directory(d, seed_cases):
    units = {u for task, _ in seed_cases for r in UNIT_ROLES for u in task[r] or []}
    assert len(units) == 39
    assert {u for u in units if d.canonical(u) != u} == set()


# ---- hard cases named in the gold README ----------------------------------------------------

def test_county_pair_with_bare_county_government_is_one_locality():
    assert split_units("邵阳县委、县人民政府") == ["邵阳县"]


def test_bare_localities_before_a_pair_share_it():
    assert split_units("邵东市、新邵县、武冈市、洞口县委、人民政府") == ["邵东市", "新邵县", "武冈市", "洞口县"]


def test_zone_party_working_committee_and_admin_committee_is_the_zone():
    assert split_units("邵阳经开区党工委、管委会") == ["邵阳经开区"]


def test_collective_pair_after_city_bureaus_gives_no_stray_government():
    assert split_units("市住房和城乡建设局、市林业局、相关县市区委、人民政府") == [
        "市住房和城乡建设局", "市林业局", "相关县市区"]


def test_city_top_level_pair_stays_two_units():
    assert split_units("市委、市人民政府，各县市区委、人民政府，邵阳经开区党工委、管委会") == [
        "市委", "市人民政府", "各县市区", "邵阳经开区"]
    assert split_units("市委、市政府") == ["市委", "市人民政府"]
    assert split_units("中共邵阳市委、邵阳市人民政府") == ["市委", "市人民政府"]


def test_counties_only_collective_stays_distinct():
    assert split_units("各县市委、人民政府") == ["各县市"]


@pytest.mark.parametrize("text, units", [
    ("环境保护、工商、供水、供电等部门和单位", ["环境保护、工商、供水、供电等部门和单位"]),  # fields before one head
    ("环境保护重点区域、流域地方政府", ["环境保护重点区域、流域地方政府"]),
    ("各类企业、事业单位和社会组织、重点排污单位", ["各类企业、事业单位和社会组织", "重点排污单位"]),  # 各类 to 和
    ("各类企业、市财政局", ["各类企业", "市财政局"]),
    ("市教体、市卫健委", ["市教体", "市卫生健康委员会"]),  # a short name is no field
    ("各类市场主体、行业协会、市商务局和市场监管局", ["各类市场主体", "行业协会", "市商务局", "市市场监督管理局"]),
    ("中国移动、中国电信、中国联通等单位", ["中国移动", "中国电信", "中国联通"]),  # named companies, no fields
])
def test_one_collective_named_by_a_list(d, text, units):
    assert split_units(text, d) == units


def test_unit_list_broken_across_page_break_is_joined():
    assert split_units("市中级人民法院、市人民检察院、\n\n市公安局、市生态环境局") == [
        "市中级人民法院", "市人民检察院", "市公安局", "市生态环境局"]
    assert split_units("市人民\n\n检察院") == ["市人民检察院"]


def test_half_width_punctuation_is_unified():
    assert split_units("市委办公室,市政府办公室;各县市区委,人民政府") == [
        "市委办公室", "市人民政府办公室", "各县市区"]


def test_duplicates_are_dropped_and_source_order_kept():
    assert split_units("市林业局、市水利局、林业局、市林业局") == ["市林业局", "市水利局"]


# ---- aliases and fuzzy matching --------------------------------------------------------------

@pytest.mark.parametrize("alias, canonical", [
    ("发改委", "市发展和改革委员会"), ("市发改委", "市发展和改革委员会"), ("市发展改革委", "市发展和改革委员会"),
    ("生态环境局", "市生态环境局"), ("市环保局", "市生态环境局"), ("市政府", "市人民政府"),
    ("市政府办", "市人民政府办公室"), ("市政府办公室", "市人民政府办公室"), ("城步", "城步苗族自治县"),
    ("城步县", "城步苗族自治县"), ("邵阳经济技术开发区", "邵阳经开区"), ("市住建局", "市住房和城乡建设局"),
    ("市城管执法局", "市城市管理和综合执法局"), ("市自然资源局", "市自然资源和规划局"),
    ("市工信局", "市工业和信息化局"), ("市人社局", "市人力资源和社会保障局"), ("市卫健委", "市卫生健康委员会"),
    ("市市场监管局", "市市场监督管理局"), ("市交通局", "市交通运输局"), ("市农业局", "市农业农村局"),
    ("邵阳市生态环境局", "市生态环境局"), ("洞口县委", "洞口县"), ("邵阳县人民政府", "邵阳县"),
    ("各县（市、区）", "各县市区"), ("市直各有关部门", "市直有关单位"), (" 市 林业局 ", "市林业局"),
    ("市政府办公室", "市人民政府办公室"),
])
def test_alias_maps_to_full_form(d, alias, canonical):
    assert d.canonical(alias) == canonical
    assert d.resolve(alias) == (canonical, True)


def test_alias_in_a_role_field_takes_the_full_form():
    assert split_units("市政府办公室") == ["市人民政府办公室"]
    assert split_units("市发改委、市住建局、城步县委、县人民政府") == [
        "市发展和改革委员会", "市住房和城乡建设局", "城步苗族自治县"]


@pytest.mark.parametrize("typed, canonical", [
    ("市住房与城乡建设局", "市住房和城乡建设局"),
    ("市自然资源与规划局", "市自然资源和规划局"),
    ("市城市管理综合行政执法局", "市城市管理和综合执法局"),
])
def test_fuzzy_resolve_accepts_near_spellings(d, typed, canonical):
    assert d.canonical(typed) is None
    assert d.resolve(typed) == (canonical, True)


def test_fuzzy_resolve_never_maps_forestry_to_water_resources():
    no_forestry = DATA.read_text(encoding="utf-8").replace('name = "市林业局"\naliases = ["林业局"]',
                                                           'name = "市某某局"\naliases = []')
    import tomllib
    d2 = UnitDirectory.from_dict(tomllib.loads(no_forestry))
    assert d2.resolve("市林业局") == ("市林业局", False)
    assert UnitDirectory.load().resolve("市林业局") == ("市林业局", True)


@pytest.mark.parametrize("name", ["市林叶局", "市农林局", "新邵市", "邵阳县城", "市委统战局", "县生态环境局",
                                  "区住房和城乡建设局"])
def test_fuzzy_resolve_rejects_different_units(d, name):
    assert d.resolve(name) == (name, False)


def test_unknown_unit_is_kept_cleaned_and_flagged(d):
    assert d.resolve(" 市 某某 事务中心、") == ("市某某事务中心", False)
    assert split_units("市生态环境局、市某某事务中心") == ["市生态环境局", "市某某事务中心"]
    assert split_units("市生态环境保护委员会成员单位") == ["市生态环境保护委员会成员单位"]


def test_search_finds_typed_unit_names(d):
    assert d.search("生态环境局")[0] == ("市生态环境局", 100.0)
    assert d.search("发改委")[0][0] == "市发展和改革委员会"
    assert d.search("邵阳县")[0][0] == "邵阳县"
    assert d.search("环保局")[0][0] == "市生态环境局"
    assert d.search("林业")[0][0] == "市林业局"
    assert len(d.search("局", limit=3)) <= 3
    assert d.search("") == []


# ---- collectives -----------------------------------------------------------------------------

def test_collective_memberships(d):
    all_counties = d.members("各县市区")
    assert len(all_counties) == 12 and "邵阳经开区" not in all_counties
    counties_and_cities = d.members("各县市")
    assert len(counties_and_cities) == 9
    assert "双清区" not in counties_and_cities and "双清区" in all_counties
    assert d.members("各区") == ["双清区", "大祥区", "北塔区"]
    assert d.members("相关县市区") == [] and d.is_collective("相关县市区")
    assert d.members("市直各单位") == [] and d.is_collective("市直有关单位")
    assert d.members("市生态环境局") == []


def test_collectives_containing(d):
    assert d.collectives_containing("邵阳县") == ["各县市区", "各县市"]
    assert d.collectives_containing("双清区") == ["各县市区", "各区"]
    assert d.collectives_containing("城步") == ["各县市区", "各县市"]
    assert d.collectives_containing("邵阳经开区") == []


def test_is_collective_for_known_and_unknown_group_names(d):
    assert d.is_collective("各县市区") and d.is_collective("县市区")
    assert not d.is_collective("邵阳县") and not d.is_collective("市林业局")
    assert d.is_collective("县直各单位")


def test_all_names_include_canonical_and_aliases(d):
    names = d.all_names()
    assert {"市发展和改革委员会", "发改委", "城步", "各县市区", "邵阳经开区"} <= set(names)
    assert len(names) == len(set(names))


# ---- other cities' styles --------------------------------------------------------------------

@pytest.fixture(scope="module")
def empty() -> UnitDirectory:
    return UnitDirectory.from_dict({"region": {"name": "长沙市", "level": "市"}})


def test_other_city_top_level_pair_stays_two_units(empty):
    assert split_units("长沙市委、市政府", empty) == ["长沙市委", "长沙市政府"]
    assert split_units("长沙市委、市政府") == ["长沙市委", "长沙市政府"]


def test_any_locality_party_and_government_pair_collapses(empty):
    assert split_units("岳麓区委、区政府，浏阳市委、人民政府", empty) == ["岳麓区", "浏阳市"]
    assert split_units("某某高新区党工委、管委会、某某镇党委、镇政府", empty) == ["某某高新区", "某某镇"]


def test_bracketed_collectives_stay_whole(empty):
    assert split_units("各区县（市）委、政府，各乡镇（街道）党委、政府，县直各单位", empty) == [
        "各区县（市）", "各乡镇（街道）", "县直各单位"]
    # a group of localities' governments stays as written (a single locality's names the locality)
    assert split_units("各县（市、区）人民政府", empty) == ["各县（市、区）人民政府"]
    assert split_units("各区县（市）委、政府") == ["各县市区"]


def test_trailing_etc_and_duty_noise_are_removed():
    assert split_units("市公安局、市司法局等") == ["市公安局", "市司法局"]
    assert split_units("市水利局、市农业农村局等单位按职责分工负责。") == ["市水利局", "市农业农村局"]


def test_he_splits_only_between_units():
    assert split_units("市发展和改革委员会") == ["市发展和改革委员会"]
    assert split_units("市委和市人民政府") == ["市委", "市人民政府"]
    assert split_units("市公安局及各县市区") == ["市公安局", "各县市区"]
    assert split_units("县发展和改革局", UnitDirectory.from_dict({})) == ["县发展和改革局"]


def test_space_separated_units_split_only_when_each_side_is_a_unit():
    assert split_units("市公安局 市财政局") == ["市公安局", "市财政局"]


# ---- notes -----------------------------------------------------------------------------------

def test_split_units_with_notes_routes_lead_and_cooperating():
    assert split_units_with_notes("市生态环境局（牵头），市水利局、市农业农村局") == [
        ("市生态环境局", "牵头"), ("市水利局", None), ("市农业农村局", None)]
    assert split_units_with_notes("市发改委(牵头)、市财政局（配合）") == [
        ("市发展和改革委员会", "牵头"), ("市财政局", "配合")]
    assert split_units_with_notes("由市生态环境局牵头") == [("市生态环境局", "牵头")]
    assert split_units_with_notes("市发改委牵头，市财政局配合") == [
        ("市发展和改革委员会", "牵头"), ("市财政局", "配合")]


def test_note_on_a_pair_belongs_to_the_locality():
    assert split_units_with_notes("各县市区委、人民政府（主体责任）") == [("各县市区", "主体责任")]


def test_split_leaders_keeps_role_descriptions_whole():
    assert split_leaders("市委书记、市长") == ["市委书记", "市长"]
    assert split_leaders("分管发展和改革工作的副市长，联系邵阳县的市委常委") == [
        "分管发展和改革工作的副市长", "联系邵阳县的市委常委"]
    assert split_leaders("市级督办领导:市委书记、市长") == ["市委书记", "市长"]


# ---- the data file ---------------------------------------------------------------------------

def test_directory_file_is_a_drop_in_replacement(tmp_path):
    other = tmp_path / "units_other.toml"
    other.write_text('schema = 1\n[region]\nname = "长沙市"\nlevel = "市"\n'
                     '[[unit]]\nname = "市生态环境局"\naliases = ["环保局"]\nlevel = "city"\nkind = "department"\n'
                     '[[unit]]\nname = "岳麓区"\naliases = []\nlevel = "county"\nkind = "district"\n'
                     '[[collective]]\nname = "各区县（市）"\naliases = ["各区县市"]\nmember_kinds = ["district"]\n'
                     'locality = true\n', encoding="utf-8")
    d2 = UnitDirectory.load(other)
    assert d2.canonical("长沙市生态环境局") == "市生态环境局"
    assert d2.members("各区县市") == ["岳麓区"]
    assert split_units("市环保局、各区县（市）委、人民政府、岳麓区委、区政府", d2) == [
        "市生态环境局", "各区县（市）", "岳麓区"]


def test_conflicting_aliases_are_rejected():
    data = {"unit": [{"name": "市甲局", "aliases": ["甲局"]}, {"name": "市乙局", "aliases": ["甲局"]}]}
    with pytest.raises(ValueError, match="甲局"):
        UnitDirectory.from_dict(data)


def test_default_directory_covers_the_twelve_divisions_and_the_zone(d):
    counties = [n for n, u in d.units.items() if u["level"] == "county"]
    assert counties == ["双清区", "大祥区", "北塔区", "邵东市", "武冈市", "新邵县", "邵阳县", "隆回县", "洞口县",
                        "绥宁县", "新宁县", "城步苗族自治县", "邵阳经开区"]
