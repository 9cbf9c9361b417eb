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

from selfconsume.analysis._mad import _burn_in
from selfconsume.analysis.tables import mad_phase_table

from ._timing import make_row

__all__ = ["chain_generations", "bench_phase_table", "run", "suite"]


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
    return [make_row(f"MAD phase diagrams: mad_phase_table(quick={quick}), {grid} grid, uncached, end to end "
                     f"({cells} cells, {uniq} unique)",
                     "seconds, reference = chain-generations, ratio = chain-generations/s", sec, gens, gens / sec,
                     notes=f"{len(df)} table rows; {uniq} fresh-data cells × {reps} chains "
                           f"(≈ {per_cell:.3g} ms per cell, collapse chains and thresholds included); "
                           f"numba kernels warmed up first; default threads")]


def run(quick: bool = True) -> list[dict]:
    """The table at its quick grid (quick mode) or full grid (``quick=False``)."""
    return bench_phase_table(quick=bool(quick))


def suite(quick: bool = True):
    """``[(name, function, kwargs, estimated_seconds)]`` as :func:`._gaussian.suite`."""
    return [("mad", run, {"quick": bool(quick)}, 4.0 if quick else 15.0)]
