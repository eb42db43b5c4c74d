"""DingTalk OpenAPI (api.dingtalk.com v1.0): the app access token, cached until shortly before it expires.

Used by the robot send API (proactive reminders from a Stream/app robot) and by interactive cards.
Errors never carry the secret or the token.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import aiohttp

from bot.channels.base import client_timeout

DEFAULT_API_BASE = "https://api.dingtalk.com"
TOKEN_PATH = "/v1.0/oauth2/accessToken"
TOKEN_MARGIN_S = 300


class DingTalkApiError(Exception):
    def __init__(self, status: int, code: str, *, unknown: bool = False, redirect: bool = False):
        super().__init__(f"dingtalk api HTTP {status} {code}")
        self.status, self.code, self.unknown, self.redirect = status, code, unknown, redirect


class DingTalkOpenApi:
    def __init__(self, app_key: str, app_secret: str, *, session: aiohttp.ClientSession,
                 api_base: str = DEFAULT_API_BASE, timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.app_key = app_key
        self._secret = app_secret
        self.session = session
        self.api_base = api_base.rstrip("/")
        self.timeout = client_timeout(timeout_s)
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    def __repr__(self) -> str:
        return f"DingTalkOpenApi(app_key={self.app_key!r})"

    async def access_token(self, force: bool = False) -> str:
        async with self._lock:
            if force or self._token is None or self.clock() >= self._expires:
                data = await self._call("POST", TOKEN_PATH, {"appKey": self.app_key, "appSecret": self._secret})
                token, lifetime = data.get("accessToken"), data.get("expireIn", 7200)
                if not isinstance(token, str) or not token:
                    raise DingTalkApiError(200, "no accessToken")
                self._token = token
                self._expires = self.clock() + max(float(lifetime) - TOKEN_MARGIN_S, float(lifetime) / 2)
                self.token_fetches += 1
            return self._token

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict:
        """An authorised call; a token refused as expired is fetched again once."""
        for attempt in (1, 2):
            token = await self.access_token(force=attempt == 2)
            try:
                return await self._call(method, path, body, token)
            except DingTalkApiError as exc:
                if exc.status == 401 and attempt == 1:
                    continue
                raise
        raise AssertionError("unreachable")

    async def _call(self, method: str, path: str, body: dict, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["x-acs-dingtalk-access-token"] = token
        try:
            async with self.session.request(method, self.api_base + path, json=body, headers=headers,
                                            timeout=self.timeout, allow_redirects=False) as resp:
                if 300 <= resp.status < 400:
                    raise DingTalkApiError(resp.status, "redirect", redirect=True)
                data = await resp.json(content_type=None) if resp.content_length != 0 else {}
                if resp.status != 200:
                    code = str(data.get("code", "")) if isinstance(data, dict) else ""
                    raise DingTalkApiError(resp.status, code[:60])
        except aiohttp.ConnectionTimeoutError:
            raise DingTalkApiError(0, "ConnectionTimeoutError") from None
        except asyncio.TimeoutError:
            raise DingTalkApiError(0, "TimeoutError", unknown=path != TOKEN_PATH) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise DingTalkApiError(0, type(exc).__name__) from None
        return data if isinstance(data, dict) else {}
