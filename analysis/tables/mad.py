r"""Tables behind the Model Autophagy Disorder figure (Alemohammad et al., "Self-consuming
generative models go MAD", ICLR 2024; ``shared/theory.md`` §3.2): the fully synthetic loop with
sampling bias against its exact moments, and the fresh-data loop's phase diagrams of the
effective sample size, with the admissibility threshold of synthetic data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume._validation import check_int
from selfconsume.simulators import simulate_gaussian

from .._mad import _last_crossing, fresh_limit_distance
from .._stats import mean_se
from .._sweep import _root_seed, cell_seed

__all__ = ["mad_phase_table", "COLUMNS"]

#: The table's columns, in order (NaN where a column does not apply to a panel).
COLUMNS = ("panel", "metric", "bias", "generation", "n", "sim", "sim_se", "exact",
           "n_r", "n_s", "ratio", "distance", "se", "real_distance", "n_e", "n_e_lo", "n_e_hi", "log2_ne_nr",
           "admissible", "source", "threshold", "threshold_lo", "threshold_hi", "reps", "seed")

#: Grids of the fresh-data phase diagrams: (n_r values, n_s/n_r ratios, biases of the (b, n_s) panel).
_QUICK_GRID = (np.geomspace(10, 1000, 8), np.geomspace(0.02, 20, 11), np.linspace(0.5, 1.0, 11))
_FULL_GRID = (np.geomspace(10, 1000, 14), np.geomspace(0.02, 20, 17), np.linspace(0.5, 1.0, 21))


def _ints(values, name):
    arr = np.unique(np.asarray([check_int(name, int(round(float(v))), min_value=2) for v in values]))
    if arr.size < 1:
        raise ValueError(f"{name} must hold at least one value")
    return arr


def _biases(values, name):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers in (0, 1]; got {values!r}")
    return arr


def _ratios(values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"ns_ratios must be an increasing 1-D sequence of at least 2 positive numbers; got {values!r}")
    return arr


def _cell(root, n_r, n_s, bias, reps, f2):
    """One cell of a phase diagram: the fresh-data loop's limit distance and n_e (1-D, exact-in-law chains)."""
    child = cell_seed(root, dict(kind="mad_phase", n_r=int(n_r), n_s=int(n_s), bias=float(bias), reps=int(reps)))
    lam = (int(n_s) + 0.5) / int(n_r)  # ⌊λ n_r⌋ = n_s exactly, away from rounding
    r = fresh_limit_distance(int(n_r), lam, float(bias), reps=reps, rng=np.random.default_rng(child))
    if r.m != int(n_s):  # pragma: no cover - guards the λ above
        raise RuntimeError(f"fresh loop drew m={r.m} synthetic points, wanted {n_s}")
    w = np.clip([r.distance, r.distance + 2 * r.se, r.distance - 2 * r.se], 1e-300, f2)
    n_e, n_e_lo, n_e_hi = (float(v) for v in th.w2_equivalent_sample_size(w))
    return dict(distance=r.distance, se=r.se, real_distance=r.real_distance, n_e=n_e, n_e_lo=n_e_lo,
                n_e_hi=n_e_hi, log2_ne_nr=math.log2(n_e / n_r), admissible=float(n_e >= n_r))


def _thresholds(cells, source, seed):
    """Per column of a phase diagram (fixed n_r and b < 1): the last crossing of WD − f(n_r) over n_s."""
    rows = []
    for (n_r, b), g in cells.groupby(["n_r", "bias"], sort=True):
        if b >= 1.0:
            continue
        g = g.sort_values("n_s").drop_duplicates("n_s")
        ns = g["n_s"].to_numpy(float)
        ex = (g["distance"] - g["real_distance"]).to_numpy()
        se = g["se"].to_numpy()
        rows.append(dict(panel="threshold", source=source, n_r=n_r, bias=b, n=n_r,
                         threshold=_last_crossing(ns, ex), threshold_lo=_last_crossing(ns, ex + 2 * se),
                         threshold_hi=_last_crossing(ns, ex - 2 * se), reps=int(g["reps"].iloc[0]), seed=seed))
    return rows


def mad_phase_table(quick: bool = True, *, biases_collapse=(1.0, 0.9, 0.8, 0.7), collapse_n=20,
                    collapse_generations=30, n_r_values=None, biases=(0.7, 0.85, 1.0), n_r_fixed=(100, 250, 1000),
                    bias_grid=None, ns_ratios=None, reps=None, collapse_reps=None, seed=20240501,
                    progress=False) -> pd.DataFrame:
    r"""Model Autophagy Disorder in the Gaussian loops: collapse with bias, and the phase diagrams (tidy).

    One row per point; the column ``panel`` says which part it belongs to, and every column
    that does not apply to a panel is NaN (``COLUMNS`` lists them in order).

    * ``"collapse"``: the fully synthetic loop (1-D, :math:`N(0,1)` at generation 0, each
      generation the unbiased fit to ``collapse_n`` samples of :math:`N(\mu_{t-1}, b\sigma_{t-1}^2)`;
      :func:`~selfconsume.simulators.simulate_gaussian`, exact-in-law chains, ``collapse_reps``
      of them) for each ``bias`` in ``biases_collapse``; per ``generation`` t and ``metric``:
      ``"var"``: ``sim`` = mean of :math:`\sigma_t^2/\sigma_0^2` and ``sim_se``, ``exact`` =
      :func:`~selfconsume.theory.biased_cov_factor` (:math:`b^t`); ``"mean_drift"``: the mean of
      :math:`(\mu_t-\mu_0)^2/\sigma_0^2`, ``exact`` = :func:`~selfconsume.theory.biased_mean_cov_factor`.
    * ``"phase_nr"``: the fresh-data loop's limit over ``n_r`` (``n_r_values``) × ``n_s`` for each
      ``bias`` in ``biases``; ``"phase_bias"``: over ``bias`` (``bias_grid``) × ``n_s`` for each
      ``n_r`` in ``n_r_fixed``. ``n_s = max(1, round(ratio · n_r))`` for each nominal ``ratio`` in
      ``ns_ratios`` (at small n_r several ratios give the same n_s: the same cell, the same
      numbers). Per cell, :func:`~selfconsume.analysis.fresh_limit_distance` (1-D,
      ``lam = (n_s + 0.5)/n_r`` so that exactly n_s synthetic points are drawn, ``reps`` chains,
      a child seed of ``seed`` keyed by (n_r, n_s, b, reps): the same cell in both panels has
      the same numbers): ``distance`` = :math:`WD(n_r,n_s,b)` (E W₂², Monte Carlo) and its ``se``;
      ``real_distance`` = :math:`f(n_r)` (:func:`~selfconsume.theory.real_fit_w2`, exact);
      ``n_e`` = :math:`f^{-1}(WD)` (:func:`~selfconsume.theory.w2_equivalent_sample_size`, the
      distance clipped to :math:`\le f(2)`, as :func:`~selfconsume.analysis.effective_sample_size`
      does) and ``n_e_lo``, ``n_e_hi`` (from WD ± 2 SE); ``log2_ne_nr`` = :math:`\log_2(n_e/n_r)`;
      ``admissible`` = 1.0 when :math:`n_e \ge n_r`, else 0.0.
    * ``"threshold"``: for each (n_r, b < 1) column of either diagram (``source`` =
      ``"phase_nr"`` or ``"phase_bias"``), the admissibility threshold :math:`n_s^*` computed
      **from the grid itself**, by the same rule as
      :func:`~selfconsume.analysis.admissibility_threshold` (the last sign change of
      :math:`WD-f(n_r)` over the scanned n_s, interpolated linearly in :math:`\log n_s`):
      ``threshold``, and ``threshold_lo``/``threshold_hi`` the same crossing for WD ± 2 SE;
      ``inf`` where the band never crosses on the grid (admissible throughout), the smallest
      n_s where it is above :math:`f(n_r)` throughout.

    Parameters
    ----------
    quick : bool
        Grids and replicates: quick 8 n_r × 11 ratios (0.02 to 20) × 11 biases, ``reps`` 256 and 40 000
        collapse chains; full 14 × 17 × 21, ``reps`` 512 and 200 000 chains.
    biases_collapse, collapse_n, collapse_generations
        The fully synthetic loop.
    n_r_values, biases, n_r_fixed, bias_grid, ns_ratios
        The phase diagrams' grids (``None``: the budget's default).
    reps, collapse_reps : int, optional
        Chains per phase-diagram cell and for the collapse panel (``None``: the budget's).
    seed : int
        Root seed.
    progress : bool
        A bar over the phase-diagram cells.

    Returns
    -------
    pandas.DataFrame
    """
    nr_def, ratio_def, bias_def = _QUICK_GRID if quick else _FULL_GRID
    reps = check_int("reps", (256 if quick else 512) if reps is None else reps, min_value=2)
    collapse_reps = check_int("collapse_reps", (40_000 if quick else 200_000) if collapse_reps is None
                              else collapse_reps, min_value=2)
    collapse_n = check_int("collapse_n", collapse_n, min_value=2)
    T = check_int("collapse_generations", collapse_generations, min_value=1)
    seed = check_int("seed", seed, min_value=0)
    b_col = _biases(biases_collapse, "biases_collapse")
    n_r_values = _ints(nr_def if n_r_values is None else n_r_values, "n_r_values")
    n_r_fixed = _ints(n_r_fixed, "n_r_fixed")
    biases = _biases(biases, "biases")
    bias_grid = np.unique(_biases(bias_def if bias_grid is None else bias_grid, "bias_grid"))
    ns_ratios = _ratios(ratio_def if ns_ratios is None else ns_ratios)
    root = _root_seed(seed)

    rows = []
    # (a) fully synthetic loop with bias: exact chains against b^t and the mean drift
    for b in b_col:
        child = cell_seed(root, dict(kind="mad_collapse", n=collapse_n, bias=float(b), reps=collapse_reps, T=T))
        res = simulate_gaussian(collapse_n, T, reps=collapse_reps, bias=float(b), method="exact",
                                rng=np.random.default_rng(child))
        t = np.asarray(res.t)
        for metric, x, exact in (
                ("var", res.sigma**2, th.biased_cov_factor(collapse_n, t, float(b))),
                ("mean_drift", (res.mu - res.mu[:, :1]) ** 2, th.biased_mean_cov_factor(collapse_n, t, float(b)))):
            m, se = mean_se(x)
            for k in range(t.size):
                rows.append(dict(panel="collapse", metric=metric, bias=float(b), generation=int(t[k]), n=collapse_n,
                                 sim=float(m[k]), sim_se=float(se[k]), exact=float(exact[k]), reps=collapse_reps,
                                 seed=seed))

    # (b, c) the fresh-data loop's phase diagrams
    jobs = [("phase_nr", int(n_r), float(r), float(b)) for b in biases for n_r in n_r_values for r in ns_ratios]
    jobs += [("phase_bias", int(n_r), float(r), float(b)) for n_r in n_r_fixed for b in bias_grid for r in ns_ratios]
    f2 = float(th.real_fit_w2(2))
    done: dict = {}
    it = jobs
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(jobs, desc="MAD phase diagrams", leave=False)
    cells = []
    for panel, n_r, ratio, b in it:
        n_s = max(1, int(round(ratio * n_r)))
        key = (n_r, n_s, b)
        if key not in done:
            done[key] = _cell(root, n_r, n_s, b, reps, f2)
        cells.append(dict(panel=panel, bias=b, n=n_r, n_r=n_r, n_s=n_s, ratio=ratio, **done[key], reps=reps,
                          seed=seed))
    cells = pd.DataFrame(cells)
    for source in ("phase_nr", "phase_bias"):
        rows += _thresholds(cells[cells["panel"] == source], source, seed)
    df = pd.concat([pd.DataFrame(rows), cells], ignore_index=True)
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    return df[list(COLUMNS)]
