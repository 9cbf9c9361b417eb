r"""The real-data laws :math:`p_\text{data}` of the population computations.

A :class:`Truth` wraps a 1-D law with what the stability computations need: exact moments,
the support, and a quadrature-ready :class:`._quadrature._Law`. Constructors: Gaussian,
Student-t, Laplace, a two-Gaussian mixture (the toolkit's one mixture law,
:class:`._mixture.GaussianMixture`) and any frozen ``scipy.stats`` law.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
from scipy import stats

from selfconsume._validation import check_named, check_real, hashable_cache

from ._mixture import GaussianMixture
from ._quadrature import _Law, _scipy_law

__all__ = [
    'Truth',
    'gaussian_truth',
    'student_t_truth',
    'laplace_truth',
    'mixture_truth',
    'truth_from_scipy',
]

def _mixture_law(mix: GaussianMixture, label: str) -> _Law:
    """The quadrature-ready law of a mixture (its locations are breakpoints of the rule)."""
    mean = mix.mean()
    sd = math.sqrt(mix.var())
    bps = tuple(dict.fromkeys(mix.locs)) if len(set(mix.locs)) > 1 else ()
    return _Law(mix.logpdf, breakpoints=bps, center=mean, scale=min(*mix.scales, sd),
                cdf=mix.cdf, sf=mix.sf, ppf=mix.ppf, mean=mean, label=label)

# --------------------------------------------------------------------------------------
# Truths (p_data)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Truth:
    """The real-data law p_data (1-D), with what the stability computations need.

    Attributes
    ----------
    name : str
    params : dict
        Its parameters.
    max_moment : float
        Moments :math:`\\mathbb E|x|^k` are finite exactly for ``k < max_moment`` (∞ for light tails).
    support : tuple of float
    """

    name: str
    params: dict
    max_moment: float
    support: tuple
    law: _Law = field(repr=False)
    moment_fn: Callable = field(repr=False, default=None)

    def moment(self, k: int) -> float:
        """Raw moment :math:`\\mathbb E x^k` (exact, from scipy / closed form)."""
        if k >= self.max_moment:
            return math.inf
        return float(self.moment_fn(k))

    @property
    def mean(self) -> float:
        return self.moment(1)

    @property
    def var(self) -> float:
        return self.moment(2) - self.moment(1) ** 2


def _check_loc_scale(loc, scale):
    return check_real("loc", loc), check_real("scale", scale, min_value=0.0, min_inclusive=False)


@hashable_cache(256)  # one object per parameter set: the θ*, quadrature and sympy caches hit
def gaussian_truth(loc=0.0, scale=1.0) -> Truth:
    """p_data = N(loc, scale²)."""
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.norm(loc, scale)
    return Truth("gaussian", {"loc": loc, "scale": scale}, math.inf, (-math.inf, math.inf),
                 _scipy_law(d, center=loc, scale=scale, label="gaussian"), d.moment)


@hashable_cache(256)
def student_t_truth(nu, loc=0.0, scale=1.0) -> Truth:
    """p_data = loc + scale · t_ν (moments of order < ν exist)."""
    nu = check_real("nu", nu, min_value=0.0, min_inclusive=False)
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.t(nu, loc, scale)
    return Truth("student_t", {"nu": nu, "loc": loc, "scale": scale}, nu, (-math.inf, math.inf),
                 _scipy_law(d, center=loc, scale=scale, label="student_t"), d.moment)


@hashable_cache(256)
def laplace_truth(loc=0.0, scale=1.0) -> Truth:
    """p_data = Laplace(loc, scale) (density kink at ``loc``: a quadrature breakpoint)."""
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.laplace(loc, scale)
    return Truth("laplace", {"loc": loc, "scale": scale}, math.inf, (-math.inf, math.inf),
                 _scipy_law(d, breakpoints=(loc,), center=loc, scale=scale, label="laplace"), d.moment)


@hashable_cache(256)
def mixture_truth(weight, loc1, loc2, scale1=1.0, scale2=1.0) -> Truth:
    """p_data = weight · N(loc1, scale1²) + (1 − weight) · N(loc2, scale2²)."""
    w = check_real("weight", weight, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False)
    m1 = check_real("loc1", loc1)
    m2 = check_real("loc2", loc2)
    s1 = check_real("scale1", scale1, min_value=0.0, min_inclusive=False)
    s2 = check_real("scale2", scale2, min_value=0.0, min_inclusive=False)
    mix = GaussianMixture._two(w, m1, s1, m2, s2)
    return Truth("mixture", {"weight": w, "loc1": m1, "loc2": m2, "scale1": s1, "scale2": s2}, math.inf,
                 (-math.inf, math.inf), _mixture_law(mix, "mixture"), mix.moment)


def truth_from_scipy(dist, *, name=None, breakpoints=()) -> Truth:
    """Any frozen continuous ``scipy.stats`` law as p_data (kinks given as ``breakpoints``).

    Moment existence is read from ``dist.moment(k)`` (scipy returns inf/nan when it diverges).
    """
    if not hasattr(dist, "logpdf") or not hasattr(dist, "support"):
        raise TypeError(f"dist must be a frozen continuous scipy.stats distribution; got {dist!r}")
    with np.errstate(all="ignore"):
        lo, hi = (float(v) for v in dist.support())
        med = float(dist.median())
    if not (lo < hi) or not math.isfinite(med):  # scipy gives NaN for invalid parameters (e.g. scale 0)
        raise ValueError(f"dist must have valid parameters and a non-degenerate support; got {dist!r} with "
                         f"support ({lo}, {hi})")
    mm = math.inf
    for k in range(1, 9):
        with np.errstate(all="ignore"):
            v = float(dist.moment(k))
        if not math.isfinite(v):
            mm = k
            break
    nm = name or getattr(dist.dist, "name", "scipy")
    return Truth(nm, dict(zip(("args", "kwds"), (dist.args, dist.kwds))), mm, tuple(map(float, dist.support())),
                 _scipy_law(dist, breakpoints=breakpoints, label=nm), dist.moment)


@lru_cache(maxsize=256)
def _quantile_span(truth):
    """The 0.1% and 99.9% quantiles of p_data: the range a location search must cover."""
    q = truth.law.ppf(np.array([1e-3, 1 - 1e-3]))
    return float(q[0]), float(q[1])


_TRUTHS = {"gaussian": gaussian_truth, "laplace": laplace_truth,
           "student_t": lambda: student_t_truth(5.0), "mixture": lambda: mixture_truth(0.5, -1.0, 1.0)}


def _as_truth(truth) -> Truth:
    return check_named("truth", truth, Truth, _TRUTHS, hint="see gaussian_truth, student_t_truth, ...")

