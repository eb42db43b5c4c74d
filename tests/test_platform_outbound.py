"""Outbound safety on 127.0.0.1: replies and pushes never follow a redirect out of the allowlist; a push whose
answer never comes ("结果未知") is retried once after a pause, never more; a `duban remind` run ends in bounded
time and says what it left for the next run."""
from __future__ import annotations

import asyncio
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from fakes import ThreadedServer, serve

from bot.platforms.registry import channel_from_config
from bot.channels.base import OutMessage
from bot.cli import main
from bot.platforms.base import Inbound, Reply
from bot.platforms.dingtalk import DingTalkPlatform
from bot.reminders import enqueue_plan, plan_day
from bot.sender import Sender
from bot.workdays import WorkCalendar
from knowledge import outbox
from knowledge.db import open_db
from conftest import copy_store

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "shaoyang_rectification_plan.txt"
NOW = datetime(2021, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MSG = OutMessage(title="督办提醒", markdown="第13项 2021-12-31 到期")


class Recorder:
    """A fake platform endpoint: counts what reaches it; optionally answers late or redirects."""

    def __init__(self, *, delay: float = 0.0, redirect_to: str | None = None):
        self.delay, self.redirect_to = delay, redirect_to
        self.posts: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append(await request.read())
        if self.redirect_to:
            return web.Response(status=307, headers={"Location": self.redirect_to})
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def redirecting_pair(aiohttp_server, path: str) -> tuple[Recorder, Recorder, str]:
    """An allowlisted server answering 307 towards a second, unlisted server on another port."""
    elsewhere = Recorder()
    target = await serve(aiohttp_server, [("POST", path, elsewhere.handle)])
    listed = Recorder(redirect_to=str(target.make_url(path)))
    server = await serve(aiohttp_server, [("POST", path, listed.handle)])
    return listed, elsewhere, str(server.make_url(path))


async def test_a_session_webhook_reply_does_not_follow_a_307_off_the_allowlist(aiohttp_server, session):
    listed, elsewhere, url = await redirecting_pair(aiohttp_server, "/robot/sendBySession")
    host = url.split("/")[2]
    platform = DingTalkPlatform(answer=lambda i: None, seen=lambda p, m: False, app_secret="x",
                                session_hosts={host}, session=session)
    inbound = Inbound(platform="dingtalk", msg_id="m1", user_id="u1", text="第13项",
                      reply_route={"session_webhook": url, "sender_staff_id": "u1"})
    assert platform.route_problem(inbound) is None  # the first hop is allowed…
    await platform.post_reply(inbound, Reply("回答"))
    assert len(listed.posts) == 1 and elsewhere.posts == []  # …the redirect is not followed


@pytest.mark.parametrize("kind", ["dingtalk_robot", "wecom_robot"])
async def test_a_push_does_not_follow_a_307(aiohttp_server, session, kind):
    path = "/robot/send" if kind == "dingtalk_robot" else "/cgi-bin/webhook/send"
    listed, elsewhere, url = await redirecting_pair(aiohttp_server, path)
    query = "access_token=tok" if kind == "dingtalk_robot" else "key=k1"
    outcome = await channel_from_config({"kind": kind, "webhook_url": f"{url}?{query}"}, session).send(MSG)
    assert outcome.status == "failed" and "重定向" in outcome.detail and "307" in outcome.detail
    assert len(listed.posts) == 1 and elsewhere.posts == []


async def test_the_wecom_app_api_does_not_follow_a_307(aiohttp_server, session):
    elsewhere = Recorder()
    target = await serve(aiohttp_server, [("GET", "/cgi-bin/gettoken", elsewhere.handle)])

    async def redirect(request):
        raise web.HTTPTemporaryRedirect(str(target.make_url("/cgi-bin/gettoken")))
    server = await serve(aiohttp_server, [("GET", "/cgi-bin/gettoken", redirect)])
    cfg = {"kind": "wecom_app", "corp_id": "wx1", "secret": "s", "agent_id": "1000002", "to_users": ["LiNa"],
           "api_base": str(server.make_url("")).rstrip("/")}
    outcome = await channel_from_config(cfg, session).send(MSG)
    assert outcome.status == "failed" and "重定向" in outcome.detail
    assert elsewhere.posts == []


async def test_a_timeout_after_sending_is_unknown_but_a_refused_connection_is_not(aiohttp_server, session,
                                                                                   unused_tcp_port):
    slow = Recorder(delay=1.0)
    server = await serve(aiohttp_server, [("POST", "/robot/send", slow.handle)])
    url = str(server.make_url("/robot/send?access_token=tok"))
    late = await channel_from_config({"kind": "dingtalk_robot", "webhook_url": url, "timeout_s": 0.2}, session).send(MSG)
    assert (late.status, late.unknown) == ("retry", True) and "超时" in late.detail
    refused = f"http://127.0.0.1:{unused_tcp_port}/robot/send?access_token=tok"
    down = await channel_from_config({"kind": "dingtalk_robot", "webhook_url": refused}, session).send(MSG)
    assert (down.status, down.unknown) == ("retry", False)


# ---- the sender and `duban remind` against a channel that answers after the timeout ----------------


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory) -> Path:
    if not SEED.is_file():
        pytest.skip(f"seed not available at {SEED}")
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    assert main(["--db", str(path), "ingest", str(SEED)]) == 0
    return path


@pytest.fixture
def db_path(seed_store, tmp_path) -> Path:
    path = tmp_path / "duban.db"
    copy_store(seed_store, path)
    return path


def units_due(db, day: date) -> list[str]:
    return [d.unit for d in plan_day(db, day, WorkCalendar()).digests]


class Clock:
    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


async def test_a_late_push_is_sent_at_most_twice_and_recorded_as_unknown(aiohttp_server, session, db_path):
    db = open_db(db_path)
    slow = Recorder(delay=0.6)
    server = await serve(aiohttp_server, [("POST", "/robot/send", slow.handle)])
    url = str(server.make_url("/robot/send?access_token=tok"))
    units = units_due(db, date(2021, 12, 1))[:3]
    for unit in units:
        outbox.set_channel(db, unit, "dingtalk_robot", {"webhook_url": url, "timeout_s": 0.15})
    enqueue_plan(db, plan_day(db, date(2021, 12, 1), WorkCalendar()), NOW)
    now = Clock(NOW)
    sender = Sender(db, session, now=now, unknown_retry_delay=120)
    assert await sender.drain() == {"sent": 0, "retry": 3, "failed": 0}
    rows = db.execute("SELECT status, last_error, next_attempt_at FROM outbox WHERE unit IN (?,?,?)", units).fetchall()
    assert all(s == "pending" and e.startswith("结果未知") and t == "2021-12-01T09:02:00+08:00" for s, e, t in rows)
    now.t = NOW.replace(minute=1)  # before the pause: nothing is sent again
    assert await sender.drain() == {"sent": 0, "retry": 0, "failed": 0}
    now.t = NOW.replace(minute=3)
    assert await sender.drain() == {"sent": 0, "retry": 0, "failed": 0, "unknown": 3}
    now.t = NOW.replace(hour=12)
    assert await sender.drain() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(slow.posts) == 6  # each digest at most twice
    errors = [r[0] for r in db.execute("SELECT last_error FROM outbox WHERE unit IN (?,?,?)", units)]
    assert all(e.startswith("结果未知") and "人工确认" in e for e in errors)
    assert all(outbox.channels(db)[u]["broken_reason"] is None for u in units)  # the channel itself is fine
    assert sorted(u for u, _, _ in outbox.unknown_outcomes(db)) == sorted(units)  # shown by `duban status`


def test_duban_remind_ends_within_its_time_limit_and_says_what_is_left(db_path, monkeypatch, capsys):
    db = open_db(db_path)
    slow = Recorder(delay=1.0)
    with ThreadedServer([("POST", "/robot/send", slow.handle)]) as fake:
        units = units_due(db, date(2021, 12, 1))
        assert len(units) >= 6
        for unit in units:
            outbox.set_channel(db, unit, "dingtalk_robot", {"webhook_url": fake.url("/robot/send?access_token=t"),
                                                              "timeout_s": 0.4})
        monkeypatch.setenv("DUBAN_REMIND_MAX_SECONDS", "1")
        started = time.monotonic()
        main(["--db", str(db_path), "remind", "--today", "2021-12-01"])
        elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert elapsed < 4, elapsed
    assert "已达时限" in out and "留待下次运行" in out
    left = int(out.split("还有 ")[1].split(" 条")[0])
    tried = len(slow.posts)
    assert 1 <= tried <= 4 and left == len(units) - tried
