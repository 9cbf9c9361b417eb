"""Cached tables: figures are rebuilt from these, never from fresh simulation in a script.

One entry is one file, ``<name>-<key>.csv``: a header line, then the table as CSV (the payload)::

    #selfconsume-cache 1 {"sha256": ..., "bytes": ..., "rows": ..., "columns": [...], ...}
    col_a,col_b
    ...

The header (checksum, length, shape) and the payload live in one file, published with a single
atomic :func:`os.replace`, so a reader sees either the whole old entry or the whole new one,
never a new payload with an old header.  Every read is verified; an entry that is empty,
truncated, garbled or of the wrong shape is reported with a :class:`CacheWarning`, recomputed
and rewritten.  Writers each use their own temporary file, so concurrent refreshes never clash.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import time
import warnings
from pathlib import Path

import pandas as pd

from selfconsume._io import atomic_write

__all__ = ["CacheWarning", "cache_dir", "cached_table"]

_MAGIC = b"#selfconsume-cache "
_VERSION = 1
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_MAX_NAME = 200               # <name>-<16 hex>.csv stays well under the usual 255-byte limit
_STALE_TMP_S = 3600.0         # temporary files this old were left by a killed writer


class CacheWarning(UserWarning):
    """A cache entry could not be used (it is recomputed) or could not be written (the table is kept)."""


class _BadEntry(Exception):
    """An entry that fails verification; the message is the reason."""


def cache_dir(path=None) -> Path:
    """Where tables are cached: ``path``, else ``$SELFCONSUME_CACHE``, else ``./.cache/selfconsume``."""
    if path is not None and (not isinstance(path, (str, os.PathLike)) or not str(path)):
        raise TypeError(f"path must be a folder path (str or os.PathLike) or None; got {path!r}")
    p = Path(path or os.environ.get("SELFCONSUME_CACHE") or Path.cwd() / ".cache" / "selfconsume")
    p.mkdir(parents=True, exist_ok=True)
    return p


def cached_table(name: str, fn, params: dict, *, directory=None, refresh: bool = False) -> pd.DataFrame:
    """Return ``fn(**params)``, cached as CSV under a key made of ``name`` and ``params``.

    Parameters
    ----------
    name : str
        The table's name, also the start of its file name: letters, digits, ``_``, ``.`` and
        ``-`` (not first), at most 200 characters.
    fn : callable
        ``fn(**params)`` computes the table; it must return a :class:`pandas.DataFrame`.
    params : dict
        Keyword arguments of ``fn``, with string keys; JSON-serialisable (they name the table,
        including its seed).
    directory : path-like, optional
        The cache directory (see :func:`cache_dir`).
    refresh : bool
        Recompute and rewrite the entry even if a valid one exists.

    Returns
    -------
    pandas.DataFrame
        The table as read back from its CSV, so a fresh and a cached result are identical.

    Notes
    -----
    A stored entry is verified (SHA-256 of the payload, its length, the row count and the
    columns) before it is used; one that fails is reported with a :class:`CacheWarning` naming
    the file and the reason, then recomputed and rewritten.  Publishing is atomic and each
    writer has its own temporary file, so concurrent writers and readers are safe.  If the entry
    cannot be written (e.g. a full or read-only disk) a :class:`CacheWarning` is issued and the
    computed table is still returned.

    Raises
    ------
    TypeError
        ``name`` is not a str, ``fn`` is not callable, ``params`` is not a dict with string
        keys, or ``fn`` did not return a DataFrame.
    ValueError
        ``name`` is not usable as a file name, or ``fn``'s table does not survive a CSV round trip
        (e.g. MultiIndex columns).
    """
    _check_args(name, fn, params)
    if directory is not None and (not isinstance(directory, (str, os.PathLike)) or not str(directory)):
        raise TypeError(f"directory must be a folder path (str or os.PathLike) or None; got {directory!r}")
    key = hashlib.sha256(json.dumps({"format": _VERSION, "name": name, "params": params},
                                    sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir(directory) / f"{name}-{key}.csv"
    if not refresh:
        try:
            return _read_entry(path, key)
        except FileNotFoundError:
            pass
        except _BadEntry as e:
            warnings.warn(f"cache entry {path} is unusable ({e}); recomputing table {name!r}",
                          CacheWarning, stacklevel=2)
    df = fn(**params)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"fn must return a pandas DataFrame; {_describe(fn)} returned {type(df).__name__}")
    payload = df.to_csv(index=False).encode("utf-8")
    try:
        table = _parse(payload)
    except ValueError as e:  # e.g. EmptyDataError: a table without columns
        raise ValueError(f"the table returned by fn ({_describe(fn)}) cannot be cached as CSV: "
                         f"{type(e).__name__}: {e}") from e
    if table.shape != df.shape:
        raise ValueError(f"the table returned by fn ({_describe(fn)}) does not survive a CSV round trip: "
                         f"shape {df.shape} is read back as {table.shape} (MultiIndex columns?)")
    header = {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload), "rows": len(table),
              "columns": [str(c) for c in table.columns], "name": name, "key": key, "params": params}
    data = _MAGIC + f"{_VERSION} ".encode() + json.dumps(header, default=str).encode() + b"\n" + payload
    try:
        _publish(path, data)
    except OSError as e:
        warnings.warn(f"could not write cache entry {path} ({type(e).__name__}: {e}); "
                      f"table {name!r} is returned uncached", CacheWarning, stacklevel=2)
    return table


def _check_args(name, fn, params) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name or len(name) > _MAX_NAME or not _NAME_RE.fullmatch(name):
        raise ValueError(f"name must be a non-empty file name of at most {_MAX_NAME} characters from "
                         f"letters, digits, '_', '.' and '-' (not first), got {name!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of keyword arguments for fn, got {type(params).__name__}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TypeError(f"params keys must be str (they are fn's keyword arguments), got {bad!r}")


def _describe(fn) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _parse(payload: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(payload))


def _read_entry(path: Path, key: str) -> pd.DataFrame:
    """The verified table in ``path``; FileNotFoundError if absent, _BadEntry if unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise _BadEntry(f"unreadable: {type(e).__name__}: {e}") from e
    if not data:
        raise _BadEntry("empty file (0 bytes)")
    if not data.startswith(_MAGIC):
        raise _BadEntry("no cache header: not written by this version, or garbage")
    nl = data.find(b"\n")
    if nl < 0:
        raise _BadEntry("header line is not terminated: truncated")
    try:
        version, _, text = data[len(_MAGIC):nl].partition(b" ")
        if int(version) != _VERSION:
            raise _BadEntry(f"format version {int(version)}, expected {_VERSION}")
        header = json.loads(text)
        want_sha, want_bytes, want_rows = header["sha256"], int(header["bytes"]), int(header["rows"])
        want_cols, want_key = list(header["columns"]), header["key"]
    except _BadEntry:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise _BadEntry(f"malformed header: {type(e).__name__}: {e}") from e
    if want_key != key:
        raise _BadEntry(f"header key {want_key!r} does not match the file's key {key!r}")
    payload = data[nl + 1:]
    if len(payload) != want_bytes:
        raise _BadEntry(f"payload is {len(payload)} bytes, header says {want_bytes}: truncated or appended to")
    if hashlib.sha256(payload).hexdigest() != want_sha:
        raise _BadEntry("payload SHA-256 does not match the header: corrupted")
    try:
        table = _parse(payload)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:  # EmptyDataError is a ValueError
        raise _BadEntry(f"payload is not readable CSV: {type(e).__name__}: {e}") from e
    if len(table) != want_rows:
        raise _BadEntry(f"{len(table)} rows, header says {want_rows}")
    cols = [str(c) for c in table.columns]
    if cols != want_cols:
        raise _BadEntry(f"columns {cols} do not match the header's {want_cols}")
    return table


def _publish(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`selfconsume._io.atomic_write`, with fsync)."""
    _remove_stale_tmp(path)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), fsync=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows (POSIX); best effort."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_tmp(path: Path) -> None:
    """Delete this entry's temporary files left by writers killed mid-write (older than an hour)."""
    cutoff = time.time() - _STALE_TMP_S
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass
