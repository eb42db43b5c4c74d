"""Working days in China: public holidays and 调休 make-up days.

chinese_calendar knows 2004–2026 only. Later years fall back to Monday–Friday unless an operator
adds the year's official schedule to a holidays file (see deploy/holidays.example.toml).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar


@dataclass
class WorkCalendar:
    holidays: set[date] = field(default_factory=set)  # extra days off (years the package lacks)
    workdays: set[date] = field(default_factory=set)  # extra make-up working days (调休)
    extra_years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "WorkCalendar":
        cal = cls()
        if path:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            for year, table in data.items():
                cal.extra_years.add(int(year))
                cal.holidays |= {date.fromisoformat(d) for d in table.get("holidays", [])}
                cal.workdays |= {date.fromisoformat(d) for d in table.get("workdays", [])}
        return cal

    def knows(self, year: int) -> bool:
        """Whether the year's official holiday schedule is known (else Monday–Friday is assumed)."""
        if year in self.extra_years:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False

    def is_workday(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        if d.year not in self.extra_years:
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:
                pass
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        d += timedelta(days=1)
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d

    def covered_days(self, today: date) -> list[date]:
        """Nominal reminder dates sent today: today and the days off before the next working day
        (a reminder that falls on a holiday goes out on the working day before)."""
        if not self.is_workday(today):
            return []
        end = self.next_workday(today)
        return [today + timedelta(days=i) for i in range((end - today).days)]
