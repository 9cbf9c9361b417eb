"""Parameter sweeps end to end: the Collapse-or-Thrive Gaussian grid through ``selfconsume.analysis.sweep``.

Rows (benchmarks.md, "parameter sweeps"):

* **end to end**: the shipped ``cot_gaussian`` grid (d ∈ {1, 3, 10, 31, 100} × n ∈ {10, 32,
  100, 316, 1000} × 3 workflows, 100 reps × 100 iterations = 7,500 runs; quick mode: a
  reduced grid, stated in the notes) with ``out=None`` and with ``out=<temporary folder>``
  (Parquet per cell + the table), against Kazdan et al.'s NumPy per-run loop
  (:func:`._peers.kazdan_run`) *extrapolated*: every cell of the grid is timed on a few seeds
  (at least one, more until a small time budget is spent; so the large cells, d = 100 and
  n = 1000, which dominate, are always measured) and its mean seconds per run multiplied by
  the cell's ``reps``. ``ratio = peer / ours``.
* **rows/s**: the throughput of both runs (the Parquet run's overhead as their ratio).
* **LocalCluster**: the reduced grid at the shipped grid's 100 reps with ``scheduler="local"`` (cluster start-up and
  shut-down included, as a user pays them) against the local run, interleaved; the cluster's
  start-up and close are also timed alone, and a run on an already started ``Client``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from contextlib import contextmanager

import numpy as np

from ._peers import kazdan_run
from ._timing import make_row

__all__ = ["QUICK_GRID", "bench_end_to_end", "bench_local_cluster", "full_grid", "peer_estimate", "run", "suite"]

#: The reduced grid of the quick mode (and of the LocalCluster rows): d ∈ {1, 10} × n ∈ {10, 100} × 3 workflows.
QUICK_GRID = {"d": [1, 10], "n": [10, 100], "workflow": ["replace", "accumulate", "accumulate-subsample"],
              "iterations": [100], "estimator": ["mle"]}
QUICK_REPS = 20
_SEED = 0
#: sweep's workflow names -> Kazdan et al.'s settings.
_SETTING = {"replace": "Replace", "accumulate": "Accumulate", "accumulate-subsample": "Accumulate-Subsample"}


def full_grid() -> tuple[dict, int, object]:
    """``(grid, reps, rng)`` of the shipped ``cot_gaussian`` configuration (as ``selfconsume sweep`` loads it)."""
    from selfconsume.analysis._sweep import load_config

    cfg = load_config("cot_gaussian")
    return cfg["grid"], int(cfg["reps"]), cfg["rng"]


def _cells(grid) -> list[dict]:
    from selfconsume.analysis._sweep import _expand

    return _expand(grid)


def _describe(grid, reps) -> str:
    cells = _cells(grid)
    iters = sorted({int(c.get("iterations", 100)) for c in cells})
    return (f"d ∈ {list(grid['d'])} × n ∈ {list(grid['n'])} × {len(grid['workflow'])} workflows = {len(cells)} cells, "
            f"{reps} reps × {'/'.join(map(str, iters))} iterations = {len(cells) * reps:,} runs")


def peer_estimate(grid, reps, *, min_seconds=0.05, max_seeds=5, seed=_SEED) -> dict:
    """Kazdan's per-run loop on every cell of ``grid``, extrapolated to ``reps`` runs per cell.

    Each cell runs :func:`kazdan_run` on seeds ``seed, seed + 1, ...`` until ``min_seconds``
    have been spent on it or ``max_seeds`` seeds have run (at least one); its estimate is its
    mean seconds per run × ``reps``. Returns ``total`` (extrapolated seconds), ``measured``
    (seconds actually spent), ``runs`` (runs timed), ``per_cell`` (cell label -> (seeds,
    seconds per run)) and ``largest`` (the labels of the most expensive cells, largest first).
    """
    per_cell, total, measured, runs = {}, 0.0, 0.0, 0
    for c in _cells(grid):
        setting, d, n, iters = _SETTING[c["workflow"]], int(c["d"]), int(c["n"]), int(c.get("iterations", 100))
        times = []
        while not times or (sum(times) < min_seconds and len(times) < max_seeds):
            t0 = time.perf_counter()
            kazdan_run(setting, d, n, iters, seed + len(times))
            times.append(time.perf_counter() - t0)
        per_run = float(np.mean(times))
        per_cell[f"{c['workflow']} d={d} n={n}"] = (len(times), per_run)
        total += per_run * reps
        measured += sum(times)
        runs += len(times)
    largest = sorted(per_cell, key=lambda k: -per_cell[k][1])
    return {"total": total, "measured": measured, "runs": runs, "per_cell": per_cell, "largest": largest}


def _timed_sweep(grid, reps, *, parquet=False, scheduler=None):
    """Wall-clock seconds and row count of one ``sweep`` call (a fresh temporary ``out`` when ``parquet``)."""
    from selfconsume.analysis import sweep

    folder = tempfile.mkdtemp(prefix="selfconsume-bench-sweep-") if parquet else None
    try:
        t0 = time.perf_counter()
        df = sweep("gaussian", grid, reps=reps, rng=_SEED, out=folder, scheduler=scheduler, progress=False)
        return time.perf_counter() - t0, len(df)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _warm_up():
    """Compile the Gaussian kernels of every workflow (and import pyarrow) before anything is timed."""
    tiny = {"d": [1, 3], "n": [10], "workflow": list(_SETTING), "iterations": [3], "estimator": ["mle"]}
    _timed_sweep(tiny, 2)
    _timed_sweep(tiny, 2, parquet=True)


def bench_end_to_end(*, grid=None, reps=None, repeats=1, peer_min_seconds=0.3, peer_max_seeds=3,
                     full=True) -> list[dict]:
    """The grid end to end (``out=None`` and Parquet), vs Kazdan's loop extrapolated; plus a rows/s row.

    ``grid=None`` is the shipped ``cot_gaussian`` grid at its ``reps``. ``full`` marks the rows
    against the benchmarks.md target (≤ 2 min and ≥ 20× the peer), which is stated for the full grid.
    """
    if grid is None:
        grid, reps0, _ = full_grid()
        reps = reps0 if reps is None else reps
    reps = int(reps)
    _warm_up()
    mem, disk, n_rows = [], [], None
    for rep in range(int(repeats)):  # interleaved, the order alternating
        for parquet in ((False, True) if rep % 2 == 0 else (True, False)):
            s, n_rows = _timed_sweep(grid, reps, parquet=parquet)
            (disk if parquet else mem).append(s)
    t_mem, t_disk = min(mem), min(disk)
    peer = peer_estimate(grid, reps, min_seconds=peer_min_seconds, max_seeds=peer_max_seeds)
    wl = f"sweep('gaussian') on the {'cot_gaussian' if full else 'reduced Collapse-or-Thrive'} grid ({_describe(grid, reps)})"
    top = ", ".join(f"{k} {peer['per_cell'][k][1]:.3g} s" for k in peer["largest"][:3])
    peer_note = (f"peer: Kazdan et al.'s per-run NumPy loop (benchmarks._peers.kazdan_run, one process, one "
                 f"RandomState per seed) timed on every one of the {len(peer['per_cell'])} cells, "
                 f"{peer['runs']} runs in all (1–{peer_max_seeds} seeds per cell, more until {peer_min_seconds:g} s "
                 f"per cell; {peer['measured']:.1f} s measured), mean seconds per run × {reps} reps per cell "
                 f"= {peer['total']:.4g} s ({peer['total'] / 3600:.3g} h) extrapolated; its costliest runs: {top}")
    reduced = "" if full else (" Quick mode: a reduced grid (d ∈ {1, 10} × n ∈ {10, 100}, "
                               f"{reps} reps instead of the shipped grid's 5 × 5 cells × 100 reps); "
                               "the ≤ 2 min / ≥ 20× target is the full grid's (selfconsume bench --full).")
    timing = (f"wall-clock of the whole sweep() call (plan, cells, table), kernels compiled beforehand; best of "
              f"{len(mem)} interleaved" + (f" (medians: out=None {np.median(mem):.3g} s, Parquet {np.median(disk):.3g} s)"
                                            if len(mem) > 1 else "")
              + "; the simulators use all cores (shared, noisy machine)")
    target = "≤ 120 s; ≥ 20×" if full else "—"

    def met(t):
        return None if not full else bool(t <= 120.0 and peer["total"] / t >= 20.0)

    rows = [
        make_row(wl + ", out=None", "seconds, ratio = NumPy per-run loop (extrapolated) / ours", t_mem, peer["total"],
                 peer["total"] / t_mem, target, met(t_mem),
                 notes=f"{n_rows:,} rows, {n_rows / t_mem:.3g} rows/s; {timing}; {peer_note}.{reduced}"),
        make_row(wl + ", out=<temporary folder> (Parquet)", "seconds, ratio = NumPy per-run loop (extrapolated) / ours",
                 t_disk, peer["total"], peer["total"] / t_disk, target, met(t_disk),
                 notes=f"{n_rows:,} rows, {n_rows / t_disk:.3g} rows/s; each cell written to Parquet and read back, "
                       f"then table.parquet and the manifest, into a fresh temporary folder (its removal not "
                       f"timed); {timing}; peer as in the row above.{reduced}"),
        make_row(wl, "rows/s, ratio = out=None / Parquet", n_rows / t_mem, n_rows / t_disk, t_disk / t_mem,
                 notes=f"{n_rows:,} tidy rows (one per replicate × iteration); ratio = the Parquet run's time over the "
                       f"in-memory run's (its storage overhead)"),
    ]
    return rows


@contextmanager
def _quiet_dask():
    """Silence distributed's shutdown chatter (CommClosedError tracebacks when a cluster closes)."""
    names = ("distributed", "tornado", "asyncio")
    old = {n: logging.getLogger(n).level for n in names}
    try:
        for n in names:
            logging.getLogger(n).setLevel(logging.CRITICAL)
        yield
    finally:
        for n, lvl in old.items():
            logging.getLogger(n).setLevel(lvl)


def _cluster_start_close():
    """Seconds to start the cluster ``sweep(scheduler="local")`` starts (and its Client), and to close both."""
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    client = Client(cluster)
    t1 = time.perf_counter()
    client.close()
    cluster.close()
    return t1 - t0, time.perf_counter() - t1


def bench_local_cluster(*, grid=QUICK_GRID, reps=QUICK_REPS, repeats=3, full=False) -> list[dict]:
    """``sweep(scheduler="local")`` vs the local run on the same grid, interleaved; cluster start-up alone.

    ``run`` uses the reduced grid at 100 reps in quick mode and the full ``cot_gaussian`` grid
    (``full=True``, one repeat: about 2 minutes) with ``--full``, where the benchmarks.md target
    (within 25 % of the local run) is stated.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return [make_row("sweep(scheduler='local')", "skipped", None, None, None,
                         notes="dask.distributed is not installed (pip install 'selfconsume[sweep]')")]
    _warm_up()
    local, cluster, started, starts, closes = [], [], [], [], []
    with _quiet_dask():
        _timed_sweep(QUICK_GRID, 10, scheduler="local")  # first cluster of the process: imports, thread pools
        for rep in range(int(repeats)):
            order = ("local", "cluster") if rep % 2 == 0 else ("cluster", "local")
            for which in order:
                if which == "local":
                    local.append(_timed_sweep(grid, reps)[0])
                else:
                    cluster.append(_timed_sweep(grid, reps, scheduler="local")[0])
            s, c = _cluster_start_close()
            starts.append(s)
            closes.append(c)
            lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
            client = Client(lc)
            try:
                started.append(_timed_sweep(grid, reps, scheduler=client)[0])
            finally:
                client.close()
                lc.close()
    t_local, t_cluster, t_started = min(local), min(cluster), min(started)
    ratios = np.asarray(cluster) / np.asarray(local)
    wl = f"sweep('gaussian', scheduler='local') on the {'cot_gaussian' if full else 'reduced'} grid ({_describe(grid, reps)})"
    common = (f"best of {len(local)} interleaved (median ratio {np.median(ratios):.3g}); the local run: this process, "
              f"one cell at a time, each simulator on all cores; the cluster: LocalCluster(n_workers=2, "
              f"threads_per_worker=1, processes=False), cells as tasks; 2 shared cores, noisy timings")
    return [
        make_row(wl, "seconds, ratio = LocalCluster / local", t_cluster, t_local, t_cluster / t_local, "≤ 1.25×",
                 bool(t_cluster / t_local <= 1.25),
                 notes=f"the cluster's start-up and close included (what scheduler='local' costs a user); {common}. "
                       + ("" if full else f". This grid is small ({t_local:.3g} s locally), so fixed costs weigh "
                                          f"more than on the full grid (selfconsume bench --full)")),
        make_row("LocalCluster start-up (+ Client) and close, as sweep(scheduler='local') does them",
                 "seconds, ratio = start-up / local run", min(starts), t_local, min(starts) / t_local,
                 notes=f"start-up best {min(starts):.3g} s (median {np.median(starts):.3g}), close best "
                       f"{min(closes):.3g} s (median {np.median(closes):.3g}) over {len(starts)}; the same sweep on an "
                       f"already started Client: {t_started:.3g} s = {t_started / t_local:.3g}× the local run "
                       f"(task scheduling alone)"),
    ]


def run(quick: bool = True) -> list[dict]:
    """All rows: the grid end to end (reduced in quick mode) and the LocalCluster comparison."""
    if quick:
        rows = bench_end_to_end(grid=QUICK_GRID, reps=QUICK_REPS, repeats=3, peer_min_seconds=0.05, peer_max_seeds=5,
                                full=False)
        rows += bench_local_cluster(grid=QUICK_GRID, reps=100, repeats=3)
    else:
        rows = bench_end_to_end(repeats=1, peer_min_seconds=0.3, peer_max_seeds=3, full=True)
        grid, reps, _ = full_grid()
        rows += bench_local_cluster(grid=grid, reps=reps, repeats=1, full=True)
    return rows


def suite(quick: bool = True):
    """``[(name, function, kwargs, estimated_seconds)]`` as :func:`._gaussian.suite`."""
    return [("sweep", run, {"quick": bool(quick)}, 12.0 if quick else 330.0)]
