"""The one statistical harness every claim and test shares.

Tolerances come from standard errors: a comparison passes when the predicted value lies in
``measured ± z·SE``, with ``z = 5`` for one comparison and the Bonferroni-adjusted quantile
for ``m`` comparisons made together (same family-wise level as a single 5-SE test,
two-sided ``2·Φ(−5) ≈ 5.7e-7``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = [
    "FAMILY_LEVEL",
    "z_bonferroni",
    "mean_se",
    "variance_se",
    "proportion_se",
    "ks_critical",
]

#: Two-sided level of a single 5-SE test; the family-wise level of every claim.
FAMILY_LEVEL = 2.0 * stats.norm.sf(5.0)


def z_bonferroni(m: int, level: float = FAMILY_LEVEL) -> float:
    """Two-sided normal quantile for ``m`` simultaneous comparisons at family level ``level``.

    ``z_bonferroni(1) == 5`` (to rounding); it grows like ``sqrt(2 log m)``.
    """
    m = max(int(m), 1)
    return float(stats.norm.isf(level / (2.0 * m)))


def mean_se(x, axis=0):
    """Sample mean and its standard error along ``axis``."""
    x = np.asarray(x, dtype=float)
    r = x.shape[axis]
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / math.sqrt(r)


def variance_se(x, axis=0):
    """Sample variance (ddof 1) and its large-sample SE, ``sqrt((m4 − s⁴)/R)``."""
    x = np.asarray(x, dtype=float)
    r = x.shape[axis]
    c = x - x.mean(axis=axis, keepdims=True)
    v = (c**2).sum(axis=axis) / (r - 1)
    m4 = (c**4).mean(axis=axis)
    return v, np.sqrt(np.maximum(m4 - v**2, 0.0) / r)


def proportion_se(k, r, p=None):
    """Binomial SE of a proportion ``k/r`` (under ``p`` when given: the test's null SE)."""
    phat = np.asarray(k, dtype=float) / r
    q = phat if p is None else np.asarray(p, dtype=float)
    return phat, np.sqrt(np.maximum(q * (1.0 - q), 0.0) / r)


def ks_critical(n1: int, n2: int, level: float) -> float:
    """Critical value of the two-sample Kolmogorov–Smirnov distance at ``level`` (asymptotic)."""
    c = math.sqrt(-0.5 * math.log(level / 2.0))
    return c * math.sqrt((n1 + n2) / (n1 * n2))
