"""Officials (the roster), who is bound to which unit, processed message ids and the audit trail."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .db import register_migration, run_script

ROLES = ("联络员", "负责人", "督办领导", "管理员")


def _m002_people(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS officials (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, mobile TEXT, dingtalk_id TEXT UNIQUE, wecom_id TEXT UNIQUE,
        unit TEXT NOT NULL, role TEXT NOT NULL DEFAULT '联络员');
    CREATE TABLE IF NOT EXISTS bindings (
        platform TEXT NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, unit TEXT NOT NULL,
        bound_by TEXT NOT NULL, bound_at TEXT NOT NULL, PRIMARY KEY (platform, subject_kind, subject_id));
    CREATE TABLE IF NOT EXISTS seen_messages (
        platform TEXT NOT NULL, msg_id TEXT NOT NULL, seen_at TEXT NOT NULL, PRIMARY KEY (platform, msg_id));
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, platform TEXT, user_id TEXT, action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '', allowed INTEGER NOT NULL)
    """)


register_migration(_m002_people)


def _m006_signed_requests(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS signed_requests (
        timestamp TEXT NOT NULL, sign TEXT NOT NULL, msg_id TEXT NOT NULL, seen_at TEXT NOT NULL,
        PRIMARY KEY (timestamp, sign))
    """)


register_migration(_m006_signed_requests)


def _m007_claims_without_rowid(db: sqlite_utils.Database) -> None:
    # every inbound message inserts into both tables: clustered on the key, each insert writes one b-tree
    run_script(db, """
    CREATE TABLE IF NOT EXISTS seen_messages_k (
        platform TEXT NOT NULL, msg_id TEXT NOT NULL, seen_at TEXT NOT NULL, PRIMARY KEY (platform, msg_id))
        WITHOUT ROWID;
    INSERT OR IGNORE INTO seen_messages_k SELECT platform, msg_id, seen_at FROM seen_messages;
    DROP TABLE seen_messages;
    ALTER TABLE seen_messages_k RENAME TO seen_messages;
    CREATE TABLE IF NOT EXISTS signed_requests_k (
        timestamp TEXT NOT NULL, sign TEXT NOT NULL, msg_id TEXT NOT NULL, seen_at TEXT NOT NULL,
        PRIMARY KEY (timestamp, sign)) WITHOUT ROWID;
    INSERT OR IGNORE INTO signed_requests_k SELECT timestamp, sign, msg_id, seen_at FROM signed_requests;
    DROP TABLE signed_requests;
    ALTER TABLE signed_requests_k RENAME TO signed_requests
    """)


register_migration(_m007_claims_without_rowid)


@dataclass
class Official:
    id: int
    name: str
    mobile: str | None
    dingtalk_id: str | None
    wecom_id: str | None
    unit: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "管理员"


def _id_column(platform: str) -> str:
    return {"dingtalk": "dingtalk_id", "wecom": "wecom_id"}[platform]


def official_by_platform_id(db: sqlite_utils.Database, platform: str, user_id: str) -> Official | None:
    if platform not in ("dingtalk", "wecom"):
        return None
    row = db.execute(f"SELECT id, name, mobile, dingtalk_id, wecom_id, unit, role FROM officials"
                     f" WHERE {_id_column(platform)} = ?", [user_id]).fetchone()
    return Official(*row) if row else None


def officials_of_unit(db: sqlite_utils.Database, unit: str) -> list[Official]:
    rows = db.execute("SELECT id, name, mobile, dingtalk_id, wecom_id, unit, role FROM officials WHERE unit = ?"
                      " ORDER BY id", [unit]).fetchall()
    return [Official(*r) for r in rows]


def replace_roster(db: sqlite_utils.Database, people: list[dict]) -> int:
    """Load a roster, replacing the previous one (one transaction)."""
    with db.atomic():
        db.execute("DELETE FROM officials")
        for p in people:
            db.execute("INSERT INTO officials (name, mobile, dingtalk_id, wecom_id, unit, role) VALUES (?,?,?,?,?,?)",
                       [p["name"], p.get("mobile"), p.get("dingtalk_id"), p.get("wecom_id"), p["unit"], p["role"]])
        # someone taken off the roster no longer speaks for a unit through an earlier 绑定
        db.execute("DELETE FROM bindings WHERE subject_kind = 'user' AND NOT EXISTS (SELECT 1 FROM officials o WHERE"
                   " (bindings.platform = 'dingtalk' AND o.dingtalk_id = bindings.subject_id) OR"
                   " (bindings.platform = 'wecom' AND o.wecom_id = bindings.subject_id))")
    return len(people)


def bind(db: sqlite_utils.Database, platform: str, subject_kind: str, subject_id: str, unit: str,
         bound_by: str, at: datetime) -> None:
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO bindings VALUES (?,?,?,?,?,?)",
                   [platform, subject_kind, subject_id, unit, bound_by, at.isoformat(timespec="seconds")])


def bound_unit(db: sqlite_utils.Database, platform: str, subject_kind: str, subject_id: str | None) -> str | None:
    if not subject_id:
        return None
    row = db.execute("SELECT unit FROM bindings WHERE platform=? AND subject_kind=? AND subject_id=?",
                     [platform, subject_kind, subject_id]).fetchone()
    return row[0] if row else None


def record(db: sqlite_utils.Database, at: datetime, platform: str | None, user_id: str | None, action: str,
           detail: str, allowed: bool) -> None:
    with db.atomic():
        db.execute("INSERT INTO audit (at, platform, user_id, action, detail, allowed) VALUES (?,?,?,?,?,?)",
                   [at.isoformat(timespec="seconds"), platform, user_id, action, detail, int(allowed)])


def _asker_unit_sql(platform: str) -> str:
    """The asker's unit: the roster first, then their own binding, then the group's (:u, :p, :c)."""
    column = {"dingtalk": "dingtalk_id", "wecom": "wecom_id"}.get(platform)
    return (f"coalesce({f'(SELECT unit FROM officials WHERE {column} = :u),' if column else ''}"
            " (SELECT unit FROM bindings WHERE platform = :p AND subject_kind = 'user' AND subject_id = :u),"
            " (SELECT unit FROM bindings WHERE platform = :p AND subject_kind = 'chat' AND subject_id = :c))")


def unit_of_asker(db: sqlite_utils.Database, platform: str, user_id: str, chat_id: str | None) -> str | None:
    """The asker's unit in one query (see _asker_unit_sql)."""
    row = db.conn.execute(f"SELECT {_asker_unit_sql(platform)}",
                          {"u": user_id, "p": platform, "c": chat_id}).fetchone()
    return row[0] if row else None
