r"""Sample-based metrics of retrained models (``shared/theory.md`` §6 item 7).

* :func:`sliced_wasserstein` — :math:`\big(\mathbb E_\theta W_p^p(\theta^\top X,\theta^\top Y)\big)^{1/p}` over random
  directions, each 1-D :math:`W_p` exact between the two empirical laws (merged quantile grids);
* :func:`mmd` — the unbiased U-statistic of :math:`\mathrm{MMD}^2` with a Gaussian kernel;
* :func:`mode_coverage` — the share of modes holding at least 1/(4·modes) of the samples;
* :func:`kl_grid` — KL between cell masses.

The closed-form :math:`W_2` between Gaussians is :func:`selfconsume.theory.w2_gaussians`.
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume._parallel import as_generator
from selfconsume._validation import check_finite_array, check_int, check_memory, check_points, check_real

__all__ = ["sliced_wasserstein", "mmd", "mode_coverage", "kl_grid"]


def _pts(name, x):
    return check_points(name, x, min_rows=2)


def _wp_1d(u, v, p):
    """W_p^p between two empirical laws on the line (rows: projections), exactly."""
    u = np.sort(u, axis=1)
    v = np.sort(v, axis=1)
    n, m = u.shape[1], v.shape[1]
    grid = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    du = np.diff(np.concatenate([[0.0], grid]))
    mid = grid - 0.5 * du
    iu = np.minimum((mid * n).astype(int), n - 1)
    iv = np.minimum((mid * m).astype(int), m - 1)
    return (np.abs(u[:, iu] - v[:, iv]) ** p) @ du


def sliced_wasserstein(x, y, *, n_projections=256, p=2, rng=None) -> float:
    """Sliced Wasserstein distance between two samples (rows are points).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> a, b = g.normal(size=(500, 2)), g.normal(size=(500, 2)) + [3.0, 0.0]
    >>> round(sliced_wasserstein(a, b, rng=1), 1)     # a shift s: SW₂ ≈ s/√2 = 2.12, plus sampling noise
    2.2
    """
    x, y = _pts("x", x), _pts("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension; got {x.shape[1]} and {y.shape[1]}")
    n_projections = check_int("n_projections", n_projections, min_value=1)
    p = check_real("p", p, min_value=1.0)
    d = x.shape[1]
    if d == 1:
        theta = np.ones((1, 1))
    else:
        check_memory("the projected samples (n_projections × (rows of x + rows of y))",
                     n_projections * (len(x) + len(y) + d), names="n_projections")
        try:
            gen = as_generator(rng)
        except (TypeError, ValueError) as exc:
            raise type(exc)(str(exc).replace("rng must be", "rng (the projections' seed) must be", 1)) from None
        theta = gen.standard_normal((n_projections, d))
        theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    return float(np.mean(_wp_1d(theta @ x.T, theta @ y.T, p)) ** (1.0 / p))


def mmd(x, y, *, bandwidth=None) -> float:
    r"""Unbiased estimate of :math:`\mathrm{MMD}^2` with the kernel :math:`e^{-\|x-y\|^2/(2h^2)}`
    (``bandwidth`` h; default: the median distance between the pooled points).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> abs(mmd(g.normal(size=(400, 2)), g.normal(size=(400, 2)), bandwidth=1.0)) < 0.01
    True
    """
    x, y = _pts("x", x), _pts("y", y)
    if bandwidth is None:
        z = np.concatenate([x, y])[:1000]
        d2 = ((z[:, None] - z[None]) ** 2).sum(axis=2)
        bandwidth = math.sqrt(float(np.median(d2[np.triu_indices(len(z), 1)])))
    h2 = check_real("bandwidth", bandwidth, min_value=0.0, min_inclusive=False) ** 2

    def k(a, b):
        return np.exp(-0.5 * ((a[:, None] - b[None]) ** 2).sum(axis=2) / h2)

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2.0 * kxy.mean())


def mode_coverage(samples, centres, *, radius) -> float:
    """Share of the modes (``centres``) that hold at least 1/(4·modes) of the samples; a sample
    belongs to its nearest centre when it lies within ``radius`` of it.

    Examples
    --------
    >>> mode_coverage(np.array([[0.0, 0.1]] * 9 + [[5.0, 5.0]]), [[0, 0], [5, 5], [9, 9]], radius=1.0)
    0.6666666666666666
    """
    x = _pts("samples", samples)
    c = check_finite_array("centres", centres, ndim=2)
    radius = check_real("radius", radius, min_value=0.0, min_inclusive=False)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(axis=2)
    near = d2.argmin(axis=1)
    ok = d2[np.arange(len(x)), near] <= radius**2
    share = np.bincount(near[ok], minlength=len(c)) / len(x)
    return float(np.mean(share >= 1.0 / (4 * len(c))))


def kl_grid(p, q) -> float:
    """KL(p‖q) between cell masses (``inf`` where p has mass and q none)."""
    p = check_finite_array("p", p).ravel()
    q = check_finite_array("q", q).ravel()
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("p and q must be non-negative cell masses")
    p, q = p / p.sum(), q / q.sum()
    s = p > 0
    if np.any(q[s] == 0):
        return math.inf
    return float(np.sum(p[s] * np.log(p[s] / q[s])))
