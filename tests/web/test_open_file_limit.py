"""``intime web`` raises its open-file limit for its client connections."""

from __future__ import annotations

import resource

from intime_cli.serving import FD_HEADROOM, raise_open_file_limit


def test_the_soft_open_file_limit_is_raised_as_far_as_the_hard_limit_allows() -> None:
    soft, wanted = raise_open_file_limit(10_000)
    now, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert wanted == 10_000 + FD_HEADROOM
    assert soft == now
    assert now == hard or now >= wanted
