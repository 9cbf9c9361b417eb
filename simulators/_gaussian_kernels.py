"""Numba kernels of the Gaussian retraining chain (pure: arrays in, arrays out).

All kernels work in *standardised units*: they return ``L_t = log(σ_t/σ_0)`` (or, for
``dim > 1``, a log-scale ``s_t`` and a normalised Cholesky factor) and
``M_t = (μ_t − μ_0)/σ_0``. The front function maps back with one multiplication and
one addition, so ``σ_0`` scales every σ path and ``μ_0`` shifts every μ path
bit-exactly under the same seed, and log σ never underflows even when σ does.

Random draws per chain step, in this order (the NumPy reference in the tests follows it):

* 1-D exact: ``z ~ N(0,1)`` then ``c ~ χ²_{n−1}`` (NumPy's χ² stream, see ``_variates``);
  ``M += e^{L} z/√n``, ``L += ½ log(c/divisor)``. The front function runs these steps as a
  split pipeline per block — draws (compiled), ``np.log`` (vectorised), a compiled
  half-cumulative sum, ``np.exp`` (vectorised; σ is an output anyway), a compiled mean
  walk — about 1.4× faster than one compiled loop whose scalar ``log``/``exp`` dominate.
* 1-D samples: ``n`` standard normals ``z_i``; ``M += e^{L} z̄``,
  ``L += ½ log(Σ(z_i − z̄)²/divisor)``.
* d-D exact (Bartlett): ``z ~ N(0, I_d)``; then for ``i = 0..d−1``: ``B_ii = sqrt(χ²_{n−1−i})``
  followed by ``B_ij ~ N(0,1)`` for ``j < i``; ``M += e^{s} C z/√n``, ``C ← C B/√divisor``.

For d > 1 the Cholesky factor is kept as ``e^{s}·C`` with ``max|C| = 1`` (no overflow or
underflow of the scale), and ``log det Σ_t`` is accumulated from the diagonal factors
(``det C_{t+1} = det C_t · Π B_ii / divisor^{d/2}``), so it stays exact and finite even
when Σ_t becomes so ill-conditioned that its small directions underflow in ``C``.
* d-D samples: ``n×d`` standard normals (row-major); ``M += e^{s} C z̄``,
  ``C ← C chol(S/divisor)`` with ``S`` the scatter matrix.

When n ≤ d the fitted covariance is singular from generation 1 on (rank n − 1): the exact
chain then runs in orthonormal coordinates of generation 1's affine span, where it is the
(n − 1)-dimensional Bartlett chain (:func:`gaussnd_exact_lowrank`), and the literal loop keeps
Σ as a d × n factor, the centred points themselves (:func:`gaussnd_samples_lowrank`); both
record log det Σ_t = −inf.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import cholesky_inplace
from ._variates import chisquare, chisquare_consts

__all__ = [
    "gauss1d_exact_draws",
    "half_cumsum_rows",
    "finish_rows",
    "gauss1d_samples",
    "gaussnd_exact",
    "gaussnd_samples",
    "gaussnd_exact_lowrank",
    "gaussnd_samples_lowrank",
]


@njit(cache=True, nogil=True)
def gauss1d_exact_draws(gen, n, divisor, L, M):
    """Exact 1-D chain, split pipeline step 1: the draws only. ``M[r, t] = z``,
    ``L[r, t] = c/divisor`` (column 0: ``L = 1``, log 1 = 0, and ``M = 0``).

    The pipeline (``simulators._gaussian.chain_1d_block``) then takes ``np.log``, the half
    cumulative sum (:func:`half_cumsum_rows`), ``np.exp`` and the mean walk fused with the
    output map (:func:`finish_rows`); it is about 1.4× faster than one compiled loop whose
    scalar ``log``/``exp`` dominate.
    """
    reps, T1 = L.shape
    k = n - 1.0
    b, cc = chisquare_consts(k)
    inv_div = 1.0 / divisor
    for r in range(reps):
        L[r, 0] = 1.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            M[r, t] = gen.standard_normal()
            L[r, t] = chisquare(gen, k, b, cc) * inv_div


@njit(cache=True, nogil=True)
def half_cumsum_rows(L):
    """Split pipeline, step 3 (after ``np.log``): ``L[r, t] ← ½ Σ_{s≤t} L[r, s]``."""
    reps, T1 = L.shape
    for r in range(reps):
        acc = 0.0
        for t in range(T1):
            acc += 0.5 * L[r, t]
            L[r, t] = acc


@njit(cache=True, nogil=True)
def finish_rows(L, M, S, walk, inv_sqrt_n, mu0, sigma0, log_s0):
    """Last step of a 1-D block (after ``S = np.exp(L)``), in one pass per row.

    If ``walk``: the exact pipeline's mean walk, ``M[r, t] ← Σ_{s<t} S[r, s] z_{s+1}/√n``,
    reading the normals ``z`` that :func:`gauss1d_exact_draws` stored in ``M``. Then the map
    from standardised units: ``σ = σ0·S``, ``log σ = L + log σ0``, ``μ = μ0 + σ0·M`` (one
    rounding each, so σ0 scales and μ0 shifts every path bit-exactly).
    """
    reps, T1 = M.shape
    for r in range(reps):
        acc = 0.0
        s_prev = 0.0
        for t in range(T1):
            if walk:
                if t > 0:
                    acc += s_prev * M[r, t] * inv_sqrt_n
            else:
                acc = M[r, t]
            s_prev = S[r, t]
            S[r, t] = s_prev * sigma0
            L[r, t] = L[r, t] + log_s0
            M[r, t] = acc * sigma0 + mu0


@njit(cache=True, nogil=True)
def gauss1d_samples(gen, n, divisor, L, M, bias=1.0):
    """The papers' loop, literally: draw n points from the fit, refit (mean, ddof var).

    With a sampling bias b the points are drawn from N(μ_t, b σ_t²): ``μ + √b σ z``."""
    reps, T1 = L.shape
    buf = np.empty(n)
    log_div = math.log(divisor) - math.log(bias)
    sb = math.sqrt(bias)
    for r in range(reps):
        lt = 0.0
        mt = 0.0
        L[r, 0] = 0.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            s = 0.0
            for i in range(n):
                zi = gen.standard_normal()
                buf[i] = zi
                s += zi
            zbar = s / n
            ss = 0.0
            for i in range(n):
                d = buf[i] - zbar
                ss += d * d
            mt += math.exp(lt) * sb * zbar
            lt += 0.5 * (math.log(ss) - log_div)
            L[r, t] = lt
            M[r, t] = mt


@njit(cache=True, nogil=True)
def _renormalise(C):
    """Divide the lower-triangular C by its largest |entry|; return the log of that factor."""
    d = C.shape[0]
    mx = 0.0
    for i in range(d):
        for j in range(i + 1):
            a = abs(C[i, j])
            if a > mx:
                mx = a
    if mx == 0.0 or not math.isfinite(mx):
        return 0.0
    inv = 1.0 / mx
    for i in range(d):
        for j in range(i + 1):
            C[i, j] *= inv
    return math.log(mx)


@njit(cache=True, nogil=True)
def _tri_mult_inplace(C, B, tmp, scale):
    """C ← scale · C B for lower-triangular C, B (tmp: scratch d×d)."""
    d = C.shape[0]
    for i in range(d):
        for j in range(i + 1):
            acc = 0.0
            for k in range(j, i + 1):
                acc += C[i, k] * B[k, j]
            tmp[i, j] = acc * scale
    for i in range(d):
        for j in range(i + 1):
            C[i, j] = tmp[i, j]


@njit(cache=True, nogil=True)
def _record(C, s, half_logdet, t, r, logdet, trace, cov, want_cov):
    d = C.shape[0]
    fro = 0.0
    for i in range(d):
        for j in range(i + 1):
            fro += C[i, j] * C[i, j]
    logdet[r, t] = 2.0 * half_logdet
    trace[r, t] = math.exp(2.0 * s) * fro
    if want_cov:
        e2s = math.exp(2.0 * s)
        for i in range(d):
            for j in range(i + 1):
                acc = 0.0
                for k in range(j + 1):
                    acc += C[i, k] * C[j, k]
                cov[r, t, i, j] = acc * e2s
                cov[r, t, j, i] = acc * e2s


@njit(cache=True, nogil=True)
def _start_path(C, C0, s0, hld0, M, r, logdet, trace, cov, want_cov):
    """Path r starts at Σ_0 = e^{2 s0} C0 C0ᵀ (C0 lower triangular with max|C0| = 1; the identity
    and s0 = 0 in standardised units), ½ log det Σ_0 = ``hld0``, μ_0 = 0; returns (s, ½ log det)."""
    d = C.shape[0]
    for i in range(d):
        for j in range(d):
            C[i, j] = C0[i, j]
        M[r, 0, i] = 0.0
    _record(C, s0, hld0, 0, r, logdet, trace, cov, want_cov)
    return s0, hld0


@njit(cache=True, nogil=True)
def _bartlett_step(gen, n, s, hld, log_div, C, B, tmp, z, M, r, t, inv_sqrt_n, scale, bs, cs):
    """One generation of the d-dimensional exact chain, in place (d = C's size): the mean step
    μ_t = μ_{t−1} + e^s C z/√n, then C ← C·B/√divisor with B the Bartlett factor of W_d(I, n − 1),
    renormalised. Returns the new log scale s and ½ log det accumulated from ``hld``."""
    d = C.shape[0]
    for i in range(d):
        z[i] = gen.standard_normal()
    es = math.exp(s) * inv_sqrt_n
    for i in range(d):
        acc = 0.0
        for k in range(i + 1):
            acc += C[i, k] * z[k]
        M[r, t, i] = M[r, t - 1, i] + es * acc
    for i in range(d):
        c = chisquare(gen, n - 1.0 - i, bs[i], cs[i])
        B[i, i] = math.sqrt(c)
        hld += 0.5 * (math.log(c) - log_div)
        for j in range(i):
            B[i, j] = gen.standard_normal()
    _tri_mult_inplace(C, B, tmp, scale)
    return s + _renormalise(C), hld


@njit(cache=True, nogil=True)
def gaussnd_exact(gen, n, divisor, M, logdet, trace, cov, want_cov, bias, C0, s0, hld0):
    """Exact-in-law d-D chain through the Bartlett decomposition of W_d(I, n−1).

    ``M``: (reps, T+1, d); ``logdet``, ``trace``: (reps, T+1); ``cov``: (reps, T+1, d, d) or a
    dummy when ``want_cov`` is false. μ_0 = 0 and Σ_0 = e^{2 s0} C0 C0ᵀ (:func:`_start_path`;
    standardised units: C0 = I). With a sampling bias b each generation's points come from
    N(μ_t, b Σ_t): the mean step and the factor are scaled by √b, log det gains d log b.
    """
    reps, T1, d = M.shape
    C = np.zeros((d, d))
    B = np.zeros((d, d))
    tmp = np.zeros((d, d))
    z = np.empty(d)
    sb = math.sqrt(bias)
    inv_sqrt_n = 1.0 / math.sqrt(n) * sb
    scale = 1.0 / math.sqrt(divisor) * sb
    log_div = math.log(divisor) - math.log(bias)
    bs = np.empty(d)
    cs = np.empty(d)
    for i in range(d):
        bs[i], cs[i] = chisquare_consts(n - 1.0 - i)
    for r in range(reps):
        s, hld = _start_path(C, C0, s0, hld0, M, r, logdet, trace, cov, want_cov)
        for t in range(1, T1):
            s, hld = _bartlett_step(gen, n, s, hld, log_div, C, B, tmp, z, M, r, t, inv_sqrt_n, scale, bs, cs)
            _record(C, s, hld, t, r, logdet, trace, cov, want_cov)


@njit(cache=True, nogil=True)
def gaussnd_samples(gen, n, divisor, M, logdet, trace, cov, want_cov, bias, C0, s0, hld0):
    """The papers' d-D loop literally: n points from N(μ, b Σ), refit mean and covariance.

    Points are drawn as ``μ + √b C z`` with ``z ~ N(0, I)`` (b the sampling bias, 1 by
    default); the refit covariance is ``b C (S_z/divisor) Cᵀ``, whose Cholesky factor is
    ``√b C chol(S_z/divisor)``. Σ_0 and μ_0 as in :func:`gaussnd_exact`. Returns
    False (and leaves the rest of the block unwritten) only if a scatter matrix is
    numerically singular, which has probability 0 for n > d.
    """
    reps, T1, d = M.shape
    C = np.zeros((d, d))
    S = np.zeros((d, d))
    tmp = np.zeros((d, d))
    Z = np.empty((n, d))
    zbar = np.empty(d)
    inv_div = 1.0 / divisor
    sb = math.sqrt(bias)
    half_log_b = 0.5 * math.log(bias)
    for r in range(reps):
        s, hld = _start_path(C, C0, s0, hld0, M, r, logdet, trace, cov, want_cov)
        for t in range(1, T1):
            for i in range(d):
                zbar[i] = 0.0
            for a in range(n):
                for i in range(d):
                    v = gen.standard_normal()
                    Z[a, i] = v
                    zbar[i] += v
            for i in range(d):
                zbar[i] /= n
            for i in range(d):
                for j in range(i + 1):
                    S[i, j] = 0.0
            for a in range(n):
                for i in range(d):
                    di = Z[a, i] - zbar[i]
                    for j in range(i + 1):
                        S[i, j] += di * (Z[a, j] - zbar[j])
            for i in range(d):
                for j in range(i + 1):
                    S[i, j] *= inv_div
                    S[j, i] = S[i, j]
            es = math.exp(s) * sb
            for i in range(d):
                acc = 0.0
                for k in range(i + 1):
                    acc += C[i, k] * zbar[k]
                M[r, t, i] = M[r, t - 1, i] + es * acc
            if not cholesky_inplace(S):
                return False
            for i in range(d):
                hld += math.log(S[i, i]) + half_log_b
            _tri_mult_inplace(C, S, tmp, sb)
            s += _renormalise(C)
            _record(C, s, hld, t, r, logdet, trace, cov, want_cov)
    return True


@njit(cache=True, nogil=True)
def gaussnd_exact_lowrank(gen, n, divisor, C1, M, logdet, trace, cov, want_cov, bias):
    """Exact-in-law chain from generation 1 on when n ≤ d, in the (n − 1)-dimensional span.

    The fit to n points is singular (rank r = n − 1 < d), and every later generation's points
    lie in the affine span of generation 1's: in orthonormal coordinates of that span the chain
    is the r-dimensional Bartlett chain with n − 1 ≥ r degrees of freedom, non-singular there.
    ``C1`` (reps, r, r): the lower Cholesky factor of Σ_1 in those coordinates (the front
    function draws it, with the coordinates, from the generation-1 sample). Writes, for
    t ≥ 1, ``M`` (reps, T+1, r): μ_t − μ_1 in the span's coordinates, ``logdet`` (reps, T+1):
    −inf (Σ_t is singular in d dimensions), ``trace`` (reps, T+1): tr Σ_t, and ``cov``
    (reps, T+1, r, r) if ``want_cov``; column 0 is the front function's.
    Draws per step as :func:`gaussnd_exact` (z, then the Bartlett factor of W_r(I, n − 1)), with
    the sampling bias b scaling the mean step and the factor by √b.
    """
    reps, T1, r = M.shape
    C = np.zeros((r, r))
    B = np.zeros((r, r))
    tmp = np.zeros((r, r))
    z = np.empty(r)
    sb = math.sqrt(bias)
    inv_sqrt_n = 1.0 / math.sqrt(n) * sb
    scale = 1.0 / math.sqrt(divisor) * sb
    bs = np.empty(r)
    cs = np.empty(r)
    for i in range(r):
        bs[i], cs[i] = chisquare_consts(n - 1.0 - i)
    for rep in range(reps):
        if T1 < 2:
            continue
        for i in range(r):
            for j in range(r):
                C[i, j] = C1[rep, i, j] if j <= i else 0.0
            M[rep, 1, i] = 0.0
        s = _renormalise(C)
        _record(C, s, 0.0, 1, rep, logdet, trace, cov, want_cov)
        logdet[rep, 1] = -math.inf
        for t in range(2, T1):
            s, _ = _bartlett_step(gen, n, s, 0.0, 0.0, C, B, tmp, z, M, rep, t, inv_sqrt_n, scale, bs, cs)
            _record(C, s, 0.0, t, rep, logdet, trace, cov, want_cov)
            logdet[rep, t] = -math.inf


@njit(cache=True, nogil=True)
def gaussnd_samples_lowrank(gen, n, divisor, M, logdet, trace, cov, want_cov, bias, C0, s0):
    """The papers' d-D loop literally when n ≤ d: n points from N(μ, Σ), refit mean and covariance.

    The fitted covariance is singular (rank ≤ n − 1 < d), so it is kept as Σ = e^{2s} F Fᵀ with
    F the d × n matrix of the centred points over √divisor — the refit itself, no decomposition.
    Points are drawn as ``μ + e^{s} F z``, z ~ N(0, I) with one coordinate per column of F
    (d at generation 0, where F = I; n after), ``n×cols`` standard normals row-major.
    log det Σ_t = −inf for t ≥ 1. Generation 0 is Σ_0 = e^{2 s0} C0 C0ᵀ (F = C0 then); with a
    sampling bias b the points are ``μ + √b e^{s} F z``.
    """
    reps, T1, d = M.shape
    W = max(d, n)
    F = np.zeros((d, W))
    Fn = np.zeros((d, n))
    Z = np.empty((n, W))
    zbar = np.empty(W)
    sb = math.sqrt(bias)
    scale = 1.0 / math.sqrt(divisor) * sb
    e2s0 = math.exp(2.0 * s0)
    for r in range(reps):
        F[:, :] = 0.0
        tr0 = 0.0
        ld0 = 0.0
        for i in range(d):
            for j in range(d):
                F[i, j] = C0[i, j]
                tr0 += C0[i, j] * C0[i, j]
            ld0 += 2.0 * (math.log(C0[i, i]) + s0)
            M[r, 0, i] = 0.0
        cols = d
        s = s0
        logdet[r, 0] = ld0
        trace[r, 0] = tr0 * e2s0
        if want_cov:
            for i in range(d):
                for j in range(d):
                    acc = 0.0
                    for q in range(d):
                        acc += C0[i, q] * C0[j, q]
                    cov[r, 0, i, j] = acc * e2s0
        for t in range(1, T1):
            for q in range(cols):
                zbar[q] = 0.0
            for a in range(n):
                for q in range(cols):
                    v = gen.standard_normal()
                    Z[a, q] = v
                    zbar[q] += v
            for q in range(cols):
                zbar[q] /= n
            es = math.exp(s) * sb
            for i in range(d):
                acc = 0.0
                for q in range(cols):
                    acc += F[i, q] * zbar[q]
                M[r, t, i] = M[r, t - 1, i] + es * acc
            for i in range(d):
                for a in range(n):
                    acc = 0.0
                    for q in range(cols):
                        acc += F[i, q] * (Z[a, q] - zbar[q])
                    Fn[i, a] = acc * scale
            mx = 0.0
            for i in range(d):
                for a in range(n):
                    F[i, a] = Fn[i, a]
                    if abs(Fn[i, a]) > mx:
                        mx = abs(Fn[i, a])
                for a in range(n, W):
                    F[i, a] = 0.0
            cols = n
            if mx > 0.0 and math.isfinite(mx):  # keep max|F| = 1, the scale in s (no underflow)
                inv = 1.0 / mx
                for i in range(d):
                    for a in range(n):
                        F[i, a] *= inv
                s += math.log(mx)
            e2s = math.exp(2.0 * s)
            fro = 0.0
            for i in range(d):
                for a in range(n):
                    fro += F[i, a] * F[i, a]
            logdet[r, t] = -math.inf
            trace[r, t] = e2s * fro
            if want_cov:
                for i in range(d):
                    for j in range(i + 1):
                        acc = 0.0
                        for a in range(n):
                            acc += F[i, a] * F[j, a]
                        cov[r, t, i, j] = acc * e2s
                        cov[r, t, j, i] = acc * e2s
