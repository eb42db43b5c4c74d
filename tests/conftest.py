"""Shared fixtures: the ../shared folder, the scorer, the gold, and `duban parse --json` results
cached for the whole session (the PDFs take a few seconds each, so every file is parsed once)."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures"
SEED_TXT = SHARED / "seed" / "shaoyang_rectification_plan.txt"
GOLD_SEED = SHARED / "gold" / "seed_tasks.json"

SEED_FORMATS = {
    "txt": SEED_TXT,
    "docx": FIXTURES / "seed" / "shaoyang_plan.docx",
    "pdf": FIXTURES / "seed" / "shaoyang_plan.pdf",
}
TABLE_FORMATS = {
    "table_docx": FIXTURES / "table" / "shaoyang_list_table.docx",
    "table_pdf": FIXTURES / "table" / "shaoyang_list_table.pdf",
}
ALL_FORMATS = {**SEED_FORMATS, **TABLE_FORMATS}

_PARSED: dict[tuple, dict] = {}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`duban ARGV` in-process: (exit code, stdout, stderr)."""
    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse errors
            code = e.code if isinstance(e.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def copy_store(source: Path, target: Path) -> Path:
    """A store copied as an operator would (`duban backup`): complete even while it is open elsewhere, its
    write-ahead log not yet checkpointed into the file."""
    from knowledge.backup import backup

    backup(Path(source), Path(target))
    return Path(target)


def store_content(path: Path) -> str:
    """Everything a store holds (schema and rows, its write-ahead log included), to tell "unchanged"."""
    import hashlib
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def parse_json(path: Path | str, *extra: str) -> dict:
    """`duban parse PATH --json [EXTRA]` in-process, parsed once per session per argument list."""
    key = (str(path), *extra)
    if key not in _PARSED:
        code, out, err = run_cli(["parse", str(path), "--json", *extra])
        assert code == 0, f"duban parse {path} failed ({code}): {err}"
        _PARSED[key] = json.loads(out)
    return _PARSED[key]


def load_scorer():
    spec = importlib.util.spec_from_file_location("duban_shared_score", SHARED / "tools" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task_key(t: dict) -> str:
    """list-7 / body-（一）1: the same key the product uses (Task.key)."""
    return f"{t['section']}-{t['number']}"


def gold_key(t: dict) -> str:
    return f"{t['section']}-{t['number']}"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not available at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def scorer(shared):
    return load_scorer()


@pytest.fixture(scope="session")
def seed_gold(shared) -> dict:
    return json.loads(GOLD_SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def gold_by_key(seed_gold) -> dict[str, dict]:
    return {gold_key(t): t for t in seed_gold["tasks"]}
