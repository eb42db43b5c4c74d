"""The one list of platforms. A new platform is one package under bot/platforms/ plus one line in PLATFORMS.

The server calls `serving.install_platforms` once; the sender builds channels with `channel_from_config`; the roster
reads user-id columns from `roster_headers`; /healthz and `duban status` show `connection_health`.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import dingtalk, wecom
from .spec import ChannelKind, PlatformSpec

PLATFORMS: tuple[PlatformSpec, ...] = (
    dingtalk.PLATFORM,
    wecom.PLATFORM,
)



def _console(cfg: dict, session):
    from bot.channels.console import ConsoleChannel
    return ConsoleChannel.from_config(cfg)


CONSOLE = ChannelKind("console", _console, "控制台输出", needs_session=False)
STATE_SUFFIX = ".connections.json"


def platform(name: str) -> PlatformSpec | None:
    return next((p for p in PLATFORMS if p.name == name), None)


def platform_names() -> tuple[str, ...]:
    return tuple(p.name for p in PLATFORMS)


def channel_kinds() -> dict[str, ChannelKind]:
    kinds = {c.kind: c for p in PLATFORMS for c in p.channels}
    kinds[CONSOLE.kind] = CONSOLE
    return kinds


def channel_from_config(cfg: dict, session):
    """Build the channel a unit's config describes (cfg["kind"] is one of `channel_kinds()`).

    HTTP kinds take timeout_s (default 10). `session` is shared and owned by the caller; console needs none.
    """
    from bot.channels.base import ChannelConfigError
    kinds = channel_kinds()
    spec = kinds.get(cfg.get("kind"))
    if spec is None:
        raise ChannelConfigError(f"未知的推送渠道类型 {cfg.get('kind')!r}：应为 {' / '.join(kinds)}")
    if spec.needs_session and session is None:
        raise ChannelConfigError(f"{spec.kind} 渠道需要 aiohttp.ClientSession")
    return spec.build(cfg, session)


def channel_defaults(settings) -> dict[str, dict]:
    """Per kind, what the settings supply under a unit's own channel config (app credentials)."""
    return {kind: spec.defaults(settings) for kind, spec in channel_kinds().items()}


def roster_headers() -> dict[str, str]:
    """Roster column title (lower-case, no spaces) → platform name."""
    return {h: p.name for p in PLATFORMS for h in p.roster_headers}


def platform_setting(settings, name: str):
    """A platform-owned setting's default, or a derived flag (Settings.__getattr__ asks here)."""
    for p in PLATFORMS:
        for spec in p.settings:
            if spec.attr == name:
                return list(spec.default) if isinstance(spec.default, list) else spec.default
        for flag, predicate in p.flags:
            if flag == name:
                return predicate(settings)
    raise AttributeError(name)


def setting_keys() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """The platforms' config sections: {(TOML section, key): attr} and {environment variable: attr}."""
    specs = [spec for p in PLATFORMS for spec in p.settings]
    return {(s.section, s.key): s.attr for s in specs}, {s.env: s.attr for s in specs if s.env}


def startup_lines(settings) -> list[str]:
    return [line for p in PLATFORMS for line in p.describe(settings)]


def state_file(db: str | None) -> Path | None:
    if not db or db == ":memory:":
        return None
    return Path(str(db) + STATE_SUFFIX)


def read_states(db: str | None) -> list[dict]:
    """What the running (or last) server wrote about its long connections."""
    path = state_file(db)
    if path is None or not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("connections", []))
    except (OSError, ValueError):
        return []
