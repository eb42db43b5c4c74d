"""The segmenter's word list: the most frequent words of jieba's own dictionary, enough for officials' questions
(their units and leaders' titles are added from the store at run time). Loading it takes about a tenth of the
time and memory of the full dictionary, so `duban ask` in a fresh process answers without a pause.

Rebuild it (after a jieba upgrade): python -m bot.wordlist
"""
from __future__ import annotations

import os
from importlib import resources

WORDS = 40_000  # the question tests segment alike with this many words and with the whole dictionary
FILE = "words.txt"


def path() -> str:
    return str(resources.files("bot").joinpath("data", FILE))


def build(target: str | None = None) -> int:
    import jieba
    source = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(source, encoding="utf-8") as f:
        rows = [line.split() for line in f if line.strip()]
    rows.sort(key=lambda r: (-int(r[1]), r[0]))
    with open(target or path(), "w", encoding="utf-8") as f:
        f.write("".join(" ".join(r) + "\n" for r in rows[:WORDS]))
    return min(len(rows), WORDS)


if __name__ == "__main__":
    print(f"{build()} words written to {path()}")
