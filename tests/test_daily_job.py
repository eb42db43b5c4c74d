"""The daily reminder job at scale, on real stores: the reminder dates found by index probes are those a scan of
every milestone finds; a busy digest lists a bounded number of items and counts the rest; each queued message
keeps its reminders in one record (the `reminders` view shows them one by one, an old store's rows move
there); ingest writes each task into the text index once."""
from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import SEED_TXT

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 10, 1, 9, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def directory():
    from parser.units import UnitDirectory

    return UnitDirectory.load()


@pytest.fixture(scope="module")
def plan(directory, shared):
    from parser import parse_document

    return parse_document(SEED_TXT.read_bytes(), SEED_TXT.name, directory=directory)


def store(path, plan, directory, shifts=(0,)):
    """The seed plan, and a copy of it for every other shift (days), under its own title and task titles."""
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of

    db = open_db(path)
    for shift in shifts:
        tasks = [dataclasses.replace(t, title=f"{t.title}{shift or ''}", milestones=[
            dataclasses.replace(m, due=m.due + timedelta(days=shift)) for m in t.milestones]) for t in plan.tasks]
        copy = dataclasses.replace(plan, title=f"{plan.title}{shift or ''}", tasks=tasks)
        ingest_plan(db, copy, sha256_of(f"seed+{shift}".encode()), directory=directory, now=NOW)
    return db


def scanned_hits(db, days: list[date], policy) -> list[tuple]:
    """The definition: every open milestone of a current, open task, its distance to each day worked out."""
    from knowledge.sweep import CURRENT

    rows = db.execute(f"""
        SELECT m.id, m.uid, m.due, m.text, t.id, t.section, t.number, t.title, c.value,
               CAST(julianday(m.due) - julianday(c.value) AS INTEGER)
        FROM milestones m JOIN tasks t ON t.id = m.task_id JOIN json_each(?) c
        WHERE m.done = 0 AND t.status = 'open' AND {CURRENT}""", [json.dumps([d.isoformat() for d in days])])
    every = abs(policy.overdue_every)
    return sorted((r for r in rows if r[9] >= 0 and (r[9] == 0 or r[9] in policy.lead_days)
                   or r[9] < 0 and every and -r[9] % every == 0), key=lambda r: (r[2], r[0], r[8]))


def test_index_probes_find_the_reminder_dates_a_scan_of_every_milestone_finds(tmp_path, plan, directory):
    from bot.workdays import WorkCalendar
    from knowledge.sweep import Policy, _milestone_hits

    db = store(tmp_path / "duban.db", plan, directory, shifts=(0, 45, 200))
    calendar = WorkCalendar()
    policies = [Policy(), Policy(lead_days=(14, 3, 0), overdue_every=5), Policy(lead_days=(), overdue_every=0)]
    checked = 0
    day = date(2021, 9, 1)
    while day <= date(2023, 6, 30):
        days = calendar.covered_days(day)  # a Friday or the day before a holiday covers several days
        for policy in policies if days else ():
            hits = _milestone_hits(db, days, policy)
            assert [tuple(h) for h in hits] == [tuple(h) for h in scanned_hits(db, days, policy)], (day, policy)
            checked += len(hits)
        day += timedelta(days=3)
    assert checked > 2000


def test_a_busy_digest_lists_its_first_items_of_each_kind_and_counts_the_rest(tmp_path, plan, directory,
                                                                              monkeypatch):
    from bot import reminders
    from bot.workdays import WorkCalendar
    from knowledge import outbox

    db = store(tmp_path / "duban.db", plan, directory)
    today = date(2022, 7, 7)  # a week after 2022-06-30: many items overdue at once
    full = {d.unit: d.body(today) for d in reminders.plan_day(db, today, WorkCalendar()).digests}
    monkeypatch.setattr(reminders, "LINES_PER_KIND", 3)
    plan_ = reminders.plan_day(db, today, WorkCalendar())
    busy = max(plan_.digests, key=lambda d: len(d.reminders))
    body = busy.body(today)
    sections = body.split("\n**")[1:]
    assert sections and any("……另有" in s for s in sections)
    for section in sections:
        lines = section.splitlines()
        items = [line for line in lines if line.startswith("- ")]
        head = "**" + lines[0]
        in_full = full[busy.unit].split(head + "\n", 1)[1].split("\n**", 1)[0]
        listed = [line for line in in_full.splitlines() if line.startswith("- ")]
        assert items == listed[:3]  # the first ones, in the digest's order
        more = [line for line in lines if line.startswith("……另有")]
        if len(listed) > 3:
            hint = "（发送“逾期任务”查看）" if "逾期" in head else "（发送“即将到期的任务”查看）" if "到期" in head else ""
            assert more == [f"……另有{len(listed) - 3}项{hint}"]
        else:
            assert not more
    # every reminder of the digest is recorded, listed or counted: none comes again the same day
    [queued] = [i for i, d in zip(reminders.enqueue_plan(db, plan_, NOW), plan_.digests) if d is busy]
    assert db.execute("SELECT count(*) FROM reminders WHERE message_id = ?", [queued]).fetchone()[0] == len(busy.reminders)
    assert db.execute("SELECT body FROM outbox WHERE id = ?", [queued]).fetchone()[0] == body
    assert reminders.plan_day(db, today, WorkCalendar()).digests == []
    assert outbox.new_reminder_keys(db, [f"{i.item_uid}|{busy.unit}|{i.kind}|{i.nominal.isoformat()}"
                                         for i in busy.reminders]) == set()


def test_each_message_keeps_its_reminders_and_a_cancelled_one_releases_them(tmp_path, plan, directory):
    from bot.reminders import enqueue_plan, plan_day
    from bot.workdays import WorkCalendar
    from knowledge import documents, outbox

    db = store(tmp_path / "duban.db", plan, directory)
    today = date(2021, 12, 30)  # the day before 14 milestones are due: lead reminders for many units
    for d in plan_day(db, today, WorkCalendar()).digests:  # every unit has a robot: its digests wait to be sent
        outbox.set_channel(db, d.unit, "dingtalk_robot", {"webhook_url": "http://127.0.0.1:9/send?access_token=t"})
    day_plan = plan_day(db, today, WorkCalendar())
    ids = enqueue_plan(db, day_plan, NOW)
    assert len(ids) == len(day_plan.digests) > 10
    keys = {f"{i.item_uid}|{d.unit}|{i.kind}|{i.nominal.isoformat()}" for d in day_plan.digests for i in d.reminders}
    rows = db.execute("SELECT key, unit, kind, nominal_date, milestone_id, task_id FROM reminders").fetchall()
    assert {r[0] for r in rows} == keys and len(rows) == len(keys)
    assert all(r[0].endswith(f"|{r[1]}|{r[2]}|{r[3]}") for r in rows)
    assert db.execute("SELECT count(*) FROM reminder_batches").fetchone()[0] == len(ids)
    # the plan removed: its unsent digests are cancelled and their reminders forgotten
    documents.archive(db, 1, at=NOW)
    assert db.execute("SELECT count(*) FROM reminders").fetchone()[0] == 0
    assert {r[0] for r in db.execute("SELECT status FROM outbox")} == {"cancelled"}
    # the view's rows go with their message (what knowledge.review does for a moved date)
    documents.restore(db, 1)
    again = enqueue_plan(db, plan_day(db, today, WorkCalendar()), NOW)
    assert len(again) == len(ids)
    with db.atomic():
        db.execute("DELETE FROM reminders WHERE message_id = ?", [again[0]])
    assert db.execute("SELECT count(*) FROM reminder_batches WHERE message_id = ?", [again[0]]).fetchone()[0] == 0


def test_an_old_stores_reminder_rows_move_into_their_messages(tmp_path, monkeypatch):
    from knowledge import db as store_db
    from knowledge import outbox

    old = tmp_path / "old.db"
    with monkeypatch.context() as m:
        store_db._import_migration_modules()
        m.setattr(store_db, "MIGRATIONS", [f for f in store_db.MIGRATIONS if f.__name__ != "_reminders_kept_per_message"])
        db = store_db.open_db(old)
        with db.atomic():  # what the earlier outbox wrote: one row per reminder
            for mid, unit in ((1, "邵阳县"), (2, "新邵县")):
                db.execute("INSERT INTO outbox (id, unit, title, body, next_attempt_at, created_at) VALUES (?,?,?,?,?,?)",
                           [mid, unit, "督办提醒", "…", "2022-01-05T09:00:00+08:00", "2022-01-05T09:00:00+08:00"])
                for n, kind in ((1, "lead"), (2, "overdue")):
                    db.execute("INSERT INTO reminders VALUES (?,?,?,?,?,?,?,?,?,?)",
                               [f"7|2022-01-{n:02d}|abc|0|{unit}|{kind}|2022-01-05", f"7|2022-01-{n:02d}|abc|0", 40 + n,
                                None, 7, unit, kind, "2022-01-05", mid, "2022-01-05T09:00:00+08:00"])
        before = sorted(db.execute("SELECT * FROM reminders").fetchall())
        db.conn.close()
    db = store_db.open_db(old)
    assert db.execute("SELECT type FROM sqlite_master WHERE name = 'reminders'").fetchone() == ("view",)
    assert sorted(db.execute("SELECT * FROM reminders").fetchall()) == before
    keys = [r[0] for r in before]
    assert outbox.new_reminder_keys(db, keys + ["8|2022-01-05|def|0|邵阳县|due|2022-01-05"]) == \
        {"8|2022-01-05|def|0|邵阳县|due|2022-01-05"}


def test_ingest_and_销号_write_each_task_into_the_text_indexes_once(tmp_path, plan, directory):
    from knowledge import progress
    from knowledge.db import open_db
    from knowledge.ingest import ingest_plan, sha256_of

    db = open_db(tmp_path / "duban.db")
    db.execute("CREATE TEMP TABLE fired (name TEXT)")
    for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
                                " ('tasks_ai', 'tasks_au', 'tasks_title_ai', 'tasks_title_au')").fetchall():
        event = sql.split(" BEGIN", 1)[0].split(" ", 3)[3].replace('"tasks"', "tasks").replace(" tasks", " main.tasks")
        db.execute(f"CREATE TEMP TRIGGER count_{name} {event} BEGIN INSERT INTO fired VALUES ('{name}'); END")
    ingest_plan(db, plan, sha256_of(b"seed"), directory=directory, now=NOW)
    task_id = db.execute("SELECT id FROM tasks WHERE number = '13' AND section = 'list'").fetchone()[0]
    progress.add_entry(db, task_id, "complete", "已完成", unit="邵阳县", official=None, platform=None, user_id=None,
                       at=NOW)
    fired = dict(db.execute("SELECT name, count(*) FROM fired GROUP BY name").fetchall())
    assert fired == {"tasks_ai": len(plan.tasks), "tasks_title_ai": len(plan.tasks)}
    db.execute("INSERT INTO tasks_fts(tasks_fts) VALUES ('integrity-check')")  # the index holds what the rows hold
    assert db.execute("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH '长阳矿区'").fetchone()[0] >= 1
