"""The console's A/B chart: Wilson intervals and the SVG pygal renders."""

from __future__ import annotations

import pytest

from web.console.charts import ab_chart, arms_of, wilson


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # the normal interval would be [0, 0]
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_intervals_match_published_values(
    successes: int, n: int, low: float, high: float
) -> None:
    got = wilson(successes, n)
    assert got == pytest.approx((low, high), abs=5e-4)


def test_an_arm_without_sends_has_the_whole_range() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_the_chart_escapes_arm_names_and_has_no_script() -> None:
    rows = [
        {"scope": "step", "step_number": 1, "ab_variant": None},
        *(
            {
                "scope": "variant",
                "step_number": 1,
                "ab_variant": arm,
                "sent": 20,
                "bounced": 1,
                "opened": 8,
                "clicked": 2,
                "replied": 1,
            }
            for arm in ("A", "<b>B</b>")
        ),
    ]
    arms = arms_of(rows)
    assert [a.reached for a in arms[1]] == [19, 19]
    svg = ab_chart(1, arms[1])
    assert "<script" not in svg
    assert "&lt;b&gt;B&lt;/b&gt; (n=19)" in svg
    assert svg.count('class="ci"') == 6  # three metrics for each of two arms
