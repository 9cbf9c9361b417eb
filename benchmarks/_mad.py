"""The Model Autophagy Disorder figure's table, end to end: how long the phase diagrams take.

:func:`selfconsume.analysis.tables.mad_phase_table` runs, per cell of its two phase diagrams,
the fresh-data loop (:func:`selfconsume.analysis.fresh_limit_distance`: an exact first-moment
burn-in, then ``reps`` exact-in-law 1-D chains over burn-in + window generations), plus the
fully synthetic loop's collapse chains. The row times the whole table, uncached (no
``cached_table``), as ``selfconsume figures --figure mad_phase`` computes it: the full grid
with ``quick=False``, the quick grid in quick mode. It is a diagnostic (no target): seconds,
the chain-generations simulated and their rate, the cells (unique cells: the two diagrams share
some, computed once).
"""

from __future__ import annotations

import time

import numpy as np

from selfconsume.analysis._mad import _burn_in
from selfconsume.analysis.tables import mad_phase_table

from ._timing import make_row

__all__ = ["chain_generations", "literal_loop_seconds", "bench_phase_table", "run", "suite"]


def chain_generations(df) -> tuple[int, int, int]:
    """``(chain-generations, grid cells, unique cells)`` behind a :func:`mad_phase_table` table.

    A fresh-data cell runs ``reps`` chains over burn-in + window generations (the window is
    the burn-in's length, at least 50: :func:`fresh_limit_distance`'s default); the collapse
    panel runs its chains over ``generation.max()`` generations per bias.
    """
    phase = df[df["panel"].isin(["phase_nr", "phase_bias"])]
    uniq = phase.drop_duplicates(["n_r", "n_s", "bias"])
    total = 0
    for n_r, n_s, b, reps in uniq[["n_r", "n_s", "bias", "reps"]].itertuples(index=False):
        n_r, n_s = int(n_r), int(n_s)
        burn = _burn_in(n_r, (n_s + 0.5) / n_r, float(b), n_r, "unbiased")
        total += int(reps) * (burn + max(burn, 50))
    col = df[(df["panel"] == "collapse") & (df["metric"] == "var")]
    for _, g in col.groupby("bias"):
        total += int(g["reps"].iloc[0]) * int(g["generation"].max())
    return total, len(phase), len(uniq)


def _cells(df):
    """(reps, generations, points per generation) of every unique fresh-data cell behind the table."""
    phase = df[df["panel"].isin(["phase_nr", "phase_bias"])].drop_duplicates(["n_r", "n_s", "bias"])
    out = []
    for n_r, n_s, b, reps in phase[["n_r", "n_s", "bias", "reps"]].itertuples(index=False):
        n_r, n_s = int(n_r), int(n_s)
        burn = _burn_in(n_r, (n_s + 0.5) / n_r, float(b), n_r, "unbiased")
        out.append((int(reps), burn + max(burn, 50), n_r + n_s))
    return out


def _numpy_fresh_loop(n_r, n_s, bias, reps, generations, rng):
    """The public-code way (one path at a time, NumPy draws, mean and std with ddof=1): the literal
    1-D fresh-data loop, n_r fresh real points and n_s synthetic ones per generation."""
    sb = bias**0.5
    for _ in range(reps):
        x = rng.standard_normal(n_r)
        mu, sd = x.mean(), x.std(ddof=1)
        for _ in range(generations):
            pooled = np.concatenate([rng.standard_normal(n_r), mu + sb * sd * rng.standard_normal(n_s)])
            mu, sd = pooled.mean(), pooled.std(ddof=1)
    return mu, sd


def literal_loop_seconds(df, *, sizes=(20, 200, 2_000, 20_000), min_seconds=0.2, seed=0) -> tuple[float, dict]:
    """Seconds the NumPy literal loop would take for the table's fresh-data cells, extrapolated.

    One generation of the loop costs a + c·N for N = n_r + n_s pooled points (per-call overhead plus
    the draws and the two passes); a and c are fitted (least squares) to per-generation times measured
    at ``sizes``, each timed for at least ``min_seconds``, and summed over every cell's chains ×
    generations. Returns the seconds and the measured per-generation times."""
    rng = np.random.default_rng(seed)
    per = {}
    for N in sizes:
        gens, t0 = 0, time.perf_counter()
        while True:
            _numpy_fresh_loop(max(N // 10, 1), N - max(N // 10, 1), 0.8, 1, 20, rng)
            gens += 20
            el = time.perf_counter() - t0
            if el >= min_seconds:
                break
        per[N] = el / gens
    Ns = np.array(sorted(per), dtype=float)
    a, c = np.linalg.lstsq(np.stack([np.ones_like(Ns), Ns], 1), np.array([per[int(k)] for k in Ns]), rcond=None)[0]
    a, c = max(a, 0.0), max(c, 0.0)
    total = sum(reps * gens * (a + c * N) for reps, gens, N in _cells(df))
    return float(total), per


def bench_phase_table(quick: bool = False, **table_kwargs) -> list[dict]:
    """One row: :func:`mad_phase_table` (``quick``, ``table_kwargs``) timed once, end to end."""
    mad_phase_table(n_r_values=(10,), n_r_fixed=(10,), bias_grid=(1.0,), biases=(1.0,), biases_collapse=(1.0,),
                    ns_ratios=(0.5, 1.0), reps=2, collapse_reps=2, collapse_generations=1)  # numba warm-up
    t0 = time.perf_counter()
    df = mad_phase_table(quick=quick, **table_kwargs)
    sec = time.perf_counter() - t0
    gens, cells, uniq = chain_generations(df)
    grid = "quick" if quick else "full"
    reps = int(df.loc[df["panel"] != "collapse", "reps"].dropna().iloc[0]) if cells else 0
    per_cell = 1e3 * sec / max(uniq, 1)
    lit, per = literal_loop_seconds(df, min_seconds=0.05 if quick else 0.2)
    per_txt = ", ".join(f"N={k}: {1e6 * v:.3g} µs" for k, v in per.items())
    return [make_row(f"MAD phase diagrams, {grid} grid: exact chains vs the NumPy literal loop (extrapolated)",
                     "seconds, ratio = literal loop (extrapolated) / ours", sec, lit, lit / sec,
                     notes=f"the literal loop: one path at a time, n_r + n_s NumPy draws per generation, mean and "
                           f"std(ddof=1), the way public code runs it; per-generation cost a + c·N fitted to {per_txt}, "
                           f"summed over the {uniq} fresh-data cells' chains × generations (collapse panel not "
                           f"counted)"),
            make_row(f"MAD phase diagrams: mad_phase_table(quick={quick}), {grid} grid, uncached, end to end "
                     f"({cells} cells, {uniq} unique)",
                     "seconds, reference = chain-generations, ratio = chain-generations/s", sec, gens, gens / sec,
                     notes=f"{len(df)} table rows; {uniq} fresh-data cells × {reps} chains "
                           f"(≈ {per_cell:.3g} ms per cell, collapse chains and thresholds included); "
                           f"numba kernels warmed up first; default threads")][::-1]


def run(quick: bool = True) -> list[dict]:
    """The table at its quick grid (quick mode) or full grid (``quick=False``)."""
    return bench_phase_table(quick=bool(quick))


def suite(quick: bool = True):
    """``[(name, function, kwargs, estimated_seconds)]`` as :func:`._gaussian.suite`."""
    return [("mad", run, {"quick": bool(quick)}, 4.0 if quick else 15.0)]
