"""Peers' claims (see :mod:`selfconsume.analysis.claims.peers`): Kazdan et al.'s Gaussian experiments.

Kazdan, Schaeffer, Dey, Gerstgrasser, Rafailov, Donoho, Koyejo, *Collapse or Thrive? Perils and
Promises of Synthetic Data in a Self-Generating World* (ICML 2025, arXiv 2410.16713; code
``RylanSchaeffer/KoyejoLab-Collapse-or-Thrive``, ``src/fit_gaussians/fit_gaussians.py`` and
``sweeps/fit_gaussians/*.yaml``): N(0, I_d) data, n points per iteration, MLE mean and
covariance, metrics ‖μ̂ − μ‖², det Σ̂/det Σ_0 and tr Σ̂/tr Σ_0, run here with their protocol —
accumulate-subsample fits on a subsample of size n of the pool, and their grid's cells with
n ≤ d — against the exact theory of :mod:`selfconsume.theory` (``shared/theory.md`` §3.5, 🧮).

Index crosswalk: their iteration k is the toolkit's generation t = k − 1 in the real-data
workflows (generation 0 is the fit to the real sample) and t = k in the fully synthetic chain
(their *replace*; generation 0 is the true law).
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

from .._registry import Comparison, register_claim
from .._stats import mean_se

SRC = ("Kazdan et al., Collapse or Thrive?, ICML 2025 (arXiv 2410.16713), Gaussian experiments; released code "
       "src/fit_gaussians/fit_gaussians.py (🧮, theory.md §3.5)")
TAGS = ("peers", "gaussian", "accumulate")


def _tr_and_err(res, t):
    """Per-replicate tr Σ̂_t/(d σ0²) and ‖μ̂_t − μ‖² (μ = mu0·1)."""
    if res.dim == 1:
        return res.sigma[:, t] ** 2 / res.sigma0**2, (res.mu[:, t] - res.mu0) ** 2
    return res.trace[:, t] / (res.dim * res.sigma0**2), ((res.mu[:, t] - res.mu0) ** 2).sum(axis=-1)


@register_claim(
    id="peers.accumulate_subsample",
    title="Accumulate-subsample as released (subsample n of the pool): exact E tr Σ̂_t/tr Σ_0 and E‖μ̂_t − μ‖²",
    source=SRC,
    statement="Each model (MLE mean and covariance) is fitted on a uniform subsample of n points, without "
              "replacement, of the pool of n real and t·n synthetic points. Given the pool, E v = ((k−1)/k)·SS/(N−1) "
              "and E(x̄_S − x̄_P)² = (1 − k/N)·SS/((N−1)k), and the pooled scatter and mean error update linearly in "
              "SS, so E tr Σ̂_t/tr Σ_0 and E‖μ̂_t − μ‖² follow an exact linear recursion, per coordinate in any d: "
              "0.741 at n = 10, t = 100 for k = n against 0.796 for k = 2n (the toolkit's former n + m), and "
              "E tr Σ̂_t/(dσ²) + E‖μ̂_t − μ‖²/(dσ²) = 1 (MLE).",
    assumptions=("MLE (divisor k) mean and covariance", "λ = 1 (n new points per generation)",
                 "truth N(μ, σ² I_d); generation 0 = the fit to all n real points (their iteration k = t + 1)"),
    tags=TAGS,
)
def _accumulate_subsample(ctx):
    out = []
    # (n, d, subsample, T, reps): k = n is the released protocol; k = 2n (n + m) the toolkit's former default.
    # At d = 3 the two protocols at t = 100 are ≈ 8 SE apart (quick); mu0, sigma0 ≠ (0, 1) catch a units slip.
    cells = ((10, 1, 10, 100, ctx.size(8_000, 80_000)), (10, 3, 10, 100, ctx.size(8_000, 80_000)),
             (10, 3, 20, 100, ctx.size(8_000, 80_000)), (32, 1, 32, 60, ctx.size(4_000, 40_000)))
    last = {}
    for n, d, k, T, reps in cells:
        res = simulate_gaussian(n, T, reps=reps, dim=d, lam=1.0, workflow="accumulate-subsample", subsample=k,
                                method="samples", estimator="mle", mu0=1.0, sigma0=2.0, rng=ctx.rng,
                                workers=ctx.workers)
        ts = (1, T // 4, T)
        tr_ex, err_ex = th.expected_accumulate_subsample(n, np.array(ts), subsample=k, d=d, sigma2=4.0)
        tag = f"n={n}, d={d}, subsample={k}" + (" (= n, released)" if k == n else " (= 2n)")
        for i, t in enumerate(ts):
            tr, err = _tr_and_err(res, t)
            m, se = mean_se(tr)
            out.append(Comparison(f"E tr Σ̂_t/tr Σ₀, {tag}, t={t} (k={t + 1})", float(tr_ex[i]), m, se=se))
            m, se = mean_se(err)
            out.append(Comparison(f"E‖μ̂_t − μ‖², {tag}, t={t}", float(err_ex[i]), m, se=se))
        if n == 10 and d == 3:
            tr, err = _tr_and_err(res, T)
            last[k] = tr
            if k == 10:
                m, se = mean_se(tr + err / (d * 4.0))
                out.append(Comparison(f"E tr Σ̂_t/(dσ²) + E‖μ̂_t − μ‖²/(dσ²) = 1 (MLE), {tag}, t={T}", 1.0, m, se=se))
    # the released protocol and the former n + m one: exact values apart, simulations many SE apart
    (ma, sa), (mb, sb) = mean_se(last[10]), mean_se(last[20])
    pa = th.expected_accumulate_subsample(10, 100, subsample=10, d=3)[0]
    pb = th.expected_accumulate_subsample(10, 100, subsample=20, d=3)[0]
    se = math.hypot(sa, sb)
    out.append(Comparison("E tr ratio, subsample 2n − subsample n, n=10, d=3, t=100", pb - pa, mb - ma, se=se,
                          note=f"exact {pa:.4f} (n) vs {pb:.4f} (2n)"))
    out.append(Comparison("the two protocols are told apart: (measured 2n − n)/SE ≥ 4, n=10, d=3, t=100", 4.0,
                          (mb - ma) / se, tol=0.0, relation=">=",
                          note=f"expected ≈ {(pb - pa) / se:.1f} SE at this size"))
    return out


#: Kazdan et al.'s grid cells with n ≤ d (d, n), and the generations checked.
N_LE_D = ((10, 10), (100, 10), (100, 32))


@register_claim(
    id="peers.n_le_d",
    title="n ≤ d: det Σ̂ = 0 exactly, while tr Σ̂ and ‖μ̂ − μ‖² keep their exact laws (replace and accumulate)",
    source=SRC,
    statement="With n ≤ d the MLE covariance of n points has rank n − 1 < d, and every later point lies in the "
              "fitted affine span: det Σ̂_t = 0 at every fit (E det Σ̂_t/det Σ₀ = 0; the released code reports "
              "floating-point noise), while per coordinate the chain is the 1-D one: replace (fully synthetic, "
              "t = their k) E tr Σ̂_t/tr Σ₀ = (1 − 1/n)^t and E‖μ̂_t − μ‖² = dσ²(1 − (1 − 1/n)^t); accumulate "
              "(t = k − 1) E tr Σ̂_t/tr Σ₀ = Π_{j≤t+1}(1 − 1/(nj²)) and E‖μ̂_t − μ‖² = (dσ²/n)Σ_{j≤t+1}P_{j−1}/j². For "
              "n > d, E det Σ̂_t/det Σ₀ = (Π_{i≤d}(n − i)/n)^t (replace) and a Cauchy–Binet product (accumulate).",
    assumptions=("MLE mean and covariance", "truth N(μ, σ² I_d)", "accumulate: λ = 1",
                 "exact chains in the fitted span; the literal loop (their protocol) at d = 10"),
    tags=TAGS + ("singular",),
)
def _n_le_d(ctx):
    out = []
    T = 30
    for d, n in N_LE_D:
        reps = ctx.size(4_000, 40_000) if d == 10 else ctx.size(600 if n == 10 else 300, 3_000)
        runs = [("replace (fully synthetic)", None, "exact"), ("accumulate", "accumulate", "exact")]
        if d == 10:
            runs += [("replace (fully synthetic)", None, "samples"), ("accumulate", "accumulate", "samples")]
        for name, wf, method in runs:
            kw = dict(lam=None) if wf is None else dict(lam=1.0, workflow=wf)
            res = simulate_gaussian(n, T, reps=reps if method == "exact" else reps // 2, dim=d, estimator="mle",
                                    method=method, mu0=-1.0, sigma0=1.5, rng=ctx.rng, workers=ctx.workers, **kw)
            tag = f"{name}, d={d}, n={n}" + (", literal loop" if method == "samples" else "")
            # the fully synthetic trace is a product of random factors (log-sd ≈ 0.5 per generation): its mean is a
            # rare-event average after ~10 generations, so it is checked early; accumulate is stable to T
            ts = np.array([1, 5, 10]) if wf is None else np.array([1, 10, T])
            if wf is None:
                tr_ex = th.expected_sigma2(n, ts, estimator="mle")
                err_ex = d * th.expected_mean_sq_drift(n, ts, 1.5, estimator="mle")
                first = 1
            else:
                tr_ex = th.expected_accumulate_cov(n, ts + 1)
                err_ex = th.expected_accumulate_mean_err(n, ts + 1, d * 1.5**2)
                first = 0
            det_ex = th.expected_det_ratio(n, d, np.arange(first, T + 1), **kw, estimator="mle")
            det = np.exp(res.logdet[:, first:] - 2 * d * math.log(1.5))
            out.append(Comparison(f"max over reps and t ≥ {first} of det Σ̂_t/det Σ₀, {tag}", float(np.max(det_ex)),
                                  float(np.max(np.abs(det))), tol=0.0,
                                  note="log det = −inf at every fit: rank n − 1 < d"))
            for i, t in enumerate(ts):
                tr = res.trace[:, t] / (d * 1.5**2)
                m, se = mean_se(tr)
                out.append(Comparison(f"E tr Σ̂_t/tr Σ₀, {tag}, t={t}", float(tr_ex[i]), m, se=se))
                m, se = mean_se(((res.mu[:, t] + 1.0) ** 2).sum(axis=1))
                out.append(Comparison(f"E‖μ̂_t − μ‖², {tag}, t={t}", float(err_ex[i]), m, se=se))
    # the contrast, n > d (d = 3, n = 10): the determinant metric is not 0, and exact
    reps = ctx.size(20_000, 200_000)
    for name, kw, ts_det in (("replace (fully synthetic)", dict(lam=None), (1, 3)),
                             ("accumulate", dict(lam=1.0, workflow="accumulate"), (0, 5, 20))):
        res = simulate_gaussian(10, max(ts_det), reps=reps, dim=3, estimator="mle", rng=ctx.rng,
                                workers=ctx.workers, **kw)
        ex = th.expected_det_ratio(10, 3, np.array(ts_det), **kw, estimator="mle")
        for i, t in enumerate(ts_det):
            m, se = mean_se(np.exp(res.logdet[:, t]))
            out.append(Comparison(f"E det Σ̂_t/det Σ₀, {name}, d=3, n=10, t={t}", float(ex[i]), m, se=se))
    return out
