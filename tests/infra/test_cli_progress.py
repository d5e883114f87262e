"""intime_cli.progress: the bar long commands draw (db migrate; the demo's steps)."""

from __future__ import annotations

import io

from rich.console import Console

from intime_cli.progress import progress_bar


def test_the_bar_draws_nothing_when_stderr_is_no_terminal(capsys) -> None:
    with progress_bar("demo", total=2) as bar:
        bar.step("seeding")
        print("seeded")
        bar.step("sending")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("seeded\n", "")
    assert not bar.shown


def test_the_bar_shows_each_step_and_the_count_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with progress_bar("migrate", total=3, console=console) as bar:
        bar.update("0001_foundation.sql", 0, 3)
        console.print("applied 0001_foundation.sql")
        bar.update("grants.sql", 2, 3)
        console.print("done")
    drawn = screen.getvalue()
    assert bar.shown
    assert "migrate: grants.sql" in drawn
    assert "3/3" in drawn  # the last frame, before the bar is cleared
    assert "applied 0001_foundation.sql" in drawn
