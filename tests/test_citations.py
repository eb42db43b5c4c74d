"""Every task and milestone says where it comes from (section path, page, verbatim clause), on the seed."""
from __future__ import annotations

from conftest import SEED_TXT, parse_json


def test_every_task_and_milestone_of_the_seed_cites_its_place_and_clause():
    doc = parse_json(SEED_TXT)
    text = SEED_TXT.read_text(encoding="utf-8").replace(" ", "").replace("\n", "")
    for task in doc["tasks"]:
        src = task["source"]
        assert src["section"].startswith("正文 四" if task["section"] == "body" else f"附件 第{task['number']}项")
        assert src["page"] is None and src["document"] is None  # a text file has no pages; a parse no store id
        assert src["text"] and src["text"].replace(" ", "") in text
        for m in task["milestones"]:
            assert m["source"]["section"].startswith(src["section"]) and m["source"]["text"] == m["text"]
    item = next(t for t in doc["tasks"] if t["number"] == 8)
    assert [m["source"]["section"] for m in item["milestones"]][:2] == ["附件 第8项 整改时限", "附件 第8项 整改措施 1"]


def test_the_seed_pdf_cites_the_page_each_task_and_milestone_is_on():
    import re

    import pdfplumber

    from conftest import FIXTURES
    pdf = FIXTURES / "seed" / "shaoyang_plan.pdf"
    doc = parse_json(pdf)
    with pdfplumber.open(pdf) as f:
        pages = [re.sub(r"\s|[—–－-]\d+[—–－-]$", "", re.sub(r"\s", "", p.extract_text() or "")) for p in f.pages]  # without page numbers
    for task in doc["tasks"]:
        src = task["source"]
        assert re.sub(r"\s", "", src["text"])[:8] in "".join(pages[src["page"] - 1:src["page"] + 1]), src
        for m in task["milestones"]:
            page = m["source"]["page"]
            probe = re.sub(r"\s", "", m["text"])[:8]
            # a clause is cited by the page it starts on; it may run on over the page break
            assert probe in "".join(pages[page - 1:page + 1]), (task["number"], m)


def test_answers_and_show_cite_the_page_and_clause(tmp_path):
    import json

    from conftest import FIXTURES, run_cli
    db = str(tmp_path / "s.db")
    assert run_cli(["--db", db, "ingest", str(FIXTURES / "seed" / "shaoyang_plan.pdf")])[0] == 0
    code, out, _ = run_cli(["--db", db, "ask", "第13项整改时限", "--as", "市生态环境局", "--today", "2022-01-01"])
    assert code == 0 and "出处：附件第13项，第34页" in out and "（见整改时限，第35页）" in out
    code, out, _ = run_cli(["--db", db, "ask", "第13项整改时限", "--as", "市生态环境局", "--today", "2022-01-01",
                            "--json"])
    sources = [e["source"] for e in json.loads(out)["tasks"]]
    assert all(s["document"] == 1 and s["page"] for s in sources)
    assert {"section": "附件 第13项 整改时限", "page": 35, "document": 1,
            "text": "2023年12月31日前完成长阳矿区煤矸石修复及矿涌水治理工程"} in sources
    code, out, _ = run_cli(["--db", db, "show", "13", "--today", "2022-01-01"])
    assert code == 0 and "第34页" in out.replace("\n", "") and "附件 第13项 整改时限，第35页" in out.replace("\n", "")
