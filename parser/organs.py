"""Organs of any city without a hand-written directory: the customary forms of organ names (data/organs.toml).

发改委 = 发展改革委 = 发展和改革委员会 after any level prefix (市, 省, 区, 恩阳区 …); organs of the State
Council written without 国家 in its own plans ("发展改革委") are the national organ (国家发展改革委). The
parse output keeps every name as written; `canonical_plan` gives the names the store keeps, and
`plan_aliases` the other forms officials may type for them, so a store grows its directory from the
documents it holds.
"""
from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .model import ROLES, Plan

_PREFIX = re.compile(r"^(?:国家|[省市县区州旗镇乡]|.{1,10}?(?:省|市|县|区|州|旗|自治州|自治县))$")
_STATE_COUNCIL = re.compile(r"国(?:办)?[发函]|^国务院")


@dataclass(frozen=True)
class OrganTable:
    national: dict[str, str]  # every written form → the national organ's name
    stems: dict[str, tuple[str, ...]]  # a form after a level prefix → all forms of that organ

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "OrganTable":
        data = tomllib.loads(resources.files("parser").joinpath("data/organs.toml").read_text(encoding="utf-8"))
        national = {f: o["name"] for o in data["national"] for f in [o["name"], *o["forms"]]}
        stems = {f: tuple(s["forms"]) for s in data["stem"] for f in s["forms"]}
        return cls(national, stems)

    def forms_of(self, unit: str) -> list[str]:
        """Other names of the same organ: 区发改局 → 区发展和改革局, 区发展改革局."""
        out: list[str] = []
        if unit in self.national.values():
            out = [f for f, name in self.national.items() if name == unit]
        for form in sorted(self.stems, key=len, reverse=True):
            prefix = unit[:-len(form)]
            if unit.endswith(form) and prefix and _PREFIX.match(prefix):
                out += [prefix + f for f in self.stems[form]]
                break
        return [f for f in dict.fromkeys(out) if f != unit]


def _is_state_council(plan: Plan) -> bool:
    return bool(_STATE_COUNCIL.search(plan.doc_number or "") or _STATE_COUNCIL.search(plan.title or ""))


def canonical_name(unit: str, national_plan: bool, table: OrganTable | None = None) -> str:
    """The name the store keeps: a national organ by its usual name (国家发展和改革委员会 → 国家发展改革委;
    in a State Council plan also 发展改革委 → 国家发展改革委); every other name as written."""
    table = table or OrganTable.load()
    name = table.national.get(unit)
    if name and (national_plan or unit.startswith(("国家", "国务院", "中国", "中华人民共和国"))):
        return name
    return unit


_LEVEL_PREFIX = re.compile(r"^[省市县区州]")
_GOV_ORGAN = re.compile(r"(局|厅|委|委员会|办|办公室)$")


def _with_elided_prefix(units: list[str]) -> list[str]:
    """"市发改委、国土房管局" → 市国土房管局: a list written once with its level prefix."""
    out: list[str] = []
    for unit in units:
        prev = out[-1] if out else ""
        if prev and _LEVEL_PREFIX.match(prev) and _GOV_ORGAN.search(prev) and _GOV_ORGAN.search(unit) \
                and not _LEVEL_PREFIX.match(unit) and not re.match(r"^(各|有关|相关|国家|国务院|中国|中央)", unit) \
                and not _PREFIX.match(unit[:2]) and len(unit) >= 3:
            unit = prev[0] + unit
        out.append(unit)
    return out


def canonical_plan(plan: Plan) -> Plan:
    """A copy of plan with the names the store keeps (see canonical_name); plan itself is unchanged."""
    table = OrganTable.load()
    national = _is_state_council(plan)
    out = copy.copy(plan)
    out.tasks = copy.deepcopy(plan.tasks)
    for task in out.tasks:
        for role in ROLES[1:]:
            units = getattr(task, role)
            if units:
                units = units if national else _with_elided_prefix(units)
                setattr(task, role, list(dict.fromkeys(canonical_name(u, national, table) for u in units)))
        for m in task.milestones:
            m.units = [canonical_name(u, national, table) for u in m.units]
    out.unknown_units = list(dict.fromkeys(canonical_name(u, national, table) for u in out.unknown_units))
    return out


def plan_aliases(plan: Plan) -> dict[str, str]:
    """Other forms of every unit the plan names → that unit (the plan's canonical names)."""
    table = OrganTable.load()
    out: dict[str, str] = {}
    for task in plan.tasks:
        for role in ROLES[1:]:
            for unit in getattr(task, role) or []:
                for form in table.forms_of(unit):
                    out.setdefault(form, unit)
    return out
