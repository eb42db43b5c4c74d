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
