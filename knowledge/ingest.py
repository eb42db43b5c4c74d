"""Writing a parsed Plan into the store, in one transaction.

The same file again (same sha256) changes nothing. A file whose title matches a stored
document becomes that document's next version; its tasks replace the current ones.
"""
from __future__ import annotations

import hashlib
import sqlite3
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

import sqlite_utils

from parser import canonical_plan, plan_aliases
from parser.model import ROLES, Plan, Task

from . import citations, departure, documents, due_index, review, versions
from .db import units_json
from .directory import add_aliases, sync_directory
from .outbox import cancel_stale_reminders, enqueue

TZ = ZoneInfo("Asia/Shanghai")


class VersionRejected(Exception):
    """A revision that would withdraw most of a plan's tasks, without an explicit --replaces."""


@dataclass
class IngestResult:
    document_id: int
    version: int
    status: str  # "new", "new_version" or "unchanged"
    title: str
    tasks: int
    milestones: int
    warnings: list[str]
    diff: dict | None = None  # for a new version: added / withdrawn / changed tasks


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _insert_task(db: sqlite_utils.Database, doc_id: int, version: int, t: Task,
                 uid: int | None = None, status: tuple | None = None) -> tuple[int, int]:
    cur = db.execute(
        "INSERT INTO tasks (document_id, version, section, number, number_int, title, deadline_text, goal_text,"
        " problem_text, full_text, ongoing, measures_count, cite_section, cite_page, cite_text)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [doc_id, version, t.section, str(t.number), t.number if isinstance(t.number, int) else None, t.title,
         t.deadline_text, t.goal_text, t.problem_text, t.full_text or t.title, int(t.ongoing), len(t.measures),
         *citations.values(t.origin)])
    task_id = cur.lastrowid
    uid = uid or task_id
    db.execute("UPDATE tasks SET uid=? WHERE id=?", [uid, task_id])
    if status and status[0] == "completed":  # 销号 carries over to the matching task of the new version
        db.execute("UPDATE tasks SET status=?, completed_at=?, completed_by=? WHERE id=?", [*status, task_id])
    rows = [(task_id, role, unit, i) for role in ROLES for i, unit in enumerate(getattr(t, role) or [])]
    db.conn.executemany("INSERT OR IGNORE INTO assignments VALUES (?,?,?,?)", rows)
    # the same units once per role, in the document's order (as the assignments' primary key keeps them)
    db.execute("INSERT INTO task_units VALUES (?, ?)",
               [task_id, units_json({role: list(dict.fromkeys(getattr(t, role) or [])) for role in ROLES})])
    groups = [g.unit for g in t.measure_groups for _ in range(g.count)]
    db.conn.executemany("INSERT INTO measures VALUES (?,?,?,?)",
                        [(task_id, i, text, groups[i] if i < len(groups) else None)
                         for i, text in enumerate(t.measures)])
    seen: dict[str, int] = {}
    for i, m in enumerate(t.milestones):
        base = f"{uid}|{m.due.isoformat()}|{_digest(m.text)}"
        seen[base] = seen.get(base, -1) + 1
        mid = db.execute("INSERT INTO milestones (task_id, position, due, text, source, done, uid, cite_section,"
                         " cite_page, cite_text) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         [task_id, i, m.due.isoformat(), m.text, m.source, int(m.done), f"{base}|{seen[base]}",
                          *citations.values(m.origin)]).lastrowid
        db.conn.executemany("INSERT OR IGNORE INTO milestone_units VALUES (?,?)", [(mid, u) for u in m.units])
    db.conn.executemany("INSERT INTO recurring (task_id, every, text, units, uid) VALUES (?,?,?,?,?)",
                        [(task_id, r.every, r.text, json.dumps(r.units, ensure_ascii=False),
                          f"{uid}|{r.every}|{_digest(r.text)}") for r in t.recurring])
    return task_id, len(t.milestones)


def _carry_over(db: sqlite_utils.Database, old: list, new: list) -> tuple[dict, dict]:
    """Match the new version's tasks (snaps `new`) to the current ones (`old`): {new index: (uid, status)},
    and the diff."""
    carried = {}
    pairs = versions.match(old, new)
    for i, j in pairs:
        uid, status, at, by = db.execute("SELECT uid, status, completed_at, completed_by FROM tasks WHERE id=?",
                                          [old[i].ref]).fetchone()
        carried[j] = (uid, (status, at, by))
    matched_old = {old[i].ref for i, _ in pairs}
    for s in old:
        if s.ref not in matched_old:
            db.execute("UPDATE tasks SET status='withdrawn' WHERE id=?", [s.ref])
    return carried, versions.diff(old, new)


def find_document(db: sqlite_utils.Database, plan: Plan, replaces: int | str | None) -> tuple[int, int] | None:
    """The stored document this plan is a version of: chosen explicitly, or by the same title."""
    if replaces is not None:
        row = db.execute("SELECT id, current_version FROM documents WHERE id = ? OR title = ?",
                         [replaces, str(replaces)]).fetchone()
        if not row:
            raise LookupError(f"没有找到要替换的文件：{replaces}")
        return row
    row = db.execute("SELECT id, current_version FROM documents WHERE title = ?", [plan.title]).fetchone()
    return row or _same_content(db, plan)


def _same_content(db: sqlite_utils.Database, plan: Plan) -> tuple[int, int] | None:
    """A document stored under another title (a .txt without its title line, a retitled revision)
    is the same plan when most task titles agree. Only documents whose current version shares enough of
    its titles to pass are read: the shared ones counted from the index on titles alone (a title common to
    many plans, 加强组织领导, costs an index entry per plan, not their tasks)."""
    new = {t.title for t in plan.tasks}
    if not new:
        return None
    by_doc: dict[int, set[str]] = {}
    for doc_id, title in db.execute(
            "SELECT t.document_id, t.title FROM documents d JOIN tasks t ON t.document_id = d.id"
            " AND t.version = d.current_version WHERE d.id IN (SELECT s.document_id FROM tasks s"
            " INDEXED BY tasks_title_document JOIN documents c ON c.id = s.document_id"
            " AND s.version = c.current_version"
            " WHERE s.title IN (SELECT value FROM json_each(?)) GROUP BY s.document_id"
            " HAVING count(DISTINCT s.title) >= ?) ORDER BY t.id",  # shared >= 0.6 x ours: needed to pass
            [json.dumps(sorted(new), ensure_ascii=False), 0.6 * len(new) - 1e-9]):
        by_doc.setdefault(doc_id, set()).add(title)
    best = max(by_doc.items(), key=lambda kv: len(kv[1] & new) / len(kv[1] | new), default=None)
    if best and new and len(best[1] & new) / len(best[1] | new) >= 0.6:
        return db.execute("SELECT id, current_version FROM documents WHERE id = ?", [best[0]]).fetchone()
    return None


def _last_task(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT max(id) FROM tasks").fetchone()[0] or 0  # task ids only grow


def _refresh_statistics(db: sqlite_utils.Database, tasks_before: int) -> None:
    """The planner's statistics, refreshed each time the store's tasks double: always within 2x of the store,
    at a cost spread over the plans in between, and sampled (analysis_limit) so that even then not every task
    of a large store is read. (PRAGMA optimize after every ingest re-analysed the tasks each time: an index
    without statistics, such as the often empty one of closed tasks, always asks for them.)"""
    if _last_task(db).bit_length() == tasks_before.bit_length():
        return
    try:
        db.execute("PRAGMA analysis_limit = 1000")
        db.execute("ANALYZE")
    except sqlite3.OperationalError:  # best effort, after the commit: a busy store must not fail a stored file
        pass


def ingest_plan(db: sqlite_utils.Database, plan: Plan, sha256: str, directory=None,
                now: datetime | None = None, replaces: int | str | None = None,
                notices: Callable | None = None, example: bool = False) -> IngestResult:
    """Store one parsed document, or a new version of a stored one; all or nothing.

    For a new version, `notices(db, title, version, diff, old_snaps, new_snaps)` returns outbox
    messages (change notices) that are queued in the same transaction. A file whose content (but for
    spacing, widths and punctuation) equals the current version is "unchanged". `example` marks the
    bundled example plan; any other document, once stored, retires the examples (see warnings).
    """
    now = now or datetime.now(TZ)
    plan = canonical_plan(plan)  # the names the store keeps (国家发展改革委 for a State Council plan's 发展改革委)
    directory = directory if directory is not None else plan.directory  # the one the plan was read by
    row = documents.known_file(db, sha256)
    if row:
        return _known_file(db, plan, row)
    tasks_before = _last_task(db)
    with db.atomic():
        if directory is not None:
            sync_directory(db, directory)
        doc = find_document(db, plan, replaces)
        if doc and doc[1] == 0:  # archived (no current version): it comes back, then takes the new one
            documents.restore(db, doc[0])
            doc = db.execute("SELECT id, current_version FROM documents WHERE id = ?", [doc[0]]).fetchone()
        # the current version's tasks and the new ones, read once for every check and the match below
        old_snaps, new_snaps = (versions.snaps_of_version(db, *doc), versions.snaps_of_plan(plan)) if doc else ([], [])
        if doc and versions.fingerprint(old_snaps) == versions.fingerprint(new_snaps):
            # the same plan from another format or re-spaced: no new version, nothing to tell anyone
            documents.record_same_content(db, sha256, doc[0], doc[1], plan.source_name, now)
            n, m = db.execute("SELECT count(DISTINCT t.id), count(m.id) FROM tasks t LEFT JOIN milestones m"
                              " ON m.task_id = t.id WHERE t.document_id=? AND t.version=?", doc).fetchone()
            return IngestResult(doc[0], doc[1], "unchanged", plan.title, n, m, plan.warnings)
        carried: dict = {}
        diff = None
        if doc:
            doc_id, version, status = doc[0], doc[1] + 1, "new_version"
            carried, diff, title = _next_version(db, plan, doc, old_snaps, new_snaps, replaces)
        else:
            doc_id = db.execute("INSERT INTO documents (title, doc_number, year, current_version, created_at)"
                                " VALUES (?,?,?,1,?)", [plan.title, plan.doc_number, plan.year,
                                                        now.isoformat(timespec="seconds")]).lastrowid
            version, status = 1, "new"
        n_ms = _store_version(db, plan, doc_id, version, sha256, now, carried)
        if doc:
            review.reapply_extensions(db, doc_id)  # approved 延期 outlive a revision that keeps the milestone
        due_index.reindex(db, document_id=doc_id)  # the old version's rows out, the new one's in
        if example:
            documents.mark_example(db, doc_id)
        notes = [] if example else documents.retire_examples(db, doc_id, now)
        if doc:
            cancel_stale_reminders(db)
            if notices and (diff["added"] or diff["withdrawn"] or diff["changed"]):
                enqueue(db, notices(db, title, version, diff, old_snaps, new_snaps), now)
    _refresh_statistics(db, tasks_before)
    return IngestResult(doc_id, version, status, plan.title, len(plan.tasks), n_ms, notes + plan.warnings, diff)


def _known_file(db: sqlite_utils.Database, plan: Plan, row) -> IngestResult:
    """A file stored before (by its bytes): a removed document comes back; nothing else changes."""
    with db.atomic():
        documents.restore(db, row[0])
    n = db.execute("SELECT count(*) FROM tasks WHERE document_id=? AND version=?", row).fetchone()[0]
    m = db.execute("SELECT count(*) FROM milestones JOIN tasks ON tasks.id = milestones.task_id"
                   " WHERE document_id=? AND version=?", row).fetchone()[0]
    return IngestResult(row[0], row[1], "unchanged", plan.title, n, m, plan.warnings)


def _next_version(db: sqlite_utils.Database, plan: Plan, doc, old_snaps, new_snaps, replaces):
    """(carried task ids and states, the diff, the title) of a stored document's next version, its row moved
    on; VersionRejected for a file that does not look like one (unless `replaces` says it is)."""
    doc_id = doc[0]
    if replaces is None:  # checked before matching tasks: a wild file must not cost a long match
        wild = departure.refusal(old_snaps, new_snaps)
        if wild:
            raise VersionRejected(f"该文件不像《{plan.title}》的新版本：{wild}。"
                                  f"确属新版本请用 duban ingest 文件 --replaces {doc_id}")
    carried, diff = _carry_over(db, old_snaps, new_snaps)
    gone = len(diff["withdrawn"])
    if replaces is None and gone >= 5 and gone * 2 > len(old_snaps):
        # a cut-short or wrong file must not silently withdraw most of a plan
        raise VersionRejected(
            f"该文件若作为《{plan.title}》的新版本，将撤销现有 {len(old_snaps)} 项任务中的 {gone} 项"
            f"（只识别出 {len(plan.tasks)} 项）。文件可能不完整；确属新版本请用 duban ingest 文件 --replaces {doc_id}")
    title = plan.title if plan.titled else db.execute("SELECT title FROM documents WHERE id=?",
                                                       [doc_id]).fetchone()[0]
    db.execute("UPDATE documents SET current_version=?, title=?, doc_number=?, year=? WHERE id=?",
               [doc[1] + 1, title, plan.doc_number, plan.year, doc_id])
    return carried, diff, title


def _store_version(db: sqlite_utils.Database, plan: Plan, doc_id: int, version: int, sha256: str,
                   now: datetime, carried: dict) -> int:
    """The version's row, its tasks (with the ids and states carried over), new units and aliases; the
    number of milestones stored."""
    db.execute("INSERT INTO versions (document_id, version, source_name, sha256, ingested_at,"
               " declared_task_count, warnings) VALUES (?,?,?,?,?,?,?)",
               [doc_id, version, plan.source_name, sha256, now.isoformat(timespec="seconds"),
                plan.declared_task_count, json.dumps(plan.warnings, ensure_ascii=False)])
    n_ms = 0
    for j, t in enumerate(plan.tasks):
        uid, st = carried.get(j, (None, None))
        n_ms += _insert_task(db, doc_id, version, t, uid, st)[1]
    for u in plan.unknown_units:
        db.execute("INSERT OR IGNORE INTO units (name, kind, known) VALUES (?, 'unknown', 0)", [u])
    add_aliases(db, plan_aliases(plan))
    return n_ms
