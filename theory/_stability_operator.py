r"""The population retraining operator :math:`\mathcal G_\lambda` and its fixed points.

.. math:: \mathcal G_\lambda(\theta)=\arg\max_{\theta'}\;
          \mathbb E_{p_\text{data}}\log p_{\theta'}+\lambda\,\mathbb E_{p_\theta}\log p_{\theta'},

computed by adaptive quadrature and a modified Newton ascent (a grid search for the global
argmax of 1-parameter families, multi-start for several); its fixed point
:math:`\theta^*=\arg\max_\theta\mathbb E_{p_\text{data}}\log p_\theta` does not depend on λ
(Bertrand et al. 2024 §2.1, Ferbach et al. 2024 §2.2; ``shared/theory.md`` §1.6, §2.3).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np

from selfconsume._validation import check_choice, check_int, check_lam, check_memory

from ._quadrature import _mexpect, _wsum
from ._stability_families import _check_pair, _check_theta

__all__ = [
    'retraining_map',
    'fixed_point',
    'iterate_retraining_map',
]

# --------------------------------------------------------------------------------------
# Maximisation of θ' ↦ Σ w_i log p_θ'(x_i)
# --------------------------------------------------------------------------------------


def _inside(family, th):
    return all(lo < v < hi for v, (lo, hi) in zip(th, family.bounds)) and np.all(np.isfinite(th))


def _newton(family, measure, start, *, max_iter=200):
    """Modified Newton ascent of θ' ↦ Σ c E_law log p_θ' with backtracking on the objective.

    ``measure`` is [(law, c), ...]; expectations are adaptive DE quadratures. The objective
    is taken relative to ``start`` (finite even where E log p itself is not).
    """
    num = family._num
    th = np.array(start, dtype=float)

    def f(t):
        return _objective(family, measure, t, start)

    fval = 0.0
    for _ in range(max_iter):
        d = th.size
        # score and Hessian in one quadrature pass (one set of nodes, one level schedule)
        gh = _mexpect(measure, lambda x: np.concatenate([num.score(x, th), num.hess(x, th).reshape(d * d, -1)]))
        g, H = gh[:d], gh[d:].reshape(d, d)
        ev, V = np.linalg.eigh(0.5 * (H + H.T))
        aev = np.maximum(np.abs(ev), 1e-14 * max(np.abs(ev).max(), 1e-300))
        step = V @ ((V.T @ g) / aev)  # Newton where concave; ascent along |eigenvalues| otherwise
        concave = ev.max() < 0
        small = np.linalg.norm(step) <= 1e-6 * (1.0 + np.linalg.norm(th))
        t = 1.0
        while True:
            cand = th + t * step
            if _inside(family, cand):
                if concave and small:  # quadratic convergence: objective differences are rounding
                    fc = None
                    break
                fc = f(cand)
                if fc >= fval - 1e-13 * (1.0 + abs(fval)):
                    break
            t *= 0.5
            if t < 1e-30:
                return th
        moved = np.linalg.norm(cand - th)
        th = cand
        if fc is not None:
            fval = fc
        if moved <= 2e-15 * (1.0 + np.linalg.norm(th)):
            return th
    return th


def _objective(family, measure, th, base_th):
    num = family._num
    try:
        v = _mexpect(measure, lambda x: num.logpdf(x, th) - num.logpdf(x, base_th))
    except FloatingPointError:  # log p = -inf where the measure has mass: a useless candidate
        return -math.inf
    return float(v) if math.isfinite(v) else -math.inf


def _grid_values(family, measure, grid, base_th):
    """Objective on a 1-D grid of θ' (level-0 rules: a coarse search before Newton)."""
    num = family._num
    vals = np.zeros(grid.size)
    for law, c in measure:
        if c == 0.0:
            continue
        x, w = law.rule
        vals += c * _wsum(num.logpdf(x[:, None], (grid[None, :],)).T - num.logpdf(x, base_th)[None, :], w)
    return vals


def _argmax(family, measure, start, *, search, truth, extra_starts=()):
    """Global (grid / multi-start) or local (warm start) argmax of Σ c E log p_θ'."""
    start = np.asarray(start, dtype=float)
    if search == "local" or family.unimodal:
        return _newton(family, measure, start)
    cands = [start, *extra_starts]
    if family.dim == 1 and family.grid is not None:
        grid = family.grid(truth, start)
        vals = _grid_values(family, measure, grid, start)
        loc = [i for i in range(1, grid.size - 1) if vals[i] >= vals[i - 1] and vals[i] >= vals[i + 1]]
        loc = sorted(loc, key=lambda i: -vals[i])[:4]
        cands += [np.array([grid[i]]) for i in loc]
    else:
        cands += list(family.starts(truth))
    best, bval = None, -math.inf
    for c in cands:
        th = _newton(family, measure, c)
        v = _objective(family, measure, th, start)
        if v > bval + 1e-12 * (1 + abs(bval)) or best is None:
            best, bval = th, v
    return best


@lru_cache(maxsize=512)
def _fixed_point_cached(family, truth):
    starts = list(family.starts(truth))
    failure = None
    try:
        th = _argmax(family, [(truth.law, 1.0)], starts[0], search="global", truth=truth, extra_starts=starts[1:])
        if not _near_bound(family, th):
            return th
    except FloatingPointError as exc:  # Newton ran into the edge of the parameter range
        failure = exc
    edge = _boundary_optimum(family, truth, starts[0])
    if edge is None:
        if failure is not None:
            raise failure
        return th
    raise ValueError(
            f"family {family.name!r} has no interior real-data optimum for truth {truth.name!r}: "
            f"E_data log p_θ still increases as {family.params[edge[0]]} → {edge[1]:g}, the boundary of its "
            f"parameter range (the stability results assume an interior θ*; choose components or a truth "
            f"for which the optimum is inside)") from failure


def _near_bound(family, th) -> bool:
    """θ within 1e-8 (relative to the range) of a finite end of its range."""
    for v, (lo, hi) in zip(np.atleast_1d(th), family.bounds):
        span = (hi - lo) if math.isfinite(hi - lo) else 1.0
        if (math.isfinite(lo) and v - lo < 1e-8 * span) or (math.isfinite(hi) and hi - v < 1e-8 * span):
            return True
    return False


def _boundary_optimum(family, truth, start):
    """(coordinate, boundary) when a 1-parameter family's objective still rises at a finite end of its
    range (1e-9 from it): the maximiser is the boundary, outside the open parameter space."""
    if family.dim != 1:
        return None
    lo, hi = family.bounds[0]
    measure = [(truth.law, 1.0)]
    for end, inward in ((hi, -1.0), (lo, 1.0)):
        if not math.isfinite(end):
            continue
        span = (hi - lo) if math.isfinite(hi - lo) else 1.0
        near = _objective(family, measure, np.array([end + inward * 1e-9 * span]), start)
        farther = _objective(family, measure, np.array([end + inward * 1e-6 * span]), start)
        if math.isfinite(near) and near > farther:
            return 0, end
    return None


def fixed_point(family, truth) -> np.ndarray:
    r"""The real-data optimum :math:`\theta^*=\arg\max_\theta\mathbb E_{p_\text{data}}\log p_\theta`.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str

    Returns
    -------
    ndarray, shape (family.dim,)

    Notes
    -----
    Solves the population first-order condition
    :math:`\mathbb E_{p_\text{data}}\nabla_\theta\log p_\theta=0` by Newton's method on a
    double-exponential quadrature of :math:`p_\text{data}`; non-concave 1-parameter families
    are first searched on a grid (the global maximum, [B] §2, ``theory.md`` §2.1).

    Examples
    --------
    >>> from selfconsume.theory import fixed_point, gaussian_family, laplace_truth
    >>> [round(float(v), 10) for v in fixed_point(gaussian_family(), laplace_truth(1.0, 2.0))]  # (mean, sd)
    [1.0, 2.8284271247]
    """
    family, truth = _check_pair(family, truth)
    return _fixed_point_cached(family, truth).copy()


def retraining_map(family, truth, lam, *, search="auto") -> Callable:
    r"""The population retraining operator :math:`\mathcal G_\lambda` as a callable.

    .. math:: \mathcal G_\lambda(\theta)=\arg\max_{\theta'}\ \mathbb E_{p_\text{data}}\log p_{\theta'}
              +\lambda\,\mathbb E_{p_\theta}\log p_{\theta'}

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
        :math:`p_\text{data}`.
    lam : float
        Synthetic-to-real ratio :math:`\lambda\ge0`.
    search : {"auto", "global", "local"}
        ``"local"`` follows the branch of maxima from the warm start :math:`\theta` (what a
        warm-started optimiser does); ``"global"`` searches the whole parameter range (grid
        for 1-parameter families, multi-start Newton otherwise). ``"auto"``: global for
        non-unimodal families, otherwise local (which is then global).

    Returns
    -------
    callable
        ``G(theta) -> ndarray`` of shape (family.dim,).

    Notes
    -----
    Solves the first-order condition
    :math:`\mathbb E_{p_\text{data}}\nabla\log p_{\theta'}+\lambda\mathbb E_{p_\theta}\nabla\log p_{\theta'}=0`
    by modified Newton ascent on quadrature rules of :math:`p_\text{data}` (built once) and of
    :math:`p_\theta` (built per call). Bertrand et al. 2024 §2 (``theory.md`` §2.1).

    Examples
    --------
    >>> from selfconsume.theory import retraining_map, gaussian_family, laplace_truth
    >>> G = retraining_map(gaussian_family(), laplace_truth(), lam=1.0)
    >>> [round(float(v), 10) for v in G([2.0, 1.0])]   # moments move half-way to the data's
    [1.0, 1.5811388301]
    """
    family, truth = _check_pair(family, truth)
    lam = check_lam(lam)
    search = check_choice("search", search, ("auto", "global", "local"))
    if search == "auto":
        search = "local" if family.unimodal else "global"
    def G(theta):
        th = _check_theta(family, theta)
        if lam == 0.0:
            return _fixed_point_cached(family, truth).copy()
        return _argmax(family, [(truth.law, 1.0), (family.law(th), lam)], th, search=search, truth=truth)

    return G


def iterate_retraining_map(family, truth, lam, theta0, steps, *, search="auto") -> np.ndarray:
    r"""Population iterates :math:`\theta_{t+1}=\mathcal G_\lambda(\theta_t)`, ``t = 0..steps``.

    Returns
    -------
    ndarray, shape (steps + 1, family.dim)

    Examples
    --------
    >>> from selfconsume.theory import iterate_retraining_map, gaussian_family, gaussian_truth
    >>> th = iterate_retraining_map(gaussian_family(), gaussian_truth(), 1.0, [1.0, 1.0], 3)
    >>> [round(float(v), 10) for v in th[:, 0]]     # mean error halves each step: λ/(1+λ)
    [1.0, 0.5, 0.25, 0.125]
    """
    family, truth = _check_pair(family, truth)
    steps = check_int("steps", steps, min_value=0)
    check_memory("storing the iterates", (steps + 1) * family.dim, names="steps")
    G = retraining_map(family, truth, lam, search=search)
    th = _check_theta(family, theta0, "theta0")
    out = np.empty((steps + 1, family.dim))
    out[0] = th
    for t in range(steps):
        th = G(th)
        out[t + 1] = th
    return out


