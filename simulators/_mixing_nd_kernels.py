"""Numba kernels of the d-dimensional Gaussian refit loop with real data in it (λ mixing).

Same workflows and conventions as :mod:`._mixing_kernels` (generation 0 = the fit to the n
real points; m = ⌊λn⌋ fresh synthetic points per generation), for N(μ, Σ) fits in d
dimensions, in standardised units (real data from N(0, I)). Outputs: ``M`` (reps, T+1, d)
means, ``logdet`` and ``trace`` (reps, T+1) of Σ_t, optionally ``cov`` (reps, T+1, d, d).

Exact kernels draw the synthetic batch's sufficient statistics: ``ȳ = μ + C z/√m`` with
``z ~ N(0, I_d)`` (C = chol Σ_t), then the scatter ``S_y ~ W_d(Σ_t, m−1)``: by the Bartlett
decomposition ``S_y = (C B)(C B)ᵀ`` when m − 1 ≥ d (row i of B: ``√χ²_{m−1−i}`` on the
diagonal after the normals left of it), else as the sum of m − 1 outer products
``(C g)(C g)ᵀ`` (a singular Wishart). Pooled statistics are merged exactly (Chan et al.).
Sample kernels draw the m points ``μ + C g`` (d normals each, row by row) and refit literally.

When the fitted covariance is singular by construction — n ≤ d real points span an affine
subspace of dimension n − 1 that every later point stays in, and a subsample of k ≤ d points
has rank k − 1 — the sample kernels factor it as Σ = F Fᵀ with F of ``rank`` columns, by
Cholesky with complete pivoting stopped after ``rank`` steps (the rank is known exactly, so no
tolerance decides it), draw the points as ``μ + F g`` (``rank`` normals each) and record
``log det Σ = −inf``. (The exact kernel needs no such case: the front function runs it in the
(n − 1)-dimensional coordinates of the real sample's span.)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import cholesky_inplace
from ._variates import chisquare, chisquare_consts

__all__ = ["mixnd_exact", "mixnd_samples", "mixnd_fresh_exact", "mixnd_fresh_samples"]


@njit(cache=True, nogil=True)
def _record(C, r, t, mu, M, logdet, trace, cov, want_cov):
    d = C.shape[0]
    ld = 0.0
    tr = 0.0
    for i in range(d):
        M[r, t, i] = mu[i]
        ld += math.log(C[i, i])
        for j in range(i + 1):
            tr += C[i, j] * C[i, j]
    logdet[r, t] = 2.0 * ld
    trace[r, t] = tr
    if want_cov:
        for i in range(d):
            for j in range(i + 1):
                acc = 0.0
                for k in range(j + 1):
                    acc += C[i, k] * C[j, k]
                cov[r, t, i, j] = acc
                cov[r, t, j, i] = acc


@njit(cache=True, nogil=True)
def _record_lowrank(C, rank, r, t, mu, M, logdet, trace, cov, want_cov):
    """``_record`` for a singular fit Σ = F Fᵀ, F = C[:, :rank] (not triangular): log det = −inf."""
    d = C.shape[0]
    tr = 0.0
    for i in range(d):
        M[r, t, i] = mu[i]
        for q in range(rank):
            tr += C[i, q] * C[i, q]
    logdet[r, t] = -math.inf
    trace[r, t] = tr
    if want_cov:
        for i in range(d):
            for j in range(i + 1):
                acc = 0.0
                for q in range(rank):
                    acc += C[i, q] * C[j, q]
                cov[r, t, i, j] = acc
                cov[r, t, j, i] = acc


@njit(cache=True, nogil=True)
def _psd_factor(S, div, rank, C, dg, used):
    """C[:, :rank] ← F with F Fᵀ = S/div for S of known rank ``rank`` (< d): Cholesky with complete
    pivoting, stopped after ``rank`` steps (what is left is rounding: the exact rest is 0).

    ``dg`` (d) and ``used`` (d, bool) are scratch. False if a pivot is not positive (probability
    0 when the rank is right)."""
    d = S.shape[0]
    for i in range(d):
        dg[i] = S[i, i] / div
        used[i] = False
        for q in range(d):
            C[i, q] = 0.0
    for j in range(rank):
        p = -1
        best = 0.0
        for i in range(d):
            if not used[i] and dg[i] > best:
                best = dg[i]
                p = i
        if p < 0 or not math.isfinite(best):
            return False
        piv = math.sqrt(best)
        used[p] = True
        C[p, j] = piv
        for i in range(d):
            if used[i]:
                continue
            acc = S[i, p] / div
            for q in range(j):
                acc -= C[i, q] * C[p, q]
            C[i, j] = acc / piv
            dg[i] -= C[i, j] * C[i, j]
    return True


@njit(cache=True, nogil=True)
def _factor(S, div, C):
    """C ← chol(S/div); False if S is not numerically positive definite."""
    d = S.shape[0]
    for i in range(d):
        for j in range(d):
            C[i, j] = S[i, j] / div
    return cholesky_inplace(C)


@njit(cache=True, nogil=True)
def _batch_scatter(gen, m, C, B, CB, g, Sy, bs, cs, general=False):
    """S_y ~ W_d(C Cᵀ, m − 1) into Sy (Bartlett when m − 1 ≥ d, else outer products). C lower
    triangular, or any d × d factor with ``general=True`` (full products, the same draws)."""
    d = C.shape[0]
    Sy[:, :] = 0.0
    k = m - 1
    if k >= d:
        for i in range(d):
            for j in range(i):
                B[i, j] = gen.standard_normal()
            B[i, i] = math.sqrt(chisquare(gen, k - i * 1.0, bs[i], cs[i]))
            for j in range(i + 1, d):
                B[i, j] = 0.0
        for i in range(d):
            for j in range(d if general else i + 1):
                acc = 0.0
                for q in range(j, d if general else i + 1):
                    acc += C[i, q] * B[q, j]
                CB[i, j] = acc
        for i in range(d):
            for j in range(i + 1):
                acc = 0.0
                for q in range(d if general else j + 1):
                    acc += CB[i, q] * CB[j, q]
                Sy[i, j] = acc
                Sy[j, i] = acc
    else:
        for _ in range(k):
            for i in range(d):
                g[i] = gen.standard_normal()
            for i in range(d):
                acc = 0.0
                for q in range(d if general else i + 1):
                    acc += C[i, q] * g[q]
                CB[i, 0] = acc
            for i in range(d):
                for j in range(d):
                    Sy[i, j] += CB[i, 0] * CB[j, 0]


@njit(cache=True, nogil=True)
def mixnd_exact(gen, m, unbiased, accumulate, real_mean, real_scatter, n, M, logdet, trace, cov, want_cov, sb=1.0):
    """Exact-in-law d-D replace (``accumulate=False``) or accumulate chain; synthetic points from
    N(μ_t, b Σ_t), ``sb = √b`` (b the sampling bias, 1: unbiased)."""
    reps, T1, d = M.shape
    C = np.zeros((d, d))
    B = np.zeros((d, d))
    CB = np.zeros((d, d))
    Sy = np.zeros((d, d))
    S = np.zeros((d, d))
    pS = np.zeros((d, d))
    g = np.empty(d)
    mu = np.empty(d)
    pm = np.empty(d)
    delta = np.empty(d)
    bs = np.empty(d)
    cs = np.empty(d)
    for i in range(d):
        bs[i], cs[i] = chisquare_consts(m - 1.0 - i)
    inv_sqrt_m = (1.0 / math.sqrt(m) if m > 0 else 0.0) * sb
    bias = sb * sb
    for r in range(reps):
        P = float(n)
        for i in range(d):
            pm[i] = real_mean[r, i]
            mu[i] = pm[i]
            for j in range(d):
                pS[i, j] = real_scatter[r, i, j]
        if not _factor(pS, n - 1.0 if unbiased else float(n), C):
            return False
        _record(C, r, 0, mu, M, logdet, trace, cov, want_cov)
        for t in range(1, T1):
            if m > 0:
                for i in range(d):
                    g[i] = gen.standard_normal()
                for i in range(d):  # ȳ − pm, with ȳ = μ + C z/√m
                    acc = 0.0
                    for q in range(i + 1):
                        acc += C[i, q] * g[q]
                    delta[i] = mu[i] + acc * inv_sqrt_m - pm[i]
                _batch_scatter(gen, m, C, B, CB, g, Sy, bs, cs)
                for i in range(d):
                    for j in range(d):
                        Sy[i, j] *= bias  # W_d(b C Cᵀ, m − 1); × 1.0 is exact for unbiased sampling
                P2 = P + m
                w = P * m / P2
                if accumulate:
                    for i in range(d):
                        pm[i] += delta[i] * (m / P2)
                        mu[i] = pm[i]
                    for i in range(d):
                        for j in range(d):
                            pS[i, j] += Sy[i, j] + w * delta[i] * delta[j]
                    P = P2
                    ok = _factor(pS, P - 1.0 if unbiased else P, C)
                else:
                    for i in range(d):
                        mu[i] = pm[i] + delta[i] * (m / P2)
                    for i in range(d):
                        for j in range(d):
                            S[i, j] = pS[i, j] + Sy[i, j] + w * delta[i] * delta[j]
                    ok = _factor(S, P2 - 1.0 if unbiased else P2, C)
                if not ok:
                    return False
            _record(C, r, t, mu, M, logdet, trace, cov, want_cov)
    return True


@njit(cache=True, nogil=True)
def _fit_rows(X, k, div, mu, S, C, rank, dg, used):
    """Two-pass mean and scatter of X[:k]; C ← chol(S/div), or its rank-``rank`` pivoted factor."""
    d = X.shape[1]
    for i in range(d):
        acc = 0.0
        for a in range(k):
            acc += X[a, i]
        mu[i] = acc / k
    for i in range(d):
        for j in range(i + 1):
            acc = 0.0
            for a in range(k):
                acc += (X[a, i] - mu[i]) * (X[a, j] - mu[j])
            S[i, j] = acc
            S[j, i] = acc
    if rank < d:
        return _psd_factor(S, div, rank, C, dg, used)
    return _factor(S, div, C)


@njit(cache=True, nogil=True)
def _draw_points(gen, mu, C, X, start, count, g, rank, sb=1.0):
    """Rows X[start:start+count] ← μ + √b C g, g ~ N(0, I) (d normals per row, in order); for a
    singular fit (rank < d) ``rank`` normals per row and the factor's ``rank`` columns."""
    d = C.shape[0]
    if rank < d:
        for a in range(start, start + count):
            for q in range(rank):
                g[q] = gen.standard_normal()
            for i in range(d):
                acc = 0.0
                for q in range(rank):
                    acc += C[i, q] * g[q]
                X[a, i] = mu[i] + sb * acc
        return
    for a in range(start, start + count):
        for i in range(d):
            g[i] = gen.standard_normal()
        for i in range(d):
            acc = 0.0
            for q in range(i + 1):
                acc += C[i, q] * g[q]
            X[a, i] = mu[i] + sb * acc


@njit(cache=True, nogil=True)
def mixnd_samples(gen, m, k, unbiased, workflow, real_x, M, logdet, trace, cov, want_cov, sb=1.0):
    """The literal d-D loops: ``workflow`` 0 = replace, 1 = accumulate, 2 = accumulate-subsample.

    Replace refits on real ∪ the m new points; accumulate keeps every point (pool mean and
    scatter updated point by point, Welford); accumulate-subsample refits on a uniform
    subsample of k pool rows (partial Fisher–Yates over row indices).

    Every point stays in the affine span of the n real points (rank min(n − 1, d)); a fit on
    k points has rank min(k − 1, n − 1, d). Below d the fit is factored with that rank
    (:func:`_psd_factor`) and recorded with log det = −inf. Synthetic points come from
    N(μ_t, b Σ_t), ``sb = √b``.
    """
    reps, T1, d = M.shape
    n = real_x.shape[1]
    if workflow != 2:
        k = n + m
    rank_real = min(n - 1, d)
    rank_fit = min(k - 1, rank_real) if workflow == 2 else rank_real
    pool = np.empty((n + m * (T1 - 1) if workflow != 0 else k, d))
    sub = np.empty((k, d))
    perm = np.empty(pool.shape[0], dtype=np.int64)
    Z = np.empty((m, d))
    C = np.zeros((d, d))
    S = np.zeros((d, d))
    pS = np.zeros((d, d))
    mu = np.empty(d)
    pm = np.empty(d)
    g = np.empty(d)
    x = np.empty(d)
    xrow = np.empty((1, d))
    dg = np.empty(d)
    used = np.zeros(d, dtype=np.bool_)
    for r in range(reps):
        for a in range(n):
            for i in range(d):
                pool[a, i] = real_x[r, a, i]
        if not _fit_rows(pool, n, n - 1.0 if unbiased else float(n), mu, S, C, rank_real, dg, used):
            return False
        if workflow == 1:
            for i in range(d):
                pm[i] = mu[i]
                for j in range(d):
                    pS[i, j] = S[i, j]
        rank = rank_real
        for a in range(perm.shape[0]):
            perm[a] = a
        _record_any(C, rank, r, 0, mu, M, logdet, trace, cov, want_cov)
        P = n
        for t in range(1, T1):
            if workflow == 0:
                _draw_points(gen, mu, C, pool, n, m, g, rank, sb)
                ok = _fit_rows(pool, k, k - 1.0 if unbiased else float(k), mu, S, C, rank_real, dg, used)
            elif workflow == 1:
                for a in range(m):
                    _draw_points(gen, mu, C, xrow, 0, 1, g, rank, sb)
                    for i in range(d):
                        x[i] = xrow[0, i]
                    P += 1
                    for i in range(d):
                        g[i] = x[i] - pm[i]  # δ before the update (g reused as scratch)
                        pm[i] += g[i] / P
                    for i in range(d):
                        for j in range(d):
                            pS[i, j] += g[i] * (x[j] - pm[j])
                for i in range(d):
                    mu[i] = pm[i]
                if rank_real < d:
                    ok = _psd_factor(pS, P - 1.0 if unbiased else float(P), rank_real, C, dg, used)
                else:
                    ok = _factor(pS, P - 1.0 if unbiased else float(P), C)
            elif rank < d or rank_fit < d:
                _draw_points(gen, mu, C, pool, P, m, g, rank, sb)
                P += m
                for a in range(k):
                    j = a + gen.integers(0, P - a)
                    for i in range(d):
                        tmp = pool[a, i]
                        pool[a, i] = pool[j, i]
                        pool[j, i] = tmp
                        sub[a, i] = pool[a, i]
                ok = _fit_rows(sub, k, k - 1.0 if unbiased else float(k), mu, S, C, rank_fit, dg, used)
                rank = rank_fit
            else:
                ok = _subsample_step_blas(gen, m, k, unbiased, mu, C, S, pool, perm, P, Z, sub, sb)
                P += m

            if not ok:
                return False
            _record_any(C, rank, r, t, mu, M, logdet, trace, cov, want_cov)
    return True


@njit(cache=True, nogil=True)
def _subsample_step_blas(gen, m, k, unbiased, mu, C, S, pool, perm, P, Z, sub, sb):
    """One full-rank accumulate-subsample generation with BLAS products (d large, k·d² work).

    Draws the m new pool rows μ + √b C g as Z Cᵀ (d normals per row, in row order, as
    :func:`_draw_points`), picks the subsample by a partial Fisher–Yates over the row indices
    ``perm`` (the same draws as swapping rows, without moving them), and refits: mean, then
    the scatter of the centred rows as one product. C ← chol(S/div); False if not positive."""
    d = C.shape[0]
    for a in range(m):
        for i in range(d):
            Z[a, i] = gen.standard_normal()
    if m > 0:
        X = np.dot(Z, C.T)
        for a in range(m):
            for i in range(d):
                pool[P + a, i] = mu[i] + sb * X[a, i]
    P2 = P + m
    for a in range(k):
        j = a + gen.integers(0, P2 - a)
        tmp = perm[a]
        perm[a] = perm[j]
        perm[j] = tmp
    for i in range(d):
        mu[i] = 0.0
    for a in range(k):
        row = perm[a]
        for i in range(d):
            v = pool[row, i]
            sub[a, i] = v
            mu[i] += v
    for i in range(d):
        mu[i] /= k
    for a in range(k):
        for i in range(d):
            sub[a, i] -= mu[i]
    S[:, :] = np.dot(sub.T, sub)
    return _factor(S, k - 1.0 if unbiased else float(k), C)


@njit(cache=True, nogil=True)
def _record_any(C, rank, r, t, mu, M, logdet, trace, cov, want_cov):
    if rank < C.shape[0]:
        _record_lowrank(C, rank, r, t, mu, M, logdet, trace, cov, want_cov)
    else:
        _record(C, r, t, mu, M, logdet, trace, cov, want_cov)


@njit(cache=True, nogil=True)
def mixnd_fresh_exact(gen, n, m, unbiased, sb, A, init_mean, init_scatter, n_init, M, logdet, trace, cov, want_cov):
    """Exact-in-law d-D fresh-data loop: n new real points from N(0, A Aᵀ) and m synthetic from
    N(μ_t, b Σ_t) per generation, pooled fit (N = n + m > d points).

    Generation 0 is the fit to the ``n_init`` real points (``init_mean``, ``init_scatter``).
    Draws per generation, in order: the real batch's z (x̄_r = A z/√n) and its scatter
    ~ W_d(A Aᵀ, n − 1); the synthetic batch's z (ȳ = μ + √b C z/√m) and scatter
    ~ b W_d(C Cᵀ, m − 1) (:func:`_batch_scatter` for both). Pooled: mean (n x̄_r + m ȳ)/N and
    scatter S_r + S_y + (n m/N)(x̄_r − ȳ)(x̄_r − ȳ)ᵀ.

    With ``n_init ≤ d`` generation 0 is singular (rank n_init − 1, log det −inf): it is factored
    by :func:`_psd_factor` (a general d × d factor with zero columns past the rank), and the
    synthetic batch of generation 1 is drawn through full, not triangular, products with it."""
    reps, T1, d = M.shape
    rank0 = min(n_init - 1, d)
    dg = np.empty(d)
    used = np.zeros(d, dtype=np.bool_)
    N = n + m
    div = N - 1.0 if unbiased else float(N)
    bias = sb * sb
    between = n * m / N
    C = np.zeros((d, d))
    B = np.zeros((d, d))
    CB = np.zeros((d, d))
    Sr = np.zeros((d, d))
    Sy = np.zeros((d, d))
    S = np.zeros((d, d))
    g = np.empty(d)
    mu = np.empty(d)
    xr = np.empty(d)
    dl = np.empty(d)
    bs = np.empty(d)
    cs = np.empty(d)
    br = np.empty(d)
    cr = np.empty(d)
    for i in range(d):
        bs[i], cs[i] = chisquare_consts(m - 1.0 - i)
        br[i], cr[i] = chisquare_consts(n - 1.0 - i)
    inv_sqrt_n = 1.0 / math.sqrt(n)
    inv_sqrt_m = (1.0 / math.sqrt(m) if m > 0 else 0.0) * sb
    for r in range(reps):
        for i in range(d):
            mu[i] = init_mean[r, i]
            for j in range(d):
                S[i, j] = init_scatter[r, i, j]
        div0 = n_init - 1.0 if unbiased else float(n_init)
        if rank0 < d:
            if not _psd_factor(S, div0, rank0, C, dg, used):
                return False
            _record_lowrank(C, rank0, r, 0, mu, M, logdet, trace, cov, want_cov)
        else:
            if not _factor(S, div0, C):
                return False
            _record(C, r, 0, mu, M, logdet, trace, cov, want_cov)
        for t in range(1, T1):
            general = t == 1 and rank0 < d
            for i in range(d):
                g[i] = gen.standard_normal()
            for i in range(d):
                acc = 0.0
                for q in range(i + 1):
                    acc += A[i, q] * g[q]
                xr[i] = acc * inv_sqrt_n
            _batch_scatter(gen, n, A, B, CB, g, Sr, br, cr)
            if m > 0:
                for i in range(d):
                    g[i] = gen.standard_normal()
                for i in range(d):  # x̄_r − ȳ, with ȳ = μ + √b C z/√m
                    acc = 0.0
                    for q in range(d if general else i + 1):
                        acc += C[i, q] * g[q]
                    dl[i] = xr[i] - mu[i] - acc * inv_sqrt_m
                _batch_scatter(gen, m, C, B, CB, g, Sy, bs, cs, general)
                for i in range(d):
                    mu[i] = xr[i] - dl[i] * (m / N)
                for i in range(d):
                    for j in range(d):
                        S[i, j] = Sr[i, j] + bias * Sy[i, j] + between * dl[i] * dl[j]
            else:
                for i in range(d):
                    mu[i] = xr[i]
                    for j in range(d):
                        S[i, j] = Sr[i, j]
            if not _factor(S, div, C):
                return False
            _record(C, r, t, mu, M, logdet, trace, cov, want_cov)
    return True


@njit(cache=True, nogil=True)
def mixnd_fresh_samples(gen, n, m, unbiased, sb, A, init_x, M, logdet, trace, cov, want_cov):
    """The literal d-D fresh-data loop: n new real points A g (d normals each, row by row), then
    m points μ + √b C g of the current fit; refit on the N = n + m > d points."""
    reps, T1, d = M.shape
    n_init = init_x.shape[1]
    N = n + m
    X = np.empty((max(N, n_init), d))
    C = np.zeros((d, d))
    S = np.zeros((d, d))
    mu = np.empty(d)
    zero = np.zeros(d)
    g = np.empty(d)
    dg = np.empty(d)
    used = np.zeros(d, dtype=np.bool_)
    div = N - 1.0 if unbiased else float(N)
    rank0 = min(n_init - 1, d)
    for r in range(reps):
        for a in range(n_init):
            for i in range(d):
                X[a, i] = init_x[r, a, i]
        if not _fit_rows(X, n_init, n_init - 1.0 if unbiased else float(n_init), mu, S, C, rank0, dg, used):
            return False
        _record_any(C, rank0, r, 0, mu, M, logdet, trace, cov, want_cov)
        for t in range(1, T1):
            _draw_points(gen, zero, A, X, 0, n, g, d)
            _draw_points(gen, mu, C, X, n, m, g, rank0 if t == 1 else d, sb)
            if not _fit_rows(X, N, div, mu, S, C, d, dg, used):
                return False
            _record(C, r, t, mu, M, logdet, trace, cov, want_cov)
    return True
