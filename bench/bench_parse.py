"""Parse time per page of the corpus and the seed PDF, against an earlier revision of the parser in the same run.

    python bench/bench_parse.py [--base REV] [--runs 5]

Includes: `parse_document` of the 11 corpus texts (../shared/corpus/docs, the source line removed) and of the
seed PDF (../shared/fixtures/seed/shaoyang_plan.pdf), from bytes to a Plan, in a fresh process per revision.
A page is 1,800 characters of text for the .txt files and a real page for the PDF. The baseline is the
revision --base (default: the first commit of this file's parent history that has no parser/task_levels.py,
i.e. the parser before it read other issuers' plans), checked out with `git worktree` into a temporary folder.
Excludes: storing (see bench_ingest.py), imports and process start-up (timed separately, not counted).
Target: the current parser within 1.10x of the baseline's time per page, on the documents both read
(a document the baseline refuses costs it nothing and is left out of both sums).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGET = 1.10
PAGE_CHARS = 1800

# run inside each revision's tree: print {"name": [seconds per run] or null} as JSON
_PROBE = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from parser.plan import parse_document
runs = int(sys.argv[2]); out = {}
for spec in json.loads(sys.argv[3]):
    data = Path(spec["path"]).read_bytes()
    if spec["strip_source"]:
        data = data.split(b"\n", 1)[1]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        try:
            parse_document(data, Path(spec["path"]).name)
        except Exception:
            times = None
            break
        times.append(time.perf_counter() - t)
    out[spec["name"]] = times
print(json.dumps(out))
"""


def _documents() -> list[dict]:
    docs = [{"name": p.stem[:24], "path": str(p), "strip_source": True,
             "pages": max(1.0, len(p.read_text(encoding="utf-8")) / PAGE_CHARS)}
            for p in sorted((SHARED / "corpus" / "docs").glob("*.txt"))]
    pdf = SHARED / "fixtures" / "seed" / "shaoyang_plan.pdf"
    import pdfplumber
    with pdfplumber.open(pdf) as doc:
        pages = len(doc.pages)
    docs.append({"name": "seed PDF", "path": str(pdf), "strip_source": False, "pages": float(pages)})
    return docs


def _default_base() -> str:
    rev = subprocess.run(["git", "log", "--format=%H", "--diff-filter=A", "--", "parser/task_levels.py"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return f"{rev[-1]}^" if rev else "HEAD"


def _measure(tree: Path, docs: list[dict], runs: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tree), str(runs), json.dumps(docs)],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=None)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    base = args.base or _default_base()
    docs = _documents()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), base], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            old = _measure(tree, docs, args.runs)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    new = _measure(ROOT, docs, args.runs)
    print(f"baseline {base[:12]}; median of {args.runs} runs; ms per page")
    print(f"{'document':26s} {'pages':>6s} {'base':>8s} {'now':>8s} {'ratio':>6s}")
    both_old = both_new = 0.0
    for d in docs:
        o, n = old.get(d["name"]), new.get(d["name"])
        om = statistics.median(o) * 1000 / d["pages"] if o else None
        nm = statistics.median(n) * 1000 / d["pages"] if n else None
        if om is not None and nm is not None:
            both_old += om * d["pages"]
            both_new += nm * d["pages"]
        print(f"{d['name']:26s} {d['pages']:6.1f} {('%.2f' % om) if om else 'refused':>8s} "
              f"{('%.2f' % nm) if nm else 'refused':>8s} {('%.2f' % (nm / om)) if om and nm else '':>6s}")
    ratio = both_new / both_old if both_old else float("nan")
    print(f"documents both read: {ratio:.2f}x the baseline's time (target <= {TARGET:.2f}x): "
          f"{'OK' if ratio <= TARGET else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
