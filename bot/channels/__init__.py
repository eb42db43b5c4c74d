"""The push channel interface (message, outcome, pacing) shared by every platform's channels.

The channel kinds themselves live in their platform packages; `bot.platforms.registry.channel_from_config`
builds one from a unit's config.
"""

from .base import Channel, ChannelConfigError, OutMessage, SendOutcome
from .pacing import RateLimiter

__all__ = ["Channel", "ChannelConfigError", "OutMessage", "SendOutcome", "RateLimiter"]
