"""Parameter sweeps as tidy tables: seeded per cell, cached as Parquet, resumable, local or on Dask.

Layout of ``out`` (one folder per configuration)::

    out/<cell>-<config key>/
        manifest.json             cell, reps, root seed, versions, every cell asked for so far
        cells/<cell key>.parquet  one finished cell (provenance in the Parquet schema metadata)
        table.parquet             the whole table, written when every cell of a run is done

The configuration key hashes the cell's name, ``reps``, the root seed, the toolkit version and
the storage format — not the grid, so a grown grid reuses its finished cells and computes only
the new ones. A cell's key hashes its sorted parameters; its random stream is
``SeedSequence(root entropy, spawn_key=root spawn key + that hash as four uint32 words)``, so
its numbers do not depend on the grid around it, on the order, or on which machine runs it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import os
import subprocess
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from selfconsume._io import atomic_write
from selfconsume._validation import check_int

from ._cache import CacheWarning
from ._sweep_cells import CELLS, RegisteredCell, get_cell

__all__ = ["sweep", "SweepPlan", "plan_sweep", "cell_seed", "cell_key", "EXAMPLES", "load_config"]

_FORMAT = 1
_META_KEY = b"selfconsume.sweep"
_INSTALL = "pip install 'selfconsume[sweep]'"
#: The shipped example configurations (``analysis/sweeps/<name>.toml``).
EXAMPLES = ("cot_gaussian", "cot_fixation", "curation_k_lambda")


# ------------------------------------------------------------------------------ keys and seeds
def _canonical_value(name, v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        if math.isnan(v):
            raise ValueError(f"grid parameter {name!r} is NaN")
        return v
    raise TypeError(f"grid parameter {name!r} must be a number, a string, a bool or None; got {v!r}")


def _canonical(params: Mapping) -> dict:
    if not isinstance(params, Mapping):
        raise TypeError(f"a grid cell must be a dict of parameters; got {params!r}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TypeError(f"grid parameter names must be str; got {bad!r}")
    return {k: _canonical_value(k, v) for k, v in params.items()}


def _digest(obj) -> bytes:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).digest()


def cell_key(params: Mapping) -> str:
    """A cell's stable key: the first 16 hex digits of the SHA-256 of its sorted parameters."""
    return _digest(_canonical(params)).hex()[:16]


def _spawn_words(params: Mapping) -> tuple:
    d = _digest(_canonical(params))
    return tuple(int.from_bytes(d[4 * i:4 * i + 4], "little") for i in range(4))


def cell_seed(root: np.random.SeedSequence, params: Mapping) -> np.random.SeedSequence:
    """The cell's own stream: the root's entropy, its spawn key extended by the hash of ``params``."""
    return np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + _spawn_words(params))


def _root_seed(rng) -> np.random.SeedSequence:
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (numbers.Integral, np.random.Generator)):
        raise TypeError(f"rng must be None, an int seed >= 0, a numpy SeedSequence or a Generator (its "
                        f"SeedSequence is the root); got {rng!r}")
    if isinstance(rng, numbers.Integral):
        return np.random.SeedSequence(check_int("rng", rng, min_value=0))
    ss = getattr(rng.bit_generator, "seed_seq", None)
    if not isinstance(ss, np.random.SeedSequence):
        raise TypeError("rng: a Generator without a SeedSequence cannot root a sweep; pass an int seed")
    return ss


# ------------------------------------------------------------------------------ the plan
def _expand(grid) -> list[dict]:
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid is empty: give a mapping parameter -> list of values, or a list of cell dicts")
        names, lists = [], []
        for k, vals in grid.items():
            if not isinstance(k, str):
                raise TypeError(f"grid parameter names must be str; got {k!r}")
            if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
                vals = [vals]  # a single value
            vals = list(vals)
            if not vals:
                raise ValueError(f"grid is empty: parameter {k!r} has no values")
            names.append(k)
            lists.append(vals)
        cells = [dict(zip(names, combo)) for combo in itertools.product(*lists)]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        cells = list(grid)
        if not cells:
            raise ValueError("grid is empty: give a mapping parameter -> list of values, or a list of cell dicts")
    else:
        raise TypeError(f"grid must be a mapping parameter -> list of values or a list of cell dicts; got {grid!r}")
    cells = [_canonical(c) for c in cells]
    seen = {}
    for i, c in enumerate(cells):
        k = cell_key(c)
        if k in seen:
            raise ValueError(f"grid cells {seen[k]} and {i} are the same cell {c!r}")
        seen[k] = i
    return cells


def _cell_name(cell) -> str:
    if isinstance(cell, RegisteredCell):
        return cell.name
    mod = getattr(cell, "__module__", None) or type(cell).__module__
    qual = getattr(cell, "__qualname__", None) or type(cell).__qualname__
    return f"{mod}.{qual}"


def _versions() -> dict:
    import selfconsume

    out = {"selfconsume": selfconsume.__version__, "numpy": np.__version__, "pandas": pd.__version__}
    for mod in ("numba", "pyarrow"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: the cells in grid order, the root seed, and where it is stored."""

    cell: object          # a RegisteredCell or the caller's callable
    name: str
    cells: tuple
    keys: tuple
    reps: int
    root: np.random.SeedSequence
    folder: Path | None

    @property
    def config(self) -> dict:
        return {"format": _FORMAT, "cell": self.name, "reps": self.reps,
                "seed": {"entropy": self.root.entropy, "spawn_key": list(self.root.spawn_key)},
                "selfconsume": _versions()["selfconsume"]}

    def finished(self) -> set:
        """Keys of the cells of this grid already on disk."""
        if self.folder is None:
            return set()
        return {k for k in self.keys if (self.folder / "cells" / f"{k}.parquet").exists()}


def plan_sweep(cell, grid, *, reps, rng=None, out=None) -> SweepPlan:
    """Check every argument and every cell (cheaply, with the simulators' own checks) and fix the seeds.

    Raises ``ValueError``/``TypeError`` naming the parameter, or the offending grid cell; runs nothing.
    """
    if isinstance(cell, str):
        cell = get_cell(cell)
    elif not callable(cell):
        raise TypeError(f"cell must be a callable cell(params, reps, rng) or one of "
                        f"{', '.join(map(repr, CELLS))}; got {cell!r}")
    reps = check_int("reps", reps, min_value=1)
    cells = _expand(grid)
    if isinstance(cell, RegisteredCell):
        for i, c in enumerate(cells):
            try:
                cell.validate(c)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"grid cell {i} {c!r}: {exc}") from None
    root = _root_seed(rng)
    folder = None
    name = _cell_name(cell)
    plan = SweepPlan(cell, name, tuple(cells), tuple(cell_key(c) for c in cells), reps, root, None)
    if out is not None:
        if not isinstance(out, (str, os.PathLike)) or not str(out):
            raise TypeError(f"out must be a folder path (str or os.PathLike) or None; got {out!r}")
        safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name.rsplit(".", 1)[-1])[:40]
        folder = Path(out) / f"{safe}-{_digest(plan.config).hex()[:16]}"
        plan = SweepPlan(cell, name, plan.cells, plan.keys, reps, root, folder)
    return plan


# ------------------------------------------------------------------------------ running a cell
def _run_cell(cell, params: dict, reps: int, entropy, spawn_key) -> pd.DataFrame:
    """Pure: the cell's table with its parameters as leading columns (runs on a Dask worker too)."""
    fn = get_cell(cell) if isinstance(cell, str) else cell
    rng = np.random.default_rng(np.random.SeedSequence(entropy=entropy, spawn_key=tuple(spawn_key)))
    df = fn(dict(params), reps, rng)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"cell {_cell_name(fn)} returned {type(df).__name__} for {params!r}, not a DataFrame")
    clash = [k for k in params if k in df.columns]
    if clash:
        raise ValueError(f"cell {_cell_name(fn)} returned columns {clash} that are also parameter names")
    lead = pd.DataFrame({k: [v] * len(df) for k, v in params.items()}, index=df.index)
    return pd.concat([lead, df], axis=1).reset_index(drop=True)


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(f"sweep(out=...) stores Parquet through pyarrow, which is not installed: {_INSTALL}") from exc
    return pa, pq


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)


def _write_parquet(path: Path, df: pd.DataFrame, meta: dict) -> None:
    pa, pq = _pyarrow()
    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[_META_KEY] = json.dumps(meta, default=str).encode()
    table = table.replace_schema_metadata(md)
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def _read_cell(plan: SweepPlan, key: str, params: dict) -> pd.DataFrame | None:
    """A finished cell, or None (with a CacheWarning) when its file is unreadable; a file of
    another configuration or cell is an error naming it."""
    pa, pq = _pyarrow()
    path = plan.folder / "cells" / f"{key}.parquet"
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException) as exc:
        warnings.warn(f"sweep cell file {path} is unusable ({type(exc).__name__}: {exc}); recomputing it",
                      CacheWarning, stacklevel=3)
        return None
    if meta.get("config") != json.loads(json.dumps(plan.config)) or meta.get("params") != params:
        raise ValueError(f"sweep cell file {path} was written by another configuration or cell "
                         f"(config {meta.get('config')}, params {meta.get('params')}); expected config "
                         f"{plan.config}, params {params}: move the folder away")
    return table.to_pandas()


def _write_manifest(plan: SweepPlan, provenance: dict) -> None:
    path = plan.folder / "manifest.json"
    cells = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("config") not in (None, json.loads(json.dumps(plan.config))):
            raise ValueError(f"sweep folder {plan.folder} holds another configuration "
                             f"({old.get('config')}); move it away")
        cells = dict(old.get("cells", {}))
    cells.update(dict(zip(plan.keys, plan.cells)))
    body = dict(provenance, cells=cells, grid=list(plan.cells))
    _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(body, indent=1, default=str)))


# ------------------------------------------------------------------------------ schedulers
def _dask_client(scheduler):
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(f"sweep(scheduler=...) needs dask.distributed, which is not installed: {_INSTALL}") from exc
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return scheduler, None, False
    if scheduler == "local":
        # Threads, not processes: the simulators' Numba kernels release the GIL, the cluster starts in
        # a second, and a script without an ``if __name__ == "__main__"`` guard still works.
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
        return Client(cluster), cluster, True
    if isinstance(scheduler, str) and scheduler:
        try:
            return Client(scheduler, timeout="5s"), None, True
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"scheduler: could not connect to the Dask scheduler at {scheduler!r} "
                             f"within 5 s ({type(exc).__name__}: {exc})") from None
    raise TypeError(f"scheduler must be None (this process), 'local' (a LocalCluster of 2 workers), a scheduler "
                    f"address such as 'tcp://host:8786' or a distributed.Client; got {scheduler!r}")


def _results_local(plan, todo):
    cell = plan.cell.name if isinstance(plan.cell, RegisteredCell) else plan.cell
    for i in todo:
        seed = cell_seed(plan.root, plan.cells[i])
        yield i, _run_cell(cell, plan.cells[i], plan.reps, seed.entropy, seed.spawn_key)


def _close_dask(dask) -> None:
    if dask is None:
        return
    client, cluster, owned = dask
    if owned:
        client.close()
        if cluster is not None:
            cluster.close()


def _results_dask(plan, todo, dask):
    from distributed import as_completed

    client = dask[0]
    cell = plan.cell.name if isinstance(plan.cell, RegisteredCell) else plan.cell
    futures = {}
    try:
        for i in todo:
            seed = cell_seed(plan.root, plan.cells[i])
            f = client.submit(_run_cell, cell, plan.cells[i], plan.reps, seed.entropy, tuple(seed.spawn_key),
                              pure=False, key=f"sweep-cell-{plan.keys[i]}-{os.urandom(4).hex()}")
            futures[f] = i
        for f in as_completed(list(futures)):
            yield futures[f], f.result()
    finally:
        for f in futures:
            f.cancel()
        _close_dask(dask)


# ------------------------------------------------------------------------------ the sweep
def sweep(cell, grid, *, reps, rng=None, out=None, scheduler=None, progress=True) -> pd.DataFrame:
    """Run ``cell`` on every point of ``grid``, ``reps`` replicates each, as one tidy table.

    Parameters
    ----------
    cell : str or callable
        A registered cell (``"gaussian"``, ``"fixation"``, ``"curation"``; see
        ``selfconsume.analysis._sweep_cells``) or ``cell(params: dict, reps: int,
        rng: numpy.random.Generator) -> DataFrame`` (long form; a pure, picklable function
        for Dask).
    grid : mapping or list of dicts
        ``{param: [values, ...]}`` (the Cartesian product, in the mapping's order; a scalar is
        one value) or a list of cell dicts. Values are numbers, strings, bools or None.
    reps : int
        Replicates per cell, >= 1.
    rng : None, int, SeedSequence or Generator
        Root seed. Cell ``c`` uses ``SeedSequence(root.entropy, root.spawn_key + h(c))``,
        ``h`` the SHA-256 of ``c``'s sorted parameters as four uint32 words: adding, removing
        or reordering cells changes no other cell's numbers. ``None``: fresh entropy, recorded
        in ``df.attrs["sweep"]`` and the manifest.
    out : path-like, optional
        Store each finished cell as Parquet under ``out/<cell>-<config key>/`` (module
        docstring); a rerun reads finished cells and computes only the missing ones. The
        returned table is then read back from disk, so a resumed run equals an uninterrupted one.
    scheduler : None, "local", str or distributed.Client
        ``None``: this process, one cell at a time (each simulator uses the threads).
        ``"local"``: a LocalCluster of 2 workers (threads, 1 each); an address such
        as ``"tcp://host:8786"``: that Dask scheduler. Same numbers in every case.
    progress : bool
        A progress bar: cells done, rows/s, ETA.

    Returns
    -------
    pandas.DataFrame
        The parameters as leading columns, then the cell's columns; cells in grid order.
        ``df.attrs["sweep"]`` holds the provenance.

    Raises
    ------
    ValueError, TypeError
        Before anything runs: an unknown cell, unknown or out-of-range parameters (naming the
        grid cell), an empty grid, ``reps < 1``, an unreachable scheduler.
    KeyboardInterrupt
        Re-raised after Ctrl-C; the cells finished so far stay on disk.

    Examples
    --------
    >>> from selfconsume.analysis import sweep
    >>> df = sweep("gaussian", {"n": [10, 20], "iterations": [3]}, reps=2, rng=0, progress=False)
    >>> df.shape, list(df.columns[:3])
    ((12, 8), ['n', 'iterations', 'rep'])
    """
    plan = plan_sweep(cell, grid, reps=reps, rng=rng, out=out)
    if scheduler is not None and not (hasattr(scheduler, "submit") or isinstance(scheduler, str)):
        _dask_client(scheduler)  # raises the TypeError naming scheduler
    provenance = {"config": json.loads(json.dumps(plan.config)), "versions": _versions(),
                  "git_commit": _git_commit(), "cell_doc": (getattr(plan.cell, "doc", "") or "").strip()[:2000]}
    frames: dict[int, pd.DataFrame] = {}
    if plan.folder is not None:
        _pyarrow()
        for i, k in enumerate(plan.keys):
            if (plan.folder / "cells" / f"{k}.parquet").exists():
                df = _read_cell(plan, k, plan.cells[i])
                if df is not None:
                    frames[i] = df
    todo = [i for i in range(len(plan.cells)) if i not in frames]
    dask = None
    if todo and scheduler is not None:  # connect before anything is written: an unreachable one fails here
        dask = _dask_client(scheduler)
    if plan.folder is not None:
        try:
            (plan.folder / "cells").mkdir(parents=True, exist_ok=True)
            _write_manifest(plan, provenance)
        except BaseException:
            _close_dask(dask)
            raise
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan.cells), initial=len(frames), desc=f"sweep {plan.name.rsplit('.', 1)[-1]}",
                   unit="cell")
    rows, t0 = 0, time.perf_counter()
    results = _results_local(plan, todo) if dask is None else _results_dask(plan, todo, dask)
    try:
        if todo:
            for i, df in results:
                if plan.folder is not None:
                    path = plan.folder / "cells" / f"{plan.keys[i]}.parquet"
                    _write_parquet(path, df, dict(provenance, params=plan.cells[i], key=plan.keys[i]))
                    df = pd.read_parquet(path)
                frames[i] = df
                rows += len(df)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"{rows / max(time.perf_counter() - t0, 1e-9):.3g} rows/s")
    finally:
        results.close()  # a Dask run cancels what is left and closes the cluster it started
        if dask is not None and not todo:
            _close_dask(dask)
        if bar is not None:
            bar.close()
    table = pd.concat([frames[i] for i in range(len(plan.cells))], ignore_index=True)
    if plan.folder is not None and todo:
        _write_parquet(plan.folder / "table.parquet", table, dict(provenance, grid=list(plan.cells)))
    table.attrs["sweep"] = dict(provenance, folder=None if plan.folder is None else str(plan.folder),
                                seconds=time.perf_counter() - t0, computed=len(todo))
    return table


def load_config(config) -> dict:
    """A sweep configuration from a TOML file path or the name of a shipped example.

    Keys: ``cell`` (str), ``reps`` (int), optional ``seed`` (int >= 0; absent: fresh), ``[grid]``
    (param -> list of values) and optional ``[fixed]`` (param -> one value, added to every cell).
    Returns ``dict(cell=, grid=, reps=, rng=, source=)`` for :func:`sweep`.
    """
    import tomllib

    path = Path(config)
    if not path.is_file():
        if config not in EXAMPLES:
            raise ValueError(f"CONFIG must be a TOML file or one of the shipped examples "
                             f"({', '.join(EXAMPLES)}); got {config!r}")
        from importlib.resources import files

        text = (files("selfconsume.analysis") / "sweeps" / f"{config}.toml").read_text()
        source = f"example {config}"
    else:
        text = path.read_text()
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"CONFIG {source}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"cell", "reps", "seed", "grid", "fixed", "description"})
    if unknown:
        raise ValueError(f"CONFIG {source}: unknown key(s) {unknown}; expected cell, reps, seed, [grid], [fixed]")
    for key in ("cell", "reps", "grid"):
        if key not in data:
            raise ValueError(f"CONFIG {source}: missing key {key!r}")
    grid, fixed = data["grid"], data.get("fixed", {})
    if not isinstance(grid, dict) or not isinstance(fixed, dict):
        raise ValueError(f"CONFIG {source}: [grid] and [fixed] must be tables")
    both = sorted(set(grid) & set(fixed))
    if both:
        raise ValueError(f"CONFIG {source}: parameter(s) {both} in both [grid] and [fixed]")
    for k, v in fixed.items():
        if isinstance(v, list):
            raise ValueError(f"CONFIG {source}: [fixed] {k} must be one value (lists go in [grid])")
    full = {**grid, **{k: [v] for k, v in fixed.items()}}
    seed = data.get("seed")
    if seed is not None:
        seed = check_int("seed", seed, min_value=0)
    return {"cell": data["cell"], "grid": full, "reps": data["reps"], "rng": seed, "source": source}
