"""Process logging for ``intime web`` and ``intime worker``: one line per event.

``text`` is for people (``2026-12-04T15:30:00.123Z WARNING intime.worker: ...``),
``json`` for log shippers: one object per line with ``ts``, ``level``,
``logger``, ``message`` and the event's structured fields (``event``,
``entrypoint``, ``job_id`` ...). A traceback is logged only at ``debug``; at
other levels an exception is summarised in the line itself.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

FORMATS = ("text", "json")
# LogRecord attributes that are not a caller's structured ``extra`` fields.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _exception(record: logging.LogRecord, formatter: logging.Formatter) -> str | None:
    if not record.exc_info or record.exc_info[1] is None:
        return None
    if record.levelno <= logging.DEBUG or logging.getLogger().level <= logging.DEBUG:
        return formatter.formatException(record.exc_info)
    error = record.exc_info[1]
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:500]


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        error = _exception(record, self)
        if error:
            line += f" | {error}" if "\n" not in error else f"\n{error}"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        error = _exception(record, self)
        if error:
            out["error"] = error
        return json.dumps(out, default=str, ensure_ascii=False)


def configure(fmt: str = "text", level: str = "info", stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if root.level > logging.DEBUG:
        # pgqueuer narrates every retry at INFO and logs each failed job with its
        # traceback; the worker logs those itself, once, in one line.
        logging.getLogger("pgqueuer").setLevel(logging.WARNING)
        logging.getLogger("pgqueuer").addFilter(_drop_job_tracebacks)
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


# pgqueuer's lines the worker says itself, once: a failed job (with its traceback), and a
# status flush that failed while the database was away (a dozen at a time at a stop).
_REPEATED = (
    "Exception while processing entrypoint/job-id",
    "Shutdown flush failed",
    "Flush failed, requeuing",
)


def _drop_job_tracebacks(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_REPEATED)
