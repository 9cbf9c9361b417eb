r"""Numba kernels of :class:`~selfconsume.simulators.MixtureLearner`: EM for a Gaussian mixture
with full covariances, and its log-joint (pure: arrays in, arrays out; ``nogil`` so that
:func:`~selfconsume.simulators.retrain`'s replicate threads run in parallel).

One EM iteration is one pass over the points: for every point and component,
:math:`y=L_k^{-1}(x-m_k)` by forward substitution,
:math:`\ell_{ik}=\log w_k-\tfrac12\|y\|^2-\log|L_k|-\tfrac d2\log2\pi`, the row's log-sum-exp (the
mean of which is the log-likelihood the stopping rule watches), the responsibilities
:math:`\gamma_{ik}=e^{\ell_{ik}-\mathrm{lse}_i}`, and the M-step's sums :math:`N_k`,
:math:`u_k=\sum_i\gamma_{ik}(x_i-a_k)` and :math:`\sum_i\gamma_{ik}(x_i-a_k)(x_i-a_k)^\top` about
the previous means :math:`a_k`. Then :math:`w_k=N_k/n`, :math:`m_k=\sum_i\gamma_{ik}x_i/N_k`,
the scatter about :math:`m_k` by the exact shift correction (no cancellation: :math:`a_k` is
close to :math:`m_k`), :math:`+\epsilon I`, and its Cholesky factor.

This is scikit-learn's ``GaussianMixture`` iteration (``covariance_type="full"``, the same
``10·eps`` added to :math:`N_k`, the same ``reg_covar``, the same stopping rule: stop when the
mean log-likelihood of the E-step changes by less than ``tol``); the tests compare the two
from the same start.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import cholesky_inplace

__all__ = ["em_fit", "mixture_log_joint", "lloyd"]

_EPS10 = 10.0 * np.finfo(np.float64).eps
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def mixture_log_joint(X, weights, means, chol, out):
    """``out[i, k] = log w_k + log N(x_i; m_k, L_k L_kᵀ)``; returns the mean over i of the rows' log-sum-exp."""
    n, d = X.shape
    k = weights.shape[0]
    const = np.empty(k)
    for c in range(k):
        ld = 0.0
        for j in range(d):
            ld += math.log(chol[c, j, j])
        const[c] = math.log(weights[c]) - ld - d * _HALF_LOG_2PI
    y = np.empty(d)
    total = 0.0
    for i in range(n):
        mx = -np.inf
        for c in range(k):
            q = 0.0
            for j in range(d):
                s = X[i, j] - means[c, j]
                for p in range(j):
                    s -= chol[c, j, p] * y[p]
                y[j] = s / chol[c, j, j]
                q += y[j] * y[j]
            v = const[c] - 0.5 * q
            out[i, c] = v
            if v > mx:
                mx = v
        s = 0.0
        for c in range(k):
            s += math.exp(out[i, c] - mx)
        total += mx + math.log(s)
    return total / n


@njit(cache=True, nogil=True)
def _finish_m_step(n, weights, means, chol, reg_covar, covs, shift, u, sxx, nk):
    """Weights, means and covariances from the sums about ``shift`` (lower triangle of ``sxx``);
    False if a covariance is not positive definite."""
    k, d = means.shape
    ok = True
    b = np.empty(d)
    for c in range(k):
        N = nk[c]
        ne = N + _EPS10
        weights[c] = ne / n
        for j in range(d):  # m = Σγx / (N + 10 eps) = a + b
            b[j] = (u[c, j] - shift[c, j] * _EPS10) / ne
            means[c, j] = shift[c, j] + b[j]
        for j in range(d):
            for p in range(j + 1):
                val = (sxx[c, j, p] - b[j] * u[c, p] - u[c, j] * b[p] + N * b[j] * b[p]) / ne
                covs[c, j, p] = val
                covs[c, p, j] = val
            covs[c, j, j] += reg_covar
        chol[c, :, :] = covs[c]
        if not cholesky_inplace(chol[c]):
            ok = False
    return ok


@njit(cache=True, nogil=True)
def _em_iteration(X, weights, means, chol, reg_covar, covs, shift, u, sxx, nk, diff, y, v):
    """One EM iteration in one pass over the points (E-step and the M-step's sums); returns
    (mean log-likelihood of the E-step, covariances positive definite).

    The scatter is accumulated about ``shift`` (the means before the step) and corrected
    exactly afterwards: Σγ(x−m)(x−m)ᵀ = Σγ(x−a)(x−a)ᵀ − b uᵀ − u bᵀ + N b bᵀ with
    u = Σγ(x−a), b = m − a. Warm-started, a is within a fraction of σ of m: no cancellation."""
    n, d = X.shape
    k = weights.shape[0]
    const = np.empty(k)
    invd = np.empty((k, d))
    for c in range(k):
        ld = 0.0
        for j in range(d):
            ld += math.log(chol[c, j, j])
            invd[c, j] = 1.0 / chol[c, j, j]
        const[c] = math.log(weights[c]) - ld - d * _HALF_LOG_2PI
        for j in range(d):
            shift[c, j] = means[c, j]
    nk[:] = 0.0
    u[:, :] = 0.0
    sxx[:, :, :] = 0.0
    total = 0.0
    for i in range(n):
        mx = -np.inf
        for c in range(k):
            q = 0.0
            for j in range(d):
                t = X[i, j] - means[c, j]
                for p in range(j):
                    t -= chol[c, j, p] * y[p]
                t *= invd[c, j]
                y[j] = t
                q += t * t
            vc = const[c] - 0.5 * q
            v[c] = vc
            if vc > mx:
                mx = vc
        s = 0.0
        for c in range(k):
            e = math.exp(v[c] - mx)
            v[c] = e
            s += e
        total += mx + math.log(s)
        inv = 1.0 / s
        for c in range(k):
            g = v[c] * inv
            nk[c] += g
            for j in range(d):
                diff[j] = X[i, j] - shift[c, j]
            for j in range(d):
                gj = g * diff[j]
                u[c, j] += gj
                for p in range(j + 1):
                    sxx[c, j, p] += gj * diff[p]
    return total / n, _finish_m_step(n, weights, means, chol, reg_covar, covs, shift, u, sxx, nk)


@njit(cache=True, nogil=True)
def _em_iteration_2d(X, weights, means, chol, reg_covar, covs, shift, u, sxx, nk, v):
    """:func:`_em_iteration` written out for d = 2 (the papers' planar experiments): the same
    arithmetic on scalars, about twice as fast as the loops over a run-time d."""
    n = X.shape[0]
    k = weights.shape[0]
    const = np.empty(k)
    i00 = np.empty(k)
    i11 = np.empty(k)
    for c in range(k):
        const[c] = math.log(weights[c]) - (math.log(chol[c, 0, 0]) + math.log(chol[c, 1, 1])) - 2 * _HALF_LOG_2PI
        i00[c] = 1.0 / chol[c, 0, 0]
        i11[c] = 1.0 / chol[c, 1, 1]
        shift[c, 0] = means[c, 0]
        shift[c, 1] = means[c, 1]
    nk[:] = 0.0
    u[:, :] = 0.0
    sxx[:, :, :] = 0.0
    total = 0.0
    for i in range(n):
        x0 = X[i, 0]
        x1 = X[i, 1]
        mx = -np.inf
        for c in range(k):
            y0 = (x0 - means[c, 0]) * i00[c]
            y1 = (x1 - means[c, 1] - chol[c, 1, 0] * y0) * i11[c]
            vc = const[c] - 0.5 * (y0 * y0 + y1 * y1)
            v[c] = vc
            if vc > mx:
                mx = vc
        s = 0.0
        for c in range(k):
            e = math.exp(v[c] - mx)
            v[c] = e
            s += e
        total += mx + math.log(s)
        inv = 1.0 / s
        for c in range(k):
            g = v[c] * inv
            nk[c] += g
            d0 = x0 - shift[c, 0]
            d1 = x1 - shift[c, 1]
            g0 = g * d0
            g1 = g * d1
            u[c, 0] += g0
            u[c, 1] += g1
            sxx[c, 0, 0] += g0 * d0
            sxx[c, 1, 0] += g1 * d0
            sxx[c, 1, 1] += g1 * d1
    return total / n, _finish_m_step(X.shape[0], weights, means, chol, reg_covar, covs, shift, u, sxx, nk)


def em_fit(X, weights, means, covs, chol, max_iter, tol, reg_covar):
    """EM in place from ``(weights, means, chol)``; returns (iterations, converged, last mean log-lik, ok).

    ``ok`` is False when a covariance stopped being positive definite (the caller raises, as
    scikit-learn does: lower ``components`` or raise ``reg_covar``). Dispatches in Python to the
    planar or the general compiled loop, so a run compiles only the one it uses."""
    fit = _em_fit_2d if X.shape[1] == 2 else _em_fit_nd
    return fit(X, weights, means, covs, chol, max_iter, tol, reg_covar)


@njit(cache=True, nogil=True)
def _em_fit_2d(X, weights, means, covs, chol, max_iter, tol, reg_covar):
    k = weights.shape[0]
    shift, u, sxx, nk, v = np.empty((k, 2)), np.empty((k, 2)), np.empty((k, 2, 2)), np.empty(k), np.empty(k)
    prev = -np.inf
    ll = -np.inf
    for it in range(1, max_iter + 1):
        ll, ok = _em_iteration_2d(X, weights, means, chol, reg_covar, covs, shift, u, sxx, nk, v)
        if not ok:
            return it, False, ll, False
        if abs(ll - prev) < tol:
            return it, True, ll, True
        prev = ll
    return max_iter, False, ll, True


@njit(cache=True, nogil=True)
def _em_fit_nd(X, weights, means, covs, chol, max_iter, tol, reg_covar):
    k = weights.shape[0]
    d = X.shape[1]
    shift, u, sxx, nk = np.empty((k, d)), np.empty((k, d)), np.empty((k, d, d)), np.empty(k)
    diff, y, v = np.empty(d), np.empty(d), np.empty(k)
    prev = -np.inf
    ll = -np.inf
    for it in range(1, max_iter + 1):
        ll, ok = _em_iteration(X, weights, means, chol, reg_covar, covs, shift, u, sxx, nk, diff, y, v)
        if not ok:
            return it, False, ll, False
        if abs(ll - prev) < tol:
            return it, True, ll, True
        prev = ll
    return max_iter, False, ll, True


@njit(cache=True, nogil=True)
def _assign(X, C, labels):
    """Nearest centre (first on ties) into ``labels``; True if any label changed."""
    n, d = X.shape
    k = C.shape[0]
    changed = False
    for i in range(n):
        best = 0
        bd = np.inf
        for c in range(k):
            s = 0.0
            for j in range(d):
                t = X[i, j] - C[c, j]
                s += t * t
            if s < bd:
                bd = s
                best = c
        if labels[i] != best:
            changed = True
            labels[i] = best
    return changed


@njit(cache=True, nogil=True)
def lloyd(X, C, max_iter, labels):
    """k-means (Lloyd) steps from centres ``C`` (updated in place); ``labels`` gets the final
    nearest-centre assignment. An empty cluster keeps its centre. Returns the steps taken."""
    n, d = X.shape
    k = C.shape[0]
    sums = np.empty((k, d))
    counts = np.empty(k)
    labels[:] = -1
    _assign(X, C, labels)
    steps = 0
    for _ in range(max_iter):
        sums[:, :] = 0.0
        counts[:] = 0.0
        for i in range(n):
            c = labels[i]
            counts[c] += 1.0
            for j in range(d):
                sums[c, j] += X[i, j]
        for c in range(k):
            if counts[c] > 0:
                for j in range(d):
                    C[c, j] = sums[c, j] / counts[c]
        steps += 1
        if not _assign(X, C, labels):
            break
    return steps
