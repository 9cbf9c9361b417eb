"""Tables behind the figures that redraw the public peers' figures with their exact curves.

Suresh, Thangaraj, Khandavally (*Rate of model collapse in recursive training*, AISTATS 2025;
notebook ``berserank/rate-of-model-collapse``) and Kazdan et al. (*Collapse or Thrive?*, ICML
2025; code ``RylanSchaeffer/KoyejoLab-Collapse-or-Thrive``) plot Monte Carlo against bounds;
here every curve also has its exact value (``shared/theory.md`` §3.1 and §3.5), computed
from the public theory functions, beside the toolkit's simulators run with the peers'
protocols.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian, simulate_multinomial, simulate_poisson

from .._stats import mean_se, proportion_se

__all__ = ["roc_panels_table", "cot_workflows_table"]

#: Replicates per block of the Bernoulli chain (it returns every generation's frequencies).
_BERNOULLI_BLOCK = 20_000


def _frame(panel, t, exact, sim, sim_se, reps, seed, **cols):
    """One curve of :func:`roc_panels_table` (the columns it does not set are NaN)."""
    nan = np.full(t.size, np.nan)
    base = {"panel": panel, "generation": t, "exact": exact, "sim": sim, "sim_se": sim_se,
            "bound_lo": nan, "bound_hi": nan, "bound_simple": nan,
            "n": np.nan, "eps": np.nan, "p0": np.nan, "rate": np.nan, "a": np.nan, "b": np.nan, "symbols": np.nan,
            "reps": reps, "seed": seed}
    base.update(cols)
    return pd.DataFrame(base)


def roc_panels_table(quick: bool = True, *, gauss_ns=(10, 20), eps=0.1, gauss_generations=300,
                     p0=0.01, bernoulli_ns=(100, 300, 1000), bernoulli_generations=300,
                     poisson_n=10, poisson_rates=(0.1, 1.0, 10.0), poisson_generations=500,
                     vocab_size=1000, zipf=((1.0, 2.7), (2.0, 5.0)), vocab_generations=100,
                     seed=20250301) -> pd.DataFrame:
    """Survival under recursive refitting, exact and simulated, with Suresh et al.'s bounds (tidy).

    One row per curve point: ``panel`` (``"gaussian"``, ``"bernoulli"``, ``"poisson"``,
    ``"vocabulary"``), ``generation`` k (the peer's index: generation 0 is the initial model,
    generation k the k-th refit; for the vocabulary, generation 0 is the corpus and k the
    number of resamplings), ``exact`` (the exact value), ``sim`` and ``sim_se`` (Monte Carlo
    estimate and its standard error over ``reps`` replicates), ``bound_lo``/``bound_hi`` (the
    peer's lower/upper bound; NaN where there is none), ``bound_simple`` (the headline
    :math:`1-e^{-np_0/k}`, Bernoulli only), the curve's parameters ``n``, ``eps``, ``p0``,
    ``rate``, ``a``, ``b``, ``symbols`` (NaN where they do not apply), ``reps`` and ``seed``.

    Panels (each a peer's notebook protocol):

    * ``gaussian``: :math:`P(\\sigma_k>\\varepsilon)`, N(0, 1) refit with the unbiased variance to
      n points per generation (their ``ddof=1``), :math:`\\sigma_0=1`; exact
      ``1 − prob_collapsed(n, k, eps)``; ``bound_hi`` = :math:`(\\sigma_0/\\varepsilon)e^{-k/(4n)}`
      (the paper's statement; unclipped);
    * ``bernoulli``: :math:`P(P_k\\neq0)` from the model :math:`P_0=p_0`
      (``bernoulli_survival``; ``simulate_multinomial(p=[p0, 1 − p0])``); Theorem 1's bracket
      and the headline :math:`1-e^{-np_0/k}`;
    * ``poisson``: :math:`P(\\Lambda_k\\neq0)` from :math:`\\Lambda_0=\\lambda_0` (``rate``),
      n draws per refit (``1 − poisson_extinction``; ``simulate_poisson``); Theorem 2's bracket
      :math:`[1-e^{-n\\lambda_0/k},1-e^{-3n\\lambda_0/k}]`;
    * ``vocabulary``: :math:`\\mathbb E[\\mathrm{uniq}_k]/m`, a corpus of n = ``vocab_size``
      draws from the Zipf–Mandelbrot law (m = ``vocab_size`` symbols, ``a``, ``b``) drawn once
      and resampled (``vocabulary_survival`` over the ``symbols`` seen; ``simulate_multinomial``
      from the corpus); Corollary 1's bracket.
    """
    big = not quick
    rng = np.random.default_rng(seed)
    frames = []

    # (a) Gaussian: P(σ_k > ε), unbiased refit (the peer's Theorem 3 protocol)
    reps = 200_000 if big else 20_000
    for n in gauss_ns:
        res = simulate_gaussian(n, gauss_generations, reps=reps, estimator="unbiased", rng=rng)
        t = res.t
        m, se = proportion_se((res.log_sigma > math.log(eps)).sum(axis=0), reps)
        exact = 1.0 - np.asarray(th.prob_collapsed(n, t, eps), dtype=float)
        frames.append(_frame("gaussian", t, exact, m, se, reps, seed, n=n, eps=eps,
                             bound_hi=np.exp(-t / (4.0 * n)) / eps))

    # (b) Bernoulli: P(P_k ≠ 0) from the model p0 (Theorem 1)
    reps = 200_000 if big else 20_000
    for n in bernoulli_ns:
        T = bernoulli_generations
        hits = np.zeros(T + 1, dtype=np.int64)
        for start in range(0, reps, _BERNOULLI_BLOCK):  # the chain returns every frequency: bounded memory
            r = min(_BERNOULLI_BLOCK, reps - start)
            res = simulate_multinomial(n, T, p=[p0, 1.0 - p0], reps=r, return_freq=True, rng=rng)
            hits += (res.freq[:, :, 0] > 0.0).sum(axis=0)
        m, se = proportion_se(hits, reps)
        t = np.arange(T + 1)
        lo, hi = th.bound_symbol_survival_suresh(n, p0, T)
        frames.append(_frame("bernoulli", t, th.bernoulli_survival(n, p0, T), m, se, reps, seed, n=n, p0=p0,
                             bound_lo=lo, bound_hi=hi, bound_simple=th.bound_symbol_survival_simple(n * p0, T)))

    # (c) Poisson: P(Λ_k ≠ 0) from the model λ0 (Theorem 2)
    reps = 200_000 if big else 20_000
    for rate in poisson_rates:
        n, T = poisson_n, poisson_generations
        res = simulate_poisson(n, rate, T, reps=reps, rng=rng)
        m, se = proportion_se((~res.extinct).sum(axis=0), reps)
        with np.errstate(divide="ignore"):  # P(extinct) = 0 at k = 0
            exact = -np.expm1(np.log(th.poisson_extinction(n, rate, T)))  # 1 − P(extinct), precise near 1
        lo, hi = th.bound_poisson_survival_suresh(n, rate, T)
        frames.append(_frame("poisson", res.t, exact, m, se, reps, seed, n=n, rate=rate, bound_lo=lo, bound_hi=hi))

    # (d) vocabulary: a Zipf–Mandelbrot corpus drawn once, resampled (Corollary 1)
    reps = 10_000 if big else 1_000
    n = vocab_size
    for a, b in zipf:
        corpus = rng.multinomial(n, th.zipf_mandelbrot(vocab_size, a, b))
        counts = corpus[corpus > 0]
        T = vocab_generations
        res = simulate_multinomial(n, T, counts=corpus, reps=reps, rng=rng)
        m, se = mean_se(res.fraction)
        lo, hi = th.bound_vocabulary_survival_suresh(counts, T)
        frames.append(_frame("vocabulary", res.t, th.vocabulary_survival(counts, T), m, se, reps, seed, n=n,
                             a=a, b=b, symbols=counts.size, bound_lo=lo, bound_hi=hi))
    return pd.concat(frames, ignore_index=True)


#: Kazdan et al.'s grid cells (d, n) drawn by default: two with n > d, two with n ≤ d.
COT_CELLS = ((3, 10), (10, 100), (10, 10), (100, 32))
WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")


def cot_workflows_table(quick: bool = True, *, cells=COT_CELLS, iterations=100, seed=20250302) -> pd.DataFrame:
    """Kazdan et al.'s Gaussian workflows, exact and simulated, per (d, n) cell (tidy).

    N(0, I_d) data, n points per iteration, MLE mean and covariance (their protocol), λ = 1;
    ``cells`` are (d, n) pairs, ``iterations`` their K. One row per curve point; columns:

    * ``d``, ``n``; ``singular`` (n ≤ d: every fitted covariance has rank ≤ n − 1, det Σ̂ = 0);
    * ``workflow``: ``"replace"`` (their Replace: the toolkit's fully synthetic chain,
      ``lam=None``), ``"accumulate"``, ``"accumulate-subsample"`` (each model fitted on a
      uniform subsample, without replacement, of n points of the pool, as in their released
      code); ``method``: the simulator's (exact chains for replace and accumulate, the literal
      loop for accumulate-subsample);
    * ``metric``: ``"trace"`` (tr Σ̂/tr Σ_0), ``"mean_err"`` (‖μ̂ − μ‖²), ``"det"`` (det Σ̂/det Σ_0);
    * ``iteration``: their model-fitting iteration k (the fit to the n real points is k = 1,
      in every workflow); ``generation``: the toolkit's index of that fit (k for replace,
      whose generation 0 is the true law; k − 1 for the real-data workflows);
    * ``exact``: the exact expectation (NaN for the determinant of accumulate-subsample in
      d > 1, which has no closed form; its simulated value is 0 all the same when n ≤ d);
    * ``sim``, ``sim_se``: Monte Carlo mean and its standard error over ``reps`` runs;
      ``median``: Monte Carlo median;
    * ``ess``: the runs that carry the Monte Carlo mean, (Σx)²/Σx² over the ``reps`` values x
      (NaN when all are 0). Replace's trace and determinant are heavy-tailed (the determinant
      is a product of k independent random factors): past some iteration their mean is
      carried by a few rare runs, the Monte Carlo mean falls below the exact one and its SE
      is no guide;
    * ``bound``: accumulate only, the limit sin(π/√n)/(π/√n) that E tr Σ̂/tr Σ_0 decreases
      to and the π²/6 bound (π²/6)·d/n on E‖μ̂ − μ‖² (NaN elsewhere);
    * ``reps``, ``seed``.
    """
    rng = np.random.default_rng(seed)
    frames = []
    k = np.arange(1, iterations + 1)
    for d, n in cells:
        # replicates (quick): the exact chains cost ~d² per step, the literal subsample loop ~n·d²
        exact_reps = 2_000 if d <= 10 else 300
        loop_reps = 2_000 if n * d * d <= 1_000 else 500 if d <= 10 else 50
        for wf in WORKFLOWS:
            if wf == "replace":
                kw, t, method = dict(lam=None), k, "exact"
            else:
                kw, t = dict(lam=1.0, workflow=wf), k - 1
                method = "samples" if wf == "accumulate-subsample" else "exact"
            reps = (loop_reps if method == "samples" else exact_reps) * (1 if quick else 10)
            res = simulate_gaussian(n, int(t[-1]), reps=reps, dim=d, estimator="mle", method=method, rng=rng, **kw)
            trace = res.trace[:, t] / d
            err = (res.mu[:, t] ** 2).sum(axis=-1)
            det = np.exp(res.logdet[:, t])
            if wf == "replace":
                ex_tr = th.expected_sigma2(n, t, 1.0, estimator="mle")
                ex_err = d * th.expected_mean_sq_drift(n, t, 1.0, estimator="mle")
            elif wf == "accumulate":
                ex_tr = th.expected_accumulate_cov(n, k)
                ex_err = th.expected_accumulate_mean_err(n, k, float(d))
            else:
                ex_tr, ex_err = th.expected_accumulate_subsample(n, t, d=d)
            if wf == "accumulate-subsample" and d > 1:  # no closed form (theory refuses it)
                ex_det = np.full(k.size, np.nan)
            else:
                ex_det = th.expected_det_ratio(n, d, t, estimator="mle", **kw)
            # accumulate's limits (the π²/6 pathway): E tr Σ̂/tr Σ_0 ↓ sin(π/√n)/(π/√n), E‖μ̂ − μ‖² ≤ (π²/6) d/n
            lim = {"trace": th.accumulate_cov_limit(n), "mean_err": th.bound_accumulate_mean_err(n, float(d))}
            for metric, x, ex in (("trace", trace, ex_tr), ("mean_err", err, ex_err), ("det", det, ex_det)):
                m, se = mean_se(x)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ess = np.where(m > 0.0, x.sum(axis=0) ** 2 / (x**2).sum(axis=0), np.nan)
                frames.append(pd.DataFrame({
                    "d": d, "n": n, "workflow": wf, "metric": metric, "iteration": k, "generation": t,
                    "exact": np.asarray(ex, dtype=float), "sim": m, "sim_se": se, "ess": ess,
                    "median": np.median(x, axis=0),
                    "bound": lim.get(metric, np.nan) if wf == "accumulate" else np.nan,
                    "singular": n <= d, "method": method, "reps": reps, "seed": seed,
                }))
    return pd.concat(frames, ignore_index=True)
