"""A progress bar on a terminal (rich, on stderr), nothing when the output is piped or redirected."""
from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def progress_bar(label: str, total: int | None):
    """Yields tick(n=1)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda n=1: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task(label, total=total)
        yield lambda n=1: progress.advance(bar, n)
