"""Splitting role fields (主体责任单位, 牵头单位, 配合单位, 责任单位, 市级督办领导) into units.

Conventions (gold README, "Units"): split on 、 and ，, order follows the source, no duplicates;
"X委、人民政府" / "X委、县人民政府" / "X党工委、管委会" is the one locality X; bare localities
before such a pair are units of their own; collectives stay collective; 市委 and 市人民政府 (the
plan's own top level) stay two units; short forms map to the directory's full form.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .lexicon import COLLECTIVE_HEADS, LOCALITY_ENDINGS, UNIT_ENDINGS
from .normalize import split_outside_brackets
from .unit_directory import UnitDirectory, clean_name, normalize

__all__ = ["UnitDirectory", "default_directory", "split_units", "split_units_with_notes", "split_leaders"]

_SEPARATORS = "、，；"
_WS = "\x01"  # marks where whitespace was, so a space between two known units can still split
_SPACE_RUN_RE = re.compile(r"\s+")
_LABEL_RE = re.compile(r"^[^：，、（]{0,10}(单位|领导|部门)：")
_TRAILING_NOISE_RE = re.compile(
    r"(按职责分工负责|按职责分工落实|按职责负责|按职能分工负责|根据职责分工负责|依职责负责|分工负责|分别负责|各负其责"
    r"|等(有关|相关|其他)?(单位|部门)?)$")
_NOISE_TOKENS = {"负责", "按职责分工负责", "按职责负责", "分工负责", "分别负责", "各负其责", "等", "牵头", "配合"}
_CONJUNCTIONS = ("以及", "及", "和", "与")
_PARTY_RE = re.compile(r"^(?P<loc>.+?)(党工委|党委|委)$")
_GOV_RE = re.compile(r"^(?P<prefix>.*?)(人民政府|政府|管委会|管理委员会|办事处)$")
# A locality by its shape (for names the directory does not know), checked after removing a
# trailing parenthesis: 岳麓区, 各区县（市）, 各乡镇（街道）, 某某高新区.
_LOCALITY_END_RE = re.compile("(" + "|".join(sorted(LOCALITY_ENDINGS, key=len, reverse=True)) + ")$")
_LEVEL_WORDS = {"市", "县", "区", "镇", "乡", "旗", "州", "盟", "省"}
# Something that can be a unit on its own (for deciding whether 和/及 joins two units).
_UNIT_END_RE = re.compile("(" + "|".join(UNIT_ENDINGS) + "|）)$")
# Parenthetical contents that are part of a name: 各区县（市）, 各县（市、区）, 各乡镇（街道）.
_NAME_PAREN_RE = re.compile(r"^[县市区旗乡镇街道办事处、]+$")
_NOTE_WORD_RE = re.compile(r"牵头|配合|负责|主责|协办|协助|参与|督办|责任|按职责|第一")
# a group of localities written as one ("各区政府", "各市州人民政府") is kept as written, like any collective
_COLLECTIVE_LEAD = re.compile(r"^(各|有关|相关|地方|所在|全市|全省)|(城市|地方|所在地|当地)$|^(乡镇|街道|县|区|市|镇|乡)$")
_SUFFIX_NOTE_RE = re.compile(r"^(?P<unit>.+?)(?P<note>牵头负责|牵头|配合|参与|协助|负责)$")


@lru_cache(maxsize=1)
def default_directory() -> UnitDirectory:
    """The packaged 邵阳市 directory, loaded once."""
    return UnitDirectory.load()


def split_leaders(text: str) -> list[str]:
    """Split 市级督办领导 on 、 and ， only; role descriptions stay whole
    ("联系邵阳县的市委常委", "分管发展和改革工作的副市长")."""
    body = _LABEL_RE.sub("", normalize(text))
    out: list[str] = []
    for part in _split_top(body):
        part = _TRAILING_NOISE_RE.sub("", part.strip("。.")).strip("。.")
        if part and part not in out:
            out.append(part)
    return out


def split_units(text: str, directory: UnitDirectory | None = None) -> list[str]:
    """A raw role-field value → normalised unit names (see module docstring)."""
    return [unit for unit, _ in split_units_with_notes(text, directory)]


def split_units_with_notes(text: str, directory: UnitDirectory | None = None) -> list[tuple[str, str | None]]:
    """Like split_units, with each unit's note: "市生态环境局（牵头）" → ("市生态环境局", "牵头");
    "市发改委牵头" → ("市发展和改革委员会", "牵头"); no note → None. Routing by note is the caller's."""
    d = directory or default_directory()
    body = _LABEL_RE.sub("", normalize(_SPACE_RUN_RE.sub(_WS, text.strip())))
    tokens: list[tuple[str, str | None]] = []
    for piece in _split_top(_strip_noise(body)):
        for part in _split_whitespace(piece, d):
            part = _strip_noise(part)
            if not part or part in _NOISE_TOKENS:
                continue
            if part.startswith("由") and _unit_like(_take_note(part[1:], d)[0], d):  # 由市生态环境局牵头
                part = part[1:]
            unit, note = _take_note(part, d)
            tokens.extend((sub, note) for sub in _split_conjunctions(unit, d))
    return _dedupe(_pair_localities(tokens, d))


# ---- tokenising -----------------------------------------------------------------------------

def _split_top(text: str) -> list[str]:
    """Split on 、，； outside parentheses (各县（市、区） stays whole)."""
    parts = split_outside_brackets(text, _SEPARATORS)
    return _join_distributive([p for p in (p.strip(_WS) for p in parts) if p])


_LEVEL_ONLY = re.compile(r"^各?[省市县区州镇乡]$")


def _join_distributive(parts: list[str]) -> list[str]:
    """"各市、县级人民政府", "各省、市、县级人民政府": a bare level word shares the name after it; a run of
    fields before a collective head is one unit ("环境保护、工商、供水、供电等部门和单位")."""
    out: list[str] = []
    for i, p in enumerate(parts):
        if out and (_LEVEL_ONLY.match(out[-1].split("、")[-1]) or _open_kinds(out[-1], parts[i:])):
            out[-1] += "、" + p
        else:
            out.append(p)
    return _join_fields(out)


def _open_kinds(before: str, rest: list[str]) -> bool:
    """各类 spans a list up to the part that closes it with 和/及 (各类企业、事业单位和社会组织 is one), kinds
    of units only: a named organ on the way (各类市场主体、行业协会、市商务局和…) ends it."""
    if not before.startswith("各类") or re.search("和|及", before):
        return False
    for p in rest:
        if _FIELD_START.match(p):
            return False
        if re.search("和|及", p):
            return True
    return False


_FIELD_START = re.compile(r"^[省市县区州镇乡旗盟]")  # 市教体: a unit's short name, not a field
_COLLECTIVE_HEAD = re.compile(rf"(?:{'|'.join(COLLECTIVE_HEADS)})(?:和单位|及单位)?$")


def _is_field(part: str) -> bool:
    """A field of work, no unit's name: "环境保护", "重点区域" (not 市教体, not …局)."""
    return not _UNIT_END_RE.search(part) and not _FIELD_START.match(part) and 2 <= len(part) <= 12


def modifiers_of_one_head(parts: list[str]) -> bool:
    """The parts (split on 、) name one collective: all but the last are fields, and the last ends in a
    collective head ("流域地方政府", "供电等部门和单位")."""
    return len(parts) > 1 and bool(_COLLECTIVE_HEAD.search(parts[-1])) and all(_is_field(p) for p in parts[:-1])


def _join_fields(parts: list[str]) -> list[str]:
    out: list[str] = []
    fields: list[str] = []
    for p in parts:
        if modifiers_of_one_head(fields + [p]):
            out.append("、".join(fields + [p]))
            fields = []
        elif _is_field(p):
            fields.append(p)
        else:
            out.extend(fields + [p])
            fields = []
    return out + fields


def _split_whitespace(piece: str, d: UnitDirectory) -> list[str]:
    """Whitespace separates units only when every side is unit-like ("市公安局 市财政局");
    otherwise it is a page-break artefact and is removed ("市人民\\n检察院")."""
    if _WS not in piece:
        return [piece]
    parts = [p for p in piece.split(_WS) if p]
    joined = "".join(parts)
    if d.canonical(joined) or not all(_unit_like(p, d) for p in parts):
        return [joined]
    return parts


def _strip_noise(text: str) -> str:
    """Drop trailing punctuation, "等", "按职责分工负责" and the like (repeatedly)."""
    prev = None
    while prev != text:
        prev = text
        text = text.strip(_WS).rstrip("。.，、；：")
        if not text.endswith("）"):
            text = _TRAILING_NOISE_RE.sub("", text)
    return text


def _take_note(part: str, d: UnitDirectory) -> tuple[str, str | None]:
    """Separate a role note: "X（牵头）" or "X牵头" → (X, "牵头")."""
    if d.canonical(part):
        return part, None
    if part.endswith("）") and "（" in part:
        base, content = _last_paren(part)
        if base and content is not None:
            if _NOTE_WORD_RE.search(content):
                return _strip_noise(base), content
            if not _NAME_PAREN_RE.match(content) and d.canonical(base):
                return base, content
        return part, None
    m = _SUFFIX_NOTE_RE.match(part)
    if m and _unit_like(m["unit"], d):
        return m["unit"], m["note"]
    return part, None


def _last_paren(part: str) -> tuple[str, str | None]:
    """"市生态环境局（牵头）" → ("市生态环境局", "牵头"); unbalanced → (part, None)."""
    depth = 0
    for i in range(len(part) - 1, -1, -1):
        if part[i] == "）":
            depth += 1
        elif part[i] == "（":
            depth -= 1
            if depth == 0:
                return part[:i], part[i + 1:-1]
    return part, None


def _split_conjunctions(part: str, d: UnitDirectory) -> list[str]:
    """Split on 和/及/与/以及 only where both sides are units (never inside 市发展和改革委员会)."""
    if d.canonical(part):
        return [part]
    for word in _CONJUNCTIONS:
        start = 0
        while (i := part.find(word, start)) > 0:
            left, right = part[:i], part[i + len(word):]
            # only between names the directory knows: "市计划生育协会和市托育联席会议其他成员单位" is one group
            if right and d.canonical(left) and _unit_like(right, d) and not _name_inside(part, i, d):
                return [left, *_split_conjunctions(right, d)]
            start = i + 1
    return [part]


def _name_inside(part: str, i: int, d: UnitDirectory) -> bool:
    """True when a known name spans position i (a conjunction inside a name)."""
    return any(name in part and part.find(name) < i < part.find(name) + len(name)
               for name in d.index if "和" in name or "及" in name or "与" in name)


def _unit_like(text: str, d: UnitDirectory) -> bool:
    if len(text) < 2 or text in _LEVEL_WORDS:
        return False
    return d.canonical(text) is not None or bool(_UNIT_END_RE.search(text))


# ---- party committee + government pairs ----------------------------------------------------

def _locality_of(loc: str, d: UnitDirectory) -> bool:
    """Can "loc委、…政府" be the locality loc? Known localities, or locality-shaped names."""
    if d.is_region(loc):
        return False
    if d.is_locality(loc):
        return True
    if d.canonical(loc):
        return False  # a known non-locality unit
    bare = re.sub(r"（[^（）]*）$", "", loc)
    return len(bare) >= 2 and bare not in _LEVEL_WORDS and bool(_LOCALITY_END_RE.search(bare))


def _pairs_with(loc: str, gov: str, d: UnitDirectory) -> bool:
    """Does the government token belong to loc? "人民政府", "县人民政府" after 邵阳县委,
    "区政府" after X区委, "管委会" after X党工委, "邵阳县人民政府" after 邵阳县委."""
    m = _GOV_RE.match(gov)
    if not m:
        return False
    prefix = m["prefix"]
    if prefix == "" or loc.endswith(prefix) or prefix.endswith(loc):
        return not _top_level(loc, prefix, d)
    return d.canonical(prefix) is not None and d.canonical(prefix) == d.canonical(loc)


def _top_level(loc: str, prefix: str, d: UnitDirectory) -> bool:
    """"长沙市委、市政府": an unknown city with the plan's own level word is the plan's top
    level (two units), unless the directory knows loc as a county-level city (邵东市)."""
    return (prefix == d.level_word and loc.endswith(d.level_word) and not d.is_locality(loc))


def _pair_localities(tokens: list[tuple[str, str | None]], d: UnitDirectory) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens):
        tok, note = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        party = _PARTY_RE.match(tok)
        known_organ = d.canonical(tok) is not None and not d.is_locality(tok)  # 团市委, 市委
        if party and nxt and not known_organ and not d.is_region(party["loc"]):
            loc = party["loc"]
            if _locality_of(loc, d) and _pairs_with(loc, nxt[0], d):
                out.append((d.resolve(loc)[0], note or nxt[1]))
                i += 2
                continue
            if _top_level_pair(loc, nxt[0], d):
                out.append((d.resolve(tok)[0], note))
                out.append((d.resolve(_region_gov(loc, nxt[0], d))[0], nxt[1]))
                i += 2
                continue
        if party and nxt and d.is_region(party["loc"]) and _GOV_RE.match(nxt[0]):
            out.append((d.resolve(tok)[0], note))
            out.append((d.resolve(_region_gov(party["loc"], nxt[0], d))[0], nxt[1]))
            i += 2
            continue
        gov = _GOV_RE.match(tok)
        if gov and gov["prefix"] == "" and out and d.is_locality(out[-1][0]):
            i += 1  # a stray "人民政府" after a locality adds nothing
            continue
        out.append((d.resolve(_locality_government(tok, d))[0], note))
        i += 1
    return out


def _locality_government(tok: str, d: UnitDirectory) -> str:
    """A county-level "X人民政府" / "各区县市人民政府" stands for the locality X itself;
    the plan's own level (市人民政府) stays as it is."""
    m = _GOV_RE.match(tok)
    if not m or d.canonical(tok) and not d.is_locality(tok):
        return tok
    loc = m["prefix"]
    if len(loc) >= 2 and loc != d.level_word and not _COLLECTIVE_LEAD.search(loc) and _locality_of(loc, d) \
            and not (m.group(2) in ("管委会", "管理委员会") and not d.is_locality(loc)):
        return loc
    return tok


def _top_level_pair(loc: str, gov: str, d: UnitDirectory) -> bool:
    m = _GOV_RE.match(gov)
    return bool(m) and _top_level(loc, m["prefix"], d) and len(loc) > 1


def _region_gov(loc: str, gov: str, d: UnitDirectory) -> str:
    """The government half of a top-level pair, named in full: 市政府 after 长沙市委 → 长沙市政府;
    after 市委 / 邵阳市委 it resolves through the directory (→ 市人民政府)."""
    m = _GOV_RE.match(gov)
    if m is None or m["prefix"] not in ("", d.level_word):
        return gov
    city = re.sub(r"^(中共|中国共产党)", "", loc)
    return city + gov[len(m["prefix"]):]


def _dedupe(items: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen: dict[str, int] = {}
    out: list[tuple[str, str | None]] = []
    for unit, note in items:
        unit = clean_name(unit)
        if not unit:
            continue
        if unit in seen:
            j = seen[unit]
            if out[j][1] is None and note:
                out[j] = (unit, note)
            continue
        seen[unit] = len(out)
        out.append((unit, note))
    return out
