"""The watched inbox: plan files dropped into a folder are ingested by `duban serve`.

A file is read only once its size and modification time have stayed the same for a settle period
(a half-copied file is not read); names starting with "." or "~$" and *.part / *.tmp / *.crdownload
are ignored. Ingested files move to done/, rejected ones to failed/ with a .error.txt beside them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from knowledge import inbox_log
from knowledge.db import open_db
from parser.errors import DocumentError

from . import clock
from .errors import UsageError
from .ingest_cli import diff_summary, ingest_one

log = logging.getLogger("duban.inbox")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".download", ".error.txt")


@dataclass
class Inbox:
    folder: Path
    settle_seconds: float = 2.0
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def candidates(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
                      and not p.name.endswith(_IGNORED_SUFFIXES))

    def settled(self, now: float | None = None) -> list[Path]:
        """Files whose size and mtime have not changed for settle_seconds."""
        now = time.monotonic() if now is None else now
        ready = []
        current = {}
        for p in self.candidates():
            st = p.stat()
            sig = (st.st_size, st.st_mtime_ns)
            first = self._seen.get(p.name)
            since = first[2] if first and first[:2] == sig else now
            current[p.name] = (*sig, since)
            if now - since >= self.settle_seconds and st.st_size > 0:
                ready.append(p)
        self._seen = current
        return ready

    def _move(self, path: Path, sub: str) -> Path:
        target_dir = self.folder / sub
        target_dir.mkdir(exist_ok=True)
        target = target_dir / f"{clock.now():%Y%m%d-%H%M%S}-{path.name}"
        path.replace(target)
        return target

    def process(self, db, directory, path: Path, now: datetime) -> str:
        """Ingest one settled file; returns a one-line Chinese report."""
        try:
            r = ingest_one(path, db, directory)
        except Exception as e:  # any failure: the file goes aside with its reason, never retried forever
            if not isinstance(e, (DocumentError, UsageError)):
                log.exception("收件箱文件 %s 处理出错", path.name)
                e = f"内部错误（{type(e).__name__}）"
            target = self._move(path, "failed")
            target.with_name(target.name + ".error.txt").write_text(str(e) + "\n", encoding="utf-8")
            inbox_log.log(db, now, path.name, "failed", str(e))
            return f"{path.name}：解析失败，已移至 failed/（{e}）"
        self._move(path, "done")
        status = {"new": "新文件", "new_version": f"第{r.version}版", "unchanged": "与已入库版本相同"}[r.status]
        msg = f"{path.name}：{status}，{r.tasks} 项任务" + (f"，{diff_summary(r.diff)}" if r.diff else "")
        inbox_log.log(db, now, path.name, r.status, msg, r.document_id, r.version)
        return msg

    def scan(self, db, directory, *, force: bool = False) -> list[str]:
        """Process what is ready; `force` treats every present file as settled (an administrator's 重新解析)."""
        files = self.candidates() if force else self.settled()
        return [self.process(db, directory, p, clock.now()) for p in files]


def _scan_in_thread(inbox: Inbox, db_path: str, directory) -> list[str]:
    """Parsing a large PDF takes a second or more: do it off the event loop, on a connection of its own."""
    db = open_db(db_path)
    try:
        return inbox.scan(db, directory)
    finally:
        db.conn.close()


async def watch(inbox: Inbox, db, directory, poll: float = 2.0) -> None:
    db_path = db.execute("PRAGMA database_list").fetchone()[2]
    while True:
        try:
            for line in await asyncio.to_thread(_scan_in_thread, inbox, db_path, directory):
                log.info("收件箱：%s", line)
        except Exception:
            log.exception("收件箱处理出错")
        await asyncio.sleep(poll)
