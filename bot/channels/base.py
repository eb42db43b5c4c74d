"""Outbound push channels: one message shape, one outcome shape, one interface.

The reminder sender builds an `OutMessage`, asks `bot.channels.channel_from_config` for the
group's channel and calls `send`. It never sees wire formats or error codes,
only `SendOutcome.status`:

* "sent"   — the platform accepted it;
* "retry"  — transient (timeout, connection error, HTTP 5xx/429, busy, rate
             limit); try again later, after `retry_after` seconds when given;
* "failed" — permanent (bad key, bad sign, robot removed, content refused);
             retrying unchanged cannot help, an operator must fix the config.

`detail` is short and safe to log and show: it never holds a secret, a token
or a full webhook URL (a webhook URL's query *is* the credential).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

DEFAULT_TIMEOUT_S = 10.0
HTTP_429_RETRY_AFTER_S = 60.0  # when a 429 carries no usable Retry-After header


class ChannelConfigError(ValueError):
    """A channel config that cannot work; the message says what to fix."""


@dataclass
class OutMessage:
    title: str  # short title (DingTalk markdown title / notification preview)
    markdown: str  # body
    at_mobiles: list[str] = field(default_factory=list)  # @ by mobile number
    at_user_ids: list[str] = field(default_factory=list)  # DingTalk userIds / WeCom userids
    kind: str = ""  # "reminder" for a unit's digest: channels that can send cards send it as one
    ref: str = ""  # a stable id of the message (the outbox row), for card ids


@dataclass
class SendOutcome:
    status: str  # "sent" | "retry" | "failed"
    detail: str  # short; never secrets or full webhook URLs
    retry_after: float | None = None  # seconds, for rate limits
    # the request went out but no answer came (timeout after sending): the platform may have delivered it,
    # so the sender retries such a message at most once, after a delay, and records "结果未知"
    unknown: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "sent"


def sent(detail: str = "ok") -> SendOutcome:
    return SendOutcome("sent", detail)


def retry(detail: str, retry_after: float | None = None) -> SendOutcome:
    return SendOutcome("retry", detail, retry_after)


def failed(detail: str) -> SendOutcome:
    return SendOutcome("failed", detail)


def unknown(detail: str) -> SendOutcome:
    """Sent, but the answer never came: retried at most once (status "retry", flagged unknown)."""
    return SendOutcome("retry", detail, unknown=True)


CONNECT_TIMEOUT_S = 5.0  # a connect that times out sent nothing: safe to retry as often as needed


def client_timeout(timeout_s: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, CONNECT_TIMEOUT_S))


def redirect_refused(label: str, status: int) -> SendOutcome:
    # a redirect could carry the message (and its credential-bearing URL) to a host nobody allowed
    return failed(f"{label} 返回重定向（HTTP {status}），出于安全不跟随，请检查地址")


class Channel(ABC):
    """One push destination (a group robot, an app, the console).

    Pacing: every platform message `send` makes costs one slot under each of
    `pacing_keys(msg)`; `message_count(msg)` says how many messages one
    `send` makes, so a sender can reserve them all before it starts (a
    rate limit hit halfway would make a retry repeat the first parts).
    """

    kind: str = ""
    max_per_minute: int = 20  # group robots: 20/min each (DingTalk and WeCom docs)

    @abstractmethod
    async def send(self, msg: OutMessage) -> SendOutcome: ...

    @abstractmethod
    def describe(self) -> str:
        """Human label for logs and the admin page, e.g. "钉钉群机器人 oapi.dingtalk.com"."""

    def pacing_keys(self, msg: OutMessage) -> list[str]:
        return [self.pacing_key]

    def message_count(self, msg: OutMessage) -> int:
        return 1

    @property
    def pacing_key(self) -> str:
        return self.kind

    def __repr__(self) -> str:  # never the default repr: attributes hold secrets
        return f"<{type(self).__name__} {self.describe()}>"


# ---- helpers shared by the HTTP channels -------------------------------------


def host_of(url: str) -> str:
    """The URL's host only: safe to show, unlike the query with its key/token."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def fingerprint(secret_text: str) -> str:
    """Short stable id for a credential-bearing URL (pacing keys, logs)."""
    return hashlib.sha256(secret_text.encode("utf-8")).hexdigest()[:12]


def redact(text: str, *secrets: str | None) -> str:
    """Drop any configured secret that a platform echoed back, and cap length."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text[:120]


def dump_json(body: dict[str, Any]) -> bytes:
    # UTF-8, not \\uXXXX escapes: Chinese text would take 6 bytes a character
    # and byte limits (DingTalk 20000-byte body) would be hit three times sooner.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def timeout_from(cfg: dict) -> float:
    try:
        return float(cfg.get("timeout_s", DEFAULT_TIMEOUT_S))
    except (TypeError, ValueError):
        raise ChannelConfigError("timeout_s 必须是秒数") from None


async def post_json(
    session: aiohttp.ClientSession, url: str, body: bytes, timeout_s: float, label: str
) -> dict | SendOutcome:
    """POST a JSON body; the parsed JSON object, or a SendOutcome for HTTP-level trouble.

    `label` (e.g. the host) goes into details; the URL never does, because
    its query holds the credential — hence only exception *type* names.
    Redirects are never followed. A timeout once connected is an unknown outcome.
    """
    try:
        async with session.post(
            url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=client_timeout(timeout_s),
            allow_redirects=False,
        ) as resp:
            if 300 <= resp.status < 400:
                return redirect_refused(label, resp.status)
            if resp.status == 429:  # throttled by a gateway: transient
                return retry(f"{label} HTTP 429", _retry_after_header(resp.headers.get("Retry-After")))
            if resp.status >= 500:  # platform trouble: transient
                return retry(f"{label} HTTP {resp.status}")
            if resp.status >= 400:  # wrong path/method/host: retrying cannot help
                return failed(f"{label} HTTP {resp.status}，请检查 webhook 地址")
            raw = await resp.read()
    except aiohttp.ConnectionTimeoutError:  # nothing was sent
        return retry(f"{label} 连接超时（{timeout_s:g} 秒）")
    except asyncio.TimeoutError:
        return unknown(f"{label} 请求已发出，{timeout_s:g} 秒内未收到答复（请求超时）")
    except aiohttp.InvalidURL:
        return failed(f"{label} webhook 地址无效")
    except aiohttp.ClientError as exc:  # connection refused/reset, DNS, TLS …
        return retry(f"{label} 网络错误 {type(exc).__name__}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        # A proxy or captive portal answering HTML with 200: not the platform's word.
        return retry(f"{label} 返回内容不是 JSON")
    if not isinstance(data, dict):
        return retry(f"{label} 返回内容格式异常")
    return data


def _retry_after_header(value: str | None) -> float:
    if value and re.fullmatch(r"\d{1,6}", value.strip()):
        return float(value.strip())
    return HTTP_429_RETRY_AFTER_S


def errcode_of(data: dict) -> int:
    try:
        return int(data.get("errcode", -1))
    except (TypeError, ValueError):
        return -1


def classify(code: int, table: dict[int, tuple[str, str]], label: str, errmsg: str = "",
             retry_after: dict[int, float] | None = None) -> SendOutcome:
    """A platform errcode through its channel's table. Unknown codes are permanent: hammering a robot
    with a request the platform refused risks its 10-minute block; an operator sees the detail."""
    if code == 0:
        return sent()
    status, meaning = table.get(code, ("failed", "未知错误"))
    detail = f"{label} errcode {code}：{meaning}" + (f"（{errmsg}）" if errmsg else "")
    if status == "retry":
        return retry(detail, (retry_after or {}).get(code))
    return failed(detail)
