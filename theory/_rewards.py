r"""Rewards for curated retraining on :math:`\mathbb R^d` (Ferbach et al. 2024; ``shared/theory.md`` §1.8, §6).

A :class:`Reward` is a vectorised function of points given as rows, ``r(x)`` for ``x`` of
shape ``(N, d)`` returning ``N`` finite values, with what the theory needs to know about
it: its scale :math:`\gamma`, its top value :math:`r^*` where the reward is bounded above,
and whether the top is flat (attained on a set of positive volume, so that
:math:`P_0(r=r^*)>0` and Theorem 2.1's limit :math:`p_0` restricted to the top set exists).

Built-ins:

* :func:`clipped_distance_reward` — :math:`r(x)=-\gamma\max(0,\min_k\|x-c_k\|-\rho)`, the
  clipped negative distance to chosen centres of the papers' 2-D figures (flat top 0 on
  the balls of radius :math:`\rho`);
* :func:`linear_reward` — :math:`r(x)=\gamma\,a^\top x` (unbounded: Lemma 2.2's assumption fails);
* :func:`quadratic_reward` — :math:`r(x)=-\tfrac\gamma2\|x-c\|^2` (top 0 at one point);
* :func:`as_reward` — any user callable, checked on every call (shape ``(N,)``, finite).

A 1-D array of points is read as ``N`` points on the line (d = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from selfconsume._validation import check_finite_array, check_points, check_real

__all__ = ["Reward", "clipped_distance_reward", "linear_reward", "quadratic_reward", "as_reward"]


@dataclass(frozen=True, eq=False)
class Reward:
    r"""A reward on :math:`\mathbb R^d`, vectorised over points as rows.

    Attributes
    ----------
    name : str
    dim : int or None
        Dimension of the points (None: any).
    gamma : float
        Scale :math:`\gamma` (the built-ins are :math:`\gamma` times a unit-scale shape).
    top : float or None
        :math:`r^*=\sup_x r(x)` when known (None: unbounded or unknown).
    flat_top : bool
        The top is attained on a set of positive volume (so :math:`P_0(r=r^*)>0` for a
        positive density :math:`p_0`).
    params : dict
        The constructor's parameters (centres, radius, direction, ...).
    """

    name: str
    fn: Callable = field(repr=False)
    dim: int | None = None
    gamma: float = 1.0
    top: float | None = None
    flat_top: bool = False
    params: dict = field(default_factory=dict, repr=False)

    def points(self, x) -> np.ndarray:
        """``x`` as finite points ``(N, d)`` (1-D input: N points on the line)."""
        return check_points("x", x, dim=self.dim)

    def __call__(self, x) -> np.ndarray:
        """Rewards at the points, shape (N,); a clear error for non-finite or misshaped output."""
        pts = self.points(x)
        out = np.asarray(self.fn(pts), dtype=float)
        if out.shape != (pts.shape[0],):
            raise ValueError(f"reward {self.name!r} must return one value per point, shape ({pts.shape[0]},); "
                             f"got shape {out.shape}")
        bad = ~np.isfinite(out)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"reward {self.name!r} must return finite values; got {out[i]} at x = {pts[i].tolist()}")
        return out


def _centres(centres):
    c = check_finite_array("centres", centres)
    if c.ndim == 1:
        c = c[:, None]  # centres on the line
    if c.ndim != 2:
        raise ValueError(f"centres must have shape (k, d) (or (k,) on the line); got shape {c.shape}")
    return c


def clipped_distance_reward(centres, *, radius=0.0, gamma=1.0) -> Reward:
    r""":math:`r(x)=-\gamma\max\big(0,\ \min_k\|x-c_k\|-\rho\big)`: flat top :math:`r^*=0` on the balls
    of radius :math:`\rho` around the chosen centres.

    With :math:`\rho>0` the top set has positive volume, so curation converges to
    :math:`p_0` restricted to it (Ferbach et al. 2024, Thm 2.1; ``theory.md`` §1.8: the
    papers' "negative distance to the closest centre, clipped"). Choose a subset of a
    mixture's centres to make curation select between modes.

    Parameters
    ----------
    centres : array_like, shape (k, d) or (k,)
    radius : float
        :math:`\rho\ge0`.
    gamma : float
        Scale :math:`\gamma>0`.

    Examples
    --------
    >>> r = clipped_distance_reward([[0.0, 0.0]], radius=1.0, gamma=5.0)
    >>> r([[0.5, 0.0], [3.0, 0.0]]).tolist(), r.top, r.flat_top
    ([0.0, -10.0], 0.0, True)
    """
    c = _centres(centres)
    radius = check_real("radius", radius, min_value=0.0)
    gamma = check_real("gamma", gamma, min_value=0.0, min_inclusive=False)

    def fn(x):
        d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        return gamma * np.minimum(0.0, radius - np.sqrt(d2.min(axis=1)))  # = -γ max(0, d - ρ), no -0.0

    return Reward("clipped_distance", fn, c.shape[1], gamma, 0.0, radius > 0,
                  {"centres": c.copy(), "radius": radius})


def linear_reward(direction, *, gamma=1.0) -> Reward:
    r""":math:`r(x)=\gamma\,a^\top x` (unbounded above: the reward grows without limit under curation).

    Examples
    --------
    >>> linear_reward([1.0, -1.0], gamma=2.0)([[1.0, 0.5]]).tolist()
    [1.0]
    """
    a = check_finite_array("direction", direction, ndim=1)
    gamma = check_real("gamma", gamma, min_value=0.0, min_inclusive=False)
    return Reward("linear", lambda x: gamma * (x @ a), a.shape[0], gamma, None, False, {"direction": a.copy()})


def quadratic_reward(centre, *, gamma=1.0) -> Reward:
    r""":math:`r(x)=-\tfrac\gamma2\|x-c\|^2`: top :math:`r^*=0` at the single point :math:`c`.

    With a Gaussian :math:`p_0` the K = ∞ chain stays Gaussian (``theory.md`` §6 item 2).

    Examples
    --------
    >>> quadratic_reward([1.0, 1.0], gamma=2.0)([[1.0, 3.0]]).tolist()
    [-4.0]
    """
    c = check_finite_array("centre", centre, ndim=1)
    gamma = check_real("gamma", gamma, min_value=0.0, min_inclusive=False)
    return Reward("quadratic", lambda x: -0.5 * gamma * ((x - c) ** 2).sum(axis=1), c.shape[0], gamma, 0.0, False,
                  {"centre": c.copy()})


def as_reward(fn, *, dim=None, name=None, top=None, flat_top=False) -> Reward:
    """A user's reward: ``fn`` maps points ``(N, d)`` to ``N`` finite values.

    Every call is checked (shape, finiteness); ``top`` (:math:`r^*`, if known) and
    ``flat_top`` tell the theory what it cannot see from a callable. A :class:`Reward` is
    returned unchanged.

    Examples
    --------
    >>> r = as_reward(lambda x: -abs(x[:, 0]), dim=2, name="-|x1|")
    >>> r([[1.0, 5.0], [-2.0, 0.0]]).tolist()
    [-1.0, -2.0]
    """
    if isinstance(fn, Reward):
        return fn
    if not callable(fn):
        raise TypeError(f"reward must be callable on an (N, d) array of points; got {fn!r}")
    if dim is not None:
        from selfconsume._validation import check_int

        dim = check_int("dim", dim, min_value=1)
    top = None if top is None else check_real("top", top)
    return Reward(name or getattr(fn, "__name__", "reward"), fn, dim, 1.0, top, bool(flat_top), {})
