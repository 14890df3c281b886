"""Append-only JSONL files that resume after an interruption (the scrape output, the download log)."""
from __future__ import annotations

import os
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
