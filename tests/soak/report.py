"""The one table of a soak run, then the evidence behind each failing (and informative) row."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

from tests.soak.checks import Check

MARK = {True: "ok", False: "FAIL", None: ""}


def render(title: str, checks: Sequence[Check], *, details_for_ok: bool = False) -> str:
    width = max(100, min(160, shutil.get_terminal_size((140, 40)).columns))
    name_w = max(len(c.name) for c in checks)
    limit_w = max(5, *(len(c.limit) for c in checks))
    figure_w = max(20, width - name_w - limit_w - 12)
    rule = "-" * (name_w + figure_w + limit_w + 12)
    out = [
        f"== {title}",
        rule,
        f" {'check':<{name_w}}  {'figure':<{figure_w}}  {'limit':<{limit_w}}  result",
        rule,
    ]
    for c in checks:
        lines = textwrap.wrap(c.figure, figure_w) or [""]
        out.append(
            f" {c.name:<{name_w}}  {lines[0]:<{figure_w}}  {c.limit:<{limit_w}}  {MARK[c.ok]}"
        )
        out += [f" {'':<{name_w}}  {line}" for line in lines[1:]]
    out.append(rule)
    failing = [c for c in checks if c.ok is False]
    out.append(
        f"{len(failing)} invariant(s) failed: " + ", ".join(c.name for c in failing)
        if failing
        else "every invariant held"
    )
    shown = [
        c for c in checks if c.details and (c.ok is not True or c.show_details or details_for_ok)
    ]
    for c in shown:
        out += ["", f"-- {c.name}{' [FAIL]' if c.ok is False else ''}"]
        out += [f"   {line}" for line in c.details]
    return "\n".join(out)
