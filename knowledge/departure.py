"""A new version that departs wildly from the current one (another plan dropped under the same title, a
file padded with thousands of paragraphs) is refused unless the operator says it replaces the document.

Two measures, cheap ones first: the task count (over 3× the current one), then the text in common
(distinct character 4-grams shared, under a third of the larger version's)."""
from __future__ import annotations

MAX_TASK_GROWTH = 3
MIN_COMMON_TEXT = 1 / 3
_GRAM = 4


def _text(snaps) -> str:
    return "".join("".join((s.title + (s.text or "")).split()) for s in snaps)


def _grams(text: str) -> set[str]:
    return {text[i:i + _GRAM] for i in range(max(0, len(text) - _GRAM + 1))}


def refusal(old_snaps, new_snaps) -> str | None:
    """Why the new version is not taken without --replaces, or None."""
    old_n, new_n = len(old_snaps), len(new_snaps)
    if old_n and new_n > MAX_TASK_GROWTH * old_n:
        return f"新文件有 {new_n} 项任务，是现行版本（{old_n} 项）的 {new_n / old_n:.1f} 倍"
    if new_n * 2 < old_n:  # most tasks withdrawn: the ingest's own guard names them
        return None
    old_text, new_text = _text(old_snaps), _text(new_snaps)
    if not old_text or not new_text:
        return None
    if len(new_text) * MIN_COMMON_TEXT > len(old_text) or len(old_text) * MIN_COMMON_TEXT > len(new_text):
        share = min(len(old_text), len(new_text)) / max(len(old_text), len(new_text))  # the most they can share
    else:
        old_g, new_g = _grams(old_text), _grams(new_text)
        share = len(old_g & new_g) / max(len(old_g), len(new_g), 1)
    if share < MIN_COMMON_TEXT:
        return f"新文件与现行版本的相同内容只占 {share:.0%}（低于三分之一）"
    return None
