"""DingTalk interactive reminder cards: createAndDeliver with callbackType STREAM, clicks on the Stream topic
/v1.0/card/instances/callback answered by the ACK's cardData (the card shows the result at once).

Card template (made once in the card builder, its id in DUBAN_DINGTALK_CARD_TEMPLATE_ID): variables title,
body (markdown), status, task (and tasks, a JSON list, for a template that loops); buttons of click type
回传请求 with params {"action": "close" | "extend" | "detail", "task": "${task}"}.
"""
from __future__ import annotations

import json
import logging

from ..cards import ACTIONS, Click, act

log = logging.getLogger(__name__)

CREATE_PATH = "/v1.0/card/instances/createAndDeliver"


class CardClicks:
    def __init__(self, conversation):
        self.conversation = conversation

    async def on_click(self, data: dict) -> dict | None:
        """The ACK response for one click: {"cardData": {"cardParamMap": {"status": …}}}."""
        click = parse_click(data)
        if click is None:
            return None
        status = act(self.conversation, click)
        log.info("dingtalk card click %s on %s", click.action, click.task)
        return {"cardData": {"cardParamMap": {"status": status}}}


def parse_click(data: dict) -> Click | None:
    user = data.get("userId")
    try:
        content = json.loads(data.get("content") or "{}")
        params = (content.get("cardPrivateData") or {}).get("params") or {}
    except (ValueError, AttributeError):
        return None
    action, task = params.get("action"), str(params.get("task") or "")
    if not isinstance(user, str) or not user or action not in ACTIONS or not task:
        return None
    group = data.get("spaceType") == "IM_GROUP"
    return Click("dingtalk", user, action, task, data.get("spaceId") if group else None, "group" if group else "single")


def create_body(*, template_id: str, out_track_id: str, robot_code: str, title: str, body: str, tasks: list[str],
                conversation_id: str) -> dict:
    """createAndDeliver into a group, clicks coming back over Stream. `task` is the first task (a one-task
    template's buttons), `tasks` all of them as a JSON list (a template looping over its buttons)."""
    params = {"title": title, "body": body, "task": tasks[0], "tasks": json.dumps(tasks), "status": "待处理"}
    return {"cardTemplateId": template_id, "outTrackId": out_track_id,
            "cardData": {"cardParamMap": params},
            "callbackType": "STREAM", "userIdType": 1, "openSpaceId": f"dtv1.card//IM_GROUP.{conversation_id}",
            "imGroupOpenSpaceModel": {"supportForward": True},
            "imGroupOpenDeliverModel": {"robotCode": robot_code}}
