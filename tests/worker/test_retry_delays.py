"""How long a job waits before its retry, by what went wrong."""

from __future__ import annotations

from worker.jobs import DATABASE_RETRY_STEPS, database_retry_delay, retry_delay


def test_the_backoff_doubles_from_five_seconds_to_five_minutes() -> None:
    assert 4.0 <= retry_delay(0) <= 6.0
    assert 8.0 <= retry_delay(1) <= 12.0
    assert 240.0 <= retry_delay(12) <= 360.0


def test_a_database_error_after_many_deferrals_waits_seconds_not_minutes() -> None:
    """Six deferrals (an open circuit) then a lost connection: the retry is due within
    48 s, not the 4-6 minutes the job's attempts alone would give."""
    assert DATABASE_RETRY_STEPS == 3
    delays = [database_retry_delay(6) for _ in range(50)]
    assert all(32.0 <= d <= 48.0 for d in delays)
    assert 4.0 <= database_retry_delay(0) <= 6.0
