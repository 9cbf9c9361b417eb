"""Continuous-curation laws (8-Gaussian ring, two moons, grid densities, samplers) and rewards."""

import math

import numpy as np
import pytest
from scipy import integrate

from selfconsume.theory import (
    as_reward,
    clipped_distance_reward,
    grid_density,
    linear_reward,
    quadratic_reward,
    ring_of_gaussians,
    sampler_law,
    two_moons,
)


def test_ring_geometry():
    ring = ring_of_gaussians(8, radius=3.0, scale=0.2)
    c = np.asarray(ring.locs)
    np.testing.assert_allclose(np.hypot(c[:, 0], c[:, 1]), 3.0, rtol=1e-15)
    np.testing.assert_allclose(np.diff(np.unwrap(np.arctan2(c[:, 1], c[:, 0]))), 2 * np.pi / 8, rtol=1e-12)
    np.testing.assert_allclose(ring.cov(), (0.04 + 9.0 / 2) * np.eye(2), atol=1e-12)  # E cos² = 1/2 over the ring
    # density at a centre: one component dominates
    assert ring.pdf(c[:1])[0] == pytest.approx(1 / 8 / (2 * np.pi * 0.04), rel=1e-6)


def test_two_moons_density_normalised_and_matches_sampling():
    m = two_moons(0.1)
    g1, g2 = np.linspace(-1.6, 2.6, 421), np.linspace(-1.2, 1.7, 291)
    X, Y = np.meshgrid(g1, g2, indexing="ij")
    P = m.pdf(np.stack([X, Y], axis=-1))
    assert P.sum() * (g1[1] - g1[0]) * (g2[1] - g2[0]) == pytest.approx(1.0, abs=1e-9)
    # against a direct adaptive integral over the arc at a few points
    for pt in ([0.0, 1.0], [1.0, -0.5], [0.5, 0.25], [2.0, 0.5]):
        def f(t, moon):
            a = (np.cos(t), np.sin(t)) if moon == 0 else (1 - np.cos(t), 0.5 - np.sin(t))
            d2 = (pt[0] - a[0]) ** 2 + (pt[1] - a[1]) ** 2
            return np.exp(-d2 / (2 * 0.01)) / (2 * np.pi * 0.01) / np.pi
        ref = 0.5 * sum(integrate.quad(f, 0, np.pi, args=(k,), epsabs=0, epsrel=1e-12, limit=200)[0] for k in (0, 1))
        assert m.pdf(np.array(pt)) == pytest.approx(ref, rel=1e-10)
    n = 400_000
    x = m.rvs(n, random_state=2)
    cov = m.cov()
    assert np.all(np.abs(x.mean(axis=0) - m.mean()) < 5 * np.sqrt(np.diag(cov) / n))
    c = x - m.mean()
    for i in range(2):
        for j in range(2):
            prod = c[:, i] * c[:, j]
            assert abs(prod.mean() - cov[i, j]) < 5 * prod.std() / np.sqrt(n)


def test_grid_density_cells_and_sampling():
    x = np.linspace(-3, 3, 61)
    y = np.linspace(-2, 2, 41)
    vals = np.exp(-0.5 * (x[:, None] ** 2 + (y[None, :] / 0.5) ** 2))
    law = grid_density((x, y), vals)
    assert law.mass.shape == (61, 41) and law.mass.sum() == pytest.approx(1.0, rel=1e-14)
    # piecewise constant: the density at a cell centre is value / normaliser
    norm = (vals * 0.1 * 0.1).sum()
    assert law.pdf(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.0 / norm, rel=1e-12)
    assert law.logpdf(np.array([[10.0, 0.0]]))[0] == -np.inf
    pts = law.rvs(200_000, random_state=3)
    assert pts.shape == (200_000, 2)
    assert np.all(pts[:, 0] >= -3.05) and np.all(pts[:, 0] <= 3.05)
    # cell frequencies against the cell masses (chi-square-sized deviation)
    ix = np.clip(np.searchsorted(law.edges[0], pts[:, 0], side="right") - 1, 0, 60)
    freq = np.bincount(ix, minlength=61) / len(pts)
    marg = law.mass.sum(axis=1)
    assert np.all(np.abs(freq - marg) < 5 * np.sqrt(marg * (1 - marg) / len(pts)) + 1e-12)


@pytest.mark.parametrize("grid, values, match", [
    ((np.array([0.0, 1.0, 0.5]),), np.ones(3), "increasing"),
    ((np.array([0.0]),), np.ones(1), "at least 2"),
    ((np.linspace(0, 1, 5),), -np.ones(5), "non-negative"),
    ((np.linspace(0, 1, 5),), np.zeros(5), "positive, finite integral"),
    ((np.linspace(0, 1, 5),), np.ones(4), "shape"),
    ((np.linspace(0, 1, 5),), np.array([1, 1, np.nan, 1, 1.0]), "finite"),
    ([np.linspace(0, 1, 5)] * 3, np.ones((5, 5, 5)), "one or two"),
])
def test_grid_density_bad_input(grid, values, match):
    with pytest.raises(ValueError, match=match):
        grid_density(grid, values)


def test_sampler_law_checks_what_it_returns():
    ok = sampler_law(lambda n, rng: rng.normal(size=(n, 3)), 3)
    assert ok.rvs(7, random_state=0).shape == (7, 3)
    np.testing.assert_array_equal(ok.rvs(7, random_state=0), ok.rvs(7, random_state=0))
    with pytest.raises(ValueError, match=r"shape \(5, 3\)"):
        sampler_law(lambda n, rng: rng.normal(size=(n, 2)), 3).rvs(5)
    with pytest.raises(ValueError, match="non-finite"):
        sampler_law(lambda n, rng: np.full((n, 1), np.nan), 1).rvs(2)
    with pytest.raises(TypeError, match="callable"):
        sampler_law(3, 1)


def test_rewards_values_and_tops():
    r = clipped_distance_reward([[0.0, 0.0], [4.0, 0.0]], radius=0.5, gamma=5.0)
    x = np.array([[0.2, 0.1], [2.0, 0.0], [4.0, 1.5], [-3.0, 4.0]])
    np.testing.assert_allclose(r(x), [0.0, -5 * 1.5, -5 * 1.0, -5 * 4.5])
    assert r.top == 0.0 and r.flat_top and r.dim == 2
    assert not clipped_distance_reward([[0.0, 0.0]]).flat_top  # radius 0: the top is one point
    lin = linear_reward([1.0, 2.0], gamma=0.5)
    np.testing.assert_allclose(lin(x), 0.5 * (x @ [1.0, 2.0]))
    assert lin.top is None
    quad = quadratic_reward([1.0, -1.0], gamma=3.0)
    np.testing.assert_allclose(quad(x), -1.5 * ((x - [1.0, -1.0]) ** 2).sum(axis=1))
    # points on the line
    np.testing.assert_allclose(clipped_distance_reward([0.0], radius=1.0)(np.array([0.5, 3.0])), [0.0, -2.0])


@pytest.mark.parametrize("fn, x, match", [
    (lambda x: np.full(len(x), np.nan), np.zeros((3, 2)), "finite"),
    (lambda x: np.zeros((len(x), 1)), np.zeros((3, 2)), "one value per point"),
    (lambda x: x[:, 0] / 0.0 * 0.0, np.ones((2, 2)), "finite"),
])
def test_user_reward_output_is_checked(fn, x, match):
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=match):
        as_reward(fn, dim=2)(x)


def test_reward_input_checks():
    r = quadratic_reward([0.0, 0.0])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        r(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="gamma"):
        linear_reward([1.0], gamma=0.0)
    with pytest.raises(ValueError, match="radius"):
        clipped_distance_reward([[0.0]], radius=-1.0)
    with pytest.raises(TypeError, match="callable"):
        as_reward("not a function")
    assert as_reward(r) is r
    assert math.isfinite(r(np.array([[1e150, 0.0]]))[0])
    with np.errstate(over="ignore"), pytest.raises(ValueError, match="finite"):  # overflow: a clear error
        r(np.array([[1e160, 0.0]]))
