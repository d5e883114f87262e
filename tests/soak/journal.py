"""The run's journal: phases, faults and anomalies, timestamped, to a file and the console."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO


class Journal:
    """Times are seconds since the harness started (``now()``), on the monotonic clock."""

    def __init__(self, path: Path, *, echo: bool = True) -> None:
        self.t0 = time.monotonic()
        self.path = path
        self.echo = echo
        self._file: TextIO = path.open("a", encoding="utf-8")

    def now(self) -> float:
        return time.monotonic() - self.t0

    def log(self, topic: str, message: str) -> None:
        line = f"[{self.now():7.1f}s] {topic:<8} {message}"
        self._file.write(line + "\n")
        self._file.flush()
        if self.echo:
            print(line, flush=True)

    def close(self) -> None:
        self._file.close()
