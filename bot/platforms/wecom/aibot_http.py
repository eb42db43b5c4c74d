"""WeCom AI bot, HTTP callback mode: GET/POST /wecom/aibot.

Same AES/SHA1 as the self-built app but with an empty receiveid and a JSON envelope {"encrypt"}; the answer
is an encrypted JSON envelope {"encrypt","msgsignature","timestamp","nonce"} in the response body (or an empty
body: nothing to say). Signature first, then freshness, then size, then decryption: nothing in the body means
anything before it verifies.
"""
from __future__ import annotations

import json
import logging

import orjson
from aiohttp import web

from ..base import ProtocolError, read_body
from .aibot import AibotBot, parse_message
from .app import crypto_rejection, query_param, signed_params
from .crypto import WeComCrypto, WeComCryptoError

log = logging.getLogger(__name__)


class AibotCallback:
    def __init__(self, bot: AibotBot, *, token: str, encoding_aes_key: str, path: str = "/wecom/aibot",
                 max_body_bytes: int = 64 * 1024, replay_window: int = 0, random16=None):
        self.bot = bot
        self.crypto = WeComCrypto(token, encoding_aes_key, "")  # the AI bot's receiveid is empty
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.replay_window = replay_window
        self.random16 = random16  # tests: the vectors' fixed prefix; otherwise fresh random bytes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.path, self.handle_get)
        app.router.add_post(self.path, self.handle_post)
        self.bot.add_routes(app)

    async def handle_get(self, request: web.Request) -> web.Response:
        try:
            sig, ts, nonce = self._signed(request)
            plain = self.crypto.verify_url(sig, ts, nonce, query_param(request, "echostr"))
        except ProtocolError as exc:
            return exc.response()
        except WeComCryptoError as exc:
            return _rejected(exc, "GET")
        return web.Response(text=plain, content_type="text/plain")

    async def handle_post(self, request: web.Request) -> web.Response:
        try:
            sig, ts, nonce = self._signed(request)
            envelope = _json(await read_body(request, self.max_body_bytes))
            encrypt = envelope.get("encrypt")
            if not isinstance(encrypt, str) or not encrypt:
                raise ProtocolError(400, "missing encrypt")
            data = _json(self.crypto.decrypt(sig, ts, nonce, encrypt).encode("utf-8"))
        except ProtocolError as exc:
            return exc.response()
        except WeComCryptoError as exc:
            return _rejected(exc, "POST")
        reply = await self.dispatch(data)
        if reply is None:
            return web.Response(text="", content_type="text/plain")
        return web.json_response(self.envelope(reply, nonce, str(int(self.bot.now()))))

    async def dispatch(self, data: dict) -> dict | None:
        msg = parse_message(data)
        if msg.msgtype == "stream" and msg.stream_id:
            return self.bot.refresh(msg.stream_id)
        if msg.msgtype == "event":
            return self.bot.card_click(msg)
        body, _ = await self.bot.first_reply(msg)
        return body

    def envelope(self, reply: dict, nonce: str, timestamp: str) -> dict:
        plain = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        encrypt, signature = self.crypto.encrypt(plain, nonce, timestamp, self.random16)
        return {"encrypt": encrypt, "msgsignature": signature, "timestamp": timestamp, "nonce": nonce}

    def _signed(self, request: web.Request) -> tuple[str, str, str]:
        return signed_params(request, self.bot.now(), self.replay_window)


def _json(raw: bytes) -> dict:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError(400, "not JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError(400, "not a JSON object")
    return value


def _rejected(exc: WeComCryptoError, method: str) -> web.Response:
    return crypto_rejection(exc, method, "wecom aibot")
