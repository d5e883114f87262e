"""A campaign's A/B arms as a server-side SVG chart (pygal), with 95% Wilson intervals.

The numbers come from ``api.get_campaign_stats``'s 'variant' rows: per arm, the emails
sent (less those that bounced: they reached nobody) and how many were opened, clicked
and replied to. ``api.evaluate_ab_test`` decides a winner on one metric and counts only
sends whose metric window closed, so its counts can trail the chart's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pygal
from pygal.style import Style

Z95 = 1.959963984540054
METRICS = (("opened", "Open rate"), ("clicked", "Click rate"), ("replied", "Reply rate"))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0..1); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.successes, self.n)


@dataclasses.dataclass(frozen=True)
class Arm:
    step_number: int
    variant: str
    sent: int
    reached: int
    rates: Mapping[str, Rate]


def arms_of(stats: Iterable[Mapping[str, Any]]) -> dict[int, list[Arm]]:
    """The A/B arms per step number, from get_campaign_stats rows."""
    steps: dict[int, list[Arm]] = {}
    for row in stats:
        if row["scope"] != "variant":
            continue
        sent = int(row["sent"] or 0)
        reached = max(sent - int(row["bounced"] or 0), 0)
        rates = {key: Rate(int(row[key] or 0), reached) for key, _ in METRICS}
        arm = Arm(int(row["step_number"]), str(row["ab_variant"]), sent, reached, rates)
        steps.setdefault(arm.step_number, []).append(arm)
    return steps


STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#2563eb", "#d97706", "#059669"),
    font_family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=15,
)


def ab_chart(step_number: int, arms: list[Arm]) -> str:
    """One A/B step's arms as an SVG document (no XML declaration, no script): a bar per
    arm and metric, in percent, with its 95% Wilson interval as an error bar."""
    chart = pygal.Bar(
        style=STYLE,
        js=(),
        disable_xml_declaration=True,
        width=720,
        height=360,
        range=(0, 100),
        title=f"Step {step_number}: A/B arms (95% intervals)",
        x_title="Arm",
        y_title="%",
        legend_at_bottom=True,
        print_values=False,
        show_y_guides=True,
        value_formatter=lambda v: f"{v:.1f}%",
    )
    chart.x_labels = [f"{a.variant} (n={a.reached})" for a in arms]
    for key, label in METRICS:
        values = []
        for arm in arms:
            rate = arm.rates[key]
            low, high = rate.interval
            values.append(
                {
                    "value": round(100 * (rate.value or 0.0), 2),
                    "ci": {"low": 100 * low, "high": 100 * high},
                    "label": f"{arm.variant}: {rate.successes}/{rate.n}",
                }
            )
        chart.add(label, values)
    chart.add_xml_filter(_without_scripts)
    svg: str = chart.render(is_unicode=True)
    return svg


def _without_scripts(root: Any) -> Any:
    """Drop pygal's inline configuration script: the chart needs no JavaScript."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    return root
