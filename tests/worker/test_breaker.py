"""The circuit breaker's states with a controlled clock."""

from __future__ import annotations

from worker.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_the_threshold_and_defers() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=clock)
    for _ in range(3):
        assert breaker.wait() == 0
        breaker.failure()
    assert breaker.state == "open"
    assert breaker.wait() == 30


def test_after_the_cooldown_one_probe_goes_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now = 10
    assert breaker.state == "half-open"
    assert breaker.wait() == 0  # the probe
    assert breaker.wait() > 0  # everyone else waits for its verdict


def test_a_failed_probe_opens_it_again_and_a_success_closes_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now = 10
    breaker.wait()
    breaker.failure()
    assert breaker.state == "open"
    clock.now = 20
    breaker.wait()
    breaker.success()
    assert breaker.state == "closed"
    assert breaker.wait() == 0


def test_a_probe_that_ends_with_no_verdict_is_released_and_the_next_call_probes() -> None:
    """A probe whose message could not be built, or that was cancelled, says nothing
    about the provider: without the release every later call would wait for ever."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now = 10
    assert breaker.wait() == 0
    assert breaker.probing
    breaker.release()
    assert breaker.wait() == 0  # the next probe
    assert breaker.wait() > 0
