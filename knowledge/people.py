"""Officials (the roster), who is bound to which unit, processed message ids and the audit trail."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from . import generation
from .db import register_migration, run_script

ROLES = ("联络员", "负责人", "督办领导", "督办", "管理员")  # 督办 and 管理员 review 销号 and 延期


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


def _official_accounts_by_platform(db: sqlite_utils.Database) -> None:
    """Officials' platform user ids move from one column per platform to (official, platform, user id) rows:
    a new platform needs no new column. Existing ids are kept; one transaction, so a crash leaves the old
    layout whole and the migration runs again."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(officials)")}
    with db.atomic():
        if "dingtalk_id" in columns:
            db.execute("CREATE TABLE officials_accounts_import (official_id INTEGER, platform TEXT, user_id TEXT)")
            for platform, column in (("dingtalk", "dingtalk_id"), ("wecom", "wecom_id")):
                db.execute(f"INSERT INTO officials_accounts_import SELECT id, '{platform}', {column} FROM officials"
                           f" WHERE coalesce({column}, '') != ''")
            run_script(db, """
            CREATE TABLE officials_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, mobile TEXT, unit TEXT NOT NULL,
                role TEXT NOT NULL DEFAULT '联络员');
            INSERT INTO officials_new SELECT id, name, mobile, unit, role FROM officials;
            DROP TABLE officials;
            ALTER TABLE officials_new RENAME TO officials
            """)
        db.execute("CREATE TABLE IF NOT EXISTS official_accounts (official_id INTEGER NOT NULL REFERENCES officials(id)"
                   " ON DELETE CASCADE, platform TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (platform, user_id))"
                   " WITHOUT ROWID")
        db.execute("CREATE INDEX IF NOT EXISTS official_accounts_of ON official_accounts(official_id)")
        if "dingtalk_id" in columns:
            db.execute("INSERT OR IGNORE INTO official_accounts SELECT official_id, platform, user_id"
                       " FROM officials_accounts_import")
            db.execute("DROP TABLE officials_accounts_import")
        _watch_generation(db)


def _watch_generation(db: sqlite_utils.Database) -> None:
    """Rebuilding officials dropped its generation triggers: put them back, and watch the accounts too."""
    generation.watch(db, ("officials", "official_accounts"))


register_migration(_official_accounts_by_platform)


@dataclass
class Official:
    id: int
    name: str
    mobile: str | None
    unit: str
    role: str
    accounts: dict[str, str] = field(default_factory=dict)  # platform → user id

    @property
    def is_admin(self) -> bool:
        return self.role == "管理员"

    def account(self, platform: str) -> str | None:
        return self.accounts.get(platform)

    @property
    def dingtalk_id(self) -> str | None:
        return self.accounts.get("dingtalk")

    @property
    def wecom_id(self) -> str | None:
        return self.accounts.get("wecom")


_OFFICIAL = "SELECT o.id, o.name, o.mobile, o.unit, o.role FROM officials o"


def _with_accounts(db: sqlite_utils.Database, rows) -> list[Official]:
    officials = [Official(*r) for r in rows]
    if officials:
        ids = [o.id for o in officials]
        by_id = {o.id: o for o in officials}
        for oid, platform, user_id in db.execute(
                f"SELECT official_id, platform, user_id FROM official_accounts WHERE official_id IN"
                f" ({','.join('?' * len(ids))})", ids):
            by_id[oid].accounts[platform] = user_id
    return officials


def official_by_platform_id(db: sqlite_utils.Database, platform: str, user_id: str) -> Official | None:
    rows = db.execute(f"{_OFFICIAL} JOIN official_accounts a ON a.official_id = o.id"
                      " WHERE a.platform = ? AND a.user_id = ?", [platform, user_id]).fetchall()
    found = _with_accounts(db, rows)
    return found[0] if found else None


def officials_of_unit(db: sqlite_utils.Database, unit: str) -> list[Official]:
    return _with_accounts(db, db.execute(f"{_OFFICIAL} WHERE o.unit = ? ORDER BY o.id", [unit]).fetchall())


def accounts_of(person: dict) -> dict[str, str]:
    """A roster row's platform ids: {"accounts": {platform: id}} and/or the "<platform>_id" keys."""
    accounts = {k[:-3]: v for k, v in person.items() if k.endswith("_id") and v}
    accounts.update({k: v for k, v in (person.get("accounts") or {}).items() if v})
    return accounts


def replace_roster(db: sqlite_utils.Database, people: list[dict]) -> int:
    """Load a roster, replacing the previous one (one transaction)."""
    with db.atomic():
        db.execute("DELETE FROM official_accounts")
        db.execute("DELETE FROM officials")
        for p in people:
            oid = db.execute("INSERT INTO officials (name, mobile, unit, role) VALUES (?,?,?,?)",
                             [p["name"], p.get("mobile"), p["unit"], p["role"]]).lastrowid
            for platform, user_id in accounts_of(p).items():
                db.execute("INSERT INTO official_accounts VALUES (?,?,?)", [oid, platform, user_id])
        # someone taken off the roster no longer speaks for a unit through an earlier 绑定
        db.execute("DELETE FROM bindings WHERE subject_kind = 'user' AND NOT EXISTS (SELECT 1 FROM official_accounts a"
                   " WHERE a.platform = bindings.platform AND a.user_id = bindings.subject_id)")
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
    return ("coalesce((SELECT o.unit FROM official_accounts a JOIN officials o ON o.id = a.official_id"
            " WHERE a.platform = :p AND a.user_id = :u),"
            " (SELECT unit FROM bindings WHERE platform = :p AND subject_kind = 'user' AND subject_id = :u),"
            " (SELECT unit FROM bindings WHERE platform = :p AND subject_kind = 'chat' AND subject_id = :c))")


def unit_of_asker(db: sqlite_utils.Database, platform: str, user_id: str, chat_id: str | None) -> str | None:
    """The asker's unit in one query (see _asker_unit_sql)."""
    row = db.conn.execute(f"SELECT {_asker_unit_sql(platform)}",
                          {"u": user_id, "p": platform, "c": chat_id}).fetchone()
    return row[0] if row else None
