"""Questions that are not about the plans: 帮助, text without Chinese, and what is not understood."""
from __future__ import annotations

import re

from ..answer import Answer
from .. import render
from .base import QuestionKind

_HELP_RE = re.compile(r"^(帮助|help|菜单|\?+|怎么用|使用说明|说明|你好|您好|在吗|hi|hello)$|怎么用|能问什么|可以问什么|如何使用|使用方法",
                      re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# a bare number or document-item pair ("13", "2-13") is a question without Chinese that is understood
_NUMBER_ONLY = re.compile(r"^(?:\d{1,4}[-－—])?\d{1,3}$")


def _help(intent, reading) -> bool:
    return not reading.q or bool(_HELP_RE.search(reading.q))


def _not_chinese(intent, reading) -> bool:
    # English, or letters and signs: searching the plans for them finds nothing useful
    return not _CJK.search(reading.q) and not _NUMBER_ONLY.match(reading.q)


def _anything(intent, reading) -> bool:
    return True


HELP = QuestionKind("help", _help, lambda ctx, intent: Answer("help", ctx.asker, None, [], render.render_help()),
                    plain=True)
NOT_CHINESE = QuestionKind("not_chinese", _not_chinese,
                           lambda ctx, intent: Answer("unknown", ctx.asker, None, [], render.NOT_CHINESE), plain=True)
UNKNOWN = QuestionKind("unknown", _anything,
                       lambda ctx, intent: Answer("unknown", ctx.asker, None, [], render.render_help(short=True)))
