"""Opening the store and bringing its schema up to date (small, ordered, idempotent migrations)."""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import sqlite3
from pathlib import Path

import sqlite_utils

from .errors import StoreError  # noqa: F401  (raised here, caught by the commands)

from .paths import DEFAULT_DB, SYSTEM_CONFIG, default_db_path  # noqa: F401  (the commands ask here)


def current_task(t: str = "t", documents: str = "") -> str:
    """SQL: the task aliased `t` is of its document's current version (an archived document's is 0: none);
    `documents` adds a condition on the document (d), e.g. "AND d.example = 0"."""
    return f"{t}.version = (SELECT current_version FROM documents d WHERE d.id = {t}.document_id{documents and ' ' + documents})"


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Statement by statement: sqlite3's executescript would commit an open transaction."""
    for stmt in script.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _m001_plans(db: sqlite_utils.Database) -> None:
    run_script(db, """
    CREATE TABLE IF NOT EXISTS documents (
        id INTEGER PRIMARY KEY, title TEXT NOT NULL, doc_number TEXT, year INTEGER,
        current_version INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS versions (
        id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
        version INTEGER NOT NULL, source_name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
        ingested_at TEXT NOT NULL, declared_task_count INTEGER, warnings TEXT NOT NULL DEFAULT '[]',
        UNIQUE(document_id, version));
    CREATE TABLE IF NOT EXISTS tasks (
        id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
        version INTEGER NOT NULL, section TEXT NOT NULL, number TEXT NOT NULL, number_int INTEGER,
        title TEXT NOT NULL, deadline_text TEXT, goal_text TEXT, problem_text TEXT,
        full_text TEXT NOT NULL, ongoing INTEGER NOT NULL DEFAULT 0, measures_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'open', completed_at TEXT, completed_by TEXT,
        uid INTEGER);  -- the task's identity across versions of its document
    CREATE INDEX IF NOT EXISTS tasks_uid ON tasks(uid);
    CREATE INDEX IF NOT EXISTS tasks_doc ON tasks(document_id, version, section, number_int);
    CREATE TABLE IF NOT EXISTS assignments (
        task_id INTEGER NOT NULL REFERENCES tasks(id), role TEXT NOT NULL, unit TEXT NOT NULL,
        position INTEGER NOT NULL, PRIMARY KEY (task_id, role, unit));
    CREATE INDEX IF NOT EXISTS assignments_unit ON assignments(unit);
    CREATE TABLE IF NOT EXISTS measures (
        task_id INTEGER NOT NULL REFERENCES tasks(id), position INTEGER NOT NULL, text TEXT NOT NULL,
        group_unit TEXT, PRIMARY KEY (task_id, position));
    CREATE TABLE IF NOT EXISTS milestones (
        id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id), position INTEGER NOT NULL,
        due TEXT NOT NULL, text TEXT NOT NULL, source TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
        uid TEXT NOT NULL);  -- stable across versions while task, date and text stay the same
    CREATE INDEX IF NOT EXISTS milestones_due ON milestones(due);
    CREATE INDEX IF NOT EXISTS milestones_task ON milestones(task_id);
    CREATE TABLE IF NOT EXISTS milestone_units (
        milestone_id INTEGER NOT NULL REFERENCES milestones(id), unit TEXT NOT NULL,
        PRIMARY KEY (milestone_id, unit));
    CREATE INDEX IF NOT EXISTS milestone_units_unit ON milestone_units(unit);
    CREATE TABLE IF NOT EXISTS recurring (
        id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id), every TEXT NOT NULL,
        text TEXT NOT NULL, units TEXT NOT NULL DEFAULT '[]', uid TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS units (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, known INTEGER NOT NULL DEFAULT 1);
    CREATE TABLE IF NOT EXISTS unit_aliases (alias TEXT PRIMARY KEY, unit TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS collective_members (
        collective TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (collective, member));
    CREATE INDEX IF NOT EXISTS collective_members_member ON collective_members(member);
    """)
    if "tasks_fts" not in db.table_names():
        # trigram tokenizer: Chinese has no spaces, so match on character trigrams
        db["tasks"].enable_fts(["title", "full_text"], tokenize="trigram", create_triggers=True)


def _m002_indexes(db: sqlite_utils.Database) -> None:
    # due lists walk open milestones in date order and stop at a LIMIT; old, done ones are skipped
    db.execute("CREATE INDEX IF NOT EXISTS milestones_open_due ON milestones(done, due)")


def _m003_covering_number_index(db: sqlite_utils.Database) -> None:
    # a task row carries its whole text; answering "第13项" across many plans should not read it
    db.execute("DROP INDEX IF EXISTS tasks_number")
    db.execute("CREATE INDEX IF NOT EXISTS tasks_number_current ON tasks(number, section, document_id, version, status)")


def _m008_assignments_by_unit(db: sqlite_utils.Database) -> None:
    # "which of these tasks is this unit's" is one index probe per task, not a scan of its assignments
    db.execute("CREATE INDEX IF NOT EXISTS assignments_unit_task ON assignments(unit, task_id)")
    db.execute("DROP INDEX IF EXISTS assignments_unit")
    # units by role for a page of tasks, in document order, from the index alone
    db.execute("CREATE INDEX IF NOT EXISTS assignments_task_order ON assignments(task_id, role, position, unit)")


def _m009_task_units(db: sqlite_utils.Database) -> None:
    # a task's units by role as one JSON row: every answer lists them, and reading ~10 assignment rows
    # per task cost more than the rest of a due list. Not a column of tasks: a task row holds the
    # whole text, and a column after it lives on overflow pages. A task's assignments never change
    # after ingest (a new version is new rows), so the copy cannot drift.
    db.execute("CREATE TABLE IF NOT EXISTS task_units (task_id INTEGER PRIMARY KEY REFERENCES tasks(id),"
               " units_json TEXT NOT NULL)")
    units: dict[int, dict[str, list[str]]] = {tid: {} for (tid,) in db.execute("SELECT id FROM tasks")}
    for task_id, role, unit in db.execute("SELECT task_id, role, unit FROM assignments ORDER BY task_id, role, position"):
        units.setdefault(task_id, {}).setdefault(role, []).append(unit)
    db.conn.executemany("INSERT OR REPLACE INTO task_units VALUES (?, ?)",
                        [(task_id, units_json(by_role)) for task_id, by_role in units.items()])


def units_json(by_role: dict[str, list[str]]) -> str:
    return json.dumps({r: us for r, us in by_role.items() if us}, ensure_ascii=False, separators=(",", ":"))


def _m012_assignments_by_unit_with_role(db: sqlite_utils.Database) -> None:
    # the same, with the role: "is this unit named on this task other than as 督办领导" is answered
    # from the index alone
    db.execute("CREATE INDEX IF NOT EXISTS assignments_unit_task_role ON assignments(unit, task_id, role)")
    db.execute("DROP INDEX IF EXISTS assignments_unit_task")
    # the names in each role (the units to recognise in questions, the 督办领导 titles), a seek per name
    db.execute("CREATE INDEX IF NOT EXISTS assignments_role_unit ON assignments(role, unit)")


def _m015_task_state_indexes(db: sqlite_utils.Database) -> None:
    # a task's state without its row (whose long text puts status and ongoing on overflow pages): the
    # figures of a unit or of everyone ("一共有几项任务") count them over thousands of tasks
    db.execute("CREATE INDEX IF NOT EXISTS tasks_state ON tasks(id, document_id, version, status, ongoing)")
    # closed tasks are few: "已销号的任务" finds them without walking every task
    db.execute("CREATE INDEX IF NOT EXISTS tasks_completed ON tasks(document_id) WHERE status = 'completed'")


def _m016_title_index(db: sqlite_utils.Database) -> None:
    # titles alone, for "title matches first" when a phrase is in hundreds of plans: asking the whole
    # text's index for title matches walks every match (about 1 ms for 1,800), this one only titles
    # every step idempotent and the index rebuilt from the tasks: a run cut short is completed by the next
    for stmt in (  # one by one: the trigger bodies hold semicolons
        "CREATE VIRTUAL TABLE IF NOT EXISTS tasks_title_fts USING fts5(title, content='tasks', content_rowid='id',"
        " tokenize='trigram')",
        "CREATE TRIGGER IF NOT EXISTS tasks_title_ai AFTER INSERT ON tasks BEGIN"
        " INSERT INTO tasks_title_fts(rowid, title) VALUES (new.id, new.title); END",
        "CREATE TRIGGER IF NOT EXISTS tasks_title_ad AFTER DELETE ON tasks BEGIN"
        " INSERT INTO tasks_title_fts(tasks_title_fts, rowid, title) VALUES ('delete', old.id, old.title); END",
        "CREATE TRIGGER IF NOT EXISTS tasks_title_au AFTER UPDATE OF title ON tasks BEGIN"
        " INSERT INTO tasks_title_fts(tasks_title_fts, rowid, title) VALUES ('delete', old.id, old.title);"
        " INSERT INTO tasks_title_fts(rowid, title) VALUES (new.id, new.title); END",
        "INSERT INTO tasks_title_fts(tasks_title_fts) VALUES ('rebuild')",
    ):
        db.execute(stmt)


def _m022_tasks_indexed_once(db: sqlite_utils.Database) -> None:
    # the text index follows the text only: ingest sets a new task's uid right after inserting it, and 销号
    # changes its status, and either re-indexed the whole task (sqlite-utils' trigger fires on every update)
    db.execute("DROP TRIGGER IF EXISTS tasks_au")
    db.execute('CREATE TRIGGER tasks_au AFTER UPDATE OF title, full_text ON tasks BEGIN'
               ' INSERT INTO tasks_fts (tasks_fts, rowid, title, full_text) VALUES (\'delete\', old.rowid, old.title,'
               ' old.full_text); INSERT INTO tasks_fts (rowid, title, full_text) VALUES (new.rowid, new.title,'
               ' new.full_text); END')
    # a plan stored under another title is found by its task titles (ingest.find_document), not by reading all
    db.execute("CREATE INDEX IF NOT EXISTS tasks_title ON tasks(title)")


def _m024_ingest_lookups(db: sqlite_utils.Database) -> None:
    """What every ingest asks, by index: a document by title (find_document), the examples still in answers."""
    db.execute("CREATE INDEX IF NOT EXISTS documents_title ON documents(title)")
    db.execute("CREATE INDEX IF NOT EXISTS documents_examples ON documents(id) WHERE example = 1")
    # the names used in each role (units to recognise in questions, 督办领导 titles) as a table of their own,
    # filled by a trigger: an index on assignments(role, unit) took a page write per unit named on every ingest
    db.execute("CREATE TABLE IF NOT EXISTS role_names (role TEXT NOT NULL, unit TEXT NOT NULL,"
               " PRIMARY KEY (role, unit)) WITHOUT ROWID")
    db.execute("CREATE TRIGGER IF NOT EXISTS assignments_role_names AFTER INSERT ON assignments BEGIN"
               " INSERT OR IGNORE INTO role_names VALUES (new.role, new.unit); END")
    db.execute("INSERT OR IGNORE INTO role_names SELECT DISTINCT role, unit FROM assignments")
    db.execute("DROP INDEX IF EXISTS assignments_role_unit")
    # a unit's tasks are read from its kept list (unit_tasks) and a task's units by the task: an index of
    # every assignment by unit, and one of milestones by date beside (done, due), cost a page each per ingest
    db.execute("DROP INDEX IF EXISTS assignments_unit_task_role")
    db.execute("DROP INDEX IF EXISTS milestones_due")
    # the same-content check counts the titles a plan shares with each document from this index alone
    db.execute("CREATE INDEX IF NOT EXISTS tasks_title_document ON tasks(title, document_id, version)")
    db.execute("DROP INDEX IF EXISTS tasks_title")


# The one order in which migrations run, by name. A name is recorded in the store once its migration ran,
# so names never change and never repeat (the numbers in some older names do repeat: the name, not the
# number, is what counts). Each module registers its own function; migrate() imports every module listed
# in MODULES and runs the migrations in this order, whatever order the modules were imported in.
# A new migration: register it in its module and add its name at the end. One registered but not listed
# here runs after the listed ones (in registration order) until it is listed.
ORDER = (
    "_m001_plans", "_m002_indexes", "_m003_covering_number_index", "_m008_assignments_by_unit", "_m009_task_units",
    "_m012_assignments_by_unit_with_role", "_m015_task_state_indexes", "_m016_title_index",
    "_m002_people", "_m006_signed_requests", "_m007_claims_without_rowid", "_official_accounts_by_platform",
    "_m003_progress", "_m004_outbox", "_m005_inbox", "_m011_delivery_log", "_m013_due_index",
    "_m017_document_lifecycle", "_m018_same_content_files", "_m019_reviews", "_m_workbench_links_and_accounts",
    "_m020_citations",
    "_m014_generation",  # after every table its triggers watch
    "delivery_answers",
    "_m021_task_tally",  # after the plans, the directory and the due index it is counted with
    "_reminders_kept_per_message",  # after the outbox, whose per-reminder rows it moves
    "_m022_tasks_indexed_once",
    "_m023_delivery_lookup",
    "_m024_unit_totals",  # after the due index and the unit lists it moves with
    "_m024_ingest_lookups",
    "_m025_delivery_log_file",  # the delivery log to a file of its own (after every table it might hold)
)
MODULES = ("knowledge.people", "knowledge.progress", "knowledge.outbox", "knowledge.inbox_log", "knowledge.deliveries",
           "knowledge.due_index", "knowledge.documents", "knowledge.citations", "knowledge.review", "knowledge.workbench_queries",
           "knowledge.generation", "knowledge.counts", "knowledge.reminder_log")
MIGRATIONS = [_m001_plans, _m002_indexes, _m003_covering_number_index, _m008_assignments_by_unit, _m009_task_units,
              _m012_assignments_by_unit_with_role, _m015_task_state_indexes, _m016_title_index,
              _m022_tasks_indexed_once, _m024_ingest_lookups]


def _import_migration_modules() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # a listed module that is gone is skipped; a broken import is not
                raise


def ordered(migrations: list) -> list:
    """The registered migrations in ORDER; names must be unique."""
    names = [m.__name__ for m in migrations]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate migration names: {sorted({n for n in names if names.count(n) > 1})}")
    rank = {name: i for i, name in enumerate(ORDER)}
    return [m for _, m in sorted(enumerate(migrations), key=lambda im: (rank.get(im[1].__name__, len(ORDER)), im[0]))]


def migrate(db: sqlite_utils.Database) -> None:
    _import_migration_modules()
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in db.execute("SELECT name FROM migrations").fetchall()}
    for m in ordered(MIGRATIONS):
        if m.__name__ in done:
            continue
        m(db)  # every migration is idempotent (IF NOT EXISTS), so a crash here is safe to rerun
        db.execute("INSERT INTO migrations VALUES (?, datetime('now'))", [m.__name__])
        db.conn.commit()


def register_migration(fn) -> None:
    """Later modules (officials, outbox, …) add their tables through this hook; ORDER says when they run."""
    if fn not in MIGRATIONS:
        MIGRATIONS.append(fn)


def use_wal(db: sqlite_utils.Database) -> None:
    """The server's connection: commits skip the disk's sync (a commit survives the process dying; only a
    power cut may take the last ones back). Every store is in WAL mode already (open_db)."""
    db.execute("PRAGMA synchronous=NORMAL")


def store_path(db: sqlite_utils.Database) -> str | None:
    """The file behind a connection (None for an in-memory store)."""
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else None


class Store(sqlite_utils.Database):
    """A store whose transactions take the write lock when they begin (BEGIN IMMEDIATE). A deferred
    transaction that reads, then writes, fails at once with "database is locked" when another connection
    committed in between (in WAL mode the busy timeout does not apply to that); an immediate one waits
    its turn, up to the busy timeout."""

    @contextlib.contextmanager
    def atomic(self):
        if self.conn.in_transaction:  # nested: a savepoint, as sqlite-utils does
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()


# The connections this process opened (held, not weakly: a connection sits in a reference cycle with its
# statement cache, so one nobody holds stays open until the garbage collector runs, or for good)
_OPENED: list[sqlite3.Connection] = []


def open_stores() -> list[sqlite3.Connection]:
    return list(_OPENED)


def close_stores(keep=()) -> None:
    """Close the stores this process opened, but those in `keep` (at a command's end: the ones it opened).
    The last connection to a store checkpoints its write-ahead log into the file and removes the log, so
    the file alone holds everything again."""
    kept = {id(conn) for conn in keep}
    for conn in [c for c in _OPENED if id(c) not in kept]:
        conn.close()  # closing twice is harmless
        _OPENED.remove(conn)


def _is_open(conn: sqlite3.Connection) -> bool:
    try:
        conn.total_changes
    except sqlite3.ProgrammingError:
        return False
    return True


def _remember(conn: sqlite3.Connection) -> None:
    _OPENED[:] = [c for c in _OPENED if _is_open(c)]  # a long-running process closes its own: forget those
    _OPENED.append(conn)


def writable(path: Path) -> bool:
    """Whether this process may write the store at `path` and files beside it (its -wal and -shm)."""
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _read_only(path: Path) -> bool:
    """A store that exists where this process may not write (a read-only mount, a snapshot, another user's)."""
    return path.exists() and not writable(path)


def _open_read_only(path: Path) -> sqlite_utils.Database:
    """Read as it is: nothing written (no journal switch, no migration), the file taken as unchanging
    (immutable: a store in WAL mode cannot otherwise be read where its -shm file cannot be made)."""
    db = Store(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True))
    _import_migration_modules()
    done = {r[0] for r in db.execute("SELECT name FROM migrations").fetchall()}
    if any(m.__name__ not in done for m in MIGRATIONS):
        raise StoreError(f"数据库 {path} 是只读的，且需要升级：请先以可写方式运行一次 duban（如 duban status）")
    return db


def open_db(path: str | Path | None = None) -> sqlite_utils.Database:
    path = Path(path) if path else default_db_path()
    try:
        if _read_only(path):
            db = _open_read_only(path)
            _remember(db.conn)
            return db
        db = Store(path)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        # up to 64 MiB of pages kept between answers (the default, 2 MiB, re-reads a large store's due
        # index and task rows from the file for nearly every question); a small store uses what it has
        db.execute("PRAGMA cache_size = -65536")
        # write-ahead log: readers never wait for a writer, and a commit appends its pages to the log (one
        # sync) instead of journalling and rewriting them in place; with the default synchronous=FULL a
        # committed ingest survives a power cut. Checkpoints write the pages back later (the last connection
        # to close, or every 1,000 pages).
        db.execute("PRAGMA journal_mode = WAL")
        migrate(db)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"无法打开数据库 {path}：{e}（请检查路径和权限）") from e
    _remember(db.conn)
    return db
