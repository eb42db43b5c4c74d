"""The dashboard's pages: overview (三色预警 by unit), task lists, a task, a document's timeline, and the
calendar feed behind a unit's link. Every page shows only what its viewer may see."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from knowledge import details, progress
from knowledge import workbench_queries as wq
from parser import ROLE_LABELS, ROLES

from .. import clock
from ..render import task_label
from . import overview as ov
from . import states
from .ledger_model import SOURCES
from .web import DASHBOARD, DECISION_ERROR, VIEWER

MAX_PAGE = 100000


def _today(request: web.Request) -> date:
    return clock.today(request.app[DASHBOARD].settings.today)


def _int(value, lo: int = 1, hi: int = MAX_PAGE) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if lo <= n <= hi else None


def filters(request: web.Request) -> ov.Filters:
    q = request.query
    viewer = request[VIEWER]
    role = q.get("role") if q.get("role") in ROLES else None
    state = q.get("state") if q.get("state") in states.BY_KEY else None
    unit = viewer.unit or (q.get("unit") or "").strip()[:64] or None
    return ov.Filters(_int(q.get("doc")), unit, role, state, _int(q.get("page")) or 1)


def link(path: str, f: ov.Filters, **change) -> str:
    values = {"doc": f.document, "unit": f.unit, "role": f.role, "state": f.state, "page": None, **change}
    query = urlencode({k: v for k, v in values.items() if v not in (None, "")})
    return path + ("?" + query if query else "")


def _common(request: web.Request, f: ov.Filters) -> dict:
    db = request.app[DASHBOARD].db
    return {"f": f, "today": _today(request), "documents": wq.documents(db), "link": link,
            "units": [] if request[VIEWER].unit else ov.unit_names(db), "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
            "states": states, "task_label": task_label, "role_labels": ROLE_LABELS}


async def overview_page(request: web.Request) -> web.Response:
    dash, viewer = request.app[DASHBOARD], request[VIEWER]
    f = filters(request)
    data = ov.overview(dash.db, f, _today(request), only_unit=viewer.unit)
    return dash.render(request, "overview.html", data=data, **_common(request, f))


async def tasks_page(request: web.Request) -> web.Response:
    dash, viewer = request.app[DASHBOARD], request[VIEWER]
    f = filters(request)
    data = ov.task_list(dash.db, f, _today(request), only_unit=viewer.unit)
    docs = {d["id"]: d for d in wq.documents(dash.db)}
    return dash.render(request, "tasks.html", data=data, docs=docs, **_common(request, f))


def may_see(db, viewer, task_id: int) -> bool:
    """An admin sees every task; a unit's link only the tasks it answers for (collectives resolved)."""
    return viewer.is_admin or progress.unit_answers_for(db, viewer.unit, task_id, closing=False)


async def task_page(request: web.Request) -> web.Response:
    dash, viewer = request.app[DASHBOARD], request[VIEWER]
    task_id = _int(request.match_info["id"], 1, 2 ** 62)
    facts = wq.task_facts(dash.db, task_ids=[task_id]) if task_id else []
    if not facts:
        raise web.HTTPNotFound(text="没有这项任务（或已不是现行版本）")
    if not may_see(dash.db, viewer, task_id):
        raise web.HTTPForbidden(text="该任务不属于本单位，无权查看")
    fact = facts[0]
    today = _today(request)
    detail = details.task_detail(dash.db, task_id)
    task = wq.task_rows(dash.db, [task_id])[task_id]
    doc = next(d for d in wq.documents(dash.db) if d["id"] == fact.document_id)
    milestones = wq.milestones_by_task(dash.db, [task_id])[task_id]
    for m in milestones:
        m["days"] = (date.fromisoformat(m["due"]) - today).days
        m["source_label"] = SOURCES.get(m["source"], m["source"])
    from .decisions import KINDS, pending
    return dash.render(request, "task.html", status=409 if request.get(DECISION_ERROR) else 200, task=task,
                       doc=doc, detail=detail, milestones=milestones, kinds=KINDS, applications=pending(dash.db, task_id),
                       decision_error=request.get(DECISION_ERROR), kind_words=progress.KINDS,
                       state=states.classify(fact.status, fact.ongoing, fact.next_due, today),
                       history=progress.history(dash.db, task_id, limit=100), **_common(request, ov.Filters()))


async def timeline_page(request: web.Request) -> web.Response:
    dash, viewer = request.app[DASHBOARD], request[VIEWER]
    f = filters(request)
    docs = wq.documents(dash.db)
    doc = next((d for d in docs if d["id"] == f.document), docs[0] if docs else None)
    total, rows = (0, [])
    if doc:
        total, rows = wq.timeline(dash.db, doc["id"], offset=(f.page - 1) * ov.PAGE * 2, limit=ov.PAGE * 2,
                                  unit=viewer.unit)
    pages = max(1, -(-total // (ov.PAGE * 2)))
    return dash.render(request, "timeline.html", doc=doc, rows=rows, total=total, pages=pages,
                       **_common(request, ov.Filters(doc["id"] if doc else None, page=f.page)))


async def calendar_feed(request: web.Request) -> web.Response:
    dash = request.app[DASHBOARD]
    token = request.match_info["token"]
    unit = wq.link_unit(dash.db, token, "calendar") if len(token) <= 64 else None
    if unit is None:
        raise web.HTTPNotFound(text="日历链接无效或已撤销")
    from .calendar_feed import build_feed
    body = build_feed(dash.db, unit, lead_days=dash.settings.lead_days)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition": 'inline; filename="duban.ics"'})


async def to_overview(request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


def add_routes(app: web.Application, page) -> None:
    app.router.add_get("/", page(overview_page))
    app.router.add_get("/dashboard", page(to_overview, login=False))
    app.router.add_get("/tasks", page(tasks_page))
    app.router.add_get("/task/{id}", page(task_page))
    from .decisions import decide
    app.router.add_post("/task/{id}/decide", page(decide))
    app.router.add_get("/timeline", page(timeline_page))
    app.router.add_get("/calendar/{token}.ics", page(calendar_feed, login=False))
