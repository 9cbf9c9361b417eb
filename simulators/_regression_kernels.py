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
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import cholesky_inplace

__all__ = ["regression_exact", "regression_samples"]


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
