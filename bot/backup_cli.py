"""`duban backup FILE` and `duban restore FILE`."""
from __future__ import annotations

from pathlib import Path

from knowledge import backup as store_backup
from knowledge.db import open_db

from . import clock
from .errors import UsageError
from .store_lock import StoreLock


def cmd_backup(args) -> int:
    try:
        s = store_backup.backup(Path(args.db), Path(args.file))
    except store_backup.BackupError as e:
        raise UsageError(str(e)) from e
    print(f"已备份 {Path(args.db).resolve()} → {s.path}（{s.documents} 个文件，{s.tasks} 项任务，{s.bytes / 1024:.0f} KB）")
    return 0


def cmd_restore(args) -> int:
    store = Path(args.db)
    locks = [StoreLock.for_path(store, job) for job in ("serve", "sender")]
    try:
        if not all(lock.acquire() for lock in locks):
            raise UsageError(f"数据库 {store} 正在被 duban serve 或 duban remind 使用；请先停止服务再恢复。")
        try:
            s, kept = store_backup.restore(Path(args.file), store, clock.now())
        except store_backup.BackupError as e:
            raise UsageError(str(e)) from e
        open_db(store).conn.close()  # an older backup is brought up to date now, not at the next start
    finally:
        for lock in locks:
            lock.release()
    print(f"已从 {Path(args.file).resolve()} 恢复 {store.resolve()}（{s.documents} 个文件，{s.tasks} 项任务）")
    if kept:
        print(f"恢复前的数据库已保存为 {kept}")
    return 0


def register(sub) -> None:
    sp = sub.add_parser("backup", help="备份数据库（服务运行时也可执行）")
    sp.add_argument("file", help="备份文件路径")
    sp.set_defaults(func=cmd_backup)
    sp = sub.add_parser("restore", help="从备份恢复数据库（须先停止 duban serve）")
    sp.add_argument("file", help="备份文件路径")
    sp.set_defaults(func=cmd_restore)
