"""Input limits, checked before the expensive work. Settings with sane defaults, overridable by environment.

DUBAN_MAX_FILE_MB (50), DUBAN_MAX_PAGES (1000), DUBAN_MAX_PARAGRAPHS (100000), DUBAN_MAX_TASKS (5000).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import DocumentError


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Limits:
    max_file_mb: int = 50
    max_pages: int = 1000
    max_paragraphs: int = 100_000
    max_tasks: int = 5000

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(max_file_mb=_env_int("DUBAN_MAX_FILE_MB", cls.max_file_mb),
                   max_pages=_env_int("DUBAN_MAX_PAGES", cls.max_pages),
                   max_paragraphs=_env_int("DUBAN_MAX_PARAGRAPHS", cls.max_paragraphs),
                   max_tasks=_env_int("DUBAN_MAX_TASKS", cls.max_tasks))

    def check_size(self, n_bytes: int) -> None:
        if n_bytes > self.max_file_mb * 1024 * 1024:
            raise DocumentError(f"文件过大：{n_bytes / 1024 / 1024:.1f} MB，上限 {self.max_file_mb} MB"
                                f"（可用 DUBAN_MAX_FILE_MB 调整）", code="too_large")

    def check_pages(self, pages: int) -> None:
        if pages > self.max_pages:
            raise DocumentError(f"页数过多：{pages} 页，上限 {self.max_pages} 页（可用 DUBAN_MAX_PAGES 调整）",
                                code="too_large")

    def check_paragraphs(self, paragraphs: int) -> None:
        if paragraphs > self.max_paragraphs:
            raise DocumentError(f"段落过多：{paragraphs} 段，上限 {self.max_paragraphs} 段"
                                f"（可用 DUBAN_MAX_PARAGRAPHS 调整）", code="too_large")

    def check_tasks(self, tasks: int) -> None:
        if tasks > self.max_tasks:
            raise DocumentError(f"任务过多：{tasks} 项，上限 {self.max_tasks} 项（可用 DUBAN_MAX_TASKS 调整）",
                                code="too_large")
