"""Numba kernels of iterated least squares on a fixed design (pure: arrays in, arrays out).

Setting (Gerstgrasser et al. 2024; ``shared/theory.md`` §3.3): design ``X`` (T×d, rows
N(0, I_d)) drawn once per replicate and reused every round; round ``n`` relabels ``X`` with
the previous fit plus fresh noise, ``y⁽ⁿ⁾ = X ŵₙ₋₁ + σ Eₙ`` (``ŵ₀ = w*``), and refits by least
squares on the latest labels (replace) or on every label set so far (accumulate). Both
kernels write ``risk[r, n-1] = ‖ŵₙ − w*‖²`` (the test risk with Σ = I; it does not depend on
w* or, by whitening, on Σ).

Random draws per replicate, in this order (the NumPy references in the tests follow it):

* exact (in law): Bartlett factor of ``XᵀX ~ W_d(I, T)``: for ``i = 0..d−1``,
  ``L_ii = sqrt(χ²_{T−i})`` then ``L_ij ~ N(0,1)`` for ``j < i``; then per round ``z ~ N(0, I_d)``
  and ``ŵₙ − ŵₙ₋₁ = aₙ σ L⁻ᵀ z`` (``X⁺Eₙ ~ N(0, σ²(XᵀX)⁻¹)`` given ``X``), ``aₙ = 1`` (replace)
  or ``1/n`` (accumulate).
* samples (literal): ``T·d`` standard normals for ``X`` (row-major); per round ``T`` standard
  normals for ``Eₙ``; refit by the normal equations of the pooled problem,
  ``n XᵀX w = Σᵢ Xᵀy⁽ⁱ⁾`` (accumulate) or ``XᵀX w = Xᵀy⁽ⁿ⁾`` (replace).
* accumulate-subsample (literal only; Kazdan et al. 2025): the pool of every (row, label) pair so far,
  a uniform subsample of T of them without replacement per round, a minimum-norm least-squares
  fit; ``w* ~ N(0, I_d)`` per replicate as in the released code (the risk depends on w* when a
  subsample repeats design rows so often that it spans fewer than d of them). See
  :func:`regression_subsample_samples` for its draws.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import cholesky_inplace

__all__ = ["regression_exact", "regression_samples", "regression_subsample_samples"]


@njit(cache=True, nogil=True)
def _solve_lower_transpose(L, z, out):
    """out = L⁻ᵀ z for lower-triangular L (back substitution on Lᵀ)."""
    d = L.shape[0]
    for i in range(d - 1, -1, -1):
        s = z[i]
        for k in range(i + 1, d):
            s -= L[k, i] * out[k]
        out[i] = s / L[i, i]


@njit(cache=True, nogil=True)
def regression_exact(gen, T, d, sigma, accumulate, risk):
    """Exact-in-law risk paths. ``risk``: (reps, iterations) output."""
    reps, n_iter = risk.shape
    L = np.zeros((d, d))
    err = np.empty(d)
    z = np.empty(d)
    v = np.empty(d)
    for r in range(reps):
        for i in range(d):
            L[i, i] = math.sqrt(gen.chisquare(T - i))
            for j in range(i):
                L[i, j] = gen.standard_normal()
        for i in range(d):
            err[i] = 0.0
        for n in range(n_iter):
            for i in range(d):
                z[i] = gen.standard_normal()
            _solve_lower_transpose(L, z, v)
            a = sigma / (n + 1.0) if accumulate else sigma
            s2 = 0.0
            for i in range(d):
                err[i] += a * v[i]
                s2 += err[i] * err[i]
            risk[r, n] = s2


@njit(cache=True, nogil=True)
def regression_samples(gen, T, d, sigma, accumulate, w_star, risk):
    """The literal loop: draw X, relabel from the previous fit, refit by least squares.

    Returns False only if XᵀX is numerically singular (probability 0 for T ≥ d).
    """
    reps, n_iter = risk.shape
    X = np.empty((T, d))
    G = np.empty((d, d))
    C = np.zeros((d, d))
    w_prev = np.empty(d)
    w = np.empty(d)
    y = np.empty(T)
    b = np.empty(d)
    acc = np.empty(d)
    tmp = np.empty(d)
    for r in range(reps):
        for a in range(T):
            for i in range(d):
                X[a, i] = gen.standard_normal()
        for i in range(d):
            for j in range(d):
                s = 0.0
                for a in range(T):
                    s += X[a, i] * X[a, j]
                G[i, j] = s
        C[:, :] = G
        if not cholesky_inplace(C):
            return False
        for i in range(d):
            w_prev[i] = w_star[i]
            acc[i] = 0.0
        for n in range(n_iter):
            for a in range(T):
                s = 0.0
                for i in range(d):
                    s += X[a, i] * w_prev[i]
                y[a] = s + sigma * gen.standard_normal()
            for i in range(d):
                s = 0.0
                for a in range(T):
                    s += X[a, i] * y[a]
                b[i] = s
            if accumulate:
                for i in range(d):
                    acc[i] += b[i]
                    b[i] = acc[i] / (n + 1.0)
            # solve C Cᵀ w = b
            for i in range(d):
                s = b[i]
                for k in range(i):
                    s -= C[i, k] * tmp[k]
                tmp[i] = s / C[i, i]
            _solve_lower_transpose(C, tmp, w)
            s2 = 0.0
            for i in range(d):
                e = w[i] - w_star[i]
                s2 += e * e
                w_prev[i] = w[i]
            risk[r, n] = s2
    return True


@njit(cache=True, nogil=True)
def _chol_solve(C, b, out, tmp):
    """out = (C Cᵀ)⁻¹ b for the lower Cholesky factor C (k × k leading block of the arrays)."""
    k = b.shape[0]
    for i in range(k):
        s = b[i]
        for j in range(i):
            s -= C[i, j] * tmp[j]
        tmp[i] = s / C[i, i]
    for i in range(k - 1, -1, -1):
        s = tmp[i]
        for j in range(i + 1, k):
            s -= C[j, i] * out[j]
        out[i] = s / C[i, i]


@njit(cache=True, nogil=True)
def regression_subsample_samples(gen, T, d, sigma, risk):
    """Kazdan et al.'s accumulate-subsample loop, literally (see :func:`selfconsume.simulators.simulate_regression`).

    Per replicate, in this order: w* ~ N(0, I_d) (d normals), the design X (T·d normals, row-major),
    then per round n: the noise Eₙ of the newest label set (T normals; ŵ₀ = w*), appended to the pool
    of (design row, label) pairs; if the pool holds more than T pairs, a partial Fisher–Yates shuffle
    brings a uniform subsample of T of them to the front (T integers); the fit is the minimum-norm
    least-squares solution on the subsample (``numpy.linalg.pinv`` in the released code): with c_a
    copies of design row a and label sum s_a, the normal equations Σ c_a x_a x_aᵀ w = Σ x_a s_a when
    the subsample holds ≥ d distinct rows (full rank almost surely), else w = X_Uᵀ(X_U X_Uᵀ)⁻¹ȳ_U on
    the distinct rows U with mean labels ȳ_a = s_a/c_a (every minimiser fits ȳ_U exactly; this one has
    the least norm). Returns False only if a Gram matrix was numerically singular.
    """
    reps, n_iter = risk.shape
    cap = T * n_iter
    X = np.empty((T, d))
    w_star = np.empty(d)
    w = np.empty(d)
    prow = np.empty(cap, dtype=np.int64)
    plab = np.empty(cap)
    cnt = np.zeros(T, dtype=np.int64)
    ssum = np.zeros(T)
    rows = np.empty(T, dtype=np.int64)
    G = np.empty((max(d, T), max(d, T)))
    b = np.empty(max(d, T))
    sol = np.empty(max(d, T))
    tmp = np.empty(max(d, T))
    for r in range(reps):
        for i in range(d):
            w_star[i] = gen.standard_normal()
        for a in range(T):
            for i in range(d):
                X[a, i] = gen.standard_normal()
        for i in range(d):
            w[i] = w_star[i]
        P = 0
        for n in range(n_iter):
            for a in range(T):  # labels from the previous fit (w* in round 1) plus fresh noise
                s = 0.0
                for i in range(d):
                    s += X[a, i] * w[i]
                prow[P + a] = a
                plab[P + a] = s + sigma * gen.standard_normal()
            P += T
            if P > T:
                for j in range(T):
                    k = j + gen.integers(0, P - j)
                    t1 = prow[j]
                    prow[j] = prow[k]
                    prow[k] = t1
                    t2 = plab[j]
                    plab[j] = plab[k]
                    plab[k] = t2
            m = 0
            for j in range(T):
                a = prow[j]
                if cnt[a] == 0:
                    rows[m] = a
                    m += 1
                cnt[a] += 1
                ssum[a] += plab[j]
            if m >= d:
                for i in range(d):
                    for k2 in range(d):
                        G[i, k2] = 0.0
                    b[i] = 0.0
                for u in range(m):
                    a = rows[u]
                    c = float(cnt[a])
                    for i in range(d):
                        xi = X[a, i]
                        b[i] += xi * ssum[a]
                        for k2 in range(i + 1):
                            G[i, k2] += c * xi * X[a, k2]
                for i in range(d):
                    for k2 in range(i + 1, d):
                        G[i, k2] = G[k2, i]
                Gd = G[:d, :d]
                if not cholesky_inplace(Gd):
                    return False
                _chol_solve(Gd, b[:d], w, tmp[:d])
            else:
                for u in range(m):
                    for v in range(u + 1):
                        s = 0.0
                        for i in range(d):
                            s += X[rows[u], i] * X[rows[v], i]
                        G[u, v] = s
                        G[v, u] = s
                    b[u] = ssum[rows[u]] / cnt[rows[u]]
                Gm = G[:m, :m]
                if not cholesky_inplace(Gm):
                    return False
                _chol_solve(Gm, b[:m], sol[:m], tmp[:m])
                for i in range(d):
                    s = 0.0
                    for u in range(m):
                        s += X[rows[u], i] * sol[u]
                    w[i] = s
            for u in range(m):
                cnt[rows[u]] = 0
                ssum[rows[u]] = 0.0
            s2 = 0.0
            for i in range(d):
                e = w[i] - w_star[i]
                s2 += e * e
            risk[r, n] = s2
    return True
