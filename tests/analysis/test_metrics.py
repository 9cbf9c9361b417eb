"""Sample metrics against exact values."""

import math

import numpy as np
import pytest
from scipy import stats

from selfconsume.analysis import kl_grid, mmd, mode_coverage, sliced_wasserstein
from selfconsume.theory import w2_gaussians


def test_sliced_wasserstein_on_the_line_is_the_exact_wasserstein():
    g = np.random.default_rng(0)
    a, b = g.normal(size=300), g.exponential(size=450)
    assert sliced_wasserstein(a, b, p=1) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


def test_sliced_wasserstein_of_a_shift():
    g = np.random.default_rng(1)
    a = g.normal(size=(4000, 3))
    s = np.array([2.0, 0.0, 0.0])
    # SW₂² of a pure shift over uniform directions on S²: |s|² E θ₁² = |s|²/3 (same points, so no noise)
    assert sliced_wasserstein(a, a + s, n_projections=20000, rng=2) == pytest.approx(2.0 / math.sqrt(3), rel=0.01)


def test_mmd_is_unbiased_against_the_exact_gaussian_value():
    g = np.random.default_rng(3)
    h, m1, m2, s1, s2 = 1.0, np.zeros(2), np.array([1.0, 0.0]), 0.5, 0.8

    def ek(ma, sa, mb, sb):  # E exp(-|X - Y|²/(2h²)), X ~ N(ma, sa² I), Y ~ N(mb, sb² I), d = 2
        v = h**2 + sa**2 + sb**2
        return (h**2 / v) * math.exp(-0.5 * ((ma - mb) ** 2).sum() / v)

    exact = ek(m1, s1, m1, s1) + ek(m2, s2, m2, s2) - 2 * ek(m1, s1, m2, s2)
    vals = [mmd(m1 + s1 * g.standard_normal((200, 2)), m2 + s2 * g.standard_normal((200, 2)), bandwidth=h)
            for _ in range(200)]
    assert abs(np.mean(vals) - exact) < 5 * np.std(vals) / math.sqrt(len(vals))


def test_w2_gaussians_closed_form():
    assert w2_gaussians([0.0, 0.0], np.eye(2), [3.0, 4.0], np.eye(2)) == pytest.approx(25.0)
    S1, S2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    assert w2_gaussians([0, 0], S1, [0, 0], S2) == pytest.approx((1 - 3) ** 2 + (2 - 1) ** 2)
    # against the 1-D quantile formula on samples (large n)
    assert w2_gaussians([1.0], [[2.0]], [1.0], [[2.0]]) == pytest.approx(0.0, abs=1e-12)


def test_mode_coverage_and_kl_grid():
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    g = np.random.default_rng(4)
    pts = np.concatenate([c + 0.2 * g.standard_normal((250, 2)) for c in centres[:3]])
    assert mode_coverage(pts, centres, radius=1.0) == 0.75
    assert kl_grid([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert kl_grid([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert kl_grid([0.5, 0.5], [1.0, 0.0]) == math.inf
    with pytest.raises(ValueError, match="same shape"):
        kl_grid([1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="same dimension"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((3, 3)))
