"""On start: messages an earlier process received but did not answer are answered now, while their reply
route is still valid (DingTalk's sessionWebhook until it expires; WeCom through the app message API).
One that cannot be answered this way stays open: the platform's redelivery of it is answered."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from .answer_tracking import inbound_of
from .claims import DeliveryClaims
from .platforms.base import Inbound, Reply

log = logging.getLogger("duban.resend")

# platform → (inbound, reply) → True when sent, False when its route is no longer usable
Sender = Callable[[Inbound, Reply], Awaitable[bool]]


def _dingtalk(settings, closers: list) -> Sender | None:
    if not settings.dingtalk_enabled:
        return None
    from .platforms.dingtalk import DingTalkPlatform
    robot = DingTalkPlatform(answer=lambda _: None, seen=lambda *_: True, app_secret=settings.dingtalk_app_secret,
                             session_hosts=set(settings.dingtalk_session_hosts))
    closers.append(robot.close)

    async def send(inbound: Inbound, reply: Reply) -> bool:
        if robot.route_problem(inbound):  # expired, or not on the allowlist
            return False
        await robot.post_reply(inbound, reply)
        return True
    return send


def _wecom(settings, closers: list) -> Sender | None:
    if not (settings.wecom_enabled and settings.wecom_secret and settings.wecom_agent_id):
        return None  # a passive reply is gone with the request: only the app API can answer late
    from .platforms.wecom import WeComAppClient, markdown_to_text
    client = WeComAppClient(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id,
                            base_url=settings.wecom_api_base)
    closers.append(client.close)

    async def send(inbound: Inbound, reply: Reply) -> bool:
        await client.send_text(inbound.reply_route.get("to_user") or inbound.user_id, markdown_to_text(reply.text))
        return True
    return send


async def answer_unanswered(claims: DeliveryClaims, settings, answer: Callable[[Inbound], Reply | None],
                            concurrency: int = 16) -> None:
    closers: list = []
    senders = {"dingtalk": _dingtalk(settings, closers), "wecom": _wecom(settings, closers)}
    outcome = {"sent": 0, "left": 0}
    gate = asyncio.Semaphore(concurrency)

    async def one(platform: str, msg_id: str, payload: str) -> None:
        send = senders.get(platform)
        async with gate:
            try:
                inbound = inbound_of(payload)
                reply = answer(inbound) if send is not None else None
                if send is None or (reply is not None and not await send(inbound, reply)):
                    claims.release(platform, msg_id)  # its redelivery is answered
                    outcome["left"] += 1
                    return
                await (claims.answered(platform, msg_id) or _nothing())
                outcome["sent"] += 1
            except Exception as exc:
                claims.release(platform, msg_id)
                outcome["left"] += 1
                log.error("event=resend_failed msg=%s error=%s", msg_id, type(exc).__name__)

    try:
        await asyncio.gather(*(one(*item) for item in claims.take_unanswered()))
    finally:
        for close in closers:
            await close()
    if outcome["sent"] or outcome["left"]:
        log.info("event=resend_on_start sent=%d left=%d", outcome["sent"], outcome["left"])


async def _nothing() -> None:
    return None
