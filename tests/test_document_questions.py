"""文件列表 a page at a time and "第N项原来的…" over many plans: the reply stays short as the store grows."""
from __future__ import annotations

import copy
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import admin_chat
from bot.conversation import Conversation, Turn
from knowledge import documents
from knowledge.db import open_db
from knowledge.ingest import ingest_plan, sha256_of
from parser import UnitDirectory, parse_document

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "shaoyang_rectification_plan.txt"
NOW = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def conv(tmp_path):
    """Seven plans numbered alike (the seed under seven titles), plan 2 revised once, plan 7 removed."""
    directory = UnitDirectory.load()
    db = open_db(tmp_path / "docs.db")
    seed = parse_document(SEED.read_bytes(), SEED.name, directory=directory)
    plans = []
    for n in range(1, 8):
        plan = copy.deepcopy(seed)
        plan.title, plan.titled, plan.source_name = f"邵阳市整改方案（第{n}批）", True, f"plan_{n}.txt"
        for t in plan.tasks:
            t.title = f"{t.title}（第{n}批）"
        ingest_plan(db, plan, sha256_of(f"{n}".encode()), directory=directory, now=NOW)
        plans.append(plan)
    revised = copy.deepcopy(plans[1])
    revised.source_name = "plan_2_rev.txt"
    next(t for t in revised.tasks if t.section == "list" and t.number == 7).deadline_text = "2023年6月30日前"
    assert ingest_plan(db, revised, sha256_of(b"2-rev"), directory=directory, now=NOW).status == "new_version"
    documents.archive(db, 7, at=NOW)
    return Conversation(db, directory, today=lambda: date(2025, 6, 16), now=lambda: NOW, cache_answers=False)


def say(conv, text: str) -> str:
    return conv.handle(Turn("local", "local", text)).reply


def test_the_document_list_comes_a_page_at_a_time(conv, monkeypatch):
    monkeypatch.setattr(admin_chat, "LIST_PAGE", 4)
    first = say(conv, "文件列表").splitlines()
    assert first[0] == "**已入库文件**（共6个，第1页）"
    assert [ln[:5] for ln in first if ln.startswith("- [")] == ["- [1]", "- [2]", "- [3]", "- [4]"]
    assert "  第2版：plan_2_rev.txt，2025-06-16 09:30" in first and "（发送“文件列表 2”查看下一页）" in first
    assert first[-1] == "已移除：[7] 邵阳市整改方案（第7批）"
    second = say(conv, "文件列表 2").splitlines()
    assert [ln[:5] for ln in second if ln.startswith("- [")] == ["- [5]", "- [6]"]
    assert not any("下一页" in ln for ln in second)
    assert say(conv, "文件列表 第3页") == "共6个文件，没有第3页。发送“文件列表”查看第1页。"


def test_history_shows_the_revised_plans_first_and_counts_the_rest(conv):
    reply = say(conv, "第七项原来的整改时限是什么")
    parts = reply.split("\n\n")
    assert parts[0].splitlines()[:2] == ["〔文件2〕《邵阳市整改方案（第2批）》", "**第7项的历次版本**"]
    assert "2023年6月30日前" in parts[0]
    assert [p.splitlines()[0] for p in parts[1:3]] == ["〔文件1〕《邵阳市整改方案（第1批）》",
                                                       "〔文件3〕《邵阳市整改方案（第3批）》"]
    # six plans have an item 7 (the removed one does not count): three shown, three more counted
    assert parts[-1] == "另有3个文件也有第7项，请注明文件编号，如“2-7原来的整改时限”。"
    assert say(conv, "5-7原来的整改时限").startswith("第7项只有一个版本（第1版）")
