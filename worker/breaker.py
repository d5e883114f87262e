"""A circuit breaker per provider, in the worker process.

After ``threshold`` transient failures in a row the circuit opens for
``cooldown`` seconds: jobs are deferred, not failed. Then one probe is let
through (half-open); its success closes the circuit, its failure opens it again,
and a probe that ends with neither is released, so the next call probes.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold, self.cooldown, self._clock = threshold, cooldown, clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def wait(self) -> float:
        """0 when a call may go ahead, else seconds to defer it."""
        state = self.state
        if state == "closed":
            return 0.0
        if state == "half-open" and not self._probing:
            self._probing = True
            return 0.0
        assert self._opened_at is not None
        return max(1.0, self.cooldown - (self._clock() - self._opened_at))

    @property
    def probing(self) -> bool:
        """Whether the half-open probe is out: read right after ``wait()`` let a call
        through, it says that call is the probe."""
        return self._probing

    def release(self) -> None:
        """The probe ended without saying whether the provider works (the message could
        not be built, the call was cancelled): the next call probes instead."""
        self._probing = False

    def success(self) -> None:
        self._failures, self._opened_at, self._probing = 0, None, False

    def failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probing = False
