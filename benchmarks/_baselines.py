"""Public-code baselines: how model-collapse experiments are usually run, in plain NumPy.

Written the way public code writes them (a Python loop over paths and generations, NumPy
for the draws and the fit), deliberately without tricks. Each returns the same output
arrays as the toolkit's simulator, in the same units, so that benchmarks time identical
workloads with identical output statistics:

* ``mu``, ``sigma``: shape ``(paths, generations + 1)`` (1-D);
* ``mu`` ``(paths, generations + 1, dim)``, ``logdet``, ``trace`` ``(paths, generations + 1)`` (d-D).

Column 0 holds the generation-0 model; column ``t`` the model fitted at generation ``t``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_refit_loop", "gaussian_accumulate_loop", "wishart_refit_loop"]


def gaussian_refit_loop(n, paths, generations, *, mu0=0.0, sigma0=1.0, rng=None):
    """Refit loop: draw n points from N(μ, σ²), set μ = mean, σ = std (ddof=1), repeat."""
    rng = np.random.default_rng(rng)
    mu = np.empty((paths, generations + 1))
    sigma = np.empty((paths, generations + 1))
    for p in range(paths):
        m, s = mu0, sigma0
        mu[p, 0], sigma[p, 0] = m, s
        for t in range(1, generations + 1):
            x = rng.normal(m, s, n)
            m, s = x.mean(), x.std(ddof=1)
            mu[p, t], sigma[p, t] = m, s
    return mu, sigma


def gaussian_accumulate_loop(n, paths, generations, *, mu0=0.0, sigma0=1.0, rng=None):
    """Accumulate loop: each generation adds n points from the current fit to a growing
    pool and refits μ, σ (ddof=1) on the whole pool (the first n points are real data)."""
    rng = np.random.default_rng(rng)
    mu = np.empty((paths, generations + 1))
    sigma = np.empty((paths, generations + 1))
    for p in range(paths):
        m, s = mu0, sigma0
        mu[p, 0], sigma[p, 0] = m, s
        pool = np.empty(0)
        for t in range(1, generations + 1):
            pool = np.concatenate([pool, rng.normal(m, s, n)])
            m, s = pool.mean(), pool.std(ddof=1)
            mu[p, t], sigma[p, t] = m, s
    return mu, sigma


def wishart_refit_loop(n, paths, generations, dim, *, mu0=0.0, sigma0=1.0, rng=None):
    """d-D refit loop: draw n points from N(μ, Σ) (multivariate normal via Cholesky), set
    μ = mean, Σ = np.cov (ddof=1), repeat. Records μ, log det Σ and tr Σ."""
    rng = np.random.default_rng(rng)
    mu = np.empty((paths, generations + 1, dim))
    logdet = np.empty((paths, generations + 1))
    trace = np.empty((paths, generations + 1))
    for p in range(paths):
        m = np.full(dim, float(mu0))
        cov = sigma0**2 * np.eye(dim)
        mu[p, 0], logdet[p, 0], trace[p, 0] = m, np.linalg.slogdet(cov)[1], np.trace(cov)
        for t in range(1, generations + 1):
            x = rng.multivariate_normal(m, cov, size=n, method="cholesky")
            m, cov = x.mean(axis=0), np.cov(x, rowvar=False)
            mu[p, t], logdet[p, t], trace[p, t] = m, np.linalg.slogdet(cov)[1], np.trace(cov)
    return mu, logdet, trace
