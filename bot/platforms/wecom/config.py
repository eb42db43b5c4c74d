"""WeCom's config section for the 智能机器人 (the self-built app's keys are in bot/settings.py)."""
from __future__ import annotations

from ..spec import Setting

SETTINGS = (
    Setting("wecom_aibot_token", None, "wecom_aibot", "token", "DUBAN_WECOM_AIBOT_TOKEN"),
    Setting("wecom_aibot_aes_key", None, "wecom_aibot", "aes_key", "DUBAN_WECOM_AIBOT_AES_KEY"),
    Setting("wecom_aibot_bot_id", None, "wecom_aibot", "bot_id", "DUBAN_WECOM_AIBOT_BOT_ID"),
    Setting("wecom_aibot_secret", None, "wecom_aibot", "secret", "DUBAN_WECOM_AIBOT_SECRET"),
    Setting("wecom_aibot_ws_url", "wss://openws.work.weixin.qq.com", "wecom_aibot", "ws_url", "DUBAN_WECOM_AIBOT_WS_URL"),
    Setting("wecom_aibot_name", "", "wecom_aibot", "name"),  # stripped from "@名称" in group messages
)


def aibot_callback_enabled(s) -> bool:
    return bool(s.wecom_aibot_token and s.wecom_aibot_aes_key)


def aibot_longconn_enabled(s) -> bool:
    return bool(s.wecom_aibot_bot_id and s.wecom_aibot_secret)


FLAGS = (("wecom_aibot_enabled", aibot_callback_enabled), ("wecom_aibot_longconn_enabled", aibot_longconn_enabled))
