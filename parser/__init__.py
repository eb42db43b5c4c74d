"""duban's document parser: bytes of an official plan → a Plan of Tasks with Milestones and units by role.

Pure: no database, no network. Other packages use only what is named here. Names are imported when first
used, so a command that needs only the lexicon does not load the readers.
"""
from __future__ import annotations

import importlib

_PUBLIC = {
    "lexicon": ("parser.lexicon", None),
    "FESTIVALS": ("parser.date_forms", "FESTIVALS"),
    "PLAN": ("parser.date_forms", "PLAN"),
    "festival_eve": ("parser.date_forms", "festival_eve"),
    "month_end": ("parser.date_forms", "month_end"),
    "normalise": ("parser.date_forms", "normalise"),
    "plan_period_end": ("parser.date_forms", "plan_period_end"),
    "find_dates": ("parser.dates", "find_dates"),
    "DocumentError": ("parser.errors", "DocumentError"),
    "cn_number": ("parser.items", "cn_number"),
    "Limits": ("parser.limits", "Limits"),
    "ROLES": ("parser.model", "ROLES"),
    "ROLE_LABELS": ("parser.model", "ROLE_LABELS"),
    "Milestone": ("parser.model", "Milestone"),
    "Plan": ("parser.model", "Plan"),
    "Task": ("parser.model", "Task"),
    "canonical_plan": ("parser.organs", "canonical_plan"),
    "plan_aliases": ("parser.organs", "plan_aliases"),
    "parse_document": ("parser.plan", "parse_document"),
    "parse_file": ("parser.plan", "parse_file"),
    "UnitDirectory": ("parser.units", "UnitDirectory"),
    "default_directory": ("parser.units", "default_directory"),
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'parser' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    return value if attr is None else getattr(value, attr)
