"""The dashboard in a real browser: headless Debian Chromium driven by Playwright, against `duban serve`
on 127.0.0.1. Logs in, checks the figures against `duban tasks --json`, filters, opens a task, is sent to
the login page without a session, and saves screenshots (desktop and phone) in the test's tmp dir."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import run_cli
from test_workbench_dashboard import ADMIN, PASSWORD, TODAY, build_store

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium is not installed "
                                "(.ci/run installs it: apt-get install chromium fonts-noto-cjk)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared):
    tmp = tmp_path_factory.mktemp("browser")
    db = build_store(tmp)
    (tmp / "duban.toml").write_text('[store]\nload_example = false\n[reminders]\nenabled = false\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "DUBAN_TODAY": TODAY, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--db", str(db), "serve", "--port", str(port),
                             "--config", str(tmp / "duban.toml")], cwd=tmp, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "serve.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail((tmp / "serve.log").read_text())
            time.sleep(0.1)
    yield base, db
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS, locale="zh-CN", viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def counts(db: Path, unit: str, *extra: str) -> dict:
    code, out, err = run_cli(["--db", str(db), "tasks", "--json", "--unit", unit, "--today", TODAY, *extra])
    assert code == 0, err
    return json.loads(out)["counts"]


def figures_on(page, unit: str) -> dict[str, int]:
    row = page.locator(f'tr[data-unit="{unit}"]')
    return {cell.get_attribute("data-state"): int(cell.inner_text()) for cell in row.locator("td[data-state]").all()}


def test_dashboard_in_chromium(server, browser_context, tmp_path):
    base, db = server
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\nbrowser: {version}")
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    # without a session: the login page, and no task data
    page.goto(base + "/tasks?state=overdue")
    assert page.url.startswith(base + "/login?next=")
    assert page.locator("h1").inner_text() == "督办办公室登录"
    page.fill('input[name="name"]', ADMIN)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    assert page.url == base + "/tasks?state=overdue"  # back where the login was asked for
    page.goto(base + "/")
    assert page.locator("h1").inner_text().startswith("三色预警")
    for unit in ("邵阳县", "市生态环境局"):
        assert figures_on(page, unit) == counts(db, unit), unit
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    # a filter: document 2 only, through the form
    page.select_option('select[name="doc"]', "2")
    page.click('form.filters button[type="submit"]')
    page.wait_for_load_state()
    assert "doc=2" in page.url
    assert figures_on(page, "邵阳县") == counts(db, "邵阳县", "--doc", "2")
    # the unit's most urgent non-empty column: its list, then its first task
    expected = counts(db, "邵阳县", "--doc", "2")
    state = next(k for k in ("overdue", "due7", "due30", "on_track") if expected[k])
    page.click(f'tr[data-unit="邵阳县"] td[data-state="{state}"] a')
    page.wait_for_load_state()
    assert f"state={state}" in page.url and "doc=2" in page.url
    assert int(page.locator("#task-count").inner_text()) == expected[state]
    page.screenshot(path=str(tmp_path / "tasks.png"), full_page=True)
    title = page.locator("table.list tbody tr a").first.inner_text()
    page.locator("table.list tbody tr a").first.click()
    page.wait_for_load_state()
    assert "/task/" in page.url and title in page.locator("h1").inner_text()
    assert page.locator(".milestones li").count() >= 1 and "来源" in page.content()
    page.screenshot(path=str(tmp_path / "task.png"), full_page=True)
    # on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    # logged out: redirected again
    page.click("header form button")
    page.wait_for_load_state()
    page.goto(base + "/timeline")
    assert page.url.startswith(base + "/login")
    for name in ("overview.png", "tasks.png", "task.png", "phone.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    shots = os.environ.get("DUBAN_SCREENSHOTS")  # to look at them after the run
    if shots:
        for name in ("overview.png", "tasks.png", "task.png", "phone.png"):
            shutil.copy(tmp_path / name, Path(shots) / name)
