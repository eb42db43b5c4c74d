"""Where the store is when no --db is given. Kept apart from knowledge.db so a command that needs only the
path (`duban parse` skips it, `--help` never asks) does not load sqlite-utils."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

DEFAULT_DB = "duban.db"
SYSTEM_CONFIG = Path("/etc/duban/duban.toml")


def default_db_path(env=None) -> Path:
    """Where the store is when no --db is given, whatever the working directory: DUBAN_DB; else the
    config file's [store] db (DUBAN_CONFIG, or /etc/duban/duban.toml); else the service's state
    directory ($STATE_DIRECTORY, set by systemd); else $XDG_DATA_HOME or ~/.local/share, in duban/."""
    env = os.environ if env is None else env
    if env.get("DUBAN_DB"):
        return Path(env["DUBAN_DB"])
    configured = _configured_db(Path(env["DUBAN_CONFIG"]) if env.get("DUBAN_CONFIG") else SYSTEM_CONFIG)
    if configured:
        return configured
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0]) / DEFAULT_DB
    data_home = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return data_home / "duban" / DEFAULT_DB


def _configured_db(config: Path) -> Path | None:
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # `duban serve --config` reports a broken file; here it only may name the store
    db = data.get("store", {}).get("db") if isinstance(data.get("store"), dict) else None
    return Path(db) if isinstance(db, str) and db else None
