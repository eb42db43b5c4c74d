"""The server's log: one line per event; the same error repeated (a full disk fails every request alike) is
written once with its traceback, and the repeats are counted in one line."""
from __future__ import annotations

import io
import logging
import sqlite3

from bot.logging_setup import RepeatFilter, setup


def capture(filter_: RepeatFilter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(filter_)
    logger = logging.getLogger(f"test.ops.{id(out)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, out


def test_a_storm_of_identical_errors_is_one_traceback_and_a_count():
    clock = [0.0]
    logger, out = capture(RepeatFilter(window=60, now=lambda: clock[0]))
    for _ in range(5000):
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            logger.exception("Error handling request")
        clock[0] += 0.001
    logger.error("event=other")
    text = out.getvalue()
    assert text.count("Traceback") == 1
    assert len(text) < 2000  # not 5000 tracebacks (the issue measured 9.5 MB for 5,000 requests)
    assert "又重复 4999 次" in text


def test_repeats_are_told_again_after_the_window_and_info_is_never_held_back():
    clock = [0.0]
    logger, out = capture(RepeatFilter(window=60, now=lambda: clock[0]))
    for _ in range(3):
        logger.warning("event=push_failed unit=%s", "市生态环境局")
    clock[0] = 61
    logger.warning("event=push_failed unit=%s", "市生态环境局")
    for _ in range(3):
        logger.info("event=inbox file_result=%s", "a.txt")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 + 3 and "又重复 2 次" in lines[1]


def test_setup_writes_one_line_per_event_with_time_and_level(tmp_path):
    log_file = tmp_path / "log" / "duban.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup("INFO", str(log_file))
        logging.getLogger("duban.test").info("event=started port=%d", 8080)
        logging.getLogger("aiohttp.access").info("GET /healthz")  # a line per request is not an event
        for h in root.handlers:
            h.flush()
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    [line] = log_file.read_text(encoding="utf-8").splitlines()
    date, time_, level, name, *rest = line.split()
    assert len(date) == 10 and time_.count(":") == 2 and level == "INFO" and name == "duban.test:"
    assert rest == ["event=started", "port=8080"]
