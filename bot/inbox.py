"""The watched inbox: plan files dropped into a folder are ingested by `duban serve`.

A file is read only once its size and modification time have stayed the same for a settle period
(a half-copied file is not read); names starting with "." or "~$" and *.part / *.tmp / *.crdownload
are ignored. Ingested files move to done/, rejected ones to failed/ with a .error.txt beside them.
Only regular files are read, opened without following links; a link or other special file dropped
there goes to failed/ unread. `duban serve` ingests in a worker process of its own, so parsing a large
file neither holds the server's interpreter nor its event loop.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from knowledge import inbox_log
from knowledge.db import open_db, store_path
from parser.errors import DocumentError

from . import clock
from .errors import UsageError
from .ingest_cli import diff_summary, ingest_one
from .input_files import is_regular

log = logging.getLogger("duban.inbox")
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".download", ".error.txt")
RESCAN_MARK = ".rescan"  # hidden, so never taken for a document


@dataclass
class Inbox:
    folder: Path
    settle_seconds: float = 2.0
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def entries(self) -> list[Path]:
        """What was dropped here (not hidden, not a partial download, not a folder)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if not p.name.startswith((".", "~$"))
                      and not p.name.endswith(_IGNORED_SUFFIXES) and (p.is_symlink() or not p.is_dir()))

    def candidates(self) -> list[Path]:
        return [p for p in self.entries() if is_regular(p)]

    def request_rescan(self) -> int:
        """An administrator's 重新解析: the watcher takes every present file on its next poll, settled or not
        (the ingest runs in its worker, never in the chat's answer). Returns how many files are waiting."""
        (self.folder / RESCAN_MARK).touch()
        return len(self.candidates())

    def take_rescan(self) -> bool:
        """Whether a 重新解析 was asked for since the last poll (the request is consumed)."""
        try:
            (self.folder / RESCAN_MARK).unlink()
            return True
        except FileNotFoundError:
            return False

    def set_aside_special(self, db, now: datetime) -> list[str]:
        """Links and other special files are not read: they go to failed/ with the reason."""
        lines = []
        for p in self.entries():
            if not is_regular(p):
                lines.append(self._fail(db, p, now, f"{p.name} 不是普通文件（符号链接、设备或管道），未读取"))
        return lines

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
            r = ingest_one(path, db, directory, nofollow=True)
        except Exception as e:  # any failure: the file goes aside with its reason, never retried forever
            if not isinstance(e, (DocumentError, UsageError)):
                log.exception("收件箱文件 %s 处理出错", path.name)
                e = f"内部错误（{type(e).__name__}）"
            return self._fail(db, path, now, str(e))
        self._move(path, "done")
        status = {"new": "新文件", "new_version": f"第{r.version}版", "unchanged": "与已入库版本相同"}[r.status]
        msg = f"{path.name}：{status}，{r.tasks} 项任务" + (f"，{diff_summary(r.diff)}" if r.diff else "")
        inbox_log.log(db, now, path.name, r.status, msg, r.document_id, r.version)
        return msg

    def _fail(self, db, path: Path, now: datetime, reason: str) -> str:
        target = self._move(path, "failed")
        target.with_name(target.name + ".error.txt").write_text(reason + "\n", encoding="utf-8")
        inbox_log.log(db, now, path.name, "failed", reason)
        return f"{path.name}：解析失败，已移至 failed/（{reason}）"

    def scan(self, db, directory, *, force: bool = False) -> list[str]:
        """Process what is ready; `force` treats every present file as settled (an administrator's 重新解析)."""
        lines = self.set_aside_special(db, clock.now())
        files = self.candidates() if force else self.settled()
        return lines + [self.process(db, directory, p, clock.now()) for p in files]


def _process_in_worker(folder: str, names: list[str], db_path: str, units_file: str | None) -> list[str]:
    """In the worker process: ingest the named files, on a connection of its own."""
    from parser import UnitDirectory
    # without a configured directory each document is read by the local one of the city it names
    directory = UnitDirectory.load(units_file) if units_file else None
    inbox = Inbox(Path(folder))
    db = open_db(db_path)
    try:
        return [inbox.process(db, directory, inbox.folder / name, clock.now()) for name in names]
    finally:
        db.conn.close()


def _set_aside(inbox: Inbox, db_path: str, names: list[str], reason: str) -> list[str]:
    db = open_db(db_path)
    try:
        return [inbox._fail(db, inbox.folder / n, clock.now(), reason) for n in names if (inbox.folder / n).exists()]
    finally:
        db.conn.close()


def _worker_pool() -> ProcessPoolExecutor:
    # a fresh process per batch: the memory a large file took is returned when it ends
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1)


async def watch(inbox: Inbox, db, directory=None, poll: float = 2.0, units_file: str | None = None) -> None:
    """Poll the folder; settled files are ingested in a worker process (see the module's docstring)."""
    db_path = store_path(db)
    loop = asyncio.get_running_loop()
    pool = _worker_pool()
    try:
        while True:
            names: list[str] = []
            try:
                lines = await asyncio.to_thread(_set_aside_special, inbox, db_path)
                forced = await asyncio.to_thread(inbox.take_rescan)
                names = [p.name for p in await asyncio.to_thread(inbox.candidates if forced else inbox.settled)]
                if names:
                    lines += await loop.run_in_executor(pool, _process_in_worker, str(inbox.folder), names, db_path,
                                                        units_file)
                for line in lines:
                    log.info("event=inbox file_result=%s", line)
            except BrokenProcessPool:  # killed (out of memory?): the files go aside, not retried forever
                pool = _worker_pool()
                for line in await asyncio.to_thread(_set_aside, inbox, db_path, names,
                                                    "处理该文件的进程异常退出（可能内存不足），未入库"):
                    log.error("event=inbox_worker_died %s", line)
            except Exception:
                log.exception("event=inbox_failed")
            await asyncio.sleep(poll)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _set_aside_special(inbox: Inbox, db_path: str) -> list[str]:
    if all(is_regular(p) for p in inbox.entries()):
        return []
    db = open_db(db_path)
    try:
        return inbox.set_aside_special(db, clock.now())
    finally:
        db.conn.close()
