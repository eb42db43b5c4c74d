"""Calendar feeds: `duban export FILE.ics` and /calendar/<token>.ics, read by icalendar and by vobject."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar

from bot.server import create_app, make_conversation
from bot.settings import Settings
from conftest import SEED_TXT, run_cli
from knowledge import details, progress, queries
from knowledge.db import open_db

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
UNIT = "邵阳县"
OLD, NEW = "2026年9月30日前完成入河排污口排查建档", "2026年10月20日前完成入河排污口排查建档"


@pytest.fixture
def db(tmp_path, shared) -> Path:
    db = tmp_path / "duban.db"
    code, _, err = run_cli(["--db", str(db), "ingest", str(SEED_TXT), str(EXAMPLE)])
    assert code == 0, err
    return db


def export(db: Path, out: Path, *extra: str) -> bytes:
    code, _, err = run_cli(["--db", str(db), "export", str(out), *extra])
    assert code == 0, err
    return out.read_bytes()


def events(data: bytes) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_every_milestone_of_the_unit_is_an_all_day_event(db, tmp_path):
    data = export(db, tmp_path / "县.ics", "--unit", UNIT)
    evs = events(data)
    store = open_db(db)
    mine = queries.due_items(store, unit=UNIT, include_done=True)  # the milestones the unit answers for
    assert len(evs) == len(mine) > 20
    assert sorted(e.decoded("dtstart") for e in evs.values()) == sorted(i.due for i in mine)
    for e in evs.values():
        start, end = e.decoded("dtstart"), e.decoded("dtend")
        assert type(start) is date and end - start == timedelta(days=1)
        assert "来源：《" in str(e["description"]) and "本单位：" in str(e["description"])
        assert str(e["summary"]).startswith("【")  # the unit's role on the task
        triggers = sorted(a.decoded("trigger") for a in e.walk("VALARM"))
        done = "节点已完成" in str(e["description"])
        assert triggers == ([] if done else [timedelta(hours=9) - timedelta(days=d) for d in (30, 7, 1, 0)])
    # a second, independent parser reads the same feed
    cal = vobject.readOne(data.decode("utf-8"))
    parsed = {v.uid.value: v for v in cal.vevent_list}
    assert set(parsed) == set(evs)
    for uid, v in parsed.items():
        assert v.dtstart.value == evs[uid].decoded("dtstart")
        assert v.summary.value == str(evs[uid]["summary"])
        assert len(v.contents.get("valarm", [])) == len(evs[uid].walk("VALARM"))
    assert sum(bool(e.walk("VALARM")) for e in evs.values()) > 20


def test_a_revised_plan_moves_events_and_closing_marks_them(db, tmp_path):
    before = events(export(db, tmp_path / "v1.ics"))
    assert len(before) == 57 + 33 and len({*before}) == len(before)
    assert len(events(export(db, tmp_path / "doc2.ics", "--doc", "2"))) == 33
    revised = tmp_path / "example_plan.txt"
    revised.write_text(EXAMPLE.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    code, _, err = run_cli(["--db", str(db), "ingest", str(revised), "--replaces", "2"])
    assert code == 0, err
    after = events(export(db, tmp_path / "v2.ics"))
    assert set(after) == set(before)  # updated in place, nothing duplicated
    moved = [u for u in after if after[u].decoded("dtstart") != before[u].decoded("dtstart")]
    assert len(moved) == 1 and after[moved[0]].decoded("dtstart") == date(2026, 10, 20)
    assert before[moved[0]].decoded("dtstart") == date(2026, 9, 30)
    assert after[moved[0]]["sequence"] == before[moved[0]]["sequence"] + 1
    assert after[moved[0]].decoded("last-modified") >= before[moved[0]].decoded("last-modified")
    # 销号 of that task: marked, no alarms, a newer revision
    store = open_db(db)
    task_id = next(t.id for t in queries.current_tasks(store) if t.document_id == 2 and NEW[:8] in
                   " ".join(m.text for m in details.milestones_of(store, t.id)))
    progress.add_entry(store, task_id, "complete", "", unit="市生态环境局", official=None, platform="local",
                       user_id="test", at=datetime.now().astimezone())
    closed = events(export(db, tmp_path / "v3.ics"))[moved[0]]
    assert str(closed["summary"]).startswith("【已销号】") and "已销号" in str(closed["description"])
    assert closed.walk("VALARM") == [] and closed["sequence"] == after[moved[0]]["sequence"] + 1


async def test_subscription_link_is_served_and_revocable(db, aiohttp_client):
    code, out, err = run_cli(["--db", str(db), "calendar", "add", UNIT])
    assert code == 0, err
    path = out.split("：", 1)[1].split("（")[0]
    assert path.startswith("/calendar/") and path.endswith(".ics") and len(path) > 40
    code, out, _ = run_cli(["--db", str(db), "calendar", "list"])
    assert path in out and "有效" in out
    settings = Settings(db=str(db), reminders_enabled=False, load_example=False)
    client = await aiohttp_client(create_app(settings, make_conversation(settings)))
    resp = await client.get(path)
    assert resp.status == 200 and resp.content_type == "text/calendar"
    body = await resp.read()
    assert len(events(body)) == len(events(export(db, db.with_name("x.ics"), "--unit", UNIT)))
    assert (await client.get(path.replace("/calendar/", "/calendar/x"))).status == 404
    token = path[len("/calendar/"):-len(".ics")]
    code, out, err = run_cli(["--db", str(db), "calendar", "revoke", token])
    assert code == 0 and "已撤销 1 个链接" in out
    assert (await client.get(path)).status == 404
