"""Ingest speed on the seed plan, against the cost of merely reading the PDF.

    python bench/bench_ingest.py [--runs 3] [--txt-repeat 20]

(a) raw pdfplumber: open the seed PDF and extract_text() every page (median of --runs);
(b) our full ingest of the same PDF (median of --runs): parse_document (PDFium reads the
    characters, pdfplumber only pages with ruled tables, which the seed has none of; lines,
    paragraphs, tasks, dates, units) + ingest_plan into a fresh temporary SQLite file, and the
    ratio (b)/(a), target <= 0.35x. Not timed: imports, loading the unit directory, creating the
    empty database, and one warm-up of each side (pdfminer's and PDFium's font caches);
(c) .txt parse throughput over the seed text (--txt-repeat parses): KB/s and tasks/s;
(d) .docx parse time of the seed Word file (median of --runs).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from timing import timed  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
SEED_PDF = SHARED / "fixtures" / "seed" / "shaoyang_plan.pdf"
SEED_DOCX = SHARED / "fixtures" / "seed" / "shaoyang_plan.docx"
SEED_TXT = SHARED / "seed" / "shaoyang_rectification_plan.txt"
TARGET_RATIO = 0.35




def raw_pdfplumber(data: bytes) -> int:
    import io

    import pdfplumber

    chars = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            chars += len(page.extract_text() or "")
    return chars


def full_ingest(data: bytes, name: str, directory) -> tuple[float, float, object]:
    """(parse seconds, store seconds, IngestResult) into a fresh temporary database file."""
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of
    from parser import parse_document

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        plan = parse_document(data, name, directory=directory)
        t1 = time.perf_counter()
        result = ingest_plan(db, plan, sha256_of(data), directory=directory)
        t2 = time.perf_counter()
        db.conn.close()
    return t1 - t0, t2 - t1, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--txt-repeat", type=int, default=20)
    args = ap.parse_args()
    for path in (SEED_PDF, SEED_DOCX, SEED_TXT):
        if not path.exists():
            print(f"missing {path}", file=sys.stderr)
            return 2

    from parser import parse_document
    from parser import UnitDirectory

    directory = UnitDirectory.load()
    pdf = SEED_PDF.read_bytes()
    parse_document(SEED_TXT.read_bytes(), SEED_TXT.name, directory=directory)  # warm imports and caches
    raw_pdfplumber(pdf)  # warm each side's font caches: pdfminer's here, PDFium's in the ingest
    full_ingest(pdf, SEED_PDF.name, directory)

    # interleaved, so that load from other processes hits both sides alike
    raws, runs = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        chars = raw_pdfplumber(pdf)
        raws.append(time.perf_counter() - start)
        runs.append(full_ingest(pdf, SEED_PDF.name, directory))
    raw_s = statistics.median(raws)
    totals = [p + s for p, s, _ in runs]
    full_s = statistics.median(totals)
    parse_s = statistics.median(p for p, _, _ in runs)
    store_s = statistics.median(s for _, s, _ in runs)
    pair_ratio = statistics.median(t / r for t, r in zip(totals, raws))
    result = runs[-1][2]

    txt = SEED_TXT.read_bytes()
    start = time.perf_counter()
    for _ in range(args.txt_repeat):
        plan = parse_document(txt, SEED_TXT.name, directory=directory)
    txt_total = time.perf_counter() - start
    txt_each = txt_total / args.txt_repeat

    docx = SEED_DOCX.read_bytes()
    docx_s, docx_plan = timed(lambda: parse_document(docx, SEED_DOCX.name, directory=directory), args.runs)

    ratio = full_s / raw_s
    rows = [
        ("(a) pdfplumber extract_text, 52 pages", f"{raw_s:.3f} s", f"{chars} chars"),
        ("(b) full PDF ingest (parse + store)", f"{full_s:.3f} s",
         f"parse {parse_s:.3f} s + store {store_s:.3f} s; {result.tasks} tasks, {result.milestones} milestones"),
        ("(c) .txt parse", f"{txt_each * 1000:.1f} ms",
         f"{len(txt) / 1024 / txt_each:,.0f} KB/s, {len(plan.tasks) / txt_each:,.0f} tasks/s "
         f"({args.txt_repeat} x {len(txt) / 1024:.1f} KB)"),
        ("(d) .docx parse", f"{docx_s:.3f} s", f"{len(docx_plan.tasks)} tasks"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"seed plan benchmark (median of {args.runs} runs)")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>9}  {note}")
    verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"  ratio full ingest / raw pdfplumber: {ratio:.2f}x (target <= {TARGET_RATIO}x) {verdict}")
    print(f"  ratio parse only / raw pdfplumber:  {parse_s / raw_s:.2f}x;"
          f" median of per-run ratios {pair_ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
