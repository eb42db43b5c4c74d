"""Fake DingTalk / WeCom platform servers on 127.0.0.1, shared by the channel and reminder tests.

The fakes check what the real platforms check (加签 and its 1-hour window, tokens and keys, payload
shape, byte limits, 20/min per robot) and answer with the platforms' error codes. `serve` runs one
in the test's event loop (pytest-aiohttp); `ThreadedServer` runs one in a background thread, for
synchronous tests that call the CLI in-process or drive a real `duban` subprocess.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Self

from aiohttp import web

from bot.platforms.dingtalk.sign import sign

DT_TOKEN = "5d2c8e1f9a4b7063d1e8c2a5f9b4d706e3a1c8f5b2d9e4a7c1f6b3d8e5a2c9f4"
DT_SECRET = "SEC9f1c4e7a2b8d6035c1e9a7f4b2d80c6e5a3f17b9d2c4e608a1f5b3d7c9e2a4f6"
WX_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
CORP_ID, CORP_SECRET, AGENT_ID = "ww0123456789abcdef", "app-secret-never-logged", 1000002


class Clock:
    """Injectable monotonic clock; `sleep` advances it instead of waiting."""

    def __init__(self, now: float = 1000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakePlatform:
    """Shared fake-server plumbing: failure modes, received bodies, a 60 s window."""

    def __init__(self, clock=time.monotonic, per_minute: int = 20):
        self.mode = "ok"  # ok | http503 | http404 | http429 | slow | busy | ratelimit
        self.received: list[dict] = []
        self.queries: list[dict] = []
        self.clock = clock
        self.per_minute = per_minute
        self._times: list[float] = []

    async def failure(self) -> web.StreamResponse | None:
        if self.mode == "slow":
            await asyncio.sleep(1.0)  # longer than the client timeout under test
        if self.mode == "http503":
            return web.Response(status=503, text="<html>Service Unavailable</html>")
        if self.mode == "http404":
            return web.Response(status=404, text="not found")
        if self.mode == "http429":
            return web.Response(status=429, headers={"Retry-After": "7"})
        return None

    def over_limit(self) -> bool:
        now = self.clock()
        self._times = [t for t in self._times if t > now - 60]
        if len(self._times) >= self.per_minute or self.mode == "ratelimit":
            return True
        self._times.append(now)
        return False


class FakeDingTalk(FakePlatform):
    def __init__(self, secret: str | None = DT_SECRET, now_ms=lambda: int(time.time() * 1000), **kw):
        super().__init__(**kw)
        self.secret = secret
        self.now_ms = now_ms
        self.hold_s = 0.0  # seconds to hold each request before answering

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        if self.hold_s:  # keep the request in flight (a sender can be killed meanwhile)
            await asyncio.sleep(self.hold_s)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the sender is gone: never reached the platform
        if (resp := await self.failure()) is not None:
            return resp
        q = request.query
        if q.get("access_token") != DT_TOKEN:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if self.secret:
            ts, sig = q.get("timestamp", ""), q.get("sign", "")
            if not ts.isdigit() or sig != sign(self.secret, ts):
                return web.json_response({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc…]"})
            if abs(self.now_ms() - int(ts)) > 3600 * 1000:
                return web.json_response({"errcode": 310000, "errmsg": "invalid timestamp"})
        if self.over_limit():
            return web.json_response({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        raw = await request.read()
        if len(raw) > 20000:
            return web.json_response({"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"})
        body = json.loads(raw)
        md, at = body.get("markdown") or {}, body.get("at") or {}
        if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return web.json_response({"errcode": 400105, "errmsg": "不支持的消息类型"})
        if at.get("isAtAll") is not False or not all(f"@{m}" in md["text"] for m in at.get("atMobiles", [])):
            return web.json_response({"errcode": 999001, "errmsg": "fake: @mobile missing from text"})
        self.received.append(body)
        if self.mode == "busy":
            return web.json_response({"errcode": -1, "errmsg": "系统繁忙"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class FakeWeComRobot(FakePlatform):
    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        if (resp := await self.failure()) is not None:
            return resp
        if request.query.get("key") != WX_KEY:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url, hint: [xxx], key: " + request.query.get("key", "")})
        if self.over_limit():
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        body = json.loads(await request.read())
        kind = body.get("msgtype")
        limit = {"markdown": 4096, "text": 2048}.get(kind)
        if limit is None:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        content = body[kind].get("content", "")
        if not content:
            return web.json_response({"errcode": 44004, "errmsg": "empty content"})
        if len(content.encode("utf-8")) > limit:
            return web.json_response({"errcode": 40058, "errmsg": f"{kind}.content exceed max length {limit}"})
        if kind == "text":
            lists = [body["text"].get(k, []) for k in ("mentioned_list", "mentioned_mobile_list")]
            assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists)
        self.received.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class FakeWeComApp(FakePlatform):
    def __init__(self, members=("ZhangWei", "LiNa"), **kw):
        super().__init__(**kw)
        self.members = set(members)
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()

    async def gettoken(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("corpid") != CORP_ID:
            return web.json_response({"errcode": 40013, "errmsg": "invalid corpid"})
        if request.query.get("corpsecret") != CORP_SECRET:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.tokens_issued += 1
        token = f"TOKEN{self.tokens_issued}"
        self.valid_tokens.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.StreamResponse:
        if (resp := await self.failure()) is not None:
            return resp
        if request.query.get("access_token") not in self.valid_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if self.mode == "ratelimit":
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        body = json.loads(await request.read())
        if body.get("agentid") != AGENT_ID or body.get("msgtype") != "text":
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(body["text"]["content"].encode("utf-8")) > 2048:
            return web.json_response({"errcode": 40058, "errmsg": "text.content exceed max length"})
        users = body["touser"].split("|")
        invalid = [u for u in users if u not in self.members]
        if len(invalid) == len(users):
            return web.json_response({"errcode": 81013, "errmsg": "user & party & tag all invalid"})
        self.received.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": "m1"})


async def serve(aiohttp_server, routes):
    app = web.Application()
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return await aiohttp_server(app)


class ThreadedServer:
    """An aiohttp app on 127.0.0.1 served from a background thread with its own event loop.

    For synchronous tests: the code under test may call asyncio.run (the `duban remind` command)
    or run in another process, while the fake keeps answering.
    """

    def __init__(self, routes):
        self.routes = routes
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-platform", daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def _start(self) -> int:
        app = web.Application()
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return self.runner.addresses[0][1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class FakeSessionWebhook:
    """DingTalk's sessionWebhook endpoint: records each reply (path with query, JSON body)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.got = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((request.path_qs, await request.json()))
        self.got.set()
        return web.json_response({"errcode": 0, "errmsg": "ok"})


async def session_webhook_server(aiohttp_server) -> FakeSessionWebhook:
    fake = FakeSessionWebhook()
    app = web.Application()
    app.router.add_post("/robot/sendBySession", fake.handle)
    server = await aiohttp_server(app)
    fake.host = f"127.0.0.1:{server.port}"
    fake.base = f"http://127.0.0.1:{server.port}/robot/sendBySession"
    return fake
