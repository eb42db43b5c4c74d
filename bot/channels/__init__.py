"""Outbound push channels (DingTalk/WeCom group robots, WeCom app, console)."""

from .base import Channel, ChannelConfigError, OutMessage, SendOutcome, channel_from_config
from .pacing import RateLimiter

__all__ = ["Channel", "ChannelConfigError", "OutMessage", "SendOutcome", "RateLimiter", "channel_from_config"]
