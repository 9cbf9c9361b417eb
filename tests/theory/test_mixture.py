"""The one Gaussian-mixture law: used by the simulators (truth=) and the population truths alike."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from selfconsume import simulators, theory
from selfconsume.theory import gaussian_mixture, mixture_truth

MIX = gaussian_mixture([0.2, 0.5, 0.3], [-3.0, 0.5, 4.0], [0.5, 1.0, 2.0])


def test_one_mixture_concept():
    assert simulators.GaussianMixture is theory.GaussianMixture
    assert simulators.gaussian_mixture is theory.gaussian_mixture


def test_density_against_scipy_components():
    x = np.linspace(-10, 15, 101)
    ref = sum(w * stats.norm.pdf(x, m, s) for w, m, s in zip(MIX.weights, MIX.locs, MIX.scales))
    np.testing.assert_allclose(MIX.pdf(x), ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(np.exp(MIX.logpdf(x)), ref, rtol=1e-13, atol=1e-300)
    assert integrate.quad(MIX.pdf, -np.inf, np.inf)[0] == pytest.approx(1.0, abs=1e-10)
    # far tails stay finite in log space (the pdf underflows, the logpdf does not)
    assert np.isfinite(MIX.logpdf(np.array([-1e3, 1e3]))).all()


def test_cdf_sf_ppf_and_moments():
    u = np.array([1e-12, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
    q = MIX.ppf(u)
    np.testing.assert_allclose(MIX.cdf(q[u <= 0.5]), u[u <= 0.5], rtol=1e-10)
    np.testing.assert_allclose(MIX.sf(q[u > 0.5]), 1 - u[u > 0.5], rtol=1e-6)
    np.testing.assert_allclose(MIX.cdf(q) + MIX.sf(q), 1.0, atol=1e-15)
    for k in (1, 2, 3, 4):
        num = integrate.quad(lambda x: x**k * MIX.pdf(x), -np.inf, np.inf, epsabs=1e-12, epsrel=1e-12)[0]
        assert MIX.moment(k) == pytest.approx(num, rel=1e-9)
    assert MIX.mean() == pytest.approx(MIX.moment(1), rel=1e-14)
    assert MIX.var() == pytest.approx(MIX.moment(2) - MIX.moment(1) ** 2, rel=1e-12)


def test_sampling_matches_the_law():
    x = MIX.rvs(size=200_000, random_state=3)
    assert stats.kstest(x, MIX.cdf).pvalue > 1e-3
    assert np.array_equal(x, MIX.rvs(size=200_000, random_state=3))  # seeded


def test_population_truth_uses_the_same_law():
    t = mixture_truth(0.3, -2.0, 3.0, 0.5, 1.5)
    two = gaussian_mixture([0.3, 0.7], [-2.0, 3.0], [0.5, 1.5])
    x = np.linspace(-8, 10, 37)
    np.testing.assert_allclose(t.law.logpdf(x), two.logpdf(x), rtol=1e-14)
    np.testing.assert_allclose(t.law.cdf(x), two.cdf(x), rtol=1e-14, atol=1e-300)
    assert t.mean == pytest.approx(two.mean(), rel=1e-14)
    assert t.var == pytest.approx(two.var(), rel=1e-12)
    # the quadrature on the truth's law integrates the mixture's moments
    assert t.law.expect(lambda v: v**2) == pytest.approx(two.moment(2), rel=1e-12)


def test_two_component_log_weight_is_log1p():
    # mixture_truth(w, ...) is w·N + (1 − w)·N with log(1 − w) taken as log1p(−w), exactly
    x = np.linspace(-5, 6, 23)
    ref = np.logaddexp(math.log(0.3) + stats.norm.logpdf(x, 0.0, 1.0), math.log1p(-0.3) + stats.norm.logpdf(x, 1.0, 1.0))
    assert np.array_equal(mixture_truth(0.3, 0.0, 1.0).law.logpdf(x), ref)


@pytest.mark.parametrize("bad, match", [
    (([0.5, 0.6], [0, 1], [1, 1]), "weights"),
    (([0.5, 0.5], [0, 1], [1, 0]), "scales"),
    (([0.5, 0.5], [0, 1, 2], [1, 1]), "locs"),
    (([0.5, 0.5], [0, np.nan], [1, 1]), "locs"),
])
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        gaussian_mixture(*bad)


# ---------------------------------------------------------------- d dimensions

MIX2 = gaussian_mixture([0.3, 0.7], [[-2.0, 1.0], [1.5, -0.5]],
                        covs=[[[1.0, 0.3], [0.3, 0.5]], [[0.2, -0.1], [-0.1, 0.8]]])


def test_nd_density_against_scipy_multivariate_normal():
    x = np.random.default_rng(0).normal(size=(50, 2)) * 2
    ref = (0.3 * stats.multivariate_normal([-2.0, 1.0], [[1.0, 0.3], [0.3, 0.5]]).pdf(x)
           + 0.7 * stats.multivariate_normal([1.5, -0.5], [[0.2, -0.1], [-0.1, 0.8]]).pdf(x))
    np.testing.assert_allclose(MIX2.pdf(x), ref, rtol=1e-12)
    assert MIX2.logpdf(x.reshape(5, 10, 2)).shape == (5, 10)
    assert np.isfinite(MIX2.logpdf(np.array([[1e3, -1e3]]))).all()  # far tails stay finite in log space


def test_nd_moments_and_sampling():
    n = 400_000
    x = MIX2.rvs(n, random_state=1)
    assert x.shape == (n, 2)
    mean, cov = MIX2.mean(), MIX2.cov()
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(x.mean(axis=0) - mean) < 5 * se_mean)
    # covariance entries: SE from the fourth moments of the sample
    c = x - mean
    for i in range(2):
        for j in range(2):
            prod = c[:, i] * c[:, j]
            assert abs(prod.mean() - cov[i, j]) < 5 * prod.std() / np.sqrt(n)
    # the mixture covariance is the components' plus the spread of the means
    w, m = np.array([0.3, 0.7]), np.array([[-2.0, 1.0], [1.5, -0.5]])
    within = 0.3 * np.array([[1.0, 0.3], [0.3, 0.5]]) + 0.7 * np.array([[0.2, -0.1], [-0.1, 0.8]])
    between = (w[:, None, None] * np.einsum("ki,kj->kij", m - w @ m, m - w @ m)).sum(axis=0)
    np.testing.assert_allclose(cov, within + between, rtol=1e-14)


def test_nd_isotropic_and_diagonal_scales():
    iso = gaussian_mixture([1.0], [[0.0, 0.0, 0.0]], [2.0])
    diag = gaussian_mixture([1.0], [[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(iso.covariances(), diag.covariances())
    np.testing.assert_allclose(iso.cov(), 4.0 * np.eye(3))
    x = np.array([[0.5, -1.0, 2.0]])
    assert iso.logpdf(x)[0] == pytest.approx(stats.multivariate_normal(np.zeros(3), 4 * np.eye(3)).logpdf(x[0]))


def test_line_only_methods_refuse_nd():
    for meth in ("cdf", "sf", "ppf", "moment", "var"):
        with pytest.raises(ValueError, match="line"):
            getattr(MIX2, meth)(*(() if meth == "var" else (1,)))


@pytest.mark.parametrize("kw, match", [
    (dict(weights=[0.5, 0.5], locs=[[0, 0], [1, 1]], scales=[1, 1], covs=np.tile(np.eye(2), (2, 1, 1))),
     "exactly one"),
    (dict(weights=[0.5, 0.5], locs=[[0, 0], [1, 1]]), "exactly one"),
    (dict(weights=[0.5, 0.5], locs=[[0, 0], [1, 1]], covs=[[[1, 2], [2, 1]], [[1, 0], [0, 1]]]), "positive definite"),
    (dict(weights=[0.5, 0.5], locs=[[0, 0], [1, 1]], covs=[[[1, 0.5], [0, 1]], [[1, 0], [0, 1]]]), "symmetric"),
    (dict(weights=[0.5, 0.5], locs=[[0, 0], [1, 1]], scales=[[1, 1, 1], [1, 1, 1]]), "scales"),
    (dict(weights=[0.5, 0.5], locs=[[0, 0, 0]], scales=[1, 1]), "locs"),
    (dict(weights=[0.5, 0.5], locs=[0, 1]), "scales"),
])
def test_nd_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        gaussian_mixture(**kw)


def test_nd_logpdf_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        MIX2.logpdf(np.zeros((4, 3)))
