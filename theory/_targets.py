r"""Target laws of the papers' 2-D experiments and user laws (``shared/theory.md`` §1.8, §2.5, §6 item 7).

* :func:`ring_of_gaussians` — k equal Gaussians on a circle (the 8-Gaussian ring of
  Bertrand et al. and Ferbach et al.), a :class:`~._mixture.GaussianMixture`;
* :func:`two_moons` — the two-moons law: two half circles with Gaussian noise, with an exact
  density (a 1-D integral over the arc, by composite Gauss–Legendre) and exact moments;
* :func:`grid_density` — a user's density given by its values at the centres of a 1-D or
  2-D grid (piecewise constant on the cells);
* :func:`sampler_law` — a user's sampler, for loops that only draw.

Every law has ``rvs(size, random_state)`` returning points as rows ``(size, d)``; the ones
with a density have ``logpdf``/``pdf`` on ``(..., d)`` arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from selfconsume._validation import check_finite_array, check_int, check_real

from ._mixture import GaussianMixture, gaussian_mixture

__all__ = ["ring_of_gaussians", "two_moons", "TwoMoons", "grid_density", "GridDensity", "sampler_law",
           "SamplerLaw"]


def ring_of_gaussians(n_modes=8, *, radius=2.0 * math.sqrt(2.0), scale=0.5 / math.sqrt(2.0)) -> GaussianMixture:
    r"""``n_modes`` equal-weight isotropic Gaussians :math:`N(c_k, \mathrm{scale}^2 I_2)`,
    :math:`c_k=\mathrm{radius}\,(\cos\frac{2\pi k}{n},\sin\frac{2\pi k}{n})`.

    The defaults are the usual "8 Gaussians" toy set (centres at 4·(unit directions)/√2,
    noise 0.5/√2), a ring of radius 2√2 ≈ 2.83 with standard deviation ≈ 0.354.

    Examples
    --------
    >>> ring = ring_of_gaussians()
    >>> ring.dim, ring.n_components, bool(np.allclose(ring.mean(), 0.0, atol=1e-15))
    (2, 8, True)
    """
    n_modes = check_int("n_modes", n_modes, min_value=1)
    radius = check_real("radius", radius, min_value=0.0)
    scale = check_real("scale", scale, min_value=0.0, min_inclusive=False)
    ang = 2.0 * math.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    centres[np.abs(centres) < 1e-15 * max(radius, 1.0)] = 0.0  # exact zeros on the axes
    return gaussian_mixture(np.full(n_modes, 1.0 / n_modes), centres, np.full(n_modes, scale))


# Composite Gauss–Legendre over the arc parameter: panels no wider than noise/2 radians, 8 nodes
# each: the integrand exp(-|x - a(t)|²/(2σ²)) has width ~σ in t (unit-radius arcs), so each panel
# sees a smooth piece and the rule's error is far below float64 resolution of the density.
_GL_NODES = 8


@dataclass(frozen=True)
class TwoMoons:
    r"""Two half circles of radius 1 with isotropic Gaussian noise :math:`\sigma`.

    Outer moon :math:`(\cos t,\sin t)`, inner moon :math:`(1-\cos t,\ \tfrac12-\sin t)`,
    :math:`t\sim U(0,\pi)`, each with probability 1/2 (the continuous form of scikit-learn's
    ``make_moons``), plus :math:`N(0,\sigma^2I_2)`. Density
    :math:`p(x)=\tfrac1{2\pi}\sum_{\rm moons}\int_0^\pi N(x;a(t),\sigma^2I)\,dt` by composite
    Gauss–Legendre in log space.
    """

    noise: float
    dim: int = field(default=2, init=False)

    @property
    def name(self) -> str:
        return f"two_moons(noise={self.noise:g})"

    def _nodes(self):
        panels = max(8, math.ceil(math.pi / (0.5 * self.noise)))
        g, gw = np.polynomial.legendre.leggauss(_GL_NODES)
        edges = np.linspace(0.0, math.pi, panels + 1)
        half = 0.5 * np.diff(edges)
        t = (edges[:-1, None] + half[:, None] * (g[None, :] + 1.0)).ravel()
        w = (half[:, None] * gw[None, :]).ravel() / math.pi  # t ~ U(0, π)
        return t, w

    @staticmethod
    def _arcs(t):
        outer = np.stack([np.cos(t), np.sin(t)], axis=1)
        inner = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
        return outer, inner

    def logpdf(self, x):
        """Log-density at points ``(..., 2)``."""
        from scipy.special import logsumexp

        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != 2:
            raise ValueError(f"x must have shape (..., 2) (points as rows); got shape {x.shape}")
        t, w = self._nodes()
        outer, inner = self._arcs(t)
        arcs = np.concatenate([outer, inner])  # (2M, 2)
        lw = np.log(np.concatenate([w, w]) * 0.5)
        flat = x.reshape(-1, 2)
        s2 = self.noise**2
        out = np.empty(flat.shape[0])
        step = max(1, 2_000_000 // arcs.shape[0])  # bounded memory for large N
        for a in range(0, flat.shape[0], step):
            d2 = ((flat[a:a + step, None, :] - arcs[None, :, :]) ** 2).sum(axis=2)
            out[a:a + step] = logsumexp(lw - 0.5 * d2 / s2, axis=1) - math.log(2.0 * math.pi * s2)
        return out.reshape(x.shape[:-1])

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def mean(self) -> np.ndarray:
        """Exact: (1/2, 1/4)."""
        return np.array([0.5, 0.25])

    def cov(self) -> np.ndarray:
        """Exact covariance, from E cos t = 0, E sin t = 2/π, E cos² t = E sin² t = 1/2, E cos t sin t = 0."""
        e_s = 2.0 / math.pi
        # second moments of the noiseless point, mixed over the two moons
        exx = 0.5 * 0.5 + 0.5 * (1.0 + 0.5)          # outer: E cos²; inner: E (1 - cos)² = 1 + 1/2
        eyy = 0.5 * 0.5 + 0.5 * (0.25 - e_s + 0.5)    # inner: E (1/2 - sin)² = 1/4 - 2/π + 1/2
        exy = 0.5 * 0.0 + 0.5 * (0.5 - e_s)           # inner: E (1 - cos)(1/2 - sin) = 1/2 - 2/π
        m = self.mean()
        c = np.array([[exx, exy], [exy, eyy]]) - np.outer(m, m)
        return c + self.noise**2 * np.eye(2)

    def rvs(self, size=None, random_state=None):
        """Points ``(size, 2)``: a moon (fair coin), an arc position t ~ U(0, π), then the noise."""
        g = np.random.default_rng(random_state)
        n = 1 if size is None else check_int("size", size, min_value=0)
        moon = g.random(n) < 0.5
        t = math.pi * g.random(n)
        outer, inner = self._arcs(t)
        pts = np.where(moon[:, None], inner, outer) + self.noise * g.standard_normal((n, 2))
        return pts[0] if size is None else pts


def two_moons(noise=0.1) -> TwoMoons:
    """The two-moons law with Gaussian noise of standard deviation ``noise`` (> 0).

    Examples
    --------
    >>> m = two_moons(0.1)
    >>> m.rvs(4, random_state=0).shape, m.mean().tolist()
    ((4, 2), [0.5, 0.25])
    """
    noise = check_real("noise", noise, min_value=0.0, min_inclusive=False)
    if noise < 1e-3:
        raise ValueError(f"noise must be >= 0.001 (the density's arc integral needs ~π/noise panels); got {noise}")
    return TwoMoons(noise)


def logpdf_at_points(law, pts) -> np.ndarray:
    """``law.logpdf`` at points as rows ``(N, d)``: a law on the line (a :class:`GaussianMixture`
    built from 1-D ``locs``) takes the first column, every other law the rows."""
    if isinstance(law, GaussianMixture) and law.covs is None:
        return np.asarray(law.logpdf(pts[:, 0]), dtype=float)
    return np.asarray(law.logpdf(pts), dtype=float)


def _check_grid(grid):
    if not isinstance(grid, (tuple, list)) or len(grid) not in (1, 2):
        raise ValueError(f"grid must be a tuple of one or two increasing arrays of cell centres; got {grid!r}")
    axes = []
    for i, g in enumerate(grid):
        a = check_finite_array(f"grid[{i}]", g, ndim=1)
        if a.size < 2:
            raise ValueError(f"grid[{i}] must have at least 2 cell centres; got {a.size}")
        if np.any(np.diff(a) <= 0):
            raise ValueError(f"grid[{i}] must be strictly increasing")
        axes.append(a)
    return tuple(axes)


def cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the cells around increasing centres: midpoints inside, half a spacing outside."""
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid, [centres[-1] + (centres[-1] - mid[-1])]])


@dataclass(frozen=True, eq=False)
class GridDensity:
    """A density given by values at the centres of a 1-D or 2-D grid, constant on each cell.

    Attributes
    ----------
    grid : tuple of ndarray
        The cell centres per axis.
    mass : ndarray
        Probability of each cell (sums to 1), shape of the cell grid.
    """

    grid: tuple
    mass: np.ndarray = field(repr=False)
    edges: tuple = field(repr=False)

    @property
    def dim(self) -> int:
        return len(self.grid)

    @property
    def name(self) -> str:
        return f"grid_density({'×'.join(str(g.size) for g in self.grid)} cells)"

    def _volumes(self):
        widths = [np.diff(e) for e in self.edges]
        return widths[0] if self.dim == 1 else np.outer(widths[0], widths[1])

    def logpdf(self, x):
        """Log-density at points ``(..., d)`` (``-inf`` outside the grid's cells)."""
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}) (points as rows); got shape {x.shape}")
        flat = x.reshape(-1, self.dim)
        idx, inside = [], np.ones(flat.shape[0], dtype=bool)
        for j, e in enumerate(self.edges):
            i = np.searchsorted(e, flat[:, j], side="right") - 1
            inside &= (i >= 0) & (i < e.size - 1)
            idx.append(np.clip(i, 0, e.size - 2))
        with np.errstate(divide="ignore"):
            logdens = np.log(self.mass / self._volumes())
        out = np.where(inside, logdens[tuple(idx)], -np.inf)
        return out.reshape(x.shape[:-1])

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def rvs(self, size=None, random_state=None):
        """Points ``(size, d)``: a cell by its mass, then uniform inside it."""
        g = np.random.default_rng(random_state)
        n = 1 if size is None else check_int("size", size, min_value=0)
        cell = g.choice(self.mass.size, size=n, p=self.mass.ravel())
        idx = np.unravel_index(cell, self.mass.shape)
        pts = np.stack([e[i] + (e[i + 1] - e[i]) * g.random(n) for e, i in zip(self.edges, idx)], axis=1)
        return pts[0] if size is None else pts


def grid_density(grid, values) -> GridDensity:
    """A user's density from its values at the cell centres of ``grid`` (one or two increasing arrays).

    ``values`` (shape of the cell grid) must be finite and non-negative with a positive
    integral over the cells; they are normalised to probabilities (density × cell volume).

    Examples
    --------
    >>> x = np.linspace(-4, 4, 81)
    >>> law = grid_density((x,), np.exp(-x**2 / 2))
    >>> round(float((law.mass * x).sum()), 12), law.rvs(3, random_state=0).shape
    (0.0, (3, 1))
    """
    axes = _check_grid(grid)
    shape = tuple(a.size for a in axes)
    v = check_finite_array("values", values)
    if v.shape != shape:
        raise ValueError(f"values must have the shape of the cell grid {shape}; got shape {v.shape}")
    if np.any(v < 0):
        raise ValueError(f"values must be a density: non-negative; got min {v.min()}")
    edges = tuple(cell_edges(a) for a in axes)
    widths = [np.diff(e) for e in edges]
    vol = widths[0] if len(axes) == 1 else np.outer(widths[0], widths[1])
    m = v * vol
    total = float(m.sum())
    if not (math.isfinite(total) and total > 0):
        raise ValueError(f"values must have a positive, finite integral over the grid's cells; got {total}")
    mass = m / total
    mass.setflags(write=False)
    return GridDensity(axes, mass, edges)


@dataclass(frozen=True, eq=False)
class SamplerLaw:
    """A law known only through a sampler ``sample(n, rng) -> (n, dim)`` (checked at every call)."""

    sample: Callable = field(repr=False)
    dim: int
    name: str = "sampler"

    def rvs(self, size=None, random_state=None):
        g = np.random.default_rng(random_state)
        n = 1 if size is None else check_int("size", size, min_value=0)
        pts = np.asarray(self.sample(n, g), dtype=float)
        if pts.shape != (n, self.dim):
            raise ValueError(f"sampler {self.name!r} must return an array of shape ({n}, {self.dim}); "
                             f"got shape {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise ValueError(f"sampler {self.name!r} returned non-finite points")
        return pts[0] if size is None else pts


def sampler_law(sample, dim, *, name=None) -> SamplerLaw:
    """A user's law given by ``sample(n, rng)`` returning ``n`` points as rows ``(n, dim)``.

    Examples
    --------
    >>> law = sampler_law(lambda n, rng: rng.uniform(-1, 1, (n, 2)), 2, name="square")
    >>> law.rvs(5, random_state=1).shape
    (5, 2)
    """
    if not callable(sample):
        raise TypeError(f"sample must be callable as sample(n, rng) -> (n, dim) array; got {sample!r}")
    dim = check_int("dim", dim, min_value=1)
    return SamplerLaw(sample, dim, name or getattr(sample, "__name__", "sampler"))
