r"""Distances between laws in closed form."""

from __future__ import annotations

import numpy as np

from selfconsume._validation import check_finite_array

__all__ = ["w2_gaussians"]


def w2_gaussians(mean1, cov1, mean2, cov2) -> float:
    r"""Squared 2-Wasserstein distance between :math:`N(m_1,S_1)` and :math:`N(m_2,S_2)`:

    .. math:: W_2^2=\|m_1-m_2\|^2+\mathrm{tr}\big(S_1+S_2-2(S_2^{1/2}S_1S_2^{1/2})^{1/2}\big).

    Examples
    --------
    >>> w2_gaussians([0.0], [[1.0]], [1.0], [[4.0]])     # (m1 - m2)² + (σ1 - σ2)²
    2.0
    """
    from scipy import linalg

    m1 = np.atleast_1d(check_finite_array("mean1", mean1))
    m2 = np.atleast_1d(check_finite_array("mean2", mean2))
    S1 = np.atleast_2d(check_finite_array("cov1", cov1))
    S2 = np.atleast_2d(check_finite_array("cov2", cov2))
    d = m1.size
    for name, S in (("cov1", S1), ("cov2", S2)):
        if S.shape != (d, d):
            raise ValueError(f"{name} must have shape ({d}, {d}); got {S.shape}")
    if m2.size != d:
        raise ValueError(f"mean2 must have {d} entries; got {m2.size}")
    r2 = linalg.sqrtm(S2)
    cross = linalg.sqrtm(r2 @ S1 @ r2)
    val = float(((m1 - m2) ** 2).sum() + np.trace(S1 + S2 - 2.0 * np.real(cross)))
    return max(val, 0.0)
