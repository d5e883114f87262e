"""How listings print: a rich table for people, ``--json`` for scripts."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

Row = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a table: the row's ``key``, its header, and how a value reads."""

    key: str
    header: str
    show: Callable[[Any], str] | None = None
    wrap: bool = True


def console() -> Console:
    """stdout; when it is no terminal (a pipe, a file) wide enough that ids do not wrap."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(width=width, highlight=False)


def text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal | datetime.timedelta):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(value: Any) -> None:
    """Rows (or one object) as JSON on stdout, ids and times as strings."""
    sys.stdout.write(json.dumps(value, default=_jsonable, indent=2) + "\n")


def print_table(
    rows: Sequence[Row], columns: Sequence[Column], *, title: str | None = None, empty: str
) -> None:
    out = console()
    if not rows:
        out.print(empty)
        return
    if title:
        out.print(title, style="bold")
    table = Table()
    for column in columns:
        table.add_column(column.header, no_wrap=not column.wrap, overflow="fold")
    for row in rows:
        table.add_row(*((column.show or text)(row.get(column.key)) for column in columns))
    out.print(table)


def print_rows(
    rows: Sequence[Row],
    columns: Sequence[Column],
    *,
    as_json: bool,
    title: str | None = None,
    empty: str,
) -> None:
    """A listing: JSON (every column the query returned) or a table (``columns``)."""
    if as_json:
        print_json([dict(row) for row in rows])
    else:
        print_table(rows, columns, title=title, empty=empty)
