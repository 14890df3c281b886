"""Append-only JSONL files that resume after an interruption (the scrape output, the download log)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def cut_partial_line(path: str | Path) -> int:
    """Truncate a half-written last line left by an interrupted run, so the next record starts on a line of
    its own (that record is redone by the rerun). Returns the number of bytes cut (0: nothing to repair)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with path.open("rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return len(data) - keep


SYNC_SECONDS = 0.5


class DurableLines:
    """An append-only text file written a few lines at a time (the resume point of a step).

    Every write is flushed at once, so a killed process loses none of what it wrote; the file is synced to
    disk when half a second has passed since the last sync, and on close, so a machine crash loses at most the
    last half second of lines (which the rerun redoes) without an fsync, milliseconds each, per line.
    """

    def __init__(self, path: str | Path):
        self._file = Path(path).open("a", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()

    def __enter__(self) -> "DurableLines":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
