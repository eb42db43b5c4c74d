"""Chat platforms, one package each (dingtalk/, wecom/), registered in registry.PLATFORMS.

Shared and platform-free: base.py (Inbound, Reply, the adapter base), spec.py (what a package declares),
reconnect.py (backoff and state of long connections), cards.py (reminder-card buttons and clicks).
"""
