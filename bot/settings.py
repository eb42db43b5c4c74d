"""Settings: defaults < TOML config file < environment variables (secrets usually come from there)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


def _default_db():
    from knowledge.paths import default_db_path
    return default_db_path()


class ConfigError(Exception):
    """A config file or environment value that cannot be used."""


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = field(default_factory=lambda: str(_default_db()))  # see knowledge.db.default_db_path
    load_example: bool = True  # load the bundled example plan when the store is empty
    units_file: str | None = None
    inbox_dir: str | None = None  # watched folder: plan files dropped here are ingested
    replay_window: int = 300  # seconds of accepted timestamp skew; 0 turns the freshness check off
    max_body_bytes: int = 65536
    today: str | None = None  # fixed "today" for demos (YYYY-MM-DD)
    log_file: str | None = None  # rotating log file; stderr when unset
    log_level: str = "INFO"
    dingtalk_app_secret: str | None = None
    dingtalk_bot_name: str = "督办助手"
    dingtalk_session_hosts: list[str] = field(default_factory=lambda: ["oapi.dingtalk.com", "api.dingtalk.com"])
    dingtalk_reply_in_response: bool = False
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: str | None = None
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    reminders_enabled: bool = True
    send_time: str = "09:00"  # Asia/Shanghai, on working days
    holidays_file: str | None = None
    lead_days: list[int] = field(default_factory=lambda: [30, 7, 1])
    overdue_every: int = 7
    escalate_after: int = 7
    remind_max_seconds: float = 120.0  # a `duban remind` run starts no new push after this; the rest wait
    dashboard_url: str | None = None  # base URL of the dashboard: reminder cards link 查看详情 to its task page

    def __getattr__(self, name: str):
        """A setting a platform package declares (bot/platforms/<platform>/config.py): its default, or a
        derived flag such as dingtalk_stream_enabled. Values from the file or environment are set as attributes."""
        if name.startswith("__"):
            raise AttributeError(name)
        from bot.platforms.registry import platform_setting
        return platform_setting(self, name)

    def policy(self):
        from knowledge.sweep import Policy
        return Policy(lead_days=tuple(self.lead_days), overdue_every=self.overdue_every,
                      escalate_after=self.escalate_after)

    def calendar(self):
        """The working-day calendar; a holidays file that cannot be read is a ConfigError."""
        from .workdays import WorkCalendar
        try:
            return WorkCalendar.load(self.holidays_file)
        except (OSError, ValueError) as e:
            raise ConfigError(f"无法读取节假日文件 {self.holidays_file}：{e}") from e

    @property
    def wecom_app_config(self) -> dict:
        """What a wecom_app reminder channel needs besides its recipients."""
        return {"corp_id": self.wecom_corp_id, "secret": self.wecom_secret, "agent_id": self.wecom_agent_id,
                "api_base": self.wecom_api_base}

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_app_secret)

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom_token and self.wecom_aes_key and self.wecom_corp_id)

    def __repr__(self) -> str:  # never print secrets
        return f"Settings(host={self.host!r}, port={self.port}, db={self.db!r})"


# TOML [section] key → Settings attribute
_FILE_KEYS = {
    ("server", "host"): "host", ("server", "port"): "port", ("server", "today"): "today",
    ("server", "replay_window"): "replay_window", ("server", "max_body_bytes"): "max_body_bytes",
    ("server", "log_file"): "log_file", ("server", "log_level"): "log_level",
    ("store", "db"): "db", ("store", "load_example"): "load_example", ("store", "units_file"): "units_file",
    ("store", "inbox"): "inbox_dir",
    ("dingtalk", "app_secret"): "dingtalk_app_secret", ("dingtalk", "bot_name"): "dingtalk_bot_name",
    ("dingtalk", "session_hosts"): "dingtalk_session_hosts",
    ("dingtalk", "reply_in_response"): "dingtalk_reply_in_response",
    ("wecom", "token"): "wecom_token", ("wecom", "aes_key"): "wecom_aes_key", ("wecom", "corp_id"): "wecom_corp_id",
    ("reminders", "enabled"): "reminders_enabled", ("reminders", "send_time"): "send_time",
    ("reminders", "holidays_file"): "holidays_file", ("reminders", "lead_days"): "lead_days",
    ("reminders", "overdue_every"): "overdue_every", ("reminders", "escalate_after"): "escalate_after",
    ("reminders", "max_run_seconds"): "remind_max_seconds",
    ("server", "dashboard_url"): "dashboard_url",
    ("wecom", "agent_id"): "wecom_agent_id", ("wecom", "secret"): "wecom_secret", ("wecom", "api_base"): "wecom_api_base",
}
ENV_KEYS = {
    "DUBAN_DB": "db", "DUBAN_DINGTALK_APP_SECRET": "dingtalk_app_secret",
    "DUBAN_DINGTALK_SESSION_HOSTS": "dingtalk_session_hosts", "DUBAN_WECOM_TOKEN": "wecom_token",
    "DUBAN_WECOM_AES_KEY": "wecom_aes_key", "DUBAN_WECOM_CORP_ID": "wecom_corp_id",
    "DUBAN_WECOM_AGENT_ID": "wecom_agent_id", "DUBAN_WECOM_SECRET": "wecom_secret",
    "DUBAN_REPLAY_WINDOW": "replay_window", "DUBAN_TODAY": "today", "DUBAN_INBOX": "inbox_dir",
    "DUBAN_REMIND_MAX_SECONDS": "remind_max_seconds",
    "DUBAN_LOG_FILE": "log_file", "DUBAN_LOG_LEVEL": "log_level",
    "DUBAN_DASHBOARD_URL": "dashboard_url",
}


def _coerce(attr: str, value, source: str):
    default = getattr(Settings(), attr)
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            return value if isinstance(value, list) else [h.strip() for h in str(value).split(",") if h.strip()]
    except ValueError:
        raise ConfigError(f"{source}：{attr} 的值无效（{value!r}）") from None
    return value


def load_settings(path: str | Path | None = None, env: dict | None = None) -> Settings:
    env = os.environ if env is None else env
    s = Settings()
    from bot.platforms.registry import setting_keys  # each platform package's own config section
    platform_file_keys, platform_env_keys = setting_keys()
    file_keys, env_keys = {**_FILE_KEYS, **platform_file_keys}, {**ENV_KEYS, **platform_env_keys}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"无法读取配置文件 {path}：{e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"配置文件 {path} 格式错误：{e}") from e
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f"配置文件 {path}：未知配置项 {section}")
            for key, value in table.items():
                attr = file_keys.get((section, key))
                if attr is None:
                    raise ConfigError(f"配置文件 {path}：未知配置项 [{section}] {key}")
                setattr(s, attr, _coerce(attr, value, str(path)))
    for name, attr in env_keys.items():
        if env.get(name):
            value = _coerce(attr, env[name], name)
            if attr == "dingtalk_session_hosts":
                value = s.dingtalk_session_hosts + [h for h in value if h not in s.dingtalk_session_hosts]
            setattr(s, attr, value)
    return s


def settings_of_command(args) -> Settings:
    """A command's settings: its --config (else DUBAN_CONFIG), with its explicit --db; a bad file is a usage error."""
    from .errors import UsageError
    try:
        settings = load_settings(getattr(args, "config", None) or os.environ.get("DUBAN_CONFIG"))
    except ConfigError as e:
        raise UsageError(str(e)) from e
    if getattr(args, "db_explicit", False):
        settings.db = args.db
    return settings
