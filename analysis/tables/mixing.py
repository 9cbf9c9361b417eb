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
    (exact recursion; σ² for fully synthetic); the λ-sensitive statistic ``mean_drift2`` = Monte Carlo
    n·E(μ_t − μ̂_real)²/σ² (the squared distance of the fitted mean to the real sample's mean, in units of
    the real sample mean's variance σ²/n) with ``mean_drift2_se``, its exact recursion ``exact_drift2``
    and the paper's stationary value ``paper_drift2`` = λ/(1+2λ) (all NaN for fully synthetic, whose
    mean has no real sample to stay near: it random-walks, n·E(μ_t − μ̂_0)²/σ² = t).
    """
    reps = 2_000 if quick else 20_000
    rng = np.random.default_rng(seed)
    frames = []
    for lam in lams:
        res = simulate_gaussian(n, generations, reps=reps, lam=lam, rng=rng)
        q = np.quantile(res.log_sigma, [0.05, 0.5, 0.95], axis=0)
        nan = np.full(res.t.size, np.nan)
        if lam is None:
            exact = th.expected_sigma2(n, res.t, 1.0)
            drift = drift_se = exact_d2 = paper = nan
        else:
            exact, exact_d2 = th.expected_mixed_moments(n, lam, generations)
            d2 = n * (res.mu - res.real_mean[:, None]) ** 2
            drift, drift_se = d2.mean(axis=0), d2.std(axis=0, ddof=1) / np.sqrt(reps)
            exact_d2 = n * exact_d2
            paper = np.full(res.t.size, n * th.expected_stationary_mean_var(n, lam, 1.0))
        frames.append(pd.DataFrame({
            "lam": np.nan if lam is None else lam, "generation": res.t, "median": np.exp(q[1]),
            "q05": np.exp(q[0]), "q95": np.exp(q[2]), "mean_sigma2": np.mean(res.sigma**2, axis=0),
            "mean_sigma2_se": np.std(res.sigma**2, axis=0, ddof=1) / np.sqrt(reps),
            "exact_sigma2": exact, "mean_drift2": drift, "mean_drift2_se": drift_se, "exact_drift2": exact_d2,
            "paper_drift2": paper, "n": n, "reps": reps,
        }))
    return pd.concat(frames, ignore_index=True)


def workflows_table(quick: bool = True, *, n=20, generations=100, lam=1.0, seed=20240503) -> pd.DataFrame:
    """Replace vs accumulate vs accumulate-subsample (and fully synthetic), MLE fits as in Kazdan et al.

    Columns: ``workflow``, ``generation``, ``mse_mu`` (Monte Carlo E(μ_t − μ)²), ``mse_mu_se``,
    ``sigma2`` (E σ_t²/σ²), ``sigma2_se``, ``exact_mse_mu`` and ``exact_sigma2`` (exact values: closed forms or exact
    finite-n recursions, for every workflow).

    Generation 0 is, for every workflow, the model fitted to the n real points: the fully
    synthetic chain (whose own generation 0 is the true law) is run one generation longer and
    shifted by one, so that all workflows start from the same fit. It runs ten times as many
    replicates (column ``reps``): its errors are heavy-tailed.
    """
    reps = 2_000 if quick else 20_000
    rng = np.random.default_rng(seed)
    frames = []
    runs = [("fully synthetic", dict(lam=None)),
            ("replace (real + synthetic)", dict(lam=lam, workflow="replace")),
            ("accumulate", dict(lam=lam, workflow="accumulate")),
            ("accumulate-subsample", dict(lam=lam, workflow="accumulate-subsample", method="samples"))]
    for name, kw in runs:
        synthetic = kw["lam"] is None
        # fully synthetic: the errors are heavy-tailed (a few runs whose σ_t grew early carry the mean), so ten
        # times the runs, which the exact chain makes cheap
        R = reps * (10 if synthetic else 1)
        res = simulate_gaussian(n, generations + synthetic, reps=R, estimator="mle", rng=rng, **kw)
        # the fully synthetic chain's generation 1 is the fit to the n real points: shift it to 0
        err = res.mu[:, synthetic:] ** 2
        s2 = res.sigma[:, synthetic:] ** 2
        t = res.t[: generations + 1]
        if synthetic:
            ex_mu = th.expected_mean_sq_drift(n, t + 1, 1.0, estimator="mle")
            ex_s2 = th.expected_sigma2(n, t + 1, 1.0, estimator="mle")
        elif kw.get("workflow") in ("replace", "accumulate"):
            ex_s2, d2 = th.expected_mixed_moments(n, lam, generations, workflow=kw["workflow"], estimator="mle")
            ex_mu = 1.0 / n + d2
        else:  # accumulate-subsample, subsample n (the released protocol): the exact first-moment recursion
            ex_s2, ex_mu = th.expected_accumulate_subsample(n, t, lam=lam, estimator="mle")
        frames.append(pd.DataFrame({
            "workflow": name, "generation": t,
            "mse_mu": err.mean(0), "mse_mu_se": err.std(0, ddof=1) / np.sqrt(R),
            "sigma2": s2.mean(0), "sigma2_se": s2.std(0, ddof=1) / np.sqrt(R),
            "exact_mse_mu": ex_mu, "exact_sigma2": ex_s2, "n": n, "lam": lam, "reps": R,
        }))
    return pd.concat(frames, ignore_index=True)
