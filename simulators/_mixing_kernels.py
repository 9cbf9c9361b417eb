"""Numba kernels of the 1-D Gaussian refit loop with real data in it (λ mixing).

Generation 0 is the fit to the real sample (n points, drawn once per replicate). Each later
generation draws ``m = ⌊λn⌋`` fresh synthetic points from the current fit and refits on

* ``replace``: the real sample ∪ the m new points (N = n + m points);
* ``accumulate``: every point so far (real + all synthetic batches);
* ``accumulate-subsample``: a uniform subsample, without replacement, of ``k`` points of that
  growing pool (fixed compute; Kazdan et al. 2025, whose released code takes k = n).

Outputs ``L`` (log σ_t) and ``M`` (μ_t), shape (reps, generations+1), in the units of the
real data handed in (standardised units when the truth is N(μ_0, σ_0²): the front function
maps back exactly).

Exact kernels draw the synthetic batch's sufficient statistics — ``ȳ ~ N(μ, σ²/m)`` then
``SS_y ~ σ²χ²_{m−1}`` (only when m ≥ 2) — and merge them with the pooled statistics
(Chan et al.'s pairwise update), at a cost independent of n, m and the pool size. Sample
kernels draw the m points one by one (standard normals, in order) and refit literally.

Every kernel takes ``sb = √b``, b the sampling bias of Alemohammad et al. (2024): the model's
points come from N(μ_t, b σ_t²) (``sb = 1``: unbiased sampling).

The fresh-data loop (``fresh_*``, Alemohammad et al.'s third loop) draws n *new* real points
every generation and pools them with the m synthetic ones (N = n + m points); generation 0 is
the fit to ``n_init`` real points. Exact: the real batch's x̄ ~ N(0, 1/n) and scatter
~ χ²_{n−1}, then the synthetic batch's, merged with the between-batch term n m/N (x̄ − ȳ)².
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._variates import chisquare, chisquare_consts

__all__ = [
    "replace_exact",
    "replace_samples",
    "accumulate_exact",
    "accumulate_samples",
    "subsample_samples",
    "fresh_exact",
    "fresh_samples",
]


@njit(cache=True, nogil=True)
def _batch_stats(gen, m, mu, sd, b, c):
    """Mean and scatter of m iid N(mu, sd²) points, drawn from their exact laws."""
    ybar = mu + sd * gen.standard_normal() / math.sqrt(m)
    ss = 0.0
    if m >= 2:
        ss = sd * sd * chisquare(gen, m - 1.0, b, c)
    return ybar, ss


@njit(cache=True, nogil=True)
def replace_exact(gen, m, unbiased, real_mean, real_ss, n, L, M, sb=1.0):
    reps, T1 = L.shape
    N = n + m
    divisor = N - 1.0 if unbiased else float(N)
    b, cc = chisquare_consts(m - 1.0)
    for r in range(reps):
        xr = real_mean[r]
        ssr = real_ss[r]
        mu = xr
        lt = 0.5 * math.log(ssr / (n - 1.0 if unbiased else float(n)))
        L[r, 0] = lt
        M[r, 0] = mu
        for t in range(1, T1):
            if m == 0:
                L[r, t] = lt
                M[r, t] = mu
                continue
            ybar, ssy = _batch_stats(gen, m, mu, math.exp(lt) * sb, b, cc)
            d = ybar - xr
            mu = (n * xr + m * ybar) / N
            ss = ssr + ssy + d * d * (n * m / N)
            lt = 0.5 * math.log(ss / divisor)
            L[r, t] = lt
            M[r, t] = mu


@njit(cache=True, nogil=True)
def replace_samples(gen, m, unbiased, real_x, L, M, sb=1.0):
    reps, T1 = L.shape
    n = real_x.shape[1]
    N = n + m
    buf = np.empty(N)
    divisor = N - 1.0 if unbiased else float(N)
    ddof0 = n - 1.0 if unbiased else float(n)
    for r in range(reps):
        for i in range(n):
            buf[i] = real_x[r, i]
        mu, lt = _fit(buf, n, ddof0)
        L[r, 0] = lt
        M[r, 0] = mu
        for t in range(1, T1):
            sd = math.exp(lt) * sb
            for i in range(m):
                buf[n + i] = mu + sd * gen.standard_normal()
            mu, lt = _fit(buf, N, divisor)
            L[r, t] = lt
            M[r, t] = mu


@njit(cache=True, nogil=True)
def _fit(x, k, divisor):
    """Two-pass mean and log standard deviation of x[:k] with the given divisor."""
    s = 0.0
    for i in range(k):
        s += x[i]
    mean = s / k
    ss = 0.0
    for i in range(k):
        d = x[i] - mean
        ss += d * d
    return mean, 0.5 * math.log(ss / divisor)


@njit(cache=True, nogil=True)
def accumulate_exact(gen, m, unbiased, real_mean, real_ss, n, L, M, sb=1.0):
    reps, T1 = L.shape
    b, cc = chisquare_consts(m - 1.0)
    for r in range(reps):
        P = float(n)
        pm = real_mean[r]
        pss = real_ss[r]
        lt = 0.5 * math.log(pss / (P - 1.0 if unbiased else P))
        L[r, 0] = lt
        M[r, 0] = pm
        for t in range(1, T1):
            if m > 0:
                ybar, ssy = _batch_stats(gen, m, pm, math.exp(lt) * sb, b, cc)
                P2 = P + m
                d = ybar - pm
                pm = pm + d * (m / P2)
                pss = pss + ssy + d * d * (P * m / P2)
                P = P2
                lt = 0.5 * math.log(pss / (P - 1.0 if unbiased else P))
            L[r, t] = lt
            M[r, t] = pm


@njit(cache=True, nogil=True)
def accumulate_samples(gen, m, unbiased, real_x, L, M, sb=1.0):
    """Literal accumulate loop: every new point joins the pool; the fit is the pool's
    mean and variance, kept by Welford's one-point updates (O(m) per generation, not a
    rescan of the whole pool, with the same result up to rounding)."""
    reps, T1 = L.shape
    n = real_x.shape[1]
    for r in range(reps):
        P = 0.0
        pm = 0.0
        pss = 0.0
        for i in range(n):
            P += 1.0
            d = real_x[r, i] - pm
            pm += d / P
            pss += d * (real_x[r, i] - pm)
        lt = 0.5 * math.log(pss / (P - 1.0 if unbiased else P))
        L[r, 0] = lt
        M[r, 0] = pm
        for t in range(1, T1):
            mu = pm
            sd = math.exp(lt) * sb
            for i in range(m):
                x = mu + sd * gen.standard_normal()
                P += 1.0
                d = x - pm
                pm += d / P
                pss += d * (x - pm)
            lt = 0.5 * math.log(pss / (P - 1.0 if unbiased else P))
            L[r, t] = lt
            M[r, t] = pm


@njit(cache=True, nogil=True)
def subsample_samples(gen, m, k, unbiased, real_x, L, M, sb=1.0):
    """Accumulate the pool, fit on a uniform subsample of k of its points (2 ≤ k ≤ n + m).

    Generation 0 is the fit to all n real points. Subsampling without replacement by a
    partial Fisher–Yates shuffle of the pool (O(m + k) per generation); the pool's order
    carries no information, so shuffling it in place is harmless.
    """
    reps, T1 = L.shape
    n = real_x.shape[1]
    pool = np.empty(n + m * (T1 - 1))
    sub = np.empty(k)
    divisor = k - 1.0 if unbiased else float(k)
    ddof0 = n - 1.0 if unbiased else float(n)
    for r in range(reps):
        for i in range(n):
            pool[i] = real_x[r, i]
        P = n
        mu, lt = _fit(pool, n, ddof0)
        L[r, 0] = lt
        M[r, 0] = mu
        for t in range(1, T1):
            sd = math.exp(lt) * sb
            for i in range(m):
                pool[P + i] = mu + sd * gen.standard_normal()
            P += m
            for i in range(k):
                j = i + gen.integers(0, P - i)
                tmp = pool[i]
                pool[i] = pool[j]
                pool[j] = tmp
                sub[i] = pool[i]
            mu, lt = _fit(sub, k, divisor)
            L[r, t] = lt
            M[r, t] = mu


@njit(cache=True, nogil=True)
def fresh_exact(gen, n, m, unbiased, sb, init_mean, init_ss, n_init, L, M):
    """Exact-in-law fresh-data loop (standardised real law N(0, 1)).

    Per generation, in this order: the real batch's ``z`` (x̄_r = z/√n) and ``χ²_{n−1}`` (when
    n ≥ 2), then the synthetic batch's ``ȳ`` and ``χ²_{m−1}`` (:func:`_batch_stats`)."""
    reps, T1 = L.shape
    N = n + m
    divisor = N - 1.0 if unbiased else float(N)
    br, cr = chisquare_consts(n - 1.0)
    b, cc = chisquare_consts(m - 1.0)
    between = n * m / N
    for r in range(reps):
        mu = init_mean[r]
        lt = 0.5 * math.log(init_ss[r] / (n_init - 1.0 if unbiased else float(n_init)))
        L[r, 0] = lt
        M[r, 0] = mu
        for t in range(1, T1):
            xr = gen.standard_normal() / math.sqrt(n)
            ssr = chisquare(gen, n - 1.0, br, cr) if n >= 2 else 0.0
            if m > 0:
                ybar, ssy = _batch_stats(gen, m, mu, math.exp(lt) * sb, b, cc)
                dd = xr - ybar
                mu = (n * xr + m * ybar) / N
                ss = ssr + ssy + dd * dd * between
            else:
                mu = xr
                ss = ssr
            lt = 0.5 * math.log(ss / divisor)
            L[r, t] = lt
            M[r, t] = mu


@njit(cache=True, nogil=True)
def fresh_samples(gen, n, m, unbiased, sb, init_x, L, M):
    """The literal fresh-data loop: n new real points (standard normals), then m points
    ``μ + √b σ z`` of the current fit, refit on the N = n + m points."""
    reps, T1 = L.shape
    n_init = init_x.shape[1]
    N = n + m
    buf = np.empty(max(N, n_init))
    divisor = N - 1.0 if unbiased else float(N)
    ddof0 = n_init - 1.0 if unbiased else float(n_init)
    for r in range(reps):
        for i in range(n_init):
            buf[i] = init_x[r, i]
        mu, lt = _fit(buf, n_init, ddof0)
        L[r, 0] = lt
        M[r, 0] = mu
        for t in range(1, T1):
            for i in range(n):
                buf[i] = gen.standard_normal()
            sd = math.exp(lt) * sb
            for i in range(m):
                buf[n + i] = mu + sd * gen.standard_normal()
            mu, lt = _fit(buf, N, divisor)
            L[r, t] = lt
            M[r, t] = mu
