"""Answer latency over a large store: p50/p90/p99/max of Conversation.handle on >= 50k milestones.

    python bench/bench_answer.py [--batches 900] [--answers 2000] [--budget 45] [--warmup-budget 20] [--profile]

The store: the seed plan (38 tasks, 57 milestones) parsed once, then ingested --batches times through
knowledge.ingest.ingest_plan as separate documents ("邵阳市…整改方案（第N批）"). Each batch shifts every
due date by a whole number of months (-36..+35) so dates spread over several years, rewrites the years
in the milestone / deadline texts to match, and tags task titles with its batch (otherwise ingest would
take a retitled copy for a new *version* of the same plan: _same_content matches on task titles).
Milestones more than 180 days before TODAY are marked done (progress reported), as in a store in use.
The built file is cached under /tmp, keyed by a hash of this generator and of the seed text.

Then: jieba's first load (reported on its own), one warm-up pass over the questions (cut off after
--warmup-budget seconds), and timed answers (Conversation.handle(Turn("local", "local", q, as_unit=U))) cycling through the mix of
questions x asker units until --answers answers or --budget seconds, whichever comes first.
Baseline measured in the same run: answer_question on a store holding only the seed plan.
Target: p99 <= 5 ms on the large store. --profile prints a cProfile of one pass over the mix.
"""
from __future__ import annotations

import argparse
import copy
import cProfile
import hashlib
import inspect
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
SEED_TXT = SHARED / "seed" / "shaoyang_rectification_plan.txt"
TARGET_P99_MS = 5.0
TODAY = date(2025, 6, 16)  # a Monday
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
DONE_BEFORE = TODAY - timedelta(days=180)

QUESTIONS = [
    "我单位哪些任务即将到期", "有哪些逾期任务", "发改委下个月到期的任务", "本周到期的任务", "第十三项谁牵头",
    "第13项整改时限", "长阳矿区的整改时限", "蔡锷乡垃圾填埋场的整改要求", "邵阳县30天内到期", "帮助",
    "我单位有哪些任务", "市生态环境局牵头的任务", "全市逾期任务", "今年年底前到期的任务", "第5项是什么",
    "尾矿库治理什么时候完成", "我单位本月到期的任务", "自然资源局有哪些逾期任务", "污水处理厂的责任单位",
    "第二十项督办领导是谁", "下周到期", "天气怎么样", "市环保厅有哪些任务", "正文（一）1的整改措施",
]
UNITS = ["市生态环境局", "邵阳县", "市发展和改革委员会", "市自然资源和规划局", "市农业农村局", "邵阳经开区"]


# ---- the store ---------------------------------------------------------------------------------

def _shift_months(d: date, months: int) -> date:
    import calendar

    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = calendar.monthrange(y, m)[1]
    end_of_month = d.day == calendar.monthrange(d.year, d.month)[1]
    return date(y, m, last if end_of_month else min(d.day, last))


def _years(text: str | None, dy: int) -> str | None:
    if not text or not dy:
        return text
    return re.sub(r"(20\d\d)年", lambda m: f"{int(m.group(1)) + dy}年", text)


def variant(plan, n: int):
    """Batch n of the seed plan: its own title, task titles tagged, dates shifted by months."""
    p = copy.deepcopy(plan)
    months = (n * 37) % 72 - 36
    p.title = f"邵阳市第二轮中央生态环境保护督察反馈问题整改方案（第{n}批）"
    p.titled = True
    p.source_name = f"batch_{n:04d}.txt"
    for t in p.tasks:
        t.title = f"{t.title}（第{n}批）"
        t.deadline_text = _years(t.deadline_text, round(months / 12))
        for m in t.milestones:
            new = _shift_months(m.due, months)
            m.text = _years(m.text, new.year - m.due.year)
            m.due = new
            m.done = m.done or new < DONE_BEFORE
    return p


def build_store(path: Path, batches: int, directory) -> tuple[int, int, float]:
    """(documents, milestones, seconds) of a fresh store at `path`."""
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document

    start = time.perf_counter()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = open_db(tmp)
    db.execute("PRAGMA synchronous = OFF")  # a throwaway file: no fsync per ingested document
    db.execute("PRAGMA journal_mode = MEMORY")
    plan = parse_document(SEED_TXT.read_bytes(), SEED_TXT.name, directory=directory)
    for n in range(1, batches + 1):
        p = variant(plan, n)
        ingest_plan(db, p, sha256_of(f"{n}|{SEED_TXT.name}".encode()), directory=directory if n == 1 else None,
                    now=NOW)
        if n % 100 == 0:
            print(f"  … {n}/{batches} batches, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    db.execute("ANALYZE")
    docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    ms = db.execute("SELECT count(*) FROM milestones").fetchone()[0]
    db.conn.commit()
    db.conn.close()
    os.replace(tmp, path)
    return docs, ms, time.perf_counter() - start


def cached_store(batches: int, directory) -> tuple[Path, str]:
    key = hashlib.sha256()
    for fn in (_shift_months, _years, variant, build_store):
        key.update(inspect.getsource(fn).encode())
    key.update(SEED_TXT.read_bytes())
    key.update(f"{batches}|{TODAY}".encode())
    path = Path(tempfile.gettempdir()) / f"duban_bench_answer_{key.hexdigest()[:12]}.db"
    if path.exists():
        return path, "cached"
    print(f"building {path} ({batches} batches) …", file=sys.stderr)
    docs, ms, secs = build_store(path, batches, directory)
    return path, f"built in {secs:.1f} s"


def seed_store(directory) -> Path:
    """The seed plan alone (the baseline store), in a temporary file."""
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document

    data = SEED_TXT.read_bytes()
    path = Path(tempfile.mkdtemp(prefix="duban_bench_")) / "seed.db"
    db = open_db(path)
    ingest_plan(db, parse_document(data, SEED_TXT.name, directory=directory), sha256_of(data), directory=directory,
                now=NOW)
    db.conn.close()
    return path


# ---- timing ------------------------------------------------------------------------------------

def conversation(path: Path, directory):
    from bot.conversation import Conversation
    from knowledge.db import open_db

    return Conversation(open_db(path), directory, today=lambda: TODAY, now=lambda: NOW)


def mix() -> list[tuple[str, str]]:
    """Every question with every asker unit, interleaved so consecutive answers differ."""
    return [(q, UNITS[(i + j) % len(UNITS)]) for j in range(len(UNITS)) for i, q in enumerate(QUESTIONS)]


def timed_answers(conv, pairs, answers: int, budget: float) -> tuple[list[float], dict[str, list[float]], bool]:
    """Latencies in ms, per-question latencies, and whether the time budget cut the run short."""
    from bot.conversation import Turn

    lat, per_q = [], {}
    deadline = time.perf_counter() + budget
    i = 0
    while len(lat) < answers:
        q, unit = pairs[i % len(pairs)]
        i += 1
        turn = Turn("local", "local", q, as_unit=unit)
        conv._answers.clear()  # time the answer itself, not the conversation's answer cache
        t0 = time.perf_counter()
        conv.handle(turn)
        ms = (time.perf_counter() - t0) * 1000
        lat.append(ms)
        per_q.setdefault(q, []).append(ms)
        if t0 > deadline:
            return lat, per_q, True
    return lat, per_q, False


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def fixed_costs(conv) -> list[tuple[str, float]]:
    """What answer_question does before looking at the question, timed on its own (ms)."""
    from knowledge import queries
    from knowledge.directory import known_unit_names

    def med(fn):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times), out

    ms_tasks, _ = med(lambda: queries.has_tasks(conv.db))
    ms_names, names = med(lambda: sorted(set(known_unit_names(conv.db)) | set(conv.directory.all_names())))
    return [("queries.has_tasks(db), the no-data guard in answer_question", ms_tasks),
            (f"known_unit_names(db) | directory.all_names(), sorted: {len(names)} names", ms_names)]


def profile_pass(conv, pairs, top: int = 25) -> str:
    from bot.conversation import Turn

    prof = cProfile.Profile()
    prof.enable()
    for q, unit in pairs:
        conv.handle(Turn("local", "local", q, as_unit=unit))
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=900, help="seed copies in the large store (57 milestones each)")
    ap.add_argument("--answers", type=int, default=2000, help="timed answers on the large store")
    ap.add_argument("--budget", type=float, default=45.0, help="seconds of timed answers at most")
    ap.add_argument("--warmup-budget", type=float, default=20.0, help="seconds of warm-up per store at most")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one pass over the mix")
    args = ap.parse_args()
    if not SEED_TXT.exists():
        print(f"missing {SEED_TXT}", file=sys.stderr)
        return 2

    from parser import UnitDirectory

    directory = UnitDirectory.load()
    big_path, how = cached_store(args.batches, directory)
    from bot.intent import preload

    t0 = time.perf_counter()
    preload()  # as the server does at start-up: jieba loaded, start-up heap frozen for the collector
    jieba_s = time.perf_counter() - t0

    pairs = mix()
    base = conversation(seed_store(directory), directory)
    big = conversation(big_path, directory)
    counts = big.db.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM tasks),"
                            " (SELECT count(*) FROM milestones), (SELECT count(*) FROM milestones WHERE done = 0)"
                            ).fetchone()

    from bot.conversation import Turn

    t0 = time.perf_counter()
    warmed = 0
    for conv in (base, big):  # warm-up: jieba's user words, lru caches, SQLite page cache
        stop = time.perf_counter() + args.warmup_budget
        for i, q in enumerate(QUESTIONS):
            conv.handle(Turn("local", "local", q, as_unit=UNITS[i % len(UNITS)]))
            warmed += conv is big
            if time.perf_counter() > stop:
                break
    warm_s = time.perf_counter() - t0
    fixed = fixed_costs(big)

    base_lat, _, _ = timed_answers(base, pairs, len(pairs) * 4, args.budget)
    lat, per_q, cut = timed_answers(big, pairs, args.answers, args.budget)

    def row(name, values):
        return (f"  {name:<40} {len(values):>6} {statistics.median(values):>8.2f} {pct(values, 90):>8.2f}"
                f" {pct(values, 99):>8.2f} {max(values):>8.2f}")

    print(f"answer latency, Conversation.handle, today {TODAY} ({len(QUESTIONS)} questions x {len(UNITS)} units)")
    print(f"  large store: {counts[0]} documents, {counts[1]} tasks, {counts[2]} milestones ({counts[3]} open);"
          f" {big_path.name} {how}")
    print(f"  jieba first load + gc.freeze {jieba_s:.2f} s (excluded); warm-up pass over both stores {warm_s:.1f} s"
          f" ({warmed}/{len(QUESTIONS)} questions on the large store within --warmup-budget)")
    print(f"  {'store':<40} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(row("baseline: seed plan only (57 milestones)", base_lat))
    print(row(f"large store ({counts[2]} milestones)", lat))
    if cut:
        print(f"  (time budget of {args.budget:.0f} s reached after {len(lat)} answers; --answers {args.answers})")
    p99 = pct(lat, 99)
    verdict = "OK" if p99 <= TARGET_P99_MS else "OVER TARGET"
    print(f"  p99 large store: {p99:.2f} ms (target <= {TARGET_P99_MS} ms) {verdict};"
          f" ratio p50 large/seed {statistics.median(lat) / statistics.median(base_lat):.1f}x")
    slow = sorted(per_q.items(), key=lambda kv: -statistics.median(kv[1]))
    print("  slowest questions on the large store (median ms):")
    for q, v in slow[:6]:
        print(f"    {statistics.median(v):>9.2f}  {q}")
    print(f"    {statistics.median(slow[-1][1]):>9.2f}  {slow[-1][0]}  (fastest)")
    print("  paid by every answer on the large store (median of 3):")
    for name, ms in fixed:
        print(f"    {ms:>9.2f}  {name}")
    if args.profile:
        print(profile_pass(big, [(q, UNITS[i % len(UNITS)]) for i, q in enumerate(QUESTIONS)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
