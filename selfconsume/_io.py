"""One way to write a file atomically, for every layer (table cache, reports, sweep cells, derivations)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable


def atomic_write(path, write: Callable[[str], None], *, fsync: bool = False) -> None:
    """Create ``path`` through ``write(tmp)`` on a temporary file in the same folder, then
    :func:`os.replace`: a reader sees the whole old file or the whole new one, never half, and
    concurrent writers never mix. ``fsync`` flushes the data to disk before the rename. On failure
    (Ctrl-C included) the temporary file is removed and the target is untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        for attempt in range(10):
            try:
                os.replace(tmp, path)
                break
            except PermissionError:  # Windows: the target is open in a reader; retry briefly
                if os.name != "nt" or attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
