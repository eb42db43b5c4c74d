"""What a platform package declares to the registry: its inbound side (routes, connections), its push channel
kinds and its roster column. The server, the sender and the roster only ever see these shapes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

if TYPE_CHECKING:  # the CLI reads platform settings without loading aiohttp
    from aiohttp import web

    from .base import AnswerFn, ClockFn, SeenFn


class Connection(Protocol):
    """An outbound long connection (DingTalk Stream, WeCom AI bot): runs until cancelled, reports its state."""

    async def run(self) -> None: ...

    def health(self) -> dict: ...


@dataclass
class InstallContext:
    """Everything a platform needs to receive and answer messages inside the server."""

    app: web.Application
    settings: Any  # bot.settings.Settings
    answer: AnswerFn
    seen: SeenFn
    claim: Callable[..., Awaitable[str]]  # (platform, msg_id, signed=None) → "new" | "duplicate" | "replayed"
    clock: ClockFn
    connections: list[Connection] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # what the card handler needs (the conversation, to act as the clicking person); None when not serving
    actions: Any = None
    # bot.claims.DeliveryClaims: a long connection records a message (and keeps its payload) before it
    # acknowledges it, as the routes do through the server's middleware (bot/answer_tracking.py)
    claims: Any = None

    def on_shutdown(self, close: Callable[[], Awaitable[None]]) -> None:
        self.closers.append(close)


@dataclass(frozen=True)
class ChannelKind:
    """A push channel kind: `build(cfg, session)`; `defaults(settings)` fills what the settings hold (app
    credentials) under a unit's own config."""

    kind: str
    build: Callable[[dict, Any], Any]
    label: str
    needs_session: bool = True
    defaults: Callable[[Any], dict] = lambda settings: {}
    # `duban channel set` options {webhook, secret, to_users, chat} → the unit's config; ValueError says what is missing
    from_cli: Callable[[dict], dict] = lambda options: {}


def webhook_options(options: dict) -> dict:
    if not options.get("webhook"):
        raise ValueError("群机器人需要 --webhook 地址")
    return {"webhook_url": options["webhook"], **({"secret": options["secret"]} if options.get("secret") else {})}


def chat_or_users(chat_key: str, users_key: str):
    """--chat (a group) or --to-users (members): the options of a robot that can do both."""
    def options_to_config(options: dict) -> dict:
        if not (options.get("chat") or options.get("to_users")):
            raise ValueError("应用机器人需要 --chat（群会话 ID）或 --to-users（userid，用 | 分隔）")
        return {chat_key: options["chat"]} if options.get("chat") else {users_key: options["to_users"]}
    return options_to_config


@dataclass(frozen=True)
class Setting:
    """One setting a platform owns: its attribute on Settings, default, TOML [section] key and variable."""

    attr: str
    default: Any
    section: str
    key: str
    env: str | None = None


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # the platform id stored with user ids and bindings: "dingtalk", "wecom"
    label: str  # 钉钉, 企业微信
    roster_headers: tuple[str, ...]  # roster column titles holding this platform's user id (lower-case, no spaces)
    install: Callable[[InstallContext], None]
    channels: tuple[ChannelKind, ...] = ()
    describe: Callable[[Any], list[str]] = lambda settings: []  # start-up lines for `duban serve`
    settings: tuple[Setting, ...] = ()  # its config section (read by bot.settings.load_settings)
    flags: tuple[tuple[str, Callable[[Any], bool]], ...] = ()  # derived settings, e.g. ("x_enabled", predicate)
    # answering on start what an earlier process received but did not answer: (settings, closers) → an async
    # send(inbound, reply) → True when sent, False when the reply route is gone; None: it cannot answer late
    late_reply: Callable[[Any, list], Callable[..., Awaitable[bool]] | None] = lambda settings, closers: None

