"""Tables behind the real-data-mixing figures (simulated here, cached, plotted by paper_figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

__all__ = ["mixing_paths_table", "workflows_table"]


def mixing_paths_table(quick: bool = True, *, n=50, generations=200, lams=(None, 0.1, 0.5, 1.0, 2.0),
                       seed=20240502) -> pd.DataFrame:
    """σ_t under fully synthetic refitting vs λ mixing (tidy: one row per λ and generation).

    Columns: ``lam`` (NaN: fully synthetic), ``generation``, ``median``, ``q05``, ``q95`` of σ_t/σ,
    ``mean_sigma2`` (Monte Carlo E σ_t²) with its standard error ``mean_sigma2_se``, and ``exact_sigma2``
    (exact recursion; σ² for fully synthetic).
    """
    reps = 2_000 if quick else 20_000
    rng = np.random.default_rng(seed)
    frames = []
    for lam in lams:
        res = simulate_gaussian(n, generations, reps=reps, lam=lam, rng=rng)
        q = np.quantile(res.log_sigma, [0.05, 0.5, 0.95], axis=0)
        if lam is None:
            exact = th.expected_sigma2(n, res.t, 1.0)
        else:
            exact, _ = th.expected_mixed_moments(n, lam, generations)
        frames.append(pd.DataFrame({
            "lam": np.nan if lam is None else lam, "generation": res.t, "median": np.exp(q[1]),
            "q05": np.exp(q[0]), "q95": np.exp(q[2]), "mean_sigma2": np.mean(res.sigma**2, axis=0),
            "mean_sigma2_se": np.std(res.sigma**2, axis=0, ddof=1) / np.sqrt(reps),
            "exact_sigma2": exact, "n": n, "reps": reps,
        }))
    return pd.concat(frames, ignore_index=True)


def workflows_table(quick: bool = True, *, n=20, generations=100, lam=1.0, seed=20240503) -> pd.DataFrame:
    """Replace vs accumulate vs accumulate-subsample (and fully synthetic), MLE fits as in Kazdan et al.

    Columns: ``workflow``, ``generation``, ``mse_mu`` (Monte Carlo E(μ_t − μ)²), ``mse_mu_se``,
    ``sigma2`` (E σ_t²/σ²), ``sigma2_se``, ``exact_mse_mu`` and ``exact_sigma2`` (exact values where a
    closed form or exact recursion exists, NaN otherwise).
    """
    reps = 2_000 if quick else 20_000
    rng = np.random.default_rng(seed)
    frames = []
    runs = [("fully synthetic", dict(lam=None)),
            ("replace (real + synthetic)", dict(lam=lam, workflow="replace")),
            ("accumulate", dict(lam=lam, workflow="accumulate")),
            ("accumulate-subsample", dict(lam=lam, workflow="accumulate-subsample", method="samples"))]
    for name, kw in runs:
        res = simulate_gaussian(n, generations, reps=reps, estimator="mle", rng=rng, **kw)
        err = res.mu**2
        s2 = res.sigma**2
        t = res.t
        if kw["lam"] is None:
            ex_mu = th.expected_mean_sq_drift(n, t, 1.0, estimator="mle")
            ex_s2 = th.expected_sigma2(n, t, 1.0, estimator="mle")
        elif kw.get("workflow") in ("replace", "accumulate"):
            ex_s2, d2 = th.expected_mixed_moments(n, lam, generations, workflow=kw["workflow"], estimator="mle")
            ex_mu = 1.0 / n + d2
        else:
            ex_mu = ex_s2 = np.full(t.size, np.nan)
        frames.append(pd.DataFrame({
            "workflow": name, "generation": t,
            "mse_mu": err.mean(0), "mse_mu_se": err.std(0, ddof=1) / np.sqrt(reps),
            "sigma2": s2.mean(0), "sigma2_se": s2.std(0, ddof=1) / np.sqrt(reps),
            "exact_mse_mu": ex_mu, "exact_sigma2": ex_s2, "n": n, "lam": lam, "reps": reps,
        }))
    return pd.concat(frames, ignore_index=True)
