"""Bounded inputs: file size and task limits, a new version that departs wildly from the current one, and an
inbox that takes regular files only (a real symlink to a file outside it is set aside unread)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.inbox import Inbox
from knowledge.db import open_db
from parser.units import UnitDirectory

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed" / "shaoyang_rectification_plan.txt"


@pytest.fixture
def inbox(tmp_path) -> Inbox:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return Inbox(folder, settle_seconds=0)


def documents(db) -> int:
    return db.execute("SELECT count(*) FROM documents").fetchone()[0]


def failed_reason(inbox: Inbox, name: str) -> str:
    [note] = (inbox.folder / "failed").glob(f"*{name}.error.txt")
    return note.read_text(encoding="utf-8")


def test_a_symlink_in_the_inbox_is_set_aside_unread(tmp_path, inbox):
    outside = tmp_path / "secret" / "plan.txt"
    outside.parent.mkdir()
    outside.write_bytes(SEED.read_bytes())
    os.symlink(outside, inbox.folder / "link.txt")
    db = open_db(tmp_path / "d.db")
    [line] = inbox.scan(db, UnitDirectory.load(), force=True)
    assert "不是普通文件" in line
    assert documents(db) == 0
    assert outside.read_bytes() == SEED.read_bytes()  # the target is neither read into the store nor moved
    assert (inbox.folder / "failed").is_dir() and not (inbox.folder / "link.txt").exists()
    assert "符号链接" in failed_reason(inbox, "link.txt")


def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path, inbox):
    """O_NOFOLLOW: even when the entry turns into a link between listing and opening."""
    from bot.input_files import read_input
    from parser.errors import DocumentError

    outside = tmp_path / "plan.txt"
    outside.write_bytes(SEED.read_bytes())
    os.symlink(outside, inbox.folder / "swapped.txt")
    with pytest.raises(DocumentError, match="符号链接"):
        read_input(inbox.folder / "swapped.txt", nofollow=True)
    assert read_input(inbox.folder / "swapped.txt")[:10] == SEED.read_bytes()[:10]  # the CLI may follow


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, inbox, monkeypatch):
    monkeypatch.setenv("DUBAN_MAX_FILE_MB", "1")
    big = inbox.folder / "big.txt"
    big.write_bytes(SEED.read_bytes() * (2 * 1024 * 1024 // len(SEED.read_bytes()) + 1))
    db = open_db(tmp_path / "d.db")
    [line] = inbox.scan(db, UnitDirectory.load(), force=True)
    assert "文件过大" in line and "上限 1 MB" in line
    assert documents(db) == 0
    code = main(["--db", str(tmp_path / "d.db"), "ingest", str(next((inbox.folder / "failed").glob("*big.txt")))])
    assert code == 2


def test_a_file_with_more_tasks_than_the_limit_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DUBAN_MAX_TASKS", "10")
    assert main(["--db", str(tmp_path / "d.db"), "ingest", str(SEED)]) == 2
    assert "任务过多" in capsys.readouterr().err
    assert documents(open_db(tmp_path / "d.db")) == 0


def padded_revision(path: Path, copies: int) -> Path:
    """The seed plan with its measures section repeated: a "new version" with several times the tasks."""
    text = SEED.read_text(encoding="utf-8")
    path.write_text(text + text[text.index("四、整改措施"):] * copies, encoding="utf-8")
    return path


def test_a_wild_new_version_is_refused_unless_it_replaces_and_the_inbox_sets_it_aside(tmp_path, inbox, capsys):
    db_path = tmp_path / "d.db"
    assert main(["--db", str(db_path), "ingest", str(SEED)]) == 0
    capsys.readouterr()
    padded_revision(inbox.folder / "shaoyang_rectification_plan.txt", 4)
    db = open_db(db_path)
    [line] = inbox.scan(db, UnitDirectory.load(), force=True)
    assert "解析失败" in line and "倍" in line and "--replaces" in line
    assert db.execute("SELECT current_version FROM documents").fetchone()[0] == 1
    kept = next((inbox.folder / "failed").glob("*shaoyang_rectification_plan.txt"))
    assert "--replaces" in failed_reason(inbox, "shaoyang_rectification_plan.txt")
    assert main(["--db", str(db_path), "ingest", str(kept)]) == 2
    assert "不像" in capsys.readouterr().err
    assert main(["--db", str(db_path), "ingest", str(kept), "--replaces", "1"]) == 0  # the operator insists
    assert open_db(db_path).execute("SELECT current_version FROM documents").fetchone()[0] == 2


def test_another_plan_under_the_same_title_shares_too_little_text(tmp_path):
    from knowledge.departure import refusal
    from knowledge.versions import snaps_of_plan
    from parser.plan import parse_document

    seed = snaps_of_plan(parse_document(SEED.read_bytes(), SEED.name))
    other = [type(s)(s.section, s.number, f"另一计划第{i}项", "完全不同的内容" * 20 + str(i) * 30, s.units,
                     s.deadline_text) for i, s in enumerate(seed)]
    assert refusal(seed, seed) is None
    assert "低于三分之一" in refusal(seed, other)
