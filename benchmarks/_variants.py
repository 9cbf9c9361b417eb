"""Variant kernels of the exact 1-D chain, for profiling ``gauss1d_exact`` against its limit.

These are measurement instruments, not part of the toolkit: each differs from
``selfconsume.simulators._gaussian_kernels.gauss1d_exact`` in one named way, so the
benchmark can attribute the kernel's cost (χ² draw, normal draw, ``exp``, ``log``, writes).

* :func:`chisquare_mt` — NumPy's χ² algorithm (2 × Marsaglia–Tsang gamma, shape > 1) with
  its two constants ``b = k/2 − 1/3``, ``c = 1/√(9b)`` computed once per kernel call instead
  of once per draw. It consumes the same uniforms and normals in the same order as
  ``gen.chisquare(k)``, so the stream is bit-identical (checked by the benchmark and tests).
  For k ≤ 2 (n ≤ 3) NumPy uses other algorithms (k = 2 is an exponential), so the kernels
  below fall back to ``gen.chisquare`` there.
* ``exact1d_hoisted`` — the shipped kernel with :func:`chisquare_mt`: bit-identical output.
* ``exact1d_sqrt`` — the shipped kernel with ``σ_t = e^{L_t}`` carried multiplicatively,
  ``σ ← σ·√(c/divisor)``, instead of one ``exp`` per step: same law, output equal up to
  rounding (``L`` bit-identical; ``M`` within a few ulp·√T).
* ``exact1d_hoisted_sqrt`` — both changes.
* ``exact1d_draws_only`` — the draws and the two writes, no ``log``/``exp``: a floor.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = [
    "chisquare_mt",
    "chisquare_mt_sum",
    "chisquare_mt_fill",
    "exact1d_hoisted",
    "exact1d_sqrt",
    "exact1d_hoisted_sqrt",
    "exact1d_draws_only",
    "VARIANTS",
]

# σ below this is flushed to 0: its contribution e^{L} z/√n to M is then < 1e-290, far below
# one ulp of M (an O(1) sum of normals), and it keeps the loop out of slow subnormal arithmetic.
_SIGMA_FLUSH = 1e-290


@njit(cache=True, nogil=True, inline="always")
def chisquare_mt(gen, b, c):
    """One χ²_k draw given ``b = k/2 − 1/3`` and ``c = 1/√(9b)`` (requires k > 2).

    Line for line NumPy's ``random_standard_gamma`` for shape > 1, times 2.
    """
    while True:
        while True:
            X = gen.standard_normal()
            V = 1.0 + c * X
            if V > 0.0:
                break
        V = V * V * V
        U = gen.random()
        if U < 1.0 - 0.0331 * (X * X) * (X * X):
            return 2.0 * (b * V)
        if math.log(U) < 0.5 * X * X + b * (1.0 - V + math.log(V)):
            return 2.0 * (b * V)


@njit(cache=True, nogil=True)
def chisquare_mt_sum(gen, k, count):
    """Sum of ``count`` χ²_k draws via :func:`chisquare_mt` (cf. ``_limits.chisquare_sum``)."""
    b = k / 2.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * b)
    s = 0.0
    for _ in range(count):
        s += chisquare_mt(gen, b, c)
    return s


@njit(cache=True, nogil=True)
def chisquare_mt_fill(gen, k, out):
    """Fill ``out`` with χ²_k draws via :func:`chisquare_mt` (stream check against NumPy)."""
    b = k / 2.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * b)
    for i in range(out.size):
        out[i] = chisquare_mt(gen, b, c)


@njit(cache=True, nogil=True)
def exact1d_hoisted(gen, n, divisor, L, M):
    reps, T1 = L.shape
    k = n - 1.0
    use_mt = k > 2.0
    b = k / 2.0 - 1.0 / 3.0
    cc = 1.0 / math.sqrt(9.0 * b) if use_mt else 1.0
    inv_sqrt_n = 1.0 / math.sqrt(n)
    log_div = math.log(divisor)
    for r in range(reps):
        lt = 0.0
        mt = 0.0
        L[r, 0] = 0.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            z = gen.standard_normal()
            mt += math.exp(lt) * z * inv_sqrt_n
            c = chisquare_mt(gen, b, cc) if use_mt else gen.chisquare(k)
            lt += 0.5 * (math.log(c) - log_div)
            L[r, t] = lt
            M[r, t] = mt


@njit(cache=True, nogil=True)
def exact1d_sqrt(gen, n, divisor, L, M):
    reps, T1 = L.shape
    k = n - 1.0
    inv_sqrt_n = 1.0 / math.sqrt(n)
    inv_div = 1.0 / divisor
    log_div = math.log(divisor)
    for r in range(reps):
        lt = 0.0
        mt = 0.0
        sd = 1.0
        L[r, 0] = 0.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            z = gen.standard_normal()
            mt += sd * z * inv_sqrt_n
            c = gen.chisquare(k)
            lt += 0.5 * (math.log(c) - log_div)
            sd *= math.sqrt(c * inv_div)
            if sd < _SIGMA_FLUSH:
                sd = 0.0
            L[r, t] = lt
            M[r, t] = mt


@njit(cache=True, nogil=True)
def exact1d_hoisted_sqrt(gen, n, divisor, L, M):
    reps, T1 = L.shape
    k = n - 1.0
    use_mt = k > 2.0
    b = k / 2.0 - 1.0 / 3.0
    cc = 1.0 / math.sqrt(9.0 * b) if use_mt else 1.0
    inv_sqrt_n = 1.0 / math.sqrt(n)
    inv_div = 1.0 / divisor
    log_div = math.log(divisor)
    for r in range(reps):
        lt = 0.0
        mt = 0.0
        sd = 1.0
        L[r, 0] = 0.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            z = gen.standard_normal()
            mt += sd * z * inv_sqrt_n
            c = chisquare_mt(gen, b, cc) if use_mt else gen.chisquare(k)
            lt += 0.5 * (math.log(c) - log_div)
            sd *= math.sqrt(c * inv_div)
            if sd < _SIGMA_FLUSH:
                sd = 0.0
            L[r, t] = lt
            M[r, t] = mt


@njit(cache=True, nogil=True)
def exact1d_draws_only(gen, n, divisor, L, M):
    reps, T1 = L.shape
    k = n - 1.0
    for r in range(reps):
        lt = 0.0
        mt = 0.0
        L[r, 0] = 0.0
        M[r, 0] = 0.0
        for t in range(1, T1):
            mt += gen.standard_normal()
            lt += gen.chisquare(k)
            L[r, t] = lt
            M[r, t] = mt


#: name -> (kernel, description, output relation to the shipped kernel)
VARIANTS = {
    "hoisted χ² constants": (exact1d_hoisted, "b, c of Marsaglia–Tsang computed once per call", "bit-identical"),
    "σ by √ (no exp)": (exact1d_sqrt, "σ ← σ·√(c/divisor) replaces exp(L) per step", "same law, rounding-level"),
    "hoisted + σ by √": (exact1d_hoisted_sqrt, "both changes", "same law, rounding-level"),
    "draws + writes only": (exact1d_draws_only, "no log/exp: floor for any exact kernel", "not a chain"),
}
