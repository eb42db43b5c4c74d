"""Console channel: prints pushes instead of sending them (embedded demo, dry runs).

Writes to a stream (stdout by default) or, when configured, to a logger.
Always "sent": there is nothing that can fail transiently.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from .base import Channel, OutMessage, SendOutcome, sent


class ConsoleChannel(Channel):
    kind = "console"
    max_per_minute = 10_000  # no platform limit to respect

    def __init__(self, stream: TextIO | None = None, logger: logging.Logger | None = None, name: str = ""):
        self._stream = stream
        self._logger = logger
        self._name = name

    @classmethod
    def from_config(cls, cfg: dict) -> "ConsoleChannel":
        logger = cfg.get("logger")
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        return cls(stream=cfg.get("stream"), logger=logger, name=str(cfg.get("name") or ""))

    def describe(self) -> str:
        return "控制台输出" + (f"（{self._name}）" if self._name else "")

    @property
    def pacing_key(self) -> str:
        return f"{self.kind}:{self._name}"

    async def send(self, msg: OutMessage) -> SendOutcome:
        text = render(msg, self._name)
        if self._logger is not None:
            self._logger.info("%s", text)
        else:
            stream = self._stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()
        return sent("已输出到控制台")


def render(msg: OutMessage, name: str = "") -> str:
    where = f" → {name}" if name else ""
    lines = [f"━━ 督办推送{where}：{msg.title} ━━", msg.markdown.rstrip()]
    mentions = [f"@{m}" for m in [*msg.at_mobiles, *msg.at_user_ids]]
    if mentions:
        lines.append("提醒：" + " ".join(mentions))
    lines.append("━━━━")
    return "\n".join(lines)
