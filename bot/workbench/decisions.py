"""销号 / 延期 decisions from the dashboard: the 督办 office approves or returns a pending application
through the workflow's own functions (knowledge.review), so the rules, the audit and the message to the
applicant are the chat's. Only a logged-in 管理员, only by POST with the session's CSRF token."""
from __future__ import annotations

from aiohttp import web

from knowledge import review
from knowledge import workbench_queries as wq

from .. import clock
from ..reminders import replan_after_change
from . import auth
from .web import DASHBOARD, DECISION_ERROR, SESSION, VIEWER

PLATFORM = "dashboard"
KINDS = {"close": "销号", "extension": "延期"}


def pending(db, task_id: int) -> list:
    return [r for kind in KINDS if (r := review.pending(db, task_id, kind)) is not None]


async def decide(request: web.Request) -> web.Response:
    """POST /task/<id>/decide: action=approve|return, kind=close|extension, reason (for a return)."""
    dash, viewer = request.app[DASHBOARD], request[VIEWER]
    form = await request.post()
    if not auth.csrf_ok(dash.key, request[SESSION], form.get("csrf")):
        raise web.HTTPForbidden(text="表单已过期，请刷新页面后重试")
    if not viewer.is_admin:
        raise web.HTTPForbidden(text="只有督办办管理员可以审核")
    try:
        task_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    action, kind = form.get("action"), form.get("kind")
    reason = str(form.get("reason", "")).strip()[:500]
    if action not in ("approve", "return") or kind not in KINDS:
        raise web.HTTPBadRequest(text="无效的审核操作")
    actor = review.Actor(wq.admin_unit(dash.db, viewer.name), viewer.name, "管理员", PLATFORM, viewer.name)
    try:
        if action == "approve":
            review.approve(dash.db, task_id, actor, clock.now(), kind=kind)
            # digests already queued must not name a closed task or an old date (as after a chat approval)
            replan_after_change(dash.db, clock.today(), clock.now())
        else:
            review.return_(dash.db, task_id, actor, reason, clock.now(), kind=kind)
    except review.Refused as e:
        from .pages import task_page
        request[DECISION_ERROR] = str(e)
        return await task_page(request)
    raise web.HTTPSeeOther(f"/task/{task_id}")
