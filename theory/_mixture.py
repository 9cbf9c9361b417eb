r"""The Gaussian mixture law, on the line or in d dimensions: the one mixture concept of the toolkit.

The simulators draw real data from it (``truth=`` of
:func:`selfconsume.simulators.simulate_gaussian`), the population computations integrate
against it (:func:`selfconsume.theory.mixture_truth`, the mixture-weight family), and the
continuous-curation targets are built from it (:func:`selfconsume.theory.ring_of_gaussians`).
The shape of ``locs`` decides the interface: a 1-D array gives the scalar law of the line
(frozen-scipy signatures: ``rvs(size)`` of shape ``size``, ``cdf``, ``ppf``, ``moment``); a
``(K, d)`` array gives a law on :math:`\mathbb R^d` whose points are rows (``rvs(size)`` of
shape ``(size, d)``, ``logpdf`` on ``(..., d)`` arrays, ``mean()`` a vector, ``cov()`` a matrix).
scipy is imported inside the methods that need it, so importing the simulators stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from selfconsume._validation import check_finite_array, check_probability_vector

__all__ = ["GaussianMixture", "gaussian_mixture"]


@dataclass(frozen=True)
class GaussianMixture:
    r"""A finite Gaussian mixture :math:`\sum_k w_k N(\mathrm{loc}_k, \Sigma_k)`.

    On the line (``dim == 1``, ``locs`` a tuple of floats, ``scales`` the standard deviations):
    usable as ``truth=`` in :func:`selfconsume.simulators.simulate_gaussian` (``rvs``, ``mean``,
    ``var``, ``pdf`` with the frozen-scipy signatures), and as the real-data law of the
    population computations (:func:`mixture_truth`; ``logpdf``, ``cdf``, ``sf``, ``ppf``,
    ``moment``). In :math:`\mathbb R^d` (``locs`` a tuple of d-tuples, ``covs`` the covariance
    matrices, ``scales`` None): ``logpdf``, ``pdf``, ``rvs``, ``mean``, ``cov``. Build it with
    :func:`gaussian_mixture`, which validates.

    Attributes
    ----------
    weights : tuple of float
    locs : tuple of float (line) or tuple of d-tuples
    scales : tuple of float (line) or None
    covs : None (line) or tuple of d×d nested tuples
    log_weights : tuple of float
        :math:`\log w_k`; for a two-component mixture built from one weight :math:`w`
        (:func:`mixture_truth`), :math:`\log(1-w)` is taken as ``log1p(-w)``.
    """

    weights: tuple
    locs: tuple
    scales: tuple | None
    log_weights: tuple = field(default=None, repr=False, compare=False)
    covs: tuple | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.log_weights is None:
            object.__setattr__(self, "log_weights", tuple(math.log(w) if w > 0 else -math.inf for w in self.weights))

    @property
    def dim(self) -> int:
        """Dimension d of the points (1 on the line)."""
        return 1 if self.covs is None else len(self.locs[0])

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @cached_property
    def _arrays(self):
        """(weights, locs (K, d), covariances (K, d, d), Cholesky factors (K, d, d)) as arrays."""
        w = np.asarray(self.weights, dtype=float)
        if self.covs is None:
            m = np.asarray(self.locs, dtype=float)[:, None]
            S = (np.asarray(self.scales, dtype=float) ** 2)[:, None, None]
        else:
            m = np.asarray(self.locs, dtype=float)
            S = np.asarray(self.covs, dtype=float)
        return w, m, S, np.linalg.cholesky(S)

    def covariances(self) -> np.ndarray:
        """The component covariances, shape (K, d, d) (d = 1 on the line)."""
        return self._arrays[2].copy()

    def _line_only(self, what):
        if self.covs is not None:
            raise ValueError(f"{what} is defined for mixtures on the line (dim = 1); this mixture has dim = {self.dim}")

    @classmethod
    def _two(cls, w, loc1, scale1, loc2, scale2) -> "GaussianMixture":
        """w·N(loc1, scale1²) + (1 − w)·N(loc2, scale2²), 0 < w < 1 (no validation)."""
        w = float(w)
        return cls((w, 1 - w), (float(loc1), float(loc2)), (float(scale1), float(scale2)),
                   (math.log(w), math.log1p(-w)))

    @property
    def name(self) -> str:
        if self.covs is not None:
            return f"mixture({self.n_components} components in {self.dim} dimensions)"
        parts = ", ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in zip(self.weights, self.locs, self.scales))
        return f"mixture({parts})"

    def _components(self):
        return zip(self.weights, self.log_weights, self.locs, self.scales)

    def mean(self):
        """Σ w_k loc_k: a float on the line, a (d,) array in d dimensions."""
        if self.covs is not None:
            w, m, _, _ = self._arrays
            return w @ m
        return sum(w * m for w, m in zip(self.weights, self.locs))

    def cov(self) -> np.ndarray:
        """Covariance matrix Σ w_k (Σ_k + (loc_k − mean)(loc_k − mean)ᵀ), shape (d, d)."""
        w, m, S, _ = self._arrays
        c = m - w @ m
        return np.einsum("k,kij->ij", w, S + c[:, :, None] * c[:, None, :])

    def var(self) -> float:
        """Centred: Σ w_k (scale_k² + (loc_k − mean)²) (on the line; see :meth:`cov`)."""
        self._line_only("var")
        mu = self.mean()
        return sum(w * (s**2 + (m - mu) ** 2) for w, m, s in zip(self.weights, self.locs, self.scales))

    def moment(self, k: int) -> float:
        """Raw moment :math:`\\mathbb E x^k` (exact, from the normal moments; on the line)."""
        from scipy import stats

        self._line_only("moment")
        return sum(w * stats.norm(m, s).moment(k) for w, m, s in zip(self.weights, self.locs, self.scales))

    def logpdf(self, x):
        """Log-density at ``x``: any shape on the line, points as rows ``(..., d)`` in d dimensions."""
        from scipy import stats

        x = np.asarray(x, dtype=float)
        if self.covs is not None:
            return self._logpdf_nd(x)
        terms = [lw + stats.norm.logpdf(x, m, s) for _, lw, m, s in self._components()]
        out = terms[0]
        for t in terms[1:]:
            out = np.logaddexp(out, t)
        return out

    def _logpdf_nd(self, x):
        from scipy import linalg

        d = self.dim
        if x.ndim == 0 or x.shape[-1] != d:
            raise ValueError(f"x must have shape (..., {d}) (points as rows); got shape {x.shape}")
        w, m, _, L = self._arrays
        flat = x.reshape(-1, d)
        out = np.full(flat.shape[0], -np.inf)
        for lw, mk, Lk in zip(self.log_weights, m, L):
            y = linalg.solve_triangular(Lk, (flat - mk).T, lower=True)
            lp = lw - 0.5 * np.sum(y * y, axis=0) - np.sum(np.log(np.diag(Lk))) - 0.5 * d * math.log(2 * math.pi)
            out = np.logaddexp(out, lp)
        return out.reshape(x.shape[:-1])

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        from scipy import stats

        self._line_only("cdf")
        return sum(w * stats.norm.cdf(x, m, s) for w, _, m, s in self._components())

    def sf(self, x):
        from scipy import stats

        self._line_only("sf")
        return sum(w * stats.norm.sf(x, m, s) for w, _, m, s in self._components())

    def ppf(self, u):
        """Quantiles by bracketed root finding (on the survival function above the median of u)."""
        from scipy import optimize

        self._line_only("ppf")
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
        """Draw: a component index per point (one categorical draw), then its normal.

        Shape ``size`` on the line, ``(size, d)`` (``size`` an int) in d dimensions.
        """
        g = np.random.default_rng(random_state)
        k = g.choice(len(self.weights), size=size, p=np.asarray(self.weights))
        if self.covs is not None:
            _, m, _, L = self._arrays
            z = g.standard_normal((*np.shape(k), self.dim))
            return m[k] + np.einsum("...ij,...j->...i", L[k], z)
        z = g.standard_normal(size)
        return np.asarray(self.locs)[k] + np.asarray(self.scales)[k] * z


def gaussian_mixture(weights, locs, scales=None, *, covs=None) -> GaussianMixture:
    """Σ_k weights[k]·N(locs[k], Σ_k); weights a probability vector.

    On the line: ``locs`` of shape (K,) and ``scales`` (K,) standard deviations > 0. In d
    dimensions: ``locs`` of shape (K, d) and either ``scales`` — (K,) isotropic or (K, d)
    per-coordinate standard deviations > 0 — or ``covs`` of shape (K, d, d), symmetric
    positive definite.

    Examples
    --------
    >>> t = gaussian_mixture([0.6, 0.4], [-3.0, 3.0], [1.0, 1.0])
    >>> round(t.mean(), 6), round(t.var(), 6)
    (-0.6, 9.64)
    >>> ring = gaussian_mixture([0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0]], [0.5, 0.5])
    >>> ring.dim, ring.rvs(3, random_state=0).shape, ring.cov().round(2).tolist()
    (2, (3, 2), [[4.25, 0.0], [0.0, 0.25]])
    """
    w = check_probability_vector("weights", weights)
    K = w.shape[0]
    m = check_finite_array("locs", locs)
    if m.ndim == 1:
        if covs is not None:
            raise ValueError("covs must be None on the line (locs of shape (K,)); give scales")
        m = check_finite_array("locs", locs, ndim=1, shape=w.shape)
        if scales is None:
            raise ValueError("scales must be given on the line (locs of shape (K,)): K standard deviations > 0")
        s = check_finite_array("scales", scales, ndim=1, shape=w.shape)
        if np.any(s <= 0):
            raise ValueError(f"scales must be > 0; got {s.tolist()}")
        return GaussianMixture(tuple(w.tolist()), tuple(m.tolist()), tuple(s.tolist()))
    if m.ndim != 2 or m.shape[0] != K or m.shape[1] < 1:
        raise ValueError(f"locs must have shape ({K},) or ({K}, d) for {K} weights; got shape {m.shape}")
    d = m.shape[1]
    if (scales is None) == (covs is None):
        raise ValueError("give exactly one of scales (standard deviations) and covs (covariance matrices) "
                         f"for locs of shape {m.shape}")
    if covs is None:
        s = check_finite_array("scales", scales)
        if s.shape == (K,):
            s = np.repeat(s[:, None], d, axis=1)
        if s.shape != (K, d):
            raise ValueError(f"scales must have shape ({K},) or ({K}, {d}); got shape {s.shape}")
        if np.any(s <= 0):
            raise ValueError(f"scales must be > 0; got min {s.min()}")
        S = np.zeros((K, d, d))
        S[:, np.arange(d), np.arange(d)] = s**2
    else:
        S = check_finite_array("covs", covs, ndim=3, shape=(K, d, d))
        if not np.allclose(S, np.swapaxes(S, 1, 2), rtol=1e-12, atol=0.0):
            raise ValueError("covs must be symmetric matrices")
        for k in range(K):
            if np.linalg.eigvalsh(S[k]).min() <= 0:
                raise ValueError(f"covs[{k}] must be positive definite; its smallest eigenvalue is "
                                 f"{np.linalg.eigvalsh(S[k]).min():.3g}")
    return GaussianMixture(tuple(w.tolist()), tuple(map(tuple, m.tolist())), None,
                           covs=tuple(tuple(map(tuple, Sk)) for Sk in S.tolist()))
