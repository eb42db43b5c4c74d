"""WeCom app message API: access_token caching and message/send.

Used when an answer cannot go back as a passive reply (too slow or too long).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import aiohttp

from bot.channels.base import client_timeout

from ..base import split_markdown

log = logging.getLogger(__name__)

TEXT_LIMIT_BYTES = 2048  # longer text is truncated by WeCom; above 5120 rejected
TOKEN_REFRESH_MARGIN_S = 300  # refresh early: WeCom may invalidate tokens ahead of time
TOKEN_ERRCODES = {40014, 41001, 42001}  # invalid / missing / expired access_token


class WeComApiError(Exception):
    """A failed WeCom API call. Never carries the secret or the token."""

    def __init__(self, errcode: int, errmsg: str = "", *, unknown: bool = False, redirect: bool = False):
        super().__init__(f"wecom api errcode {errcode}: {errmsg[:200]}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.unknown = unknown  # sent, but no answer in time: it may have been delivered
        self.redirect = redirect  # a 3xx, never followed


class WeComAppClient:
    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int | str,
        base_url: str = "https://qyapi.weixin.qq.com",
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 10.0,
    ):
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id)
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self._clock = clock
        self._timeout = client_timeout(timeout_s)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"WeComAppClient(corp_id={self.corp_id!r}, agent_id={self.agent_id})"

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send_text(self, to_user: str, text: str) -> None:
        """Send text to one member (or '|'-joined members), split into 2048-byte parts."""
        for part in split_markdown(text, TEXT_LIMIT_BYTES):
            await self.send(to_user, "text", {"content": part})

    async def send_markdown(self, to_user: str, text: str) -> None:
        """Markdown renders only in the WeCom client, not in the WeChat plugin."""
        for part in split_markdown(text, TEXT_LIMIT_BYTES):
            await self.send(to_user, "markdown", {"content": part})

    async def send(self, to_user: str, msgtype: str, content: dict[str, Any]) -> dict:
        body = {"touser": to_user, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content, "safe": 0}
        for attempt in (1, 2):
            token = await self.access_token(force=attempt == 2)
            data = await self._request("POST", "/cgi-bin/message/send", {"access_token": token}, body)
            errcode = int(data.get("errcode", -1))
            if errcode == 0:
                return data
            if errcode in TOKEN_ERRCODES and attempt == 1:
                log.info("wecom access_token rejected (errcode %s); refreshing", errcode)
                continue
            raise WeComApiError(errcode, str(data.get("errmsg", "")))
        raise AssertionError("unreachable")

    async def access_token(self, force: bool = False) -> str:
        """Cached token; fetched again when near expiry or when `force`d."""
        async with self._token_lock:
            if force or self._token is None or self._clock() >= self._token_expires:
                await self._fetch_token()
            assert self._token is not None
            return self._token

    async def _fetch_token(self) -> None:
        params = {"corpid": self.corp_id, "corpsecret": self._secret}
        data = await self._request("GET", "/cgi-bin/gettoken", params, None)
        if int(data.get("errcode", -1)) != 0 or not data.get("access_token"):
            raise WeComApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        lifetime = float(data.get("expires_in", 7200))
        self._token = str(data["access_token"])
        self._token_expires = self._clock() + max(lifetime - TOKEN_REFRESH_MARGIN_S, lifetime / 2)

    async def _request(self, method: str, path: str, params: dict, body: dict | None) -> dict:
        # Errors are re-raised without the URL: its query holds the secret or token.
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        try:
            async with self._session.request(
                method, self.base_url + path, params=params, json=body, timeout=self._timeout,
                allow_redirects=False,  # a redirect would take the token (in the query) to another host
            ) as resp:
                if resp.status != 200:
                    raise WeComApiError(-1, f"HTTP {resp.status} from {path}", redirect=300 <= resp.status < 400)
                data = await resp.json(content_type=None)
        except aiohttp.ConnectionTimeoutError:
            raise WeComApiError(-1, f"ConnectionTimeoutError calling {path}") from None
        except asyncio.TimeoutError:
            # connected and sent: a POST may have been carried out
            raise WeComApiError(-1, f"TimeoutError calling {path}", unknown=method == "POST") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise WeComApiError(-1, f"{type(exc).__name__} calling {path}") from None
        if not isinstance(data, dict):
            raise WeComApiError(-1, f"unexpected response from {path}")
        return data
