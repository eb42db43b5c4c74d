"""The kinds of questions officials ask, in one ordered table: the first kind that detects a
question is its kind, so the order is the precedence. Each kind keeps its detection, its answer
and its help example in its own module; a new kind is a module and a line here.

    help           帮助 / 你好 / 怎么用                      (from the text alone)
    not_chinese    "What is overdue?" → a short Chinese help (from the text alone)
    task           第13项谁牵头, 2-13, 文件2第13项, 第13、14项  a number beats everything after it
    contacts       发改委的联络员是谁                         the people, not the tasks
    due_in_window  本周到期, 下个月, 2022年6月底前, 春节前      a time named beats overdue
    overdue        有哪些逾期任务
    summary        我单位一共有几项任务, 全市完成情况           unless a place or a state is named
    leader_tasks   市长督办的任务                             before a topic: 市长 is no place
    search         长阳矿区的整改时限, 尾矿库治理谁负责          falls back to due_soon / unit_tasks
    due_soon       我单位哪些任务即将到期
    unit_tasks     市生态环境局有哪些任务, 已销号的任务
    unknown        anything else → the short help
"""
from __future__ import annotations

from ..answer import Answer
from ..intent import Intent, Reading, order_units, read_units
from .base import Context, QuestionKind
from .chat import HELP, NOT_CHINESE, UNKNOWN
from .due import DUE_IN_WINDOW, DUE_SOON, OVERDUE
from .figures import CONTACTS, SUMMARY
from .leader import LEADER_TASKS
from .search import SEARCH
from .task import TASK
from .unit_tasks import UNIT_TASKS

KINDS: tuple[QuestionKind, ...] = (HELP, NOT_CHINESE, TASK, CONTACTS, DUE_IN_WINDOW, OVERDUE, SUMMARY, LEADER_TASKS,
                                   SEARCH, DUE_SOON, UNIT_TASKS, UNKNOWN)
BY_NAME = {k.name: k for k in KINDS}
# the help lists the kinds' examples in the order officials most often need them
HELP_ORDER = ("due_soon", "overdue", "due_in_window", "task", "search", "unit_tasks", "leader_tasks", "summary",
              "contacts")


def detect(intent: Intent, reading: Reading) -> Intent:
    """Give the intent the kind of the first entry of KINDS that detects it."""
    units_read = False
    for kind in KINDS:
        if not kind.plain and not units_read:
            read_units(intent, reading)
            units_read = True
        if kind.detect(intent, reading):
            intent.kind = kind.name
            break
    order_units(intent, reading.q)
    return intent


def answer(ctx: Context, intent: Intent) -> Answer:
    """The answer of the intent's kind."""
    return BY_NAME[intent.kind].answer(ctx, intent)


def examples() -> list[str]:
    return [e for name in HELP_ORDER for e in BY_NAME[name].examples]
