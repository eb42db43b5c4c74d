"""Dashboard access: scrypt password hashes, signed session cookies and CSRF tokens.

A session is a small JSON payload signed with the store's key (HMAC-SHA256): who (an admin's name or a unit
link's token), when it expires, and a random nonce from which the CSRF token of its forms is derived. The
server keeps no session table; an admin session dies when the password changes (it carries the time of
the change) or the roster drops the admin, a unit session when its link is revoked."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}
MIN_PASSWORD = 10
SESSION_SECONDS = 8 * 3600
COOKIE = "duban_session"


def hash_password(password: str, params: dict | None = None, salt: bytes | None = None) -> tuple[bytes, bytes, dict]:
    params = dict(params or SCRYPT)
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 1024 * 1024, **params)
    return salt, digest, params


def verify_password(password: str, salt: bytes, digest: bytes, params: dict) -> bool:
    return hmac.compare_digest(hash_password(password, params, salt)[1], digest)


def check_new_password(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位"
    if len(set(password)) < 4:
        return "密码过于简单"
    return None


@dataclass
class Session:
    kind: str  # "anon", "admin" or "unit"
    who: str  # admin name, unit link token, or ""
    nonce: str
    expires: int
    version: str = ""  # admin: when the password was set

    @classmethod
    def anonymous(cls) -> "Session":
        return cls("anon", "", secrets.token_urlsafe(16), int(time.time()) + SESSION_SECONDS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, session: Session) -> str:
    body = _b64(json.dumps([session.kind, session.who, session.nonce, session.expires, session.version],
                           ensure_ascii=False).encode())
    return body + "." + _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def unsign(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in a cookie whose signature holds and which has not expired, else None."""
    if not cookie or len(cookie) > 2048 or "." not in cookie:
        return None
    body, mac = cookie.rsplit(".", 1)
    try:
        good = hmac.compare_digest(_unb64(mac), hmac.new(key, body.encode(), hashlib.sha256).digest())
        if not good:
            return None
        kind, who, nonce, expires, version = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if expires < (now if now is not None else time.time()):
        return None
    return Session(kind, who, nonce, int(expires), version)


def csrf_token(key: bytes, session: Session) -> str:
    return _b64(hmac.new(key, b"csrf:" + session.nonce.encode(), hashlib.sha256).digest())


def csrf_ok(key: bytes, session: Session | None, token: str | None) -> bool:
    return bool(session and token) and hmac.compare_digest(csrf_token(key, session), token)
