"""The one statistical harness every claim and test shares.

Tolerances come from standard errors: a comparison passes when the predicted value lies in
``measured ± z·SE``, with ``z = 5`` for one comparison and the Bonferroni-adjusted quantile
for ``m`` comparisons made together (same family-wise level as a single 5-SE test,
two-sided ``2·Φ(−5) ≈ 5.7e-7``).

Every helper validates its input: a size below its minimum, a level outside (0, 1), a count
outside ``[0, r]`` or a non-finite sample raises ``ValueError``/``TypeError`` naming the
parameter, never a silent NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from selfconsume._validation import check_finite_array, check_int, check_int_array, check_real

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
    m = check_int("m", m, min_value=1)
    level = _check_level(level)
    z = float(stats.norm.isf(level / (2.0 * m)))
    if not math.isfinite(z):
        raise ValueError(f"level / (2·m) underflows to 0 (level={level!r}, m={m}); give a larger level or a smaller m")
    return z


def _check_level(level) -> float:
    """A significance level, in the open interval (0, 1)."""
    return check_real("level", level, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False)


def _check_samples(x, axis):
    """``x`` as a finite float array with at least 2 values along ``axis`` (an SE needs 2), and ``axis``."""
    x = check_finite_array("x", x)
    if x.ndim == 0:
        raise ValueError(f"x must be an array of samples (at least 1-dimensional); got the scalar {x.item()!r}")
    axis = check_int("axis", axis, min_value=-x.ndim, max_value=x.ndim - 1)
    if x.shape[axis] < 2:
        raise ValueError(f"x must have at least 2 samples along axis {axis} (a standard error needs 2); "
                         f"got shape {x.shape}")
    return x, axis


def mean_se(x, axis=0):
    """Sample mean and its standard error along ``axis``."""
    x, axis = _check_samples(x, axis)
    r = x.shape[axis]
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / math.sqrt(r)


def variance_se(x, axis=0):
    """Sample variance (ddof 1) and its large-sample SE, ``sqrt((m4 − s⁴)/R)``."""
    x, axis = _check_samples(x, axis)
    r = x.shape[axis]
    c = x - x.mean(axis=axis, keepdims=True)
    v = (c**2).sum(axis=axis) / (r - 1)
    m4 = (c**4).mean(axis=axis)
    return v, np.sqrt(np.maximum(m4 - v**2, 0.0) / r)


def proportion_se(k, r, p=None):
    """Binomial SE of a proportion ``k/r`` (under ``p`` when given: the test's null SE).

    ``k``: successes, integers in ``[0, r]``; ``r``: trials, integers >= 1; ``p``: probabilities
    in ``[0, 1]``. Arrays broadcast.
    """
    r = check_int_array("r", r, min_value=1)
    k = check_int_array("k", k, min_value=0)
    kb, rb = np.broadcast_arrays(k, r)
    if np.any(kb > rb):
        i = np.unravel_index(np.argmax(kb > rb), kb.shape)
        raise ValueError(f"k must be in [0, r] (successes out of r trials); got k={kb[i]} > r={rb[i]}")
    if p is not None:
        p = check_finite_array("p", p)
        if np.any((p < 0.0) | (p > 1.0)):
            raise ValueError(f"p must be probabilities in [0, 1]; got {p if p.ndim else p.item()!r}")
    phat = np.asarray(k, dtype=float) / r
    q = phat if p is None else np.asarray(p, dtype=float)
    return phat, np.sqrt(np.maximum(q * (1.0 - q), 0.0) / r)


def ks_critical(n1: int, n2: int, level: float) -> float:
    """Critical value of the two-sample Kolmogorov–Smirnov distance at ``level`` (asymptotic).

    ``n1``, ``n2``: the sample sizes, integers >= 1; ``level``: in (0, 1).
    """
    n1 = check_int("n1", n1, min_value=1)
    n2 = check_int("n2", n2, min_value=1)
    level = _check_level(level)
    c = math.sqrt(-0.5 * math.log(level / 2.0))
    return c * math.sqrt((n1 + n2) / (n1 * n2))
