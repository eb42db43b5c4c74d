"""duban's document parser: bytes of an official plan → a Plan of Tasks with Milestones and units by role.

Pure: no database, no network. Other packages use only what is named here.
"""
from parser import lexicon
from parser.date_forms import FESTIVALS, PLAN, festival_eve, month_end, normalise, plan_period_end
from parser.dates import find_dates
from parser.errors import DocumentError
from parser.items import cn_number
from parser.limits import Limits
from parser.model import ROLE_LABELS, ROLES, Milestone, Plan, Task
from parser.organs import canonical_plan, plan_aliases
from parser.plan import parse_document, parse_file
from parser.units import UnitDirectory, default_directory

__all__ = [
    "FESTIVALS", "PLAN", "ROLES", "ROLE_LABELS", "DocumentError", "Limits", "Milestone", "Plan", "Task",
    "UnitDirectory", "canonical_plan", "cn_number", "default_directory", "festival_eve", "find_dates", "lexicon", "month_end",
    "normalise", "parse_document", "parse_file", "plan_aliases", "plan_period_end",
]
