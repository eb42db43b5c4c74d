"""`duban ingest FILE…`: parse and store files, with a progress bar and a summary table."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from knowledge.ingest import IngestResult, VersionRejected, ingest_plan, sha256_of
from parser.errors import DocumentError
from parser.limits import Limits
from parser.plan import parse_document

from . import clock
from .errors import UsageError
from .input_files import read_input
from .notices import build_notices
from .reminders import replan_after_change
from .workdays import WorkCalendar

_STATUS = {"new": "新文件", "new_version": "新版本", "unchanged": "未变化（已入库）"}


def ingest_one(path: Path, db, directory, year=None, replaces=None, calendar: WorkCalendar | None = None,
               today=None, *, nofollow: bool = False) -> IngestResult:
    """Parse and store one file; a new version also queues change notices and re-plans today's reminders.
    The input limits hold: the size before reading, the task count before storing."""
    limits = Limits.from_env()
    data = read_input(path, limits, nofollow=nofollow)
    plan = parse_document(data, path.name, year=year, directory=directory)
    limits.check_tasks(len(plan.tasks))
    try:
        result = ingest_plan(db, plan, sha256_of(data), directory=directory, replaces=replaces,
                             notices=build_notices)
    except (LookupError, VersionRejected) as e:
        raise UsageError(str(e)) from e
    if result.status == "new_version":
        # digests queued under the old dates are cancelled; queue what the new version makes due today
        replan_after_change(db, today or clock.today(), clock.now(), calendar)
    return result


def diff_summary(diff: dict | None) -> str:
    if not diff:
        return ""
    return f"新增 {len(diff['added'])} 项，撤销 {len(diff['withdrawn'])} 项，变更 {len(diff['changed'])} 项"


def ingest_files(paths: list[str], db, directory, year=None, replaces=None) -> int:
    if replaces is not None and len(paths) != 1:
        raise UsageError("--replaces 只能用于单个文件")
    console = Console()
    results = []
    # on a terminal only (quiet when piped); one file — a large PDF parses for a while — gets a pulsing bar
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("解析入库", total=len(paths) if len(paths) > 1 else None)
        for p in paths:
            try:
                results.append((p, ingest_one(Path(p), db, directory, year, replaces), None))
            except (DocumentError, UsageError) as e:
                results.append((p, None, str(e)))
            progress.advance(bar)
    table = Table(title="入库结果")
    for col in ("文件", "状态", "版本", "任务", "时限节点", "提示"):
        table.add_column(col)
    for p, r, err in results:
        if r is None:
            table.add_row(Path(p).name, "[red]失败[/red]", "", "", "", err)
        else:
            note = "；".join([x for x in [diff_summary(r.diff)] if x] + r.warnings[:3])
            table.add_row(Path(p).name, _STATUS[r.status], str(r.version), str(r.tasks), str(r.milestones), note)
    console.print(table)
    failed = [e for _, r, e in results if r is None]
    if failed and len(paths) == 1:
        raise UsageError(failed[0])
    return 1 if failed else 0
