"""Time in Asia/Shanghai; "today" can be fixed (--today or DUBAN_TODAY) for tests and demos."""
from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(TZ)


def today(override: str | date | None = None) -> date:
    if isinstance(override, date):
        return override
    value = override or os.environ.get("DUBAN_TODAY")
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise SystemExit(f"日期格式应为 YYYY-MM-DD：{value}") from None
    return now().date()
