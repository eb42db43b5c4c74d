"""On start: messages an earlier process received but did not answer are answered now, while their reply
route is still valid (DingTalk's sessionWebhook until it expires; WeCom through the app message API).
One that cannot be answered this way stays open: the platform's redelivery of it is answered."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from .answer_tracking import inbound_of
from .claims import DeliveryClaims
from .platforms.base import Inbound, Reply
from .platforms.registry import PLATFORMS

log = logging.getLogger("duban.resend")

async def answer_unanswered(claims: DeliveryClaims, settings, answer: Callable[[Inbound], Reply | None],
                            concurrency: int = 16) -> None:
    closers: list = []
    senders = {p.name: p.late_reply(settings, closers) for p in PLATFORMS}
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
                if (written := claims.answered(platform, msg_id)) is not None:
                    await written
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
