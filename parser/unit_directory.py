"""The unit directory: canonical unit names, aliases and collectives of one city.

The data lives in a TOML file (default: data/units_shaoyang.toml; its header documents the
schema). Another city's directory is a drop-in file with the same schema.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from .normalize import WIDE

DEFAULT_FILE = "units_shaoyang.toml"

# Half-width punctuation → the full-width form Chinese plans use; full-width ASCII → ASCII.
_PUNCT = str.maketrans({"(": "（", ")": "）", ":": "：", ";": "；", ",": "，"})
_SPACE_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
_EDGE_PUNCT = "。，、；：.!！?？\"'“”‘’"

# A bare "X" derived from "市X" only when X ends like an organ (生态环境局, 卫生健康委员会 …).
_ORGAN_END_RE = re.compile(r"(局|委员会|院|办公室|办|部|中心|支队|合作社)$")
# Party / government forms a locality answers to (洞口县委 → 洞口县, 邵阳经开区管委会 → 邵阳经开区).
_LOCALITY_FORMS = ("委", "党委", "党工委", "人民政府", "政府", "管委会")
# Names that look like a group rather than one organ (used for unknown names only).
_COLLECTIVE_HINT_RE = re.compile(r"^(各|相关|有关|全市各|全县各|全区各)|(各单位|各部门|有关单位|有关部门|相关单位|相关部门|成员单位)$|直各")

_LEVEL_LEADS = "省市县区镇乡旗"
FUZZY_THRESHOLD = 85.0  # fuzz.ratio; 市林业局 vs 市水利局 scores 50, one-char typos in 4-char names 75
SEARCH_CUTOFF = 55.0


def normalize(text: str) -> str:
    """Remove whitespace and unify widths: （）：；， full-width, letters and digits ASCII."""
    return _SPACE_RE.sub("", text.translate(_PUNCT).translate(WIDE))


def clean_name(text: str) -> str:
    """normalize() plus stripping of surrounding punctuation."""
    return normalize(text).strip(_EDGE_PUNCT)


def _same_level(query: str, canonical: str) -> bool:
    """县环保局 must not become 市生态环境局: a leading level word has to agree."""
    lead = query[0] if query[0] in _LEVEL_LEADS else ""
    other = canonical[0] if canonical[0] in _LEVEL_LEADS else ""
    return not lead or not other or lead == other


@dataclass
class Collective:
    name: str
    members: list[str] | None  # None: membership unknown
    locality: bool = False


@dataclass
class UnitDirectory:
    region: str = ""
    level_word: str = "市"
    units: dict[str, dict] = field(default_factory=dict)  # canonical → {"level", "kind"}
    collectives: dict[str, Collective] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)  # normalised name or alias → canonical

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> "UnitDirectory":
        """Read a directory TOML file; None → the packaged default (邵阳市)."""
        if path is None:
            raw = resources.files(__package__).joinpath("data", DEFAULT_FILE).read_bytes()
            source = DEFAULT_FILE
        else:
            raw = Path(path).read_bytes()
            source = str(path)
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"unit directory {source} is not valid UTF-8 TOML: {exc}") from exc
        return cls.from_dict(data, source)

    @classmethod
    def for_document(cls, opening: str) -> "UnitDirectory":
        """The packaged local directory whose city the document's opening names (its title, issuer and
        addressees), else an empty one: another city's plan is read by the general rules and the
        customary organ names (organs.py), never by this city's aliases."""
        return _local_directory(opening)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> "UnitDirectory":
        region = data.get("region", {})
        d = cls(region=clean_name(region.get("name", "")), level_word=region.get("level", "市"))
        explicit: dict[str, str] = {}
        for entry in data.get("unit", []):
            name = d._add_explicit(explicit, entry, source)
            d.units[name] = {"level": entry.get("level", "city"), "kind": entry.get("kind", "")}
        for entry in data.get("collective", []):
            name = d._add_explicit(explicit, entry, source)
            d.collectives[name] = Collective(name, None, bool(entry.get("locality", False)))
        for entry in data.get("collective", []):  # members after all units are known
            d.collectives[clean_name(entry["name"])].members = d._members_of(entry, source)
        d.index = d._derived() | explicit  # explicit entries win over derived ones
        return d

    def _add_explicit(self, explicit: dict[str, str], entry: dict, source: str) -> str:
        if not entry.get("name"):
            raise ValueError(f"unit directory {source}: an entry has no name")
        name = clean_name(entry["name"])
        for alias in [name, *entry.get("aliases", [])]:
            key = clean_name(alias)
            if explicit.get(key, name) != name:
                raise ValueError(f"unit directory {source}: '{alias}' names both {explicit[key]} and {name}")
            explicit[key] = name
        return name

    def _members_of(self, entry: dict, source: str) -> list[str] | None:
        if "members" in entry:
            members = [clean_name(m) for m in entry["members"]]
            missing = [m for m in members if m not in self.units]
            if missing:
                raise ValueError(f"unit directory {source}: {entry['name']} lists unknown members {missing}")
            return members
        kinds = entry.get("member_kinds")
        if kinds:
            return [n for n, u in self.units.items() if u["level"] == "county" and u["kind"] in kinds]
        return None

    def _derived(self) -> dict[str, str]:
        """Aliases implied by the schema (see the data file header)."""
        derived: dict[str, str] = {}
        lw = self.level_word
        for name, info in self.units.items():
            if info["level"] == "city" and name.startswith(lw) and self.region:
                rest = name[len(lw):]
                derived.setdefault(self.region + rest, name)
                if len(rest) >= 3 and _ORGAN_END_RE.search(rest) and not rest.startswith(("委", "人民政府")):
                    derived.setdefault(rest, name)
        localities = [n for n, u in self.units.items() if u["level"] == "county"]
        localities += [c.name for c in self.collectives.values() if c.locality]
        for name in localities:
            for form in _LOCALITY_FORMS:
                derived.setdefault(name + form, name)
        return derived

    # ---- lookups -------------------------------------------------------------------------

    def canonical(self, name: str) -> str | None:
        """Exact name or alias lookup after normalisation; None when unknown."""
        return self.index.get(clean_name(name))

    def resolve(self, name: str) -> tuple[str, bool]:
        """(canonical, True) via alias or conservative fuzzy match, else (cleaned name, False)."""
        cleaned = clean_name(name)
        hit = self.index.get(cleaned)
        if hit:
            return hit, True
        hit = self._fuzzy(cleaned)
        if hit:
            return hit, True
        return cleaned, False

    def _fuzzy(self, cleaned: str) -> str | None:
        """A typo-level match only: same final character, high ratio, no close rival unit."""
        if len(cleaned) < 4 or _COLLECTIVE_HINT_RE.search(cleaned):
            return None
        found = process.extract(cleaned, list(self.index), scorer=fuzz.ratio,
                                score_cutoff=FUZZY_THRESHOLD, limit=10)
        best: dict[str, float] = {}
        for key, score, _ in found:
            if key[-1] == cleaned[-1] and _same_level(cleaned, self.index[key]):
                canon = self.index[key]
                best[canon] = max(best.get(canon, 0.0), score)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 3:
            return None  # ambiguous between two units
        return ranked[0][0]

    def is_collective(self, name: str) -> bool:
        """Known collective, or (for unknown names) a group-like name such as 县直各单位."""
        canon, known = self.resolve(name)
        if known:
            return canon in self.collectives
        return bool(_COLLECTIVE_HINT_RE.search(canon))

    def members(self, name: str) -> list[str]:
        """Member units of a collective; [] if not a collective or membership is unknown."""
        coll = self.collectives.get(self.resolve(name)[0])
        return list(coll.members) if coll and coll.members else []

    def collectives_containing(self, unit: str) -> list[str]:
        """Collectives with a fixed member list that includes unit (邵阳县 → 各县市区, 各县市)."""
        canon = self.resolve(unit)[0]
        return [c.name for c in self.collectives.values() if c.members and canon in c.members]

    def is_locality(self, name: str) -> bool:
        """A known county-level unit or a locality collective (各县市区, 相关县市区 …)."""
        canon = self.index.get(clean_name(name))
        if canon is None:
            return False
        if canon in self.collectives:
            return self.collectives[canon].locality
        return self.units[canon]["level"] == "county"

    def is_region(self, name: str) -> bool:
        """The plan's own city: 市, 邵阳市, 中共邵阳市 …"""
        n = re.sub(r"^(中共|中国共产党)", "", clean_name(name))
        return n in (self.level_word, self.region) and n != ""

    def all_names(self) -> list[str]:
        """Canonical names and every alias (explicit and derived), e.g. for jieba.add_word."""
        cached = self.__dict__.get("_all_names")
        if cached is None:
            names = list(self.units) + list(self.collectives)
            known = set(names)
            cached = self.__dict__["_all_names"] = names + sorted(k for k in self.index if k not in known)
        return list(cached)

    def search(self, query: str, limit: int = 5) -> list[tuple[str, float]]:
        """Fuzzy lookup for a typed unit name: [(canonical, score 0–100)], best first."""
        cleaned = clean_name(query)
        if not cleaned:
            return []
        best: dict[str, float] = {}
        exact = self.index.get(cleaned)
        if exact:
            best[exact] = 100.0
        for key, score, _ in process.extract(cleaned, list(self.index), scorer=fuzz.WRatio,
                                             score_cutoff=SEARCH_CUTOFF, limit=limit * 8):
            canon = self.index[key]
            best[canon] = max(best.get(canon, 0.0), float(score))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], len(kv[0])))
        return ranked[:limit]


@lru_cache(maxsize=8)
def _packaged(name: str) -> "UnitDirectory":
    return UnitDirectory.load(None if name == DEFAULT_FILE else resources.files(__package__).joinpath("data", name))


def _local_directory(opening: str) -> "UnitDirectory":
    for entry in sorted(resources.files(__package__).joinpath("data").iterdir(), key=lambda e: e.name):
        if entry.name.startswith("units_") and entry.name.endswith(".toml"):
            d = _packaged(entry.name)
            short = re.sub(r"[市省县区州]$", "", d.region)
            if d.region and (d.region in opening or (len(short) >= 2 and short in opening)):
                return d
    return _empty()


@lru_cache(maxsize=1)
def _empty() -> "UnitDirectory":
    return UnitDirectory.from_dict({"region": {"name": "", "level": "市"}}, "<none>")
