"""A progress bar for long commands (``intime db migrate``, the demo's steps).

    with progress_bar("demo", total=5) as bar:
        bar.step("seeding two organizations")
        ...
        bar.step("running the campaign")

Each ``step(label)`` counts the previous step done and shows ``label``; ``update(label,
done, total)`` sets the position outright (a callback from code that counts for itself,
like ``intime.migrate.migrate``). The bar draws on stderr, only when it is a terminal, and
disappears when the block ends: output printed meanwhile (``print``) goes above it, and a
pipe or a log file gets the output alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Bar:
    """The handle ``progress_bar`` yields."""

    def __init__(self, progress: Progress, task: TaskID, title: str) -> None:
        self._progress = progress
        self._task = task
        self._title = title
        self._started = 0

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (stderr is a terminal)."""
        return not self._progress.disable

    def step(self, label: str) -> None:
        """The previous step is done; ``label`` is running."""
        self._progress.update(
            self._task, completed=self._started, description=f"{self._title}: {label}"
        )
        self._started += 1

    def update(self, label: str, done: int, total: int) -> None:
        self._started = done + 1
        self._progress.update(
            self._task, completed=done, total=total, description=f"{self._title}: {label}"
        )


@contextlib.contextmanager
def progress_bar(
    title: str, total: int | None = None, *, console: Console | None = None
) -> Iterator[Bar]:
    """A transient bar of ``total`` steps on stderr (none when stderr is no terminal);
    ``console``: draw there instead."""
    err = console or Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(title, total=total)
        bar = Bar(progress, task, title)
        yield bar
        progress.update(task, completed=progress.tasks[0].total or 0)
