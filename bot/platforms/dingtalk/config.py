"""DingTalk's config section beyond the HTTP robot's (which bot/settings.py has always held)."""
from __future__ import annotations

from ..spec import Setting

SETTINGS = (
    # Stream mode and the app robot API: the same app (clientId = AppKey, clientSecret = AppSecret)
    Setting("dingtalk_client_id", None, "dingtalk", "client_id", "DUBAN_DINGTALK_CLIENT_ID"),
    Setting("dingtalk_client_secret", None, "dingtalk", "client_secret", "DUBAN_DINGTALK_CLIENT_SECRET"),
    Setting("dingtalk_api_base", "https://api.dingtalk.com", "dingtalk", "api_base", "DUBAN_DINGTALK_API_BASE"),
    # interactive card template: group digests through the robot API go out as cards with buttons
    Setting("dingtalk_card_template_id", None, "dingtalk", "card_template_id", "DUBAN_DINGTALK_CARD_TEMPLATE_ID"),
)


def stream_enabled(s) -> bool:
    return bool(s.dingtalk_client_id and s.dingtalk_client_secret)


FLAGS = (("dingtalk_stream_enabled", stream_enabled),)
