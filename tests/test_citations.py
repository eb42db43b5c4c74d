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
