"""The dashboard's web side: sessions, login, unit links, security headers; pages live in pages.py.

Everything here is read-only for a GET; the forms (login, logout, decisions) are POSTs carrying the
session's CSRF token."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
from aiohttp import web

from knowledge import workbench_queries as wq

from . import auth

HERE = Path(__file__).parent
LOGIN_TRIES = 5  # failed logins per name within LOGIN_WINDOW seconds before the name is locked for a while
LOGIN_WINDOW = 900
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
                               " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Viewer:
    kind: str  # admin / unit
    name: str  # the admin's name, or the unit
    unit: str | None  # None: sees every unit

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


@dataclass
class Dashboard:
    db: object
    settings: object
    key: bytes
    templates: jinja2.Environment
    failures: dict

    def render(self, request: web.Request, name: str, status: int = 200, **context) -> web.Response:
        session = request[SESSION]
        html = self.templates.get_template(name).render(
            viewer=request.get(VIEWER), csrf=auth.csrf_token(self.key, session), path=request.path, **context)
        resp = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        self.set_cookie(request, resp, session)
        return resp

    def set_cookie(self, request: web.Request, resp: web.StreamResponse, session: auth.Session) -> None:
        resp.set_cookie(auth.COOKIE, auth.sign(self.key, session), httponly=True, samesite="Lax", path="/",
                        secure=request.secure, max_age=auth.SESSION_SECONDS)


DASHBOARD = web.AppKey("workbench_dashboard", Dashboard)
_KEY = getattr(web, "RequestKey", None)  # aiohttp >= 3.12; plain strings before
SESSION = _KEY("workbench_session", auth.Session) if _KEY else "workbench_session"
VIEWER = _KEY("workbench_viewer", object) if _KEY else "workbench_viewer"
DECISION_ERROR = _KEY("workbench_decision_error", str) if _KEY else "workbench_decision_error"


def viewer_of(dash: Dashboard, session: auth.Session) -> Viewer | None:
    """Who a session speaks for, checked against the store on every request."""
    if session.kind == "admin":
        acct = wq.account(dash.db, session.who)
        if acct and acct["changed_at"] == session.version and session.who in wq.admin_names(dash.db):
            return Viewer("admin", session.who, None)
    elif session.kind == "unit":
        unit = wq.link_unit(dash.db, session.who, "dashboard")
        if unit:
            return Viewer("unit", unit, unit)
    return None


def page(handler, *, login: bool = True):
    """Wrap a dashboard handler: its session and viewer, the login check, the security headers. Not a
    middleware: the webhooks on the same server pay nothing for the dashboard."""
    async def wrapped(request: web.Request):
        dash = request.app[DASHBOARD]
        session = auth.unsign(dash.key, request.cookies.get(auth.COOKIE)) or auth.Session.anonymous()
        request[SESSION] = session
        request[VIEWER] = viewer_of(dash, session)
        try:
            if login and request[VIEWER] is None:
                raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
            resp = await handler(request)
        except web.HTTPException as e:
            resp = e
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
        if isinstance(resp, web.HTTPException):
            raise resp
        return resp
    return wrapped


def _safe_next(value: str | None) -> str:
    """Only a path on this server: never //host or a scheme, so the login cannot send anyone elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def login_page(request: web.Request) -> web.Response:
    dash = request.app[DASHBOARD]
    return dash.render(request, "login.html", next=_safe_next(request.query.get("next")))


def _locked(dash: Dashboard, name: str) -> bool:
    now = time.monotonic()
    if len(dash.failures) > 10000:  # many names tried: forget the ones past their window
        for stale in [n for n, ts in dash.failures.items() if not ts or now - ts[-1] >= LOGIN_WINDOW]:
            del dash.failures[stale]
    tries = [t for t in dash.failures.get(name, []) if now - t < LOGIN_WINDOW]
    dash.failures[name] = tries
    return len(tries) >= LOGIN_TRIES


async def login(request: web.Request) -> web.Response:
    dash = request.app[DASHBOARD]
    form = await request.post()
    if not auth.csrf_ok(dash.key, request[SESSION], form.get("csrf")):
        raise web.HTTPForbidden(text="表单已过期，请刷新页面后重试")
    name, password = str(form.get("name", "")).strip()[:64], str(form.get("password", ""))[:256]
    nxt = _safe_next(form.get("next"))
    if _locked(dash, name):
        return dash.render(request, "login.html", status=429, next=nxt, error="尝试次数过多，请15分钟后再试")
    acct = wq.account(dash.db, name) if name in wq.admin_names(dash.db) else None
    if not acct or not auth.verify_password(password, acct["salt"], acct["hash"], acct["params"]):
        dash.failures.setdefault(name, []).append(time.monotonic())
        return dash.render(request, "login.html", status=401, next=nxt, error="用户名或密码错误")
    dash.failures.pop(name, None)
    session = auth.Session("admin", name, auth.Session.anonymous().nonce, int(time.time()) + auth.SESSION_SECONDS,
                           acct["changed_at"])  # a fresh nonce: the login page's token dies with it
    resp = web.HTTPFound(nxt)
    dash.set_cookie(request, resp, session)
    raise resp


async def logout(request: web.Request) -> web.Response:
    dash = request.app[DASHBOARD]
    form = await request.post()
    if not auth.csrf_ok(dash.key, request[SESSION], form.get("csrf")):
        raise web.HTTPForbidden(text="表单已过期，请刷新页面后重试")
    resp = web.HTTPFound("/login")
    dash.set_cookie(request, resp, auth.Session.anonymous())
    raise resp


async def unit_link(request: web.Request) -> web.Response:
    """/u/<token>: a unit's read-only link opens a session for that unit."""
    dash = request.app[DASHBOARD]
    token = request.match_info["token"]
    if len(token) > 64 or not wq.link_unit(dash.db, token, "dashboard"):
        raise web.HTTPNotFound(text="链接无效或已撤销")
    resp = web.HTTPFound("/")
    dash.set_cookie(request, resp, auth.Session("unit", token, auth.Session.anonymous().nonce,
                                                int(time.time()) + auth.SESSION_SECONDS))
    raise resp


def setup(app: web.Application, settings, db) -> None:
    from . import pages
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    app[DASHBOARD] = Dashboard(db, settings, wq.signing_key(db), env, {})
    app.router.add_get("/login", page(login_page, login=False))
    app.router.add_post("/login", page(login, login=False))
    app.router.add_post("/logout", page(logout, login=False))
    app.router.add_get("/u/{token}", page(unit_link, login=False))
    app.router.add_static("/static/", HERE / "static", append_version=False)
    pages.add_routes(app, page)
