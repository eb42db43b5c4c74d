"""A province-scale store for the answer and webhook benches: >= 1,000 plans that are not copies of one plan.

Seeds: the seed plan (../shared/seed, 38 tasks, 57 milestones, 督办领导) and the corpus documents
(../shared/corpus/docs, their first "# source:" line stripped), each parsed once. Plan n is a variant of one
seed — the seed plan for every third n, else the corpus documents in turn — with:
  - its own title ("…（第n批）"), and task titles tagged with n (else ingest takes it for a new *version* of
    an earlier plan: it matches documents on task titles);
  - about a tenth of its tasks left out (other numbers, other counts);
  - about a third of its units swapped for others named in the seeds (random per n), so units' shares differ;
  - every date shifted by a whole number of months (-36..+35), the years in deadline and milestone texts to
    match; milestones more than 180 days before TODAY are done (progress reported), as in a store in use.
Then, through the product's own writers: 3% of tasks 销号 (progress.add_entry "complete"), 30 plans revised once
(a new version: one task's dates moved a month), 5 plans removed (documents.archive, as `duban remove`), and a
roster of two officials per asker unit (contacts). ANALYZE at the end. The file is cached under /tmp, keyed by
a hash of this module and the seed texts.
"""
from __future__ import annotations

import copy
import calendar
import hashlib
import os
import random
import re
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_TXT = SHARED / "seed" / "shaoyang_rectification_plan.txt"
CORPUS = SHARED / "corpus" / "docs"
TODAY = date(2025, 6, 16)  # a Monday
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
DONE_BEFORE = TODAY - timedelta(days=180)
UNIT_ROLES = ("lead_units", "principal_units", "responsible_units", "cooperating_units")
ASKERS = ["市生态环境局", "邵阳县", "市发展和改革委员会", "市自然资源和规划局", "市农业农村局", "邵阳经开区"]
SEED_TITLE = "邵阳市第二轮中央生态环境保护督察反馈问题整改方案"
REVISED, REMOVED, CLOSED_SHARE = 30, 5, 0.03


def seed_files() -> list[Path]:
    return [SEED_TXT] + sorted(CORPUS.glob("*.txt"))


def _text(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw.split(b"\n", 1)[1] if raw.startswith(b"# source:") else raw


def _shift_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = calendar.monthrange(y, m)[1]
    end_of_month = d.day == calendar.monthrange(d.year, d.month)[1]
    return date(y, m, last if end_of_month else min(d.day, last))


def _years(text: str | None, dy: int) -> str | None:
    if not text or not dy:
        return text
    return re.sub(r"(20\d\d)年", lambda m: f"{int(m.group(1)) + dy}年", text)


def variant(plan, n: int, pool: list[str]):
    """Plan n: its own title, some tasks left out, some units swapped, dates shifted by months."""
    rng = random.Random(n)
    p = copy.deepcopy(plan)
    months = (n * 37) % 72 - 36
    title = SEED_TITLE if plan.source_name == SEED_TXT.name else plan.title  # the seed .txt has no title line
    p.title = f"{title}（第{n}批）"
    p.titled = True
    p.source_name = f"plan_{n:04d}.txt"
    swap = {u: rng.choice(pool) for u in pool if rng.random() < 0.33}
    keep = [t for t in p.tasks if rng.random() >= 0.1] or p.tasks[:1]
    p.tasks = keep
    for t in p.tasks:
        t.title = f"{t.title}（第{n}批）"
        t.deadline_text = _years(t.deadline_text, round(months / 12))
        for role in UNIT_ROLES:
            setattr(t, role, list(dict.fromkeys(swap.get(u, u) for u in getattr(t, role) or [])))
        for m in t.milestones:
            new = _shift_months(m.due, months)
            m.text = _years(m.text, new.year - m.due.year)
            m.due = new
            m.done = m.done or new < DONE_BEFORE
            m.units = list(dict.fromkeys(swap.get(u, u) for u in m.units))
    return p


def _revised(plan):
    """The same plan with one dated task's milestones a month later: a new version."""
    p = copy.deepcopy(plan)
    p.source_name = p.source_name.replace(".txt", "_rev.txt")
    for t in p.tasks:
        if t.milestones:
            for m in t.milestones:
                m.due = _shift_months(m.due, 1)
            t.deadline_text = f"{t.deadline_text or ''}（顺延一个月）"
            break
    return p


def build(path: Path, plans: int, directory) -> tuple[int, float]:
    """Write the store to `path`; (documents, seconds)."""
    from knowledge import documents, people, progress
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document

    start = time.perf_counter()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = open_db(tmp)
    db.execute("PRAGMA synchronous = OFF")  # a throwaway file: no fsync per ingested document
    db.execute("PRAGMA journal_mode = MEMORY")
    seeds = [parse_document(_text(f), f.name, directory=directory) for f in seed_files()]
    pool = sorted({u for s in seeds for t in s.tasks for r in UNIT_ROLES for u in getattr(t, r) or []})
    made = {}
    for n in range(1, plans + 1):
        base = seeds[0] if n % 3 == 0 else seeds[1 + (n - n // 3) % (len(seeds) - 1)]
        p = made[n] = variant(base, n, pool)
        ingest_plan(db, p, sha256_of(f"{n}|{p.source_name}".encode()), directory=directory if n == 1 else None,
                    now=NOW)
        if n % 100 == 0:
            print(f"  … {n}/{plans} plans, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    rng = random.Random(0)
    for n in rng.sample(sorted(n for n in made if n % 3 == 0), REVISED):
        ingest_plan(db, _revised(made[n]), sha256_of(f"{n}|rev".encode()), now=NOW)
    open_ids = [r[0] for r in db.execute(
        "SELECT t.id FROM tasks t JOIN documents d ON d.id = t.document_id AND d.current_version = t.version"
        " WHERE t.status = 'open' ORDER BY t.id")]
    for task_id in rng.sample(open_ids, int(len(open_ids) * CLOSED_SHARE)):
        progress.add_entry(db, task_id, "complete", "已完成整改，验收合格", unit=None, official="督办办",
                           platform="local", user_id="bench", at=NOW)
    for doc_id in rng.sample(range(2, plans), REMOVED):
        documents.archive(db, doc_id, at=NOW, by="bench")
    people.replace_roster(db, [{"name": f"{unit}{who}", "unit": unit, "role": role, "mobile": "13800000000"}
                               for unit in ASKERS for who, role in (("甲", "负责人"), ("乙", "联络员"))])
    db.execute("ANALYZE")
    docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    db.conn.commit()
    db.conn.close()
    os.replace(tmp, path)
    return docs, time.perf_counter() - start


def cached(plans: int, directory) -> tuple[Path, str]:
    """The store's file under /tmp (built on first use) and how it was had."""
    key = hashlib.sha256(Path(__file__).read_bytes())
    for f in seed_files():
        key.update(f.read_bytes())
    key.update(f"{plans}|{TODAY}".encode())
    path = Path(tempfile.gettempdir()) / f"duban_bench_province_{key.hexdigest()[:12]}.db"
    if path.exists():
        return path, "cached"
    print(f"building {path} ({plans} plans) …", file=sys.stderr)
    _, secs = build(path, plans, directory)
    return path, f"built in {secs:.0f} s"


def describe(db) -> str:
    row = db.execute("SELECT (SELECT count(*) FROM documents WHERE current_version > 0),"
                     " (SELECT count(*) FROM documents WHERE current_version > 1),"
                     " (SELECT count(*) FROM documents WHERE current_version = 0),"
                     " (SELECT count(*) FROM tasks t JOIN documents d ON d.id = t.document_id"
                     "  AND d.current_version = t.version), (SELECT count(*) FROM milestones),"
                     " (SELECT count(DISTINCT unit) FROM assignments), (SELECT count(*) FROM tasks"
                     "  WHERE status = 'completed')").fetchone()
    return (f"{row[0]} plans ({row[1]} revised, {row[2]} more removed), {row[3]} current tasks, {row[4]} milestones,"
            f" {row[5]} units, {row[6]} tasks 销号")
