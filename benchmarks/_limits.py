"""Physical limits: raw variate throughput of the draws a simulator cannot avoid.

Each limit is a tight ``@njit`` loop taking a :class:`numpy.random.Generator` (the same
call the simulator kernels make, so the same stream and the same code path) and summing
the draws so the compiler cannot drop them. χ² variates come from
:func:`selfconsume.simulators._variates.chisquare` — NumPy's algorithm and stream with its
constants computed once, faster than Numba's own ``gen.chisquare`` (a diagnostic row of
:func:`bench_limits` measures by how much) — so the limit is the fastest χ² draw we know,
not a slower one that would flatter the ratio. It is measured twice:

* ``tight``: one kernel call on one thread, no blocks, no pool (the raw figure quoted in
  benchmarks.md);
* ``pooled``: the simulator's own scheme (:func:`selfconsume._parallel.run_blocks` over
  blocks of 64 replicates, one spawned Generator per block, ``workers`` threads), drawing
  exactly the variates a simulator run of the same shape draws. ``ours / pooled`` on the
  same thread count is the like-for-like ratio the targets refer to.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from selfconsume._parallel import replicate_blocks, resolve_workers, run_blocks
from selfconsume.simulators._variates import chisquare, chisquare_consts

from ._timing import interleaved, make_row

__all__ = [
    "chisquare_sum",
    "numba_chisquare_sum",
    "normal_sum",
    "normal_chisquare_sum",
    "pooled_chisquare",
    "pooled_normal",
    "pooled_normal_chisquare",
    "bench_limits",
]


@njit(cache=True, nogil=True)
def chisquare_sum(gen, k, count):
    """Sum of ``count`` χ²_k draws (one Marsaglia–Tsang gamma each, constants hoisted)."""
    b, c = chisquare_consts(k)
    s = 0.0
    for _ in range(count):
        s += chisquare(gen, k, b, c)
    return s


@njit(cache=True, nogil=True)
def numba_chisquare_sum(gen, k, count):
    """Sum of ``count`` draws of Numba's own ``gen.chisquare(k)`` (the same stream as
    :func:`chisquare_sum`; the Marsaglia–Tsang constants recomputed on every draw)."""
    s = 0.0
    for _ in range(count):
        s += gen.chisquare(k)
    return s


@njit(cache=True, nogil=True)
def normal_sum(gen, count):
    """Sum of ``count`` draws ``gen.standard_normal()`` (ziggurat)."""
    s = 0.0
    for _ in range(count):
        s += gen.standard_normal()
    return s


@njit(cache=True, nogil=True)
def normal_chisquare_sum(gen, k, count):
    """Sum of ``count`` pairs (normal, χ²_k): the draws of one exact 1-D chain step."""
    b, c = chisquare_consts(k)
    s = 0.0
    for _ in range(count):
        s += gen.standard_normal()
        s += chisquare(gen, k, b, c)
    return s


@njit(cache=True, nogil=True)
def _chisquare_rows(gen, k, per_row, out):
    for r in range(out.shape[0]):
        out[r] = chisquare_sum(gen, k, per_row)


@njit(cache=True, nogil=True)
def _normal_rows(gen, per_row, out):
    for r in range(out.shape[0]):
        out[r] = normal_sum(gen, per_row)


@njit(cache=True, nogil=True)
def _normal_chisquare_rows(gen, k, per_row, out):
    for r in range(out.shape[0]):
        out[r] = normal_chisquare_sum(gen, k, per_row)


def _pooled(kernel, extra, reps, per_row, workers, seed):
    blocks = replicate_blocks(reps)
    out = np.empty(reps)

    def work(b, g):
        kernel(g, *extra, per_row, out[b.start:b.stop])

    def run():
        run_blocks(work, blocks, np.random.default_rng(seed), workers=workers)
        return out

    return run


def pooled_chisquare(k, reps, per_row, *, workers=None, seed=0):
    """Callable drawing ``reps × per_row`` χ²_k variates with the simulator's block/pool scheme."""
    return _pooled(_chisquare_rows, (float(k),), reps, per_row, workers, seed)


def pooled_normal(reps, per_row, *, workers=None, seed=0):
    """Callable drawing ``reps × per_row`` standard normals with the simulator's block/pool scheme."""
    return _pooled(_normal_rows, (), reps, per_row, workers, seed)


def pooled_normal_chisquare(k, reps, per_row, *, workers=None, seed=0):
    """Callable drawing ``reps × per_row`` (normal, χ²_k) pairs with the block/pool scheme."""
    return _pooled(_normal_chisquare_rows, (float(k),), reps, per_row, workers, seed)


def bench_limits(*, k=9.0, count=4_000_000, reps=1024, per_row=2000, n_normal=1000,
                 workers=None, repeats=5) -> list[dict]:
    """Raw variate throughput, tight (1 thread) and pooled (1 and ``workers`` threads).

    Rows are diagnostics (no target): ``ours`` is the rate in variates/s, ``reference``
    the tight one-thread rate of the same draw, ``ratio`` their quotient (pool overhead on
    one thread, parallel scaling on ``workers`` threads). One row compares Numba's own
    ``gen.chisquare`` with the fast χ² draw the limits use (same stream), and one the
    (normal, χ²) pairs of an exact 1-D chain step with χ² alone.
    """
    workers = resolve_workers(workers)
    g = np.random.default_rng(12345)
    n_rows_normal = max(1, (reps * per_row) // n_normal)
    fns = {
        "chi_tight": lambda: chisquare_sum(g, k, count),
        "chi_numba": lambda: numba_chisquare_sum(g, k, count),
        "norm_tight": lambda: normal_sum(g, count),
        "pair_tight": lambda: normal_chisquare_sum(g, k, count),
        "chi_pool1": pooled_chisquare(k, reps, per_row, workers=1),
        "norm_pool1": pooled_normal(n_rows_normal, n_normal, workers=1),
    }
    if workers > 1:
        fns["chi_poolw"] = pooled_chisquare(k, reps, per_row, workers=workers)
        fns["norm_poolw"] = pooled_normal(n_rows_normal, n_normal, workers=workers)
    t = interleaved(fns, repeats)
    best = {name: v.min() for name, v in t.items()}
    rate = {
        "chi_tight": count / best["chi_tight"],
        "chi_numba": count / best["chi_numba"],
        "norm_tight": count / best["norm_tight"],
        "pair_tight": count / best["pair_tight"],
        "chi_pool1": reps * per_row / best["chi_pool1"],
        "norm_pool1": n_rows_normal * n_normal / best["norm_pool1"],
    }
    if workers > 1:
        rate["chi_poolw"] = reps * per_row / best["chi_poolw"]
        rate["norm_poolw"] = n_rows_normal * n_normal / best["norm_poolw"]
    note = f"best of {repeats} interleaved"
    rows = [
        make_row(f"raw χ²_{k:g} in @njit, tight loop", "variates/s, 1 thread",
                 rate["chi_tight"], rate["chi_tight"], 1.0,
                 notes=f"{note}; fast chisquare (simulators._variates): NumPy's 2·Marsaglia–Tsang gamma "
                       f"with its constants computed once per call, NumPy's stream; {count:.0e} draws"),
        make_row(f"raw χ²_{k:g}, Numba's gen.chisquare, tight loop", "variates/s, 1 thread (vs fast chisquare)",
                 rate["chi_numba"], rate["chi_tight"], rate["chi_numba"] / rate["chi_tight"],
                 notes=f"{note}; the same draws, bit for bit, but Numba recomputes the Marsaglia–Tsang "
                       "constants (a division and a sqrt) on every draw: why the χ² limit uses the fast "
                       "chisquare, as the simulator kernels do"),
        make_row("raw N(0,1) in @njit, tight loop", "variates/s, 1 thread",
                 rate["norm_tight"], rate["norm_tight"], 1.0, notes=f"{note}; ziggurat"),
        make_row(f"raw (N(0,1), χ²_{k:g}) pairs, tight loop", "pairs/s, 1 thread (vs χ² alone)",
                 rate["pair_tight"], rate["chi_tight"], rate["pair_tight"] / rate["chi_tight"],
                 notes=f"{note}; the draws of one exact 1-D chain step (one normal, one fast χ²): "
                       "the best any exact kernel drawing both can reach against the χ² limit"),
        make_row(f"raw χ²_{k:g}, simulator block/pool scheme", "variates/s, 1 thread (vs tight)",
                 rate["chi_pool1"], rate["chi_tight"], rate["chi_pool1"] / rate["chi_tight"],
                 notes=f"{note}; {reps} rows × {per_row}"),
        make_row("raw N(0,1), simulator block/pool scheme", "variates/s, 1 thread (vs tight)",
                 rate["norm_pool1"], rate["norm_tight"], rate["norm_pool1"] / rate["norm_tight"],
                 notes=f"{note}; {n_rows_normal} rows × {n_normal}"),
    ]
    if workers > 1:
        rows += [
            make_row(f"raw χ²_{k:g}, simulator block/pool scheme", f"variates/s, {workers} threads (vs tight 1 thread)",
                     rate["chi_poolw"], rate["chi_tight"], rate["chi_poolw"] / rate["chi_tight"],
                     notes=f"{note}; parallel scaling of the limit itself"),
            make_row("raw N(0,1), simulator block/pool scheme", f"variates/s, {workers} threads (vs tight 1 thread)",
                     rate["norm_poolw"], rate["norm_tight"], rate["norm_poolw"] / rate["norm_tight"],
                     notes=f"{note}; parallel scaling of the limit itself"),
        ]
    return rows
