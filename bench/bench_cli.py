"""Cold start of the command line: each command in a fresh process, as an official or a script runs it.

    python bench/bench_cli.py [--runs 7]

Timed (wall clock, median of --runs fresh processes each, through the installed `duban` entry point):
  `duban --help`; `duban parse` of the seed plan (.txt, table output); `duban ask` on a store holding the seed
  plan, one question of each kind that reads differently (第N项 and its lead unit, a unit's due list, a topic,
  the figures/完成率, 文件列表, 长期坚持, a question in Chinese numerals) — so segmenter, number reading and the
  store's queries are all loaded when a question needs them.
Included: interpreter start-up, imports, reading settings and the store, the answer and its printing.
Excluded: building the store (once, before timing), the first run of each command (it writes the .pyc files).
Baseline in the same run: `python -c pass` with the same interpreter (the floor no command can go below).
Targets (issue 16): --help ≤ 0.15 s, parse ≤ 0.3 s, every ask ≤ 0.5 s (OK / OVER TARGET per line).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seed" / "shaoyang_rectification_plan.txt"
DUBAN = str(Path(sys.executable).with_name("duban"))
QUESTIONS = ("第十三项谁牵头", "我单位哪些任务即将到期", "环保督察相关的任务有哪些", "污水处理的任务有哪些", "完成率", "文件列表",
             "长期坚持的任务", "第三项什么时候到期")
TARGETS = {"help": 0.15, "parse": 0.30, "ask": 0.50}


def cold(argv: list[str], runs: int, env: dict) -> float:
    """Median wall time of `runs` fresh processes (one unmeasured run first: .pyc files, page cache)."""
    subprocess.run(argv, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # a real install has the .pyc files (pip compiles them); let the unmeasured first run write them here too
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"DUBAN_DB": os.path.join(tmp, "duban.db"), "DUBAN_CONFIG": os.path.join(tmp, "none.toml")}
        subprocess.run([DUBAN, "ingest", str(SEED)], env=env, capture_output=True, check=True)
        base = cold([sys.executable, "-c", "pass"], args.runs, env)
        rows = [("help", "duban --help", cold([DUBAN, "--help"], args.runs, env)),
                ("parse", "duban parse seed.txt", cold([DUBAN, "parse", str(SEED)], args.runs, env))]
        for q in QUESTIONS:
            argv = [DUBAN, "ask", "--as", "市发展改革委", "--today", "2026-06-01", q]
            rows.append(("ask", f"duban ask {q}", cold(argv, args.runs, env)))
    print(f"baseline python -c pass: {base * 1000:.0f} ms (median of {args.runs})")
    worst = True
    for kind, label, t in rows:
        ok = t <= TARGETS[kind]
        worst &= ok
        print(f"{label:<34} {t * 1000:6.0f} ms  {t / base:5.1f}× baseline  target ≤ {TARGETS[kind] * 1000:.0f} ms "
              f"{'OK' if ok else 'OVER TARGET'}")
    print("all within target" if worst else "OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
