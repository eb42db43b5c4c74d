"""DingTalk app robot (企业内部应用机器人) through the robot send API: reminders into a group the robot is in
(`open_conversation_id`) or to members one by one (`user_ids`). Works with Stream mode: no public address.

POST /v1.0/robot/groupMessages/send {robotCode, openConversationId, msgKey, msgParam} or
POST /v1.0/robot/oToMessages/batchSend {robotCode, userIds, msgKey, msgParam}, with the app access token
(cached until shortly before expiry, shared by every channel of the same app).
"""
from __future__ import annotations

import json
import re
import time
import weakref

import aiohttp

from ..cards import digest_tasks
from .cards import CREATE_PATH as CARD_PATH, create_body
from .openapi import DEFAULT_API_BASE, DingTalkApiError, DingTalkOpenApi

from bot.channels.base import (Channel, ChannelConfigError, OutMessage, SendOutcome, failed, fingerprint, host_of,
                   redirect_refused, retry, sent, timeout_from, unknown)

GROUP_PATH = "/v1.0/robot/groupMessages/send"
USERS_PATH = "/v1.0/robot/oToMessages/batchSend"
MAX_USERS = 20  # batchSend takes at most 20 userIds per call
TEXT_LIMIT = 5000
# one token client per (session, api base, app): the token is fetched once, not per unit
_APIS: "weakref.WeakKeyDictionary[aiohttp.ClientSession, dict]" = weakref.WeakKeyDictionary()


def api_for(session: aiohttp.ClientSession, api_base: str, client_id: str, secret: str,
            timeout_s: float) -> DingTalkOpenApi:
    apis = _APIS.setdefault(session, {})
    key = (api_base, client_id, fingerprint(secret))
    if key not in apis:
        apis[key] = DingTalkOpenApi(client_id, secret, session=session, api_base=api_base, timeout_s=timeout_s)
    return apis[key]


class DingTalkAppChannel(Channel):
    kind = "dingtalk_app"

    def __init__(self, api: DingTalkOpenApi, robot_code: str, conversation_id: str | None, user_ids: list[str],
                 card_template_id: str | None = None):
        self._api = api
        self.robot_code = robot_code
        self.conversation_id = conversation_id
        self.user_ids = user_ids
        self.card_template_id = card_template_id  # set: a group's digests go out as interactive cards

    @classmethod
    def from_config(cls, cfg: dict, session: aiohttp.ClientSession) -> "DingTalkAppChannel":
        missing = [k for k in ("client_id", "client_secret") if not cfg.get(k)]
        if missing:
            raise ChannelConfigError(f"钉钉应用机器人缺少配置：{', '.join(missing)}（DUBAN_DINGTALK_CLIENT_ID/SECRET）")
        users = cfg.get("user_ids") or []
        if isinstance(users, str):
            users = [u for u in re.split(r"[|,\s]+", users) if u]
        conversation = str(cfg.get("open_conversation_id") or "").strip() or None
        if not conversation and not users:
            raise ChannelConfigError("钉钉应用机器人需要 open_conversation_id（群）或 user_ids（成员）")
        api = api_for(session, str(cfg.get("api_base") or DEFAULT_API_BASE).rstrip("/"), str(cfg["client_id"]),
                      str(cfg["client_secret"]), timeout_from(cfg))
        return cls(api, str(cfg.get("robot_code") or cfg["client_id"]), conversation, list(users),
                   str(cfg.get("card_template_id") or "") or None)

    def describe(self) -> str:
        where = "群" if self.conversation_id else f"{len(self.user_ids)} 人"
        return f"钉钉应用机器人 {host_of(self._api.api_base)}（{where}）"

    @property
    def pacing_key(self) -> str:
        return f"{self.kind}:{fingerprint(self.conversation_id or '|'.join(self.user_ids))}"

    async def send(self, msg: OutMessage) -> SendOutcome:
        card = self._card(msg)
        if card is not None:
            try:
                await self._api.call("POST", CARD_PATH, card)
            except DingTalkApiError as exc:
                return classify(exc, host_of(self._api.api_base))
            return sent("ok（互动卡片）")
        param = json.dumps({"title": msg.title or "督办提醒", "text": msg.markdown[:TEXT_LIMIT]}, ensure_ascii=False)
        common = {"robotCode": self.robot_code, "msgKey": "sampleMarkdown", "msgParam": param}
        calls = ([(GROUP_PATH, {**common, "openConversationId": self.conversation_id})] if self.conversation_id else
                 [(USERS_PATH, {**common, "userIds": self.user_ids[i:i + MAX_USERS]})
                  for i in range(0, len(self.user_ids), MAX_USERS)])
        for path, body in calls:
            try:
                await self._api.call("POST", path, body)
            except DingTalkApiError as exc:
                return classify(exc, host_of(self._api.api_base))
        return sent()


    def _card(self, msg: OutMessage) -> dict | None:
        tasks = digest_tasks(msg.markdown)
        if not (self.card_template_id and self.conversation_id and msg.kind == "reminder" and tasks):
            return None
        return create_body(template_id=self.card_template_id, out_track_id=f"duban-{msg.ref or 0}-{int(time.time())}",
                           robot_code=self.robot_code, title=msg.title or "督办提醒", body=msg.markdown,
                           tasks=tasks, conversation_id=self.conversation_id)


def classify(exc: DingTalkApiError, host: str) -> SendOutcome:
    label = f"钉钉 {host}"
    if exc.redirect:
        return redirect_refused(label, exc.status)
    if exc.unknown:
        return unknown(f"{label} 请求已发出，未收到答复（请求超时）")
    if exc.status == 0 or exc.status >= 500 or exc.status == 429:
        return retry(f"{label} {exc.code or 'HTTP ' + str(exc.status)}")
    return failed(f"{label} HTTP {exc.status} {exc.code}：请检查应用凭据、robotCode 和群/成员是否有效")
