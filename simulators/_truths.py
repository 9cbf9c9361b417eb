"""Real-data laws for the simulators that scipy.stats does not ship as one frozen object."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfconsume._validation import check_finite_array, check_probability_vector

__all__ = ["GaussianMixture", "gaussian_mixture"]


@dataclass(frozen=True)
class GaussianMixture:
    """A finite Gaussian mixture Σ_k w_k N(loc_k, scale_k²), usable as ``truth=`` in
    :func:`selfconsume.simulators.simulate_gaussian` (it has ``rvs``, ``mean``, ``var``,
    ``pdf`` with the frozen-scipy signatures)."""

    weights: tuple
    locs: tuple
    scales: tuple

    @property
    def name(self) -> str:
        parts = ", ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in zip(self.weights, self.locs, self.scales))
        return f"mixture({parts})"

    def mean(self) -> float:
        return float(np.dot(self.weights, self.locs))

    def var(self) -> float:
        w, m, s = map(np.asarray, (self.weights, self.locs, self.scales))
        return float(np.dot(w, s**2 + m**2) - np.dot(w, m) ** 2)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)[..., None]
        w, m, s = map(np.asarray, (self.weights, self.locs, self.scales))
        return np.sum(w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)), axis=-1)

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
