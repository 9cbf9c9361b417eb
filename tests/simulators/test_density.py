"""The grid chain of curated retraining on densities (cell masses through the discrete operator)."""

import math

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.simulators import curate_density


def test_k_infinity_on_the_line_matches_the_gaussian_tilt():
    x = np.linspace(-8, 8, 641)
    r = th.quadratic_reward([1.0], gamma=1.0)
    res = curate_density(th.gaussian_mixture([1.0], [0.0], [1.0]), r, math.inf, 6, grid=(x,))
    for t in range(7):
        m, S = th.gaussian_tilt([0.0], [[1.0]], r, t)
        assert res.mean_reward()[t] == pytest.approx(-0.5 * (S[0, 0] + (m[0] - 1.0) ** 2), abs=1e-12)
    assert res.p.shape == (7, 641) and not res.p.flags.writeable
    np.testing.assert_allclose(res.p.sum(axis=1), 1.0, atol=1e-13)


def test_2d_grid_equals_the_exact_chain_and_to_frame():
    mix = th.gaussian_mixture([0.35, 0.65], [[-1.0, 0.5], [1.5, -0.5]], [0.7, 1.0])
    r = th.quadratic_reward([0.5, 0.5])
    x = np.linspace(-9, 9, 121)
    y = np.linspace(-9, 9, 131)
    res = curate_density(mix, r, 4, 8, lam=0.5, grid=(x, y))
    ex = th.curate_reward_law(th.reward_law(mix, r), 4, 8, lam=0.5)
    np.testing.assert_allclose(res.mean_reward(), ex.mean_reward(), atol=1e-9)
    np.testing.assert_allclose(res.kl_to_initial(), ex.kl_to_initial(), atol=1e-9)
    assert res.p.shape == (9, 121, 131)
    df = res.to_frame()
    assert len(df) == 9 * 121 * 131 and {"x", "y", "mass", "reward", "generation"} <= set(df.columns)
    assert df.groupby("generation")["mass"].sum().to_numpy() == pytest.approx(np.ones(9))


def test_callables_and_two_centres():
    # a user density and a user reward with no closed-form law (two centres): the grid method's use
    x = np.linspace(-6, 6, 121)
    dens = lambda pts: np.exp(-0.5 * (pts**2).sum(axis=1))  # noqa: E731 (unnormalised is fine)
    rew = th.clipped_distance_reward([[2.0, 0.0], [-2.0, 0.0]], radius=0.35, gamma=4.0)  # no cell on the rim
    res = curate_density(dens, rew, 8, 40, grid=(x, x))
    top = res.prob_top()
    assert top[0] < 0.1 < top[-1] and np.all(np.diff(top) > 0)
    # symmetric problem: the two top sets keep equal mass
    X, _ = np.meshgrid(x, x, indexing="ij")
    left = res.p[-1][(X < 0) & (res.reward == 0)].sum()
    right = res.p[-1][(X > 0) & (res.reward == 0)].sum()
    assert left == pytest.approx(right, rel=1e-9)
    ring_res = curate_density(th.ring_of_gaussians(), rew, 2, 2, grid=(x, x))
    assert ring_res.p.shape == (3, 121, 121)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(grid=(np.array([0.0, 2.0, 1.0]),)), ValueError, "increasing"),
    (dict(grid=(np.linspace(-1, 1, 5),) * 3), ValueError, "one or two"),
    (dict(p0=lambda p: -np.ones(len(p))), ValueError, "non-negative"),
    (dict(p0=lambda p: np.zeros(len(p))), ValueError, "positive, finite integral"),
    (dict(p0=lambda p: np.full(len(p), np.nan)), ValueError, "finite"),
    (dict(p0=lambda p: np.ones((len(p), 2))), ValueError, "one density value"),
    (dict(reward=lambda p: np.full(len(p), np.inf)), ValueError, "finite"),
    (dict(K=0), ValueError, "K"),
    (dict(lam=-0.5), ValueError, "lam"),
    (dict(p0="nope"), TypeError, "p0"),
    (dict(grid=(np.linspace(-1, 1, 51),)), ValueError, "too coarse or too narrow"),
    (dict(grid=(np.linspace(-5, 5, 4),)), ValueError, "too coarse or too narrow"),
])
def test_bad_input(kw, exc, match):
    args = dict(p0=th.gaussian_mixture([1.0], [0.0], [1.0]), reward=th.quadratic_reward([0.0]), K=2,
                generations=2, lam=None, grid=(np.linspace(-5, 5, 51),))
    args.update(kw)
    with pytest.raises(exc, match=match):
        curate_density(args.pop("p0"), args.pop("reward"), args.pop("K"), args.pop("generations"), **args)
