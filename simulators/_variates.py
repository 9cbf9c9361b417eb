"""Random variates for the kernels, faster than Numba's but bit-identical to NumPy's stream.

Numba's ``Generator.chisquare(k)`` recomputes the two Marsaglia–Tsang constants on every
draw. A chain draws millions of χ²_k with the same k, so :func:`chisquare_mt` takes them
precomputed (:func:`chisquare_consts`): the same algorithm as NumPy's
``random_standard_gamma`` for shape > 1 (line for line, times 2), consuming the same normals
and uniforms in the same order, hence the same stream as ``Generator.chisquare``
(tests/simulators/test_variates.py). For k ≤ 2 NumPy uses other algorithms, so
:func:`chisquare` falls back to ``gen.chisquare`` there.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["chisquare_consts", "chisquare_mt", "chisquare"]


@njit(cache=True, nogil=True, inline="always")
def chisquare_consts(k):
    """``(b, c) = (k/2 − 1/3, 1/√(9b))``; meaningful for k > 2 only."""
    b = k / 2.0 - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * b) if b > 0.0 else 0.0
    return b, c


@njit(cache=True, nogil=True, inline="always")
def chisquare_mt(gen, b, c):
    """One χ²_k draw (k > 2) given :func:`chisquare_consts`; NumPy's algorithm."""
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


@njit(cache=True, nogil=True, inline="always")
def chisquare(gen, k, b, c):
    """χ²_k draw, same stream as ``gen.chisquare(k)``, fast when k > 2."""
    if k > 2.0:
        return chisquare_mt(gen, b, c)
    return gen.chisquare(k)
