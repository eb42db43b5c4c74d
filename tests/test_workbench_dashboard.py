"""The dashboard through the real aiohttp app on 127.0.0.1: logins, unit links, rights, forms.
(The browser test is in test_workbench_browser.py.)"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.server import create_app, make_conversation
from bot.settings import Settings
from conftest import SEED_TXT, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "data" / "example_plan.txt"
TODAY = "2026-11-25"
ADMIN, PASSWORD = "张督办", "督办-correct-horse-7"
ROSTER = "姓名,手机,钉钉userId,企业微信userid,单位,角色\n张督办,13800000000,dd1,wx1,市人民政府办公室,管理员\n" \
         "李联络,13800000001,dd2,wx2,邵阳县,联络员\n"


def build_store(tmp: Path) -> Path:
    """The seed and the example plan, a roster with one 管理员, and that admin's password."""
    db = tmp / "duban.db"
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    for argv in (["ingest", str(SEED_TXT), str(EXAMPLE)], ["roster", "import", str(tmp / "roster.csv")]):
        code, _, err = run_cli(["--db", str(db), *argv])
        assert code == 0, err
    import io
    import sys
    old = sys.stdin
    sys.stdin = io.StringIO(PASSWORD + "\n")
    try:
        code, out, err = run_cli(["--db", str(db), "dashboard", "passwd", ADMIN])
    finally:
        sys.stdin = old
    assert code == 0, err
    return db


@pytest.fixture(scope="module")
def store_file(tmp_path_factory, shared) -> Path:
    return build_store(tmp_path_factory.mktemp("dash"))


@pytest.fixture
def db(store_file, tmp_path) -> Path:
    path = tmp_path / "duban.db"
    path.write_bytes(store_file.read_bytes())
    return path


@pytest.fixture
async def client(db, aiohttp_client):
    settings = Settings(db=str(db), today=TODAY, reminders_enabled=False, load_example=False)
    return await aiohttp_client(create_app(settings, make_conversation(settings)))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def login(client, name=ADMIN, password=PASSWORD, next_="/"):
    page = await client.get("/login")
    return await client.post("/login", data={"csrf": csrf_of(await page.text()), "name": name,
                                             "password": password, "next": next_}, allow_redirects=False)


def figures(html: str, unit: str) -> dict[str, int]:
    row = re.search(rf'<tr data-unit="{re.escape(unit)}">(.*?)</tr>', html, re.S).group(1)
    return {k: int(v) for k, v in re.findall(r'data-state="(\w+)">(?:<a [^>]*>)?(\d+)', row)}


def tasks_json(db: Path, unit: str, *extra) -> dict:
    code, out, err = run_cli(["--db", str(db), "tasks", "--json", "--unit", unit, "--today", TODAY, *extra])
    assert code == 0, err
    return json.loads(out)["counts"]


async def test_nothing_without_a_login(client):
    for path in ("/", "/tasks", "/task/1", "/timeline", "/tasks?state=overdue"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/login?next="), path
    resp = await client.get("/dashboard", allow_redirects=False)
    assert resp.headers["Location"] == "/"
    login_page = await client.get("/login")
    assert "督办办公室登录" in await login_page.text() and "邵阳县" not in await login_page.text()


async def test_login_sets_a_signed_httponly_samesite_cookie(client, db):
    resp = await login(client)
    assert resp.status == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and "三色预警" in html
    for unit in ("邵阳县", "市生态环境局"):
        counts = tasks_json(db, unit)
        assert figures(html, unit) == counts, unit
    for k, v in {"Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "DENY",
                 "Referrer-Policy": "no-referrer"}.items():
        assert v in page.headers[k]
    # a tampered cookie is no session
    name, value = cookie.split(";")[0].split("=", 1)
    client.session.cookie_jar.clear()
    forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    resp = await client.get("/", cookies={name: forged}, allow_redirects=False)
    assert resp.status == 302


async def test_wrong_passwords_forms_without_token_and_outside_redirects_are_refused(client):
    assert (await login(client, password="wrong-password-1")).status == 401
    assert (await login(client, name="李联络", password=PASSWORD)).status == 401  # not a 管理员
    resp = await client.post("/login", data={"name": ADMIN, "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 403  # no CSRF token
    resp = await login(client, next_="//evil.example/")
    assert resp.status == 302 and resp.headers["Location"] == "/"
    assert (await client.get("/logout")).status == 405  # no state change by GET


async def test_failed_logins_lock_the_name(client):
    for _ in range(5):
        assert (await login(client, password="wrong-password-1")).status == 401
    assert (await login(client)).status == 429


async def test_a_new_password_ends_old_sessions(client, db):
    await login(client)
    assert (await client.get("/", allow_redirects=False)).status == 200
    import io
    import sys
    old, sys.stdin = sys.stdin, io.StringIO("another-password-9\n")
    try:
        assert run_cli(["--db", str(db), "dashboard", "passwd", ADMIN])[0] == 0
    finally:
        sys.stdin = old
    assert (await client.get("/", allow_redirects=False)).status == 302


async def test_filters_lists_and_task_pages(client, db):
    await login(client)
    html = await (await client.get("/?doc=2")).text()
    assert figures(html, "邵阳县") == tasks_json(db, "邵阳县", "--doc", "2")
    page = await client.get("/tasks?unit=邵阳县&state=overdue")
    listed = await page.text()
    count = int(re.search(r'id="task-count">(\d+)<', listed).group(1))
    assert count == tasks_json(db, "邵阳县")["overdue"] > 0
    task_id = re.search(r'href="/task/(\d+)"', listed).group(1)
    task = await (await client.get(f"/task/{task_id}")).text()
    assert "时限节点" in task and "来源" in task and "逾期" in task
    assert (await client.get("/task/999999")).status == 404
    timeline = await (await client.get("/timeline?doc=2")).text()
    assert "2026年09月" in timeline and "共 33 个时限节点" in timeline


async def test_a_unit_link_is_read_only_and_sees_its_own_tasks_only(client, db):
    code, out, err = run_cli(["--db", str(db), "dashboard", "link", "add", "邵阳县"])
    assert code == 0, err
    path = re.search(r"(/u/\S+?)（", out).group(1)
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/"
    html = await (await client.get("/")).text()
    assert re.findall(r'<tr data-unit="([^"]+)"', html) == ["邵阳县"]
    assert figures(html, "邵阳县") == tasks_json(db, "邵阳县")
    assert "退出" not in html and "（只读）" in html
    # another unit's filter is ignored, another unit's task refused
    html = await (await client.get("/tasks?unit=市生态环境局")).text()
    count = int(re.search(r'id="task-count">(\d+)<', html).group(1))
    assert count == tasks_json(db, "邵阳县")["total"]
    from knowledge import progress, queries
    from knowledge.db import open_db
    store = open_db(db)
    foreign = next(t.id for t in queries.current_tasks(store)
                   if not progress.unit_answers_for(store, "邵阳县", t.id, closing=False))
    own = next(t.id for t in queries.current_tasks(store)
               if progress.unit_answers_for(store, "邵阳县", t.id, closing=False))
    assert (await client.get(f"/task/{foreign}")).status == 403
    assert (await client.get(f"/task/{own}")).status == 200
    # revoked: the session ends with it
    assert run_cli(["--db", str(db), "dashboard", "link", "revoke", "邵阳县"])[0] == 0
    assert (await client.get("/", allow_redirects=False)).status == 302
    assert (await client.get(path, allow_redirects=False)).status == 404


async def test_webhook_routes_are_untouched(client):
    resp = await client.get("/healthz")
    assert resp.status == 200 and "Set-Cookie" not in resp.headers


async def test_the_office_approves_and_returns_applications_by_post_only(client, db):
    from knowledge import review
    from datetime import datetime

    from knowledge.db import open_db
    store = open_db(db)
    unit = "市生态环境局"
    ids = [r[0] for r in store.execute("SELECT id FROM tasks WHERE document_id = 2 ORDER BY id")]
    first, second = [t for t in ids if unit in review.closer_units(store, t)][:2]
    for t in (first, second):
        review.apply_close(store, t, review.Actor(unit, "王五", "联络员", "local", "t"), "整改完成", datetime.now().astimezone())
    # a unit's read-only link sees the application but cannot decide
    code, out, _ = run_cli(["--db", str(db), "dashboard", "link", "add", unit])
    await client.get(re.search(r"(/u/\S+?)（", out).group(1))
    page = await (await client.get(f"/task/{first}")).text()
    assert "待审核申请" in page and "审核通过" not in page
    from bot.workbench import auth
    from knowledge import workbench_queries as wq
    cookie = next(c.value for c in client.session.cookie_jar if c.key == auth.COOKIE)
    key = wq.signing_key(store)
    token = auth.csrf_token(key, auth.unsign(key, cookie))  # even with the session's own valid token
    resp = await client.post(f"/task/{first}/decide", data={"csrf": token, "action": "approve", "kind": "close"},
                             allow_redirects=False)
    assert resp.status == 403
    client.session.cookie_jar.clear()
    await login(client)
    page = await (await client.get(f"/task/{first}")).text()
    assert "审核通过" in page and "退回理由" in page
    assert (await client.get(f"/task/{first}/decide")).status == 405  # no state change by GET
    resp = await client.post(f"/task/{first}/decide", data={"action": "approve", "kind": "close"},
                             allow_redirects=False)
    assert resp.status == 403  # no CSRF token
    resp = await client.post(f"/task/{first}/decide", data={"csrf": csrf_of(page), "action": "approve",
                                                             "kind": "close"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/task/{first}"
    store = open_db(db)
    assert store.execute("SELECT status FROM tasks WHERE id = ?", [first]).fetchone()[0] == "completed"
    assert store.execute("SELECT action, allowed FROM audit WHERE platform = 'dashboard' ORDER BY id").fetchall() == [
        ("销号审核通过", 1)]
    # a return needs a reason: the workflow's own message, nothing changes
    page = await (await client.get(f"/task/{second}")).text()
    resp = await client.post(f"/task/{second}/decide", data={"csrf": csrf_of(page), "action": "return",
                                                              "kind": "close", "reason": ""})
    assert resp.status == 409 and "退回须说明理由" in await resp.text()
    resp = await client.post(f"/task/{second}/decide", data={"csrf": csrf_of(page), "action": "return",
                                                              "kind": "close", "reason": "缺少验收材料"})
    assert resp.status == 200 and "销号申请退回" in await resp.text()
    store = open_db(db)
    assert review.pending(store, second, "close") is None
    assert store.execute("SELECT status FROM tasks WHERE id = ?", [second]).fetchone()[0] == "open"


async def test_figures_follow_a_new_document(client, db):
    """The unit/task pairs are kept between views: a new plan is counted at once all the same."""
    await login(client)
    before = figures(await (await client.get("/")).text(), "市生态环境局")
    code, _, err = run_cli(["--db", str(db), "ingest", str(ROOT / "tests" / "data" / "styles" / "division_table.docx")])
    assert code == 0, err
    after = figures(await (await client.get("/")).text(), "市生态环境局")
    assert after == tasks_json(db, "市生态环境局") and after["total"] == before["total"] + 4
