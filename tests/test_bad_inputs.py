"""Broken and hostile files (../shared/fixtures/bad) through `duban parse` and `duban ingest`:
a non-zero exit, one Chinese line on stderr, no traceback, and a store left byte for byte as it was."""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SEED_TXT, parse_json, run_cli

BAD = FIXTURES / "bad"
# Every must-reject file, with the short error code the reader gives it (fixtures README).
REJECTED = {
    "empty.docx": "empty",
    "truncated.docx": "corrupt",
    "not_a_docx.docx": "unsupported",
    "zip_bomb.docx": "too_large",
    "encrypted.pdf": "encrypted",
    "truncated.pdf": "corrupt",
    "scanned.pdf": "no_text",
    "garbage.txt": "encoding",
    "huge_line.txt": "no_structure",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_chinese_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "内部错误" not in err, err
    assert CJK.search(lines[0]), err
    assert lines[0].startswith("duban: "), err


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory, shared) -> Path:
    """A store that already holds the seed plan."""
    db = tmp_path_factory.mktemp("bad") / "duban.db"
    code, out, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT)])
    assert code == 0, err
    return db


def test_every_bad_fixture_is_covered(shared):
    """The table above names every file in bad/ (gbk.txt is the one file that must be read)."""
    assert {p.name for p in BAD.iterdir()} == set(REJECTED) | {"gbk.txt"}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_parse_rejects_bad_file_with_one_chinese_line(shared, name):
    started = time.monotonic()
    code, out, err = run_cli(["parse", str(BAD / name), "--json"])
    assert code != 0
    assert out == ""
    assert_one_chinese_line(err)
    assert time.monotonic() - started < 20  # a hang guard, not a benchmark


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_failed_ingest_leaves_the_store_byte_identical(seeded_db, name):
    before = sha(seeded_db)
    code, out, err = run_cli(["--db", str(seeded_db), "ingest", str(BAD / name)])
    assert code != 0
    assert_one_chinese_line(err)
    assert "失败" in out  # the summary table still says which file failed
    assert sha(seeded_db) == before


@pytest.mark.parametrize("name,code", sorted(REJECTED.items()))
def test_reader_gives_each_bad_file_its_error_code(shared, name, code):
    from parser.errors import DocumentError
    from parser.plan import parse_file

    with pytest.raises(DocumentError) as e:
        parse_file(BAD / name)
    assert e.value.code == code
    assert CJK.search(str(e.value)) and "\n" not in str(e.value)


def test_huge_single_line_finishes_in_bounded_time(shared):
    """5 MB on one line, no markers: 'no recognisable structure', quickly (no quadratic regex)."""
    started = time.monotonic()
    code, out, err = run_cli(["parse", str(BAD / "huge_line.txt")])
    assert time.monotonic() - started < 20
    assert code != 0 and "no recognisable structure" in err


def test_gbk_text_is_not_rejected_by_the_reader(shared):
    """GBK is decoded (not 'unknown encoding'); the decoded text is the seed's first 3000 characters."""
    from parser.readers import read_document

    data = (BAD / "gbk.txt").read_bytes()
    blocks = read_document(data, "gbk.txt")
    text = re.sub(r"\s+", "", "".join(b.text for b in blocks))
    assert text == re.sub(r"\s+", "", SEED_TXT.read_text(encoding="utf-8")[:3000].replace("³", "3"))


def test_gbk_text_parses_to_the_complete_body_tasks(shared):
    """The text stops inside 四、整改措施（二）, so (一)1–4 are the complete tasks; no list items exist,
    and the declared 28 is reported against 0 found."""
    doc = parse_json(BAD / "gbk.txt")
    assert [(t["section"], t["number"]) for t in doc["tasks"]] == [("body", f"（一）{i}") for i in range(1, 5)]
    assert doc["list_item_count"] == 0
    assert any("28" in w and "found 0" in w for w in doc["warnings"])


def test_gbk_text_ingests(tmp_path, shared):
    db = tmp_path / "gbk.db"
    code, out, err = run_cli(["--db", str(db), "ingest", str(BAD / "gbk.txt")])
    assert code == 0, err
    assert "新文件" in out


def test_missing_file_is_a_clear_error(tmp_path, shared):
    missing = tmp_path / "没有这个文件.docx"
    for argv in (["parse", str(missing)], ["--db", str(tmp_path / "x.db"), "ingest", str(missing)]):
        code, out, err = run_cli(argv)
        assert code != 0
        assert_one_chinese_line(err)
        assert "无法读取文件" in err and "没有这个文件.docx" in err


def test_failed_file_among_good_ones_is_reported_and_the_good_ones_stored(tmp_path, shared):
    """Several files: the broken one is listed as 失败 in the table, exit 1, the rest are stored."""
    db = tmp_path / "mixed.db"
    code, out, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT), str(BAD / "encrypted.pdf")])
    assert code == 1
    assert "失败" in out and "新文件" in out
    from knowledge.db import open_db

    assert open_db(db).execute("SELECT count(*) FROM tasks").fetchone()[0] == 38


def test_unwritable_database_location_is_one_line(tmp_path, shared):
    code, out, err = run_cli(["--db", str(tmp_path / "no" / "such" / "dir" / "x.db"), "ingest", str(SEED_TXT)])
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
