r"""Curated retraining of a density on a 1-D or 2-D grid: the cell-mass chain (``shared/theory.md`` §6 item 6).

The density :math:`p_0` is discretised to cell masses :math:`p_0(\text{centre})\times\text{volume}`
(midpoint rule) and the reward is evaluated at the cell centres; the population curated
chain is then the discrete chain of :func:`selfconsume.simulators.simulate_curation` on the
cells, exact for that discrete law. It converges to the continuous chain as the cells shrink:
:math:`O(h^2)` for smooth :math:`p_0` and reward, :math:`O(h)` near a flat top's kink. It is
the independent cross-check of the exact chain on the law of the reward
(:func:`selfconsume.theory.curate_reward_law`), and the method for rewards with no closed-form
law (several centres, user callables) in one or two dimensions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._validation import check_int, check_lam, check_real

from selfconsume.theory._targets import _check_grid, cell_edges, logpdf_at_points

from ._common import readonly
from ._curation import simulate_curation

pd = lazy("pandas")

__all__ = ["curate_density", "DensityChain"]


@dataclass(frozen=True)
class DensityChain:
    """Result of :func:`curate_density` (frozen; arrays are read-only).

    Attributes
    ----------
    grid : tuple of ndarray
        Cell centres per axis.
    K, lam, generations
        The run's parameters (``lam`` None: fully synthetic).
    p : ndarray, shape (generations + 1, *cells)
        Cell masses of :math:`p_t`.
    reward : ndarray, shape cells
        The reward at the cell centres.
    """

    grid: tuple = field(repr=False)
    K: float
    lam: float | None
    generations: int
    p: np.ndarray = field(repr=False)
    reward: np.ndarray = field(repr=False)

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def _flat(self):
        return self.p.reshape(self.generations + 1, -1), self.reward.ravel()

    def mean_reward(self) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}r` on the cells, shape (generations + 1,)."""
        p, r = self._flat()
        return p @ r

    def var_reward(self) -> np.ndarray:
        p, r = self._flat()
        m = p @ r
        return np.einsum("tj,tj->t", p, (r[None, :] - m[:, None]) ** 2)

    def mean_exp_reward(self, *, log=False) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}e^r` (or its log, finite for any reward)."""
        from scipy.special import logsumexp

        p, r = self._flat()
        with np.errstate(divide="ignore"):
            v = logsumexp(np.log(p) + r[None, :], axis=1)
        return v if log else np.exp(v)

    def prob_top(self, tol: float = 0.0) -> np.ndarray:
        """Mass of the cells whose reward is within ``tol`` of the top reward of the grid."""
        p, r = self._flat()
        return p[:, r >= r.max() - tol].sum(axis=1)

    def kl_to_initial(self) -> np.ndarray:
        """:math:`\\mathrm{KL}(p_t\\|p_0)` between the cell laws."""
        p, _ = self._flat()
        p0 = p[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * (np.log(p) - np.log(p0)[None, :]), 0.0)
        return terms.sum(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per generation and cell (``generation``, ``x`` [, ``y``], ``mass``, ``reward``)."""
        T1 = self.generations + 1
        mesh = np.meshgrid(*self.grid, indexing="ij")
        cols = {"generation": np.repeat(self.t, self.reward.size)}
        for name, ax in zip(("x", "y"), mesh):
            cols[name] = np.tile(ax.ravel(), T1)
        cols["mass"] = self.p.reshape(T1, -1).ravel()
        cols["reward"] = np.tile(self.reward.ravel(), T1)
        df = pd.DataFrame(cols)
        df["K"], df["lam"] = self.K, np.nan if self.lam is None else self.lam
        return df


def curate_density(p0, reward, K, generations, *, lam=None, grid, mass_tol=1e-3) -> DensityChain:
    r"""Population curated chain of a density on a grid (cell masses through the exact discrete operator).

    Parameters
    ----------
    p0 : callable or law
        The initial density: a law with ``logpdf`` or ``pdf`` on points ``(N, d)`` (e.g. a
        :class:`selfconsume.theory.GaussianMixture`), or a callable returning the density at
        ``(N, d)`` points. Values must be finite and non-negative with a positive total.
    reward : callable
        :math:`r` on ``(N, d)`` points (a :class:`selfconsume.theory.Reward` or any callable;
        checked for shape and finiteness).
    K : int or numpy.inf
        Candidates per curation, :math:`K\ge1`.
    generations : int
    lam : float, optional
        Synthetic-to-real ratio :math:`\lambda\ge0`, with :math:`p_\text{ref}=p_0` (None: fully synthetic).
    grid : tuple of one or two arrays
        Increasing cell centres per axis (d = 1 or 2).
    mass_tol : float in (0, 1]
        For a normalised law ``p0`` (one with ``logpdf``), the cells' midpoint masses must sum
        to 1 within ``mass_tol``; otherwise the grid is too coarse or too narrow for ``p0`` and
        a ``ValueError`` says so (a callable density is normalised on the grid instead).

    Returns
    -------
    DensityChain
        ``p`` of shape ``(generations + 1, *cells)``.

    Examples
    --------
    >>> from selfconsume.theory import gaussian_mixture, quadratic_reward
    >>> x = np.linspace(-6, 6, 241)
    >>> res = curate_density(gaussian_mixture([1.0], [0.0], [1.0]), quadratic_reward([1.0]), np.inf, 2, grid=(x,))
    >>> res.p.shape, np.round(res.mean_reward(), 4).tolist()   # K = ∞: N(t/(1+t), 1/(1+t)); E r = -(σ_t² + (μ_t - 1)²)/2
    ((3, 241), [-1.0, -0.375, -0.2222])
    """
    from selfconsume.theory import as_reward

    axes = _check_grid(grid)
    d = len(axes)
    generations = check_int("generations", generations, min_value=0, max_value=10**6)
    lam = None if lam is None else check_lam(lam)
    mass_tol = check_real("mass_tol", mass_tol, min_value=0.0, max_value=1.0, min_inclusive=False)
    mesh = np.meshgrid(*axes, indexing="ij")
    pts = np.stack([m.ravel() for m in mesh], axis=1)
    dens = _density_at(p0, pts, d)
    widths = [np.diff(cell_edges(a)) for a in axes]
    vol = widths[0] if d == 1 else np.outer(widths[0], widths[1]).ravel()
    m = dens * vol
    total = float(m.sum())
    if not (math.isfinite(total) and total > 0):
        raise ValueError(f"p0 must have a positive, finite integral over the grid's cells; got {total}")
    if hasattr(p0, "logpdf"):
        if abs(total - 1.0) > mass_tol:
            raise ValueError(f"grid is too coarse or too narrow for p0: the cells hold mass {total:.6g} of p0, not 1 "
                             f"within mass_tol={mass_tol:g} (refine or widen the grid)")
    m = m / total
    r = as_reward(reward, dim=d)(pts)
    res = simulate_curation(m, r, K, generations, lam=lam)
    shape = tuple(a.size for a in axes)
    p = res.p[0].reshape(generations + 1, *shape)
    return DensityChain(tuple(readonly(a.copy()) for a in axes), res.K, lam, generations, readonly(p),
                        readonly(r.reshape(shape)))


def _density_at(p0, pts, d):
    if hasattr(p0, "logpdf"):
        vals = np.exp(logpdf_at_points(p0, pts))
    elif hasattr(p0, "pdf"):
        vals = np.asarray(p0.pdf(pts), dtype=float)
    elif callable(p0):
        vals = np.asarray(p0(pts), dtype=float)
    else:
        raise TypeError(f"p0 must be a law with logpdf/pdf or a callable density on (N, {d}) points; got {p0!r}")
    if vals.shape != (pts.shape[0],):
        raise ValueError(f"p0 must return one density value per point, shape ({pts.shape[0]},); got shape {vals.shape}")
    if not np.all(np.isfinite(vals)):
        raise ValueError("p0 must return finite density values on the grid")
    if np.any(vals < 0):
        raise ValueError(f"p0 must be a density: non-negative; got min {vals.min()}")
    return vals
