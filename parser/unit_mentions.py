"""Finding directory units named inside running text (not in a role field)."""
from __future__ import annotations

import re
from .units import UnitDirectory

_CACHE: dict[int, tuple] = {}


def _index(directory: UnitDirectory) -> tuple[dict[str, str], dict[str, list[str]], re.Pattern | None]:
    hit = _CACHE.get(id(directory))
    if hit and hit[0] is directory:
        return hit[1]
    built = _build(directory)
    _CACHE[id(directory)] = (directory, built)
    return built


def _build(directory: UnitDirectory) -> tuple[dict[str, str], dict[str, list[str]], re.Pattern | None]:
    canon: dict[str, str] = {}
    for name in directory.all_names():
        c = directory.canonical(name)
        if c and (len(name) >= 3 or name == c):  # short forms (环保, 住建) are ordinary words in running text
            canon[name] = c
    aliases: dict[str, list[str]] = {}
    for name, c in canon.items():
        aliases.setdefault(c, []).append(name)
    names = sorted(canon, key=len, reverse=True)
    return canon, aliases, re.compile("|".join(map(re.escape, names))) if names else None


def aliases_of(directory: UnitDirectory, unit: str) -> list[str]:
    """Every written form the directory knows for `unit`, the canonical name included."""
    return _index(directory)[1].get(unit, [unit])


def units_named_in(directory: UnitDirectory, text: str) -> list[str]:
    """Canonical units named in text, in order of first mention."""
    canon, _, rx = _index(directory)
    out: list[str] = []
    if rx is None:
        return out
    for m in rx.finditer(text):
        c = canon[m.group(0)]
        if c not in out:
            out.append(c)
    return out
