r"""The Gaussian mixture law on the line: the one mixture concept of the toolkit.

The simulators draw real data from it (``truth=`` of
:func:`selfconsume.simulators.simulate_gaussian`), the population computations integrate
against it (:func:`selfconsume.theory.mixture_truth`, the mixture-weight family). scipy is
imported inside the methods that need it, so importing the simulators stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume._validation import check_finite_array, check_probability_vector

__all__ = ["GaussianMixture", "gaussian_mixture"]


@dataclass(frozen=True)
class GaussianMixture:
    r"""A finite Gaussian mixture :math:`\sum_k w_k N(\mathrm{loc}_k, \mathrm{scale}_k^2)` on the line.

    The one mixture law of the toolkit: usable as ``truth=`` in
    :func:`selfconsume.simulators.simulate_gaussian` (``rvs``, ``mean``, ``var``, ``pdf`` with
    the frozen-scipy signatures), and as the real-data law of the population computations
    (:func:`mixture_truth`; ``logpdf``, ``cdf``, ``sf``, ``ppf``, ``moment``). Build it with
    :func:`gaussian_mixture`, which validates.

    Attributes
    ----------
    weights, locs, scales : tuple of float
    log_weights : tuple of float
        :math:`\log w_k`; for a two-component mixture built from one weight :math:`w`
        (:func:`mixture_truth`), :math:`\log(1-w)` is taken as ``log1p(-w)``.
    """

    weights: tuple
    locs: tuple
    scales: tuple
    log_weights: tuple = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.log_weights is None:
            object.__setattr__(self, "log_weights", tuple(math.log(w) if w > 0 else -math.inf for w in self.weights))

    @classmethod
    def _two(cls, w, loc1, scale1, loc2, scale2) -> "GaussianMixture":
        """w·N(loc1, scale1²) + (1 − w)·N(loc2, scale2²), 0 < w < 1 (no validation)."""
        w = float(w)
        return cls((w, 1 - w), (float(loc1), float(loc2)), (float(scale1), float(scale2)),
                   (math.log(w), math.log1p(-w)))

    @property
    def name(self) -> str:
        parts = ", ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in zip(self.weights, self.locs, self.scales))
        return f"mixture({parts})"

    def _components(self):
        return zip(self.weights, self.log_weights, self.locs, self.scales)

    def mean(self) -> float:
        return sum(w * m for w, m in zip(self.weights, self.locs))

    def var(self) -> float:
        """Centred: Σ w_k (scale_k² + (loc_k − mean)²)."""
        mu = self.mean()
        return sum(w * (s**2 + (m - mu) ** 2) for w, m, s in zip(self.weights, self.locs, self.scales))

    def moment(self, k: int) -> float:
        """Raw moment :math:`\\mathbb E x^k` (exact, from the normal moments)."""
        from scipy import stats

        return sum(w * stats.norm(m, s).moment(k) for w, m, s in zip(self.weights, self.locs, self.scales))

    def logpdf(self, x):
        from scipy import stats

        x = np.asarray(x, dtype=float)
        terms = [lw + stats.norm.logpdf(x, m, s) for _, lw, m, s in self._components()]
        out = terms[0]
        for t in terms[1:]:
            out = np.logaddexp(out, t)
        return out

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        from scipy import stats

        return sum(w * stats.norm.cdf(x, m, s) for w, _, m, s in self._components())

    def sf(self, x):
        from scipy import stats

        return sum(w * stats.norm.sf(x, m, s) for w, _, m, s in self._components())

    def ppf(self, u):
        """Quantiles by bracketed root finding (on the survival function above the median of u)."""
        from scipy import optimize

        u = np.asarray(u, dtype=float)
        lo = min(m - 40 * s for m, s in zip(self.locs, self.scales))
        hi = max(m + 40 * s for m, s in zip(self.locs, self.scales))

        def one(v):
            if v <= 0:
                return -math.inf
            if v >= 1:
                return math.inf
            if v > 0.5:  # solve on the survival function: keeps precision in the upper tail
                return optimize.brentq(lambda s: float(self.sf(s)) - (1 - v), lo, hi, xtol=1e-13, rtol=1e-15)
            return optimize.brentq(lambda s: float(self.cdf(s)) - v, lo, hi, xtol=1e-13, rtol=1e-15)

        return np.vectorize(one, otypes=[float])(u)

    def rvs(self, size=None, random_state=None):
        """Draw: a component index per point (one categorical draw), then its normal."""
        g = np.random.default_rng(random_state)
        k = g.choice(len(self.weights), size=size, p=np.asarray(self.weights))
        z = g.standard_normal(size)
        return np.asarray(self.locs)[k] + np.asarray(self.scales)[k] * z


def gaussian_mixture(weights, locs, scales) -> GaussianMixture:
    """Σ_k weights[k]·N(locs[k], scales[k]²); weights a probability vector, scales > 0.

    Examples
    --------
    >>> t = gaussian_mixture([0.6, 0.4], [-3.0, 3.0], [1.0, 1.0])
    >>> round(t.mean(), 6), round(t.var(), 6)
    (-0.6, 9.64)
    """
    w = check_probability_vector("weights", weights)
    m = check_finite_array("locs", locs, ndim=1, shape=w.shape)
    s = check_finite_array("scales", scales, ndim=1, shape=w.shape)
    if np.any(s <= 0):
        raise ValueError(f"scales must be > 0; got {s.tolist()}")
    return GaussianMixture(tuple(w.tolist()), tuple(m.tolist()), tuple(s.tolist()))
