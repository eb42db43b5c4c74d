"""Answer latency per question kind, answer cache off, on a province's store: p50/p90/p99/max of Conversation.handle.

    python bench/bench_answer.py [--plans 1000] [--answers 6000] [--budget 60] [--warmup-budget 20] [--profile]

The store (bench/province_store.py): >= 1,000 plans varied from the seed plan and the corpus documents (units
swapped, dates shifted, tasks left out, titles tagged), some 销号, revised (a second version) and removed through
the product's own writers, a roster; built through knowledge.ingest.ingest_plan and cached under /tmp.

Included: everything Conversation.handle does for a question — the asker's unit and the store's generation, the
command check (文件列表 and 原来的… are commands), parsing the question, the store's queries, rendering the reply.
The conversation is built with cache_answers=False, so every answer is computed (officials' repeated questions
would otherwise come from memory). Excluded: jieba's first load (reported on its own), a warm-up pass over the
mix (SQLite's page cache, lru caches), the platform layer (signatures, JSON, HTTP: see bench_webhook.py).

The mix: QUESTIONS, every kind the README advertises (KINDS in bot/questions/__init__.py, plus the document
commands), each with 6 asker units, interleaved, until --answers answers or --budget seconds. The kind each
answer was given (Answer.intent) is printed next to its group, so a question that drifts to another kind shows.
Baseline measured in the same run: the same mix on a store holding only the seed plan.
Target: p99 <= 5 ms for every kind on the province store (OK / OVER TARGET per kind and overall).
--profile prints a cProfile of one pass over the mix.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import province_store  # noqa: E402
from province_store import ASKERS as UNITS, NOW, SEED_TXT, TODAY  # noqa: E402

TARGET_P99_MS = 5.0
QUESTIONS = [  # (group, question): every advertised kind
    ("due soon", "我单位哪些任务即将到期"), ("due soon", "最近要完成什么"),
    ("due in a window", "发改委下个月到期的任务"), ("due in a window", "本周到期的任务"),
    ("due in a window", "邵阳县30天内到期"), ("due in a window", "今年年底前到期的任务"),
    ("due in a window", "上半年到期的任务"), ("due in a window", "我单位本月到期的任务"),
    ("overdue", "有哪些逾期任务"), ("overdue", "全市逾期任务"), ("overdue", "自然资源局有哪些逾期任务"),
    ("第N项", "第十三项谁牵头"), ("第N项", "第13项整改时限"), ("第N项", "第5项是什么"), ("第N项", "正文（一）1的整改措施"),
    ("第N项", "2-13谁牵头"), ("第N项", "第13、14项"), ("第N项", "第二十项督办领导是谁"),
    ("topic", "长阳矿区的整改时限"), ("topic", "蔡锷乡垃圾填埋场的整改要求"), ("topic", "尾矿库治理什么时候完成"),
    ("topic", "污水处理厂的责任单位"), ("topic", "农机装备"), ("topic", "推进农业机械化的任务"),
    ("roles", "市生态环境局牵头的任务"), ("roles", "我单位配合的任务"), ("roles", "发改委牵头的任务什么时候到期"),
    ("督办领导", "市长督办的任务"), ("督办领导", "分管发展和改革工作的副市长督办的任务"),
    ("counts, 完成率", "我单位一共有几项任务"), ("counts, 完成率", "全市一共有几项任务"), ("counts, 完成率", "完成率"),
    ("counts, 完成率", "发改委完成情况"),
    ("长期坚持", "长期坚持的任务"), ("长期坚持", "全市长期坚持的任务"),
    ("已销号", "已销号的任务"), ("已销号", "全市已销号的任务"),
    ("unit's tasks", "我单位有哪些任务"), ("unit's tasks", "市环保厅有哪些任务"),
    ("contacts", "发改委的联络员是谁"), ("contacts", "市生态环境局联系电话"),
    ("文件列表", "文件列表"),
    ("versions", "第七项原来的整改时限是什么"), ("versions", "3-7原来的整改时限"),
    ("help, unknown", "帮助"), ("help, unknown", "天气怎么样"), ("help, unknown", "What is overdue?"),
]


# ---- the stores --------------------------------------------------------------------------------

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

    return Conversation(open_db(path), directory, today=lambda: TODAY, now=lambda: NOW, cache_answers=False)


def mix() -> list[tuple[str, str, str]]:
    """(group, question, asker) for every question with every asker unit, interleaved so consecutive answers differ."""
    return [(g, q, UNITS[(i + j) % len(UNITS)]) for j in range(len(UNITS)) for i, (g, q) in enumerate(QUESTIONS)]


def timed_answers(conv, triples, answers: int, budget: float) -> tuple[dict[str, list[float]], dict[str, set], bool]:
    """Latencies in ms per group, the kinds each group was answered as, and whether the budget cut the run short."""
    from bot.conversation import Turn

    per_group: dict[str, list[float]] = {}
    kinds: dict[str, set] = {}
    deadline = time.perf_counter() + budget
    for i in range(answers):
        group, q, unit = triples[i % len(triples)]
        turn = Turn("local", "local", q, as_unit=unit)
        t0 = time.perf_counter()
        answer = conv.handle(turn)
        per_group.setdefault(group, []).append((time.perf_counter() - t0) * 1000)
        kinds.setdefault(group, set()).add(answer.intent)
        if t0 > deadline:
            return per_group, kinds, True
    return per_group, kinds, False


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def profile_pass(conv, triples, top: int = 25) -> str:
    from bot.conversation import Turn

    prof = cProfile.Profile()
    prof.enable()
    for _, q, unit in triples:
        conv.handle(Turn("local", "local", q, as_unit=unit))
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def warm(conv, triples, budget: float) -> int:
    from bot.conversation import Turn

    stop, n = time.perf_counter() + budget, 0
    for _, q, unit in triples:
        conv.handle(Turn("local", "local", q, as_unit=unit))
        n += 1
        if time.perf_counter() > stop:
            break
    return n


def report(base: dict, big: dict, kinds: dict) -> bool:
    """Print one line per group; True when every group's p99 on the province store is within the target."""
    print(f"  {'kind (answered as)':<44} {'n':>5} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}"
          f" {'seed p50':>8} {'ratio':>6}  verdict")
    ok = True
    for group, _ in dict.fromkeys((g, None) for g, _ in QUESTIONS):
        v, b = big.get(group, []), base.get(group, [])
        if not v:
            print(f"  {group:<44} no answers within the budget  OVER TARGET")
            ok = False
            continue
        p99 = pct(v, 99)
        ok &= p99 <= TARGET_P99_MS
        label = f"{group} ({', '.join(sorted(kinds[group]))})"
        seed = statistics.median(b) if b else float("nan")
        print(f"  {label:<44} {len(v):>5} {statistics.median(v):>7.2f} {pct(v, 90):>7.2f} {p99:>7.2f} {max(v):>7.2f}"
              f" {seed:>8.2f} {statistics.median(v) / seed:>5.1f}x"
              f"  {'OK' if p99 <= TARGET_P99_MS else 'OVER TARGET'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=1000, help="plans in the province store")
    ap.add_argument("--answers", type=int, default=6000, help="timed answers on the province store")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of timed answers at most")
    ap.add_argument("--warmup-budget", type=float, default=20.0, help="seconds of warm-up per store at most")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one pass over the mix")
    args = ap.parse_args()
    if not SEED_TXT.exists():
        print(f"missing {SEED_TXT}", file=sys.stderr)
        return 2

    from parser import UnitDirectory

    directory = UnitDirectory.load()
    big_path, how = province_store.cached(args.plans, directory)
    from bot.intent import preload

    t0 = time.perf_counter()
    preload()  # as the server does at start-up: jieba loaded, start-up heap frozen for the collector
    jieba_s = time.perf_counter() - t0

    triples = mix()
    base = conversation(seed_store(directory), directory)
    big = conversation(big_path, directory)
    t0 = time.perf_counter()
    warm(base, triples, args.warmup_budget)
    warmed = warm(big, triples, args.warmup_budget)
    warm_s = time.perf_counter() - t0

    base_lat, _, _ = timed_answers(base, triples, len(triples) * 2, args.budget)
    lat, kinds, cut = timed_answers(big, triples, args.answers, args.budget)

    print(f"answer latency per kind, Conversation.handle with cache_answers=False, today {TODAY}"
          f" ({len(QUESTIONS)} questions x {len(UNITS)} asker units)")
    print(f"  province store: {province_store.describe(big.db)}; {big_path.name} {how}")
    print(f"  jieba first load + gc.freeze {jieba_s:.2f} s (excluded); warm-up {warm_s:.1f} s"
          f" ({warmed}/{len(triples)} answers on the province store within --warmup-budget)")
    ok = report(base_lat, lat, kinds)
    every = [x for v in lat.values() for x in v]
    if cut:
        print(f"  (time budget of {args.budget:.0f} s reached after {len(every)} answers; --answers {args.answers})")
    print(f"  all kinds: {len(every)} answers, p50 {statistics.median(every):.2f} ms, p99 {pct(every, 99):.2f} ms;"
          f" target p99 <= {TARGET_P99_MS} ms for every kind: {'OK' if ok else 'OVER TARGET'}")
    if args.profile:
        print(profile_pass(big, triples[:len(QUESTIONS)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
