"""Curation on densities, exact through the law of the reward: the law, the chain, the closed forms."""

import math

import numpy as np
import pytest
from scipy import stats

from selfconsume import theory as th

RING = th.ring_of_gaussians(8, radius=3.0, scale=0.4)
MIX2 = th.gaussian_mixture([0.35, 0.65], [[-1.0, 0.5], [1.5, -0.5]], [0.7, 1.0])


@pytest.mark.parametrize("p0, reward", [
    (MIX2, th.linear_reward([1.0, -0.5], gamma=0.8)),
    (MIX2, th.quadratic_reward([0.5, 0.5], gamma=1.0)),
    (th.gaussian_mixture([0.3, 0.7], [[-1.0], [2.0]], [0.5, 1.5]), th.quadratic_reward([0.0], gamma=2.0)),
    (RING, th.clipped_distance_reward([[3.0, 0.0]], radius=0.4, gamma=5.0)),
    (th.gaussian_mixture([1.0], [[0.0, 0.0, 0.0]], [1.0]), th.clipped_distance_reward([[1.0, 0.0, 0.0]], radius=0.8)),
])
def test_reward_law_moments_match_sampling(p0, reward):
    law = th.reward_law(p0, reward)
    assert np.exp(law.logw).sum() == pytest.approx(1.0, abs=1e-14)
    assert np.all(np.diff(law.nodes) > 0)
    n = 400_000
    r = reward(p0.rvs(n, random_state=5))
    for f in (lambda v: v, lambda v: v**2, lambda v: np.exp(np.maximum(v, -50))):
        m, sd = f(r).mean(), f(r).std()
        # 5 SE, Bonferroni over the 3 moments × 5 laws of this test: z ≈ 5.5
        assert abs(law.expect(f) - m) < 5.5 * sd / math.sqrt(n)
    if reward.flat_top:
        k = int(np.sum(r == 0.0))
        assert abs(law.atom - k / n) < 5.5 * math.sqrt(law.atom * (1 - law.atom) / n)
    # refining the quadrature does not move the moments
    fine = th.reward_law(p0, reward, level=3)
    assert fine.expect(lambda v: v) == pytest.approx(law.expect(lambda v: v), rel=1e-12, abs=1e-13)


def test_chain_basic_invariants():
    law = th.reward_law(MIX2, th.quadratic_reward([0.5, 0.5]))
    one = th.curate_reward_law(law, 1, 5)
    assert np.all(one.log_g == 0) and np.allclose(one.mean_reward(), one.mean_reward()[0], rtol=1e-15)
    real_only = th.curate_reward_law(law, 8, 5, lam=0.0)
    assert np.all(real_only.log_g == 0)
    ch = th.curate_reward_law(law, 8, 30)
    assert np.all(np.diff(ch.mean_exp_reward()) > 0)  # Lemma 2.2: E e^r rises every generation
    np.testing.assert_allclose(np.exp(ch.logq).sum(axis=1), 1.0, atol=1e-14)
    # g_t at the nodes, recomputed from the stored Q_s, equals the stored one
    np.testing.assert_allclose(ch.log_g_at(law.nodes[::37], 30), ch.log_g[30, ::37], rtol=1e-12, atol=1e-12)
    assert ch.log_g.flags.writeable is False
    df = ch.to_frame()
    assert len(df) == 31 and {"mean_reward", "kl_to_initial", "K"} <= set(df.columns)


def test_chain_density_in_2d():
    r = th.clipped_distance_reward([[3.0, 0.0]], radius=0.4, gamma=5.0)
    law = th.reward_law(RING, r)
    ch = th.curate_reward_law(law, 4, 10)
    # on the top set p_t/p_0 = g_t(r*) = P_t(r = r*)/P_0(r = r*), exactly
    inside = np.array([[3.0, 0.0], [3.2, 0.1], [2.8, -0.3]])
    ratio = ch.log_density(RING, r, inside, 10) - RING.logpdf(inside)
    np.testing.assert_allclose(ratio, math.log(ch.prob_top()[10] / law.atom), rtol=1e-12)
    # normalised: the midpoint rule across the top set's kink converges as h² (3e-5 at h = 0.01)
    x = np.linspace(-6, 6, 1201)
    X, Y = np.meshgrid(x, x, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    mass = np.exp(ch.log_density(RING, r, pts, 10)).sum() * (x[1] - x[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1.5e-4)


def test_k_infinity_is_the_tilt_and_mixed_fixed_point():
    law = th.reward_law_from_scipy(stats.norm(0.3, 0.8))
    ch = th.curate_reward_law(law, math.inf, 5)
    np.testing.assert_allclose(ch.mean_reward(), 0.3 + 0.64 * np.arange(6), rtol=1e-12)
    np.testing.assert_allclose(ch.var_reward(), 0.64, rtol=1e-10)
    # with real data the chain on the nodes is the discrete mixed chain of simulate_curation (another code path)
    from selfconsume.simulators import simulate_curation

    law = th.reward_law_from_scipy(stats.beta(2.0, 3.0, loc=-1.0, scale=2.5))  # bounded rewards
    for K in (4, math.inf):
        mixed = th.curate_reward_law(law, K, 50, lam=0.7)
        disc = simulate_curation(np.exp(law.logw), law.nodes, K, 50, lam=0.7)
        np.testing.assert_allclose(mixed.mean_reward(), disc.mean_reward()[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.exp(mixed.logq[50]), disc.p[0, 50], rtol=1e-9, atol=1e-15)


def test_closed_forms():
    m, S = th.gaussian_tilt([0.0, 1.0], np.diag([1.0, 4.0]), th.quadratic_reward([1.0, 1.0], gamma=0.5), 4)
    np.testing.assert_allclose(S, np.diag([1 / 3, 4 / 9]), rtol=1e-12)  # (diag(1, 1/4) + tγ I)⁻¹, tγ = 2
    np.testing.assert_allclose(m, [2 / 3, 1.0], rtol=1e-12)
    m, S = th.gaussian_tilt([0.0, 0.0], np.eye(2), th.linear_reward([1.0, 2.0], gamma=0.5), 3)
    np.testing.assert_allclose(m, [1.5, 3.0])
    np.testing.assert_allclose(S, np.eye(2))
    mix = th.gaussian_mixture([0.5, 0.5], [-1.0, 2.0], [1.0, 0.5])
    assert th.mixture_tilt(mix, th.quadratic_reward([0.0]), 0) is mix
    tilted = th.mixture_tilt(mix, th.quadratic_reward([0.0]), 3)
    assert tilted.dim == 1 and sum(tilted.weights) == pytest.approx(1.0)
    np.testing.assert_allclose(th.best_of_k_cdf(np.array([0.0, 0.5, 1.0]), 3, 2), [0.0, 0.5**9, 1.0], rtol=1e-14)
    for K in (1, 2, 7, 100):
        e = th.best_of_k_kl_step_expr()
        Ks = next(s for s in e.free_symbols if s.name == "K")
        assert float(e.subs(Ks, K)) == pytest.approx(th.best_of_k_kl_step(K), abs=1e-14)
    assert th.best_of_k_kl_step(1) == 0.0


def test_top_set_constant_and_rate():
    law = th.reward_law(RING, th.clipped_distance_reward([[3.0, 0.0]], radius=0.4, gamma=5.0))
    for K in (2, math.inf):
        C = th.top_set_kl_constant(law, K)
        kl = th.curate_reward_law(law, K, 3000).kl_to_top()
        assert 3000 * kl[3000] == pytest.approx(C, rel=5e-3)
    with pytest.raises(ValueError, match="K must be >= 2"):
        th.top_set_kl_constant(law, 1)
    with pytest.raises(ValueError, match="flat-top"):
        th.top_set_kl_constant(th.reward_law_from_scipy(stats.norm()), 2)
    with pytest.raises(ValueError, match="flat-top"):
        th.curate_reward_law(th.reward_law_from_scipy(stats.norm()), 2, 2).kl_to_top()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: th.reward_law(stats.norm(), th.linear_reward([1.0])), TypeError, "GaussianMixture"),
    (lambda: th.reward_law(MIX2, lambda x: x[:, 0]), TypeError, "built-in Reward"),
    (lambda: th.reward_law(MIX2, th.linear_reward([1.0, 2.0, 3.0])), ValueError, "dim"),
    (lambda: th.reward_law(th.gaussian_mixture([1.0], [[0.0, 0.0]], covs=[[[1.0, 0.2], [0.2, 1.0]]]),
                           th.quadratic_reward([0.0, 0.0])), ValueError, "isotropic"),
    (lambda: th.reward_law(RING, th.clipped_distance_reward([[3.0, 0.0], [-3.0, 0.0]], radius=0.4)), ValueError,
     "one centre"),
    (lambda: th.curate_reward_law(th.reward_law_from_scipy(stats.norm()), 0, 3), ValueError, "K"),
    (lambda: th.curate_reward_law(th.reward_law_from_scipy(stats.norm()), 2, 3, lam=-1.0), ValueError, "lam"),
    (lambda: th.curate_reward_law(th.reward_law_from_scipy(stats.norm()), 2, -1), ValueError, "generations"),
    (lambda: th.curate_reward_law("law", 2, 3), TypeError, "RewardLaw"),
    (lambda: th.reward_law_from_scipy(stats.norm(), atom=1.0), ValueError, "atom"),
    (lambda: th.best_of_k_cdf([1.2], 2, 1), ValueError, "F0"),
    (lambda: th.gaussian_tilt([np.nan, 0.0], np.eye(2), th.quadratic_reward([0.0, 0.0]), 1), ValueError, "mean"),
    (lambda: th.gaussian_tilt([0.0, 0.0], np.eye(3), th.quadratic_reward([0.0, 0.0]), 1), ValueError, "cov"),
    (lambda: th.curated_gaussian_moments([0.0], [[1.0]], th.quadratic_reward([0.0]), 2), ValueError, "linear"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
