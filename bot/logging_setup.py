"""The server's log: one line per event (time in Asia/Shanghai, level, logger, message), to stderr or a
rotating file. Message texts are not logged at INFO (the modules log ids and counts only), secrets never.

The same error repeated (a full disk fails every request alike) is written once; the repeats are counted
and reported in one line when a different record comes or a minute has passed, and only the first one
carries its traceback.
"""
from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path

from . import clock

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REPEAT_WINDOW_S = 60.0


class RepeatFilter(logging.Filter):
    """Collapses identical WARNING+ records (same logger, template, arguments, exception type)."""

    def __init__(self, window: float = REPEAT_WINDOW_S, now=time.monotonic):
        super().__init__()
        self.window = window
        self.now = now
        self._last: tuple | None = None
        self._since = 0.0
        self._repeats = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        try:
            key = (record.name, record.msg, repr(record.args), exc)
        except Exception:
            key = (record.name, str(record.msg), None, exc)
        now = self.now()
        if key == self._last and now - self._since < self.window:
            self._repeats += 1
            return False
        if self._repeats:  # the run of repeats ended: say how many were held back, on this record
            record.msg = f"{record.msg}（此前一条 {self._last[0]} 日志又重复 {self._repeats} 次）"
        self._last, self._since, self._repeats = key, now, 0
        return True


def setup(level: str = "INFO", file: str | None = None) -> None:
    """Root logging for `duban serve`: stderr, or a file rotated at 10 MB (5 kept)."""
    if file:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(file, maxBytes=10 * 1024 * 1024,
                                                                         backupCount=5, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    formatter = logging.Formatter(FORMAT)
    formatter.converter = lambda *_: clock.now().timetuple()  # Asia/Shanghai, whatever the machine's zone
    handler.setFormatter(formatter)
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # a line per request would drown the events
