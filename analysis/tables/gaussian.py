"""Tables behind the Gaussian figures (simulated here, cached, plotted by paper_figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

from .._stats import mean_se

__all__ = ["collapse_table"]


def collapse_table(quick: bool = True, *, ns=(3, 10, 30, 100), generations=300, sigma0=1.0,
                   threshold=1e-3, seed=20240501) -> pd.DataFrame:
    """Collapse of σ_t under unbiased refitting, per n and generation (tidy).

    Columns: ``n, generation, mean, mean_lo, mean_hi`` (mean of σ_t ± 2 SE), ``median, q05, q95``,
    ``predicted_mean`` (α(n)^t σ_0), ``frac_collapsed`` (σ_t < threshold·σ_0), ``predicted_frac``
    (exact probability), ``reps``.
    """
    reps = 4_000 if quick else 40_000
    rng = np.random.default_rng(seed)
    frames = []
    for n in ns:
        res = simulate_gaussian(n, generations, reps=reps, sigma0=sigma0, rng=rng)
        t = res.t
        m, se = mean_se(res.sigma)
        q = np.quantile(res.log_sigma, [0.05, 0.5, 0.95], axis=0)
        frac = np.mean(res.log_sigma < np.log(threshold * sigma0), axis=0)
        grid = np.unique(np.concatenate([t[:20], np.round(np.geomspace(1, generations, 60)).astype(int)]))
        pred_frac = np.full(t.size, np.nan)
        pred_frac[grid] = [th.prob_collapsed(n, int(k), threshold) if k > 0 else 0.0 for k in grid]
        frames.append(pd.DataFrame({
            "n": n, "generation": t, "mean": m, "mean_lo": m - 2 * se, "mean_hi": m + 2 * se,
            "median": np.exp(q[1]), "q05": np.exp(q[0]), "q95": np.exp(q[2]),
            "predicted_mean": th.expected_sigma(n, t, sigma0), "frac_collapsed": frac,
            "predicted_frac": pred_frac, "reps": reps,
        }))
    return pd.concat(frames, ignore_index=True)
