"""The unit directory as tables: units, unit_aliases, collective_members (so SQL can resolve
"a task for 各县市区 is 邵阳县's task too")."""
from __future__ import annotations

import sqlite_utils

from parser import ROLES


def sync_directory(db: sqlite_utils.Database, directory) -> None:
    """Upsert the directory's units, aliases and collective memberships (idempotent)."""
    canon = {}
    for name in directory.all_names():
        c = directory.canonical(name)
        if c:
            canon[name] = c
    units = sorted(set(canon.values()))
    members = {u: directory.members(u) for u in units if directory.is_collective(u)}
    localities = {m for ms in members.values() for m in ms}
    # run on every ingest: rows already as the directory says are left alone (no page written, no generation moved)
    db.conn.executemany("INSERT INTO units (name, kind, known) VALUES (?,?,1) ON CONFLICT(name) DO UPDATE"
                        " SET kind=excluded.kind, known=1 WHERE kind != excluded.kind OR known != 1",
                        [(u, "collective" if u in members else "locality" if u in localities else "organ")
                         for u in units])
    db.conn.executemany("INSERT INTO unit_aliases VALUES (?,?) ON CONFLICT(alias) DO UPDATE SET unit=excluded.unit"
                        " WHERE unit != excluded.unit", [(a, c) for a, c in canon.items() if a != c])
    db.conn.executemany("INSERT OR IGNORE INTO collective_members VALUES (?,?)",
                        [(c, m) for c, ms in members.items() for m in ms])


def resolve_unit(db: sqlite_utils.Database, name: str, directory=None) -> str | None:
    """Exact name or alias → canonical unit name, from the stored directory and assignments; then,
    given a UnitDirectory, its aliases and conservative fuzzy matching."""
    name = "".join(name.split())
    found = _stored_unit(db, name)
    if found is None and directory is not None:
        canonical, known = directory.resolve(name)
        found = canonical if known else None
    return found


def _stored_unit(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("SELECT name FROM units WHERE name = ?", [name]).fetchone()
    if row:
        return row[0]
    row = db.execute("SELECT unit FROM unit_aliases WHERE alias = ?", [name]).fetchone()
    if row:
        return row[0]
    row = db.execute(f"SELECT unit FROM role_names WHERE role IN ({', '.join('?' * len(ROLES))}) AND unit = ? LIMIT 1",
                     [*ROLES, name]).fetchone()  # a name assigned on some task
    return row[0] if row else None


def known_unit_names(db: sqlite_utils.Database) -> list[str]:
    """Every unit name and alias the store knows (for segmentation and fuzzy matching)."""
    rows = db.execute("SELECT name FROM units UNION SELECT alias FROM unit_aliases").fetchall()
    units = {r[0] for r in rows}
    for role in ROLES[1:]:  # every role but the 督办领导
        units.update(_names_in_role(db, role))
    return sorted(units)


def leader_titles(db: sqlite_utils.Database) -> list[str]:
    """Every 督办领导 title named on a task (市长, 联系邵阳县的市委常委, …)."""
    return _names_in_role(db, "supervising_leaders")


def _names_in_role(db: sqlite_utils.Database, role: str) -> list[str]:
    """The distinct names ever assigned in `role` (role_names, kept by a trigger on assignments)."""
    return [r[0] for r in db.execute("SELECT unit FROM role_names WHERE role = ? ORDER BY unit", [role])]


def expand_units(db: sqlite_utils.Database, units: list[str]) -> list[str]:
    """Collectives with known members → their members (各县市区 → the 12 divisions); others as they are."""
    out: list[str] = []
    for u in units:
        members = [r[0] for r in db.execute("SELECT member FROM collective_members WHERE collective=? ORDER BY rowid",
                                            [u])]
        for m in members or [u]:
            if m not in out:
                out.append(m)
    return out


def add_aliases(db: sqlite_utils.Database, aliases: dict[str, str]) -> None:
    """Other forms of a document's units (发改委 for 国家发展改革委 …): the directory grows from the documents
    a store holds. An alias already known keeps its unit; a name that is a unit itself is no alias."""
    db.conn.executemany("INSERT OR IGNORE INTO unit_aliases SELECT ?, ? WHERE NOT EXISTS"
                        " (SELECT 1 FROM units WHERE name = ?)", [(a, u, a) for a, u in aliases.items()])
