"""Learners (against scikit-learn) and the retraining loop (seeding, workflows, curation)."""

import numpy as np
import pytest

from selfconsume.simulators import GaussianLearner, KDELearner, MixtureLearner, retrain
from selfconsume.theory import clipped_distance_reward, linear_reward, ring_of_gaussians

X = ring_of_gaussians().rvs(3000, random_state=0)


def test_em_matches_scikit_learn_from_the_same_start():
    sk = pytest.importorskip("sklearn.mixture")
    m = MixtureLearner(8, max_iter=1, tol=0.0).fit(X, random_state=0)
    w0, mu0, S0 = m.weights_.copy(), m.means_.copy(), m.covariances_.copy()
    ours = MixtureLearner(8, max_iter=300, tol=1e-10)
    ours.weights_, ours.means_, ours.covariances_, ours.chol_, ours.dim_ = w0, mu0, S0, np.linalg.cholesky(S0), 2
    ours.fit(X)  # warm start from (w0, mu0, S0)
    ref = sk.GaussianMixture(8, covariance_type="full", tol=1e-10, max_iter=300, reg_covar=1e-6, weights_init=w0,
                             means_init=mu0, precisions_init=np.linalg.inv(S0)).fit(X)
    np.testing.assert_allclose(ours.means_, ref.means_, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, atol=1e-9)
    np.testing.assert_allclose(ours.weights_, ref.weights_, atol=1e-9)
    np.testing.assert_allclose(ours.log_prob(X[:100]), ref.score_samples(X[:100]), atol=1e-9)


def test_kde_matches_scikit_learn():
    kd = pytest.importorskip("sklearn.neighbors")
    k = KDELearner(0.3).fit(X[:700])
    ref = kd.KernelDensity(bandwidth=0.3).fit(X[:700]).score_samples(X[:60])
    np.testing.assert_allclose(k.log_prob(X[:60]), ref, atol=1e-10)


def test_gaussian_learner_moments_and_sampling():
    g = GaussianLearner().fit(X)
    np.testing.assert_allclose(g.mean_, X.mean(axis=0))
    np.testing.assert_allclose(g.cov_, np.cov(X.T, ddof=1))
    s = g.sample(200_000, random_state=1)
    # 5 SE of a covariance entry: √(S_ii S_jj (1 + ρ²)/n) ≤ √(2·4.2²/2e5) ≈ 0.013
    np.testing.assert_allclose(np.cov(s.T), g.cov_, atol=5 * 0.0133)
    mle = GaussianLearner("mle").fit(X)
    np.testing.assert_allclose(mle.cov_, np.cov(X.T, ddof=0))
    # a collapsed fit stays sampleable
    assert np.all(np.isfinite(GaussianLearner().fit(np.ones((5, 2))).sample(3, random_state=0)))


def test_retrain_is_thread_count_invariant_and_seeded():
    a = retrain(MixtureLearner(4), X, 3, n=600, reps=3, rng=7, workers=1)
    b = retrain(MixtureLearner(4), X, 3, n=600, reps=3, rng=7, workers=2)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.params["means_"], b.params["means_"])
    c = retrain(MixtureLearner(4), X, 3, n=600, reps=3, rng=8, workers=2)
    assert not np.array_equal(a.samples, c.samples)
    assert not a.samples.flags.writeable


def test_workflows_and_curation():
    # real data only (λ = 0): every generation refits the real data
    r0 = retrain(GaussianLearner(), X, 3, n=10, lam=0.0, reps=2, rng=1)
    np.testing.assert_allclose(r0.params["mean_"][:, 1:], np.broadcast_to(X.mean(axis=0), (2, 3, 2)), atol=1e-12)
    # accumulate: the pool grows, the fit stays near the data
    acc = retrain(GaussianLearner(), X, 4, n=500, workflow="accumulate", reps=2, rng=2)
    assert acc.to_frame()["trace_cov"].between(5.0, 12.0).all()
    # curation raises the mean reward generation after generation
    r = clipped_distance_reward([[2.0, 2.0]], radius=0.5, gamma=5.0)
    cur = retrain(GaussianLearner(), X, 4, n=2000, K=4, reward=r, reps=3, rng=3)
    mr = cur.to_frame().groupby("generation")["mean_reward"].mean().to_numpy()
    assert np.all(np.diff(mr) > 0)
    df = cur.to_frame()
    assert len(df) == 3 * 5 and {"rep", "generation", "mean_reward", "var_reward", "trace_cov", "K"} <= set(df.columns)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(K=4), ValueError, "reward must be given"),
    (dict(lam=0.5, n=10), ValueError, "n must be >="),
    (dict(lam=-1.0), ValueError, "lam"),
    (dict(workflow="nope"), ValueError, "workflow"),
    (dict(reward=lambda x: np.full(len(x), np.nan), K=2), ValueError, "finite"),
    (dict(learner=object()), TypeError, "learner"),
    (dict(real=np.zeros((1, 2))), ValueError, "at least 2"),
])
def test_bad_input(kw, exc, match):
    args = dict(learner=GaussianLearner(), real=X[:100], generations=2, n=100)
    args.update(kw)
    with pytest.raises(exc, match=match):
        retrain(args.pop("learner"), args.pop("real"), args.pop("generations"), **args)


def test_em_needs_enough_points():
    with pytest.raises(ValueError, match="at least components"):
        MixtureLearner(10).fit(X[:5])
    with pytest.raises(RuntimeError, match="not fitted"):
        KDELearner(0.1).sample(3)
    assert linear_reward([1.0, 0.0])(X[:3]).shape == (3,)


def test_n_init_keeps_the_best_start():
    one = np.array([MixtureLearner(8).fit(X, random_state=s).log_prob(X).mean() for s in range(6)])
    best = np.array([MixtureLearner(8, n_init=6).fit(X, random_state=s).log_prob(X).mean() for s in range(6)])
    # the first of the n_init starts is the single start (same stream), so the best is never worse
    assert np.all(best >= one - 1e-12)
    assert np.ptp(best) < 1e-9 and best[0] == pytest.approx(best.max())  # every seed reaches the same optimum


def test_luce_tournament_checks_its_arguments():
    from selfconsume.simulators import luce_tournament

    g = np.random.default_rng(0)
    r = linear_reward([1.0, 0.0])
    assert luce_tournament(X[:16], r, 2, 3, g).shape == (2, 2)
    with pytest.raises(ValueError, match="K"):
        luce_tournament(X[:16], r, 0, 1, g)
    with pytest.raises(ValueError, match="multiple of K"):
        luce_tournament(X[:10], r, 4, 1, g)
    best = luce_tournament(X[:400], r, 4, 1, g, hard=True)
    np.testing.assert_array_equal(best[:, 0], X[:400, 0].reshape(100, 4).max(axis=1))


@pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")
@pytest.mark.parametrize("d", [1, 3])
def test_em_matches_scikit_learn_in_other_dimensions(d):
    """The run-time-d kernel (d ≠ 2) against scikit-learn from the same start."""
    sk = pytest.importorskip("sklearn.mixture")
    g = np.random.default_rng(d)
    Y = np.concatenate([g.normal(0.0, 1.0, (400, d)), g.normal(3.0, 0.5, (300, d)) @ np.triu(np.ones((d, d)))])
    m = MixtureLearner(3, max_iter=1, tol=0.0).fit(Y, random_state=0)
    ours = MixtureLearner(3, max_iter=300, tol=1e-10)
    ours.weights_, ours.means_, ours.covariances_ = m.weights_.copy(), m.means_.copy(), m.covariances_.copy()
    ours.chol_, ours.dim_ = np.linalg.cholesky(m.covariances_), d
    ours.fit(Y)
    ref = sk.GaussianMixture(3, tol=1e-10, max_iter=300, reg_covar=1e-6, weights_init=m.weights_,
                             means_init=m.means_, precisions_init=np.linalg.inv(m.covariances_)).fit(Y)
    np.testing.assert_allclose(ours.means_, ref.means_, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, atol=1e-9)
    np.testing.assert_allclose(ours.log_prob(Y[:50]), ref.score_samples(Y[:50]), atol=1e-9)
    assert ours.n_iter_ == ref.n_iter_


def test_em_planar_kernel_equals_the_general_one_bit_for_bit():
    from selfconsume.simulators._learners_kernels import _em_iteration, _em_iteration_2d

    m = MixtureLearner(8).fit(X, random_state=0)
    k, d = 8, 2
    outs = []
    for planar in (False, True):
        w, mu, ch = m.weights_.copy(), m.means_.copy(), m.chol_.copy()
        work = [np.empty((k, d, d)), np.empty((k, d)), np.empty((k, d)), np.empty((k, d, d)), np.empty(k)]
        if planar:
            ll = _em_iteration_2d(X, w, mu, ch, 1e-6, *work, np.empty(k))
        else:
            ll = _em_iteration(X, w, mu, ch, 1e-6, *work, np.empty(d), np.empty(d), np.empty(k))
        outs.append((ll, w, mu, ch, work[0]))
    assert outs[0][0] == outs[1][0]
    for a, b in zip(outs[0][1:], outs[1][1:]):
        np.testing.assert_array_equal(a, b)


def test_em_reports_a_collapsed_component():
    # two distinct points per component in 2-D with no regularisation: a singular covariance
    Y = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [10.0, 0.0], [11.0, 1.0]]), 5, axis=0)
    with pytest.raises(ValueError, match="reg_covar"):
        MixtureLearner(2, reg_covar=0.0).fit(Y, random_state=0)
    assert np.isfinite(MixtureLearner(2).fit(Y, random_state=0).log_prob(Y)).all()


def test_fitted_arrays_are_never_mutated_by_a_later_fit():
    m = MixtureLearner(8).fit(X, random_state=0)
    before = m.means_
    snapshot = before.copy()
    m.fit(X[::-1][:2000])
    np.testing.assert_array_equal(before, snapshot)
