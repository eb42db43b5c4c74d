"""A revision that would withdraw most of a plan (a cut-short file) is refused unless --replaces says so."""
from __future__ import annotations

from pathlib import Path

import docx

from bot.cli import main
from conftest import store_content

SEED_DOCX = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "seed" / "shaoyang_plan.docx"


def cut_short(path: Path) -> Path:
    d = docx.Document(SEED_DOCX)
    paras = d.paragraphs
    start = next(i for i, p in enumerate(paras) if p.text.startswith("二、个别地方"))
    for p in paras[start:]:
        p._p.getparent().remove(p._p)
    d.save(path)
    return path


def test_cut_short_revision_is_refused_and_store_untouched(tmp_path, capsys):
    db = tmp_path / "d.db"
    assert main(["--db", str(db), "ingest", str(SEED_DOCX)]) == 0
    before = store_content(db)
    cut = cut_short(tmp_path / "cut.docx")
    assert main(["--db", str(db), "ingest", str(cut)]) == 2
    err = capsys.readouterr().err
    assert "将撤销现有 38 项任务中的 24 项" in err and "--replaces" in err
    assert store_content(db) == before
    assert main(["--db", str(db), "ingest", str(cut), "--replaces", "1"]) == 0  # the operator insists
