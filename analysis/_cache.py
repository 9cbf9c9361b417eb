"""Cached tables: figures are rebuilt from these, never from fresh simulation in a script."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

__all__ = ["cache_dir", "cached_table"]


def cache_dir(path=None) -> Path:
    """Where tables are cached: ``path``, else ``$SELFCONSUME_CACHE``, else ``./.cache/selfconsume``."""
    p = Path(path or os.environ.get("SELFCONSUME_CACHE") or Path.cwd() / ".cache" / "selfconsume")
    p.mkdir(parents=True, exist_ok=True)
    return p


def cached_table(name: str, fn, params: dict, *, directory=None, refresh: bool = False) -> pd.DataFrame:
    """Return ``fn(**params)``, cached as CSV under a key made of ``name`` and ``params``.

    ``params`` must be JSON-serialisable (they name the table, including its seed).
    """
    key = hashlib.sha256(json.dumps({"name": name, **params}, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir(directory) / f"{name}-{key}.csv"
    if path.exists() and not refresh:
        return pd.read_csv(path)
    df = fn(**params)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)  # atomic: an interrupted run never leaves a half-written cache
    return df
