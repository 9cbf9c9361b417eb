"""The population retraining operator: fixed point, map, exact Jacobian (sympy) vs quadrature."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from selfconsume.theory import (
    data_density_sym, lam_sym, x_sym, abstract_exponential_family, exponential_family, fixed_point, gaussian_family,
    gaussian_truth, iterate_retraining_map, jacobian_expr, laplace_truth, mixture_truth, mixture_weight_family,
    model_constants, retraining_map, stability_jacobian, student_t_family, student_t_truth, truth_from_scipy,
)

TRUTHS = {
    "gaussian": (gaussian_truth(-1.0, 3.0), stats.norm(-1.0, 3.0)),
    "t": (student_t_truth(3.5, 0.5, 1.5), stats.t(3.5, 0.5, 1.5)),
    "laplace": (laplace_truth(1.0, 2.0), stats.laplace(1.0, 2.0)),
}
MIX = mixture_truth(0.3, -2.0, 3.0, 0.5, 1.5)


def _mix_pdf(x):
    return 0.3 * stats.norm.pdf(x, -2.0, 0.5) + 0.7 * stats.norm.pdf(x, 3.0, 1.5)


@pytest.mark.parametrize("name", list(TRUTHS))
def test_gaussian_fixed_point_is_moment_matching(name):
    truth, dist = TRUTHS[name]
    mu, sd = fixed_point(gaussian_family(), truth)
    assert mu == pytest.approx(dist.mean(), abs=1e-12)
    assert sd == pytest.approx(dist.std(), rel=1e-12)


def test_fixed_point_mixture_truth_and_scipy_truth():
    mu, sd = fixed_point(gaussian_family(), MIX)
    m1 = integrate.quad(lambda x: x * _mix_pdf(x), -np.inf, np.inf, epsabs=1e-14)[0]
    m2 = integrate.quad(lambda x: x * x * _mix_pdf(x), -np.inf, np.inf, epsabs=1e-14)[0]
    assert mu == pytest.approx(m1, abs=1e-12) and sd == pytest.approx(math.sqrt(m2 - m1**2), rel=1e-12)
    g = truth_from_scipy(stats.gamma(3.0, scale=0.5))
    eta = fixed_point(exponential_family("x", support=(0.0, math.inf)), g)[0]
    assert eta == pytest.approx(-1.0 / 1.5, rel=1e-12)  # exponential law: rate = 1/mean


def test_exponential_family_fixed_point_and_derived_partition():
    fam = exponential_family()
    assert sp.simplify(fam.logpdf - (fam.params[0] * x_sym**2 - sp.log(sp.sqrt(sp.pi) / sp.sqrt(-fam.params[0])))) == 0
    for truth, dist in TRUTHS.values():
        eta = fixed_point(fam, truth)[0]
        assert eta == pytest.approx(-1.0 / (2.0 * dist.moment(2)), rel=1e-12)


@pytest.mark.parametrize("lam", [0.3, 1.0, 7.0])
def test_gaussian_map_is_affine_in_mean_parameters(lam):
    # exponential family: E_G[T] = (E_data T + λ E_θ T)/(1+λ) exactly
    truth, dist = TRUTHS["laplace"]
    G = retraining_map(gaussian_family(), truth, lam)
    mu, sd = 0.3, 0.7
    m, s = G([mu, sd])
    assert m == pytest.approx((dist.mean() + lam * mu) / (1 + lam), abs=1e-12)
    assert m**2 + s**2 == pytest.approx((dist.moment(2) + lam * (mu**2 + sd**2)) / (1 + lam), rel=1e-12)


def test_gaussian_iterates_contract_exactly_at_lambda_over_one_plus_lambda():
    truth, dist = TRUTHS["t"]
    lam = 4.0
    path = iterate_retraining_map(gaussian_family(), truth, lam, [3.0, 0.5], 6)
    a = lam / (1 + lam)
    t = np.arange(7)
    np.testing.assert_allclose(path[:, 0] - dist.mean(), a**t * (3.0 - dist.mean()), rtol=1e-10, atol=1e-13)
    second = path[:, 0] ** 2 + path[:, 1] ** 2
    np.testing.assert_allclose(second - dist.moment(2), a**t * (9.25 - dist.moment(2)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fam", [gaussian_family(), exponential_family(), abstract_exponential_family(1),
                                 abstract_exponential_family(2),
                                 exponential_family("x", support=(0.0, math.inf))], ids=lambda f: f.name)
def test_jacobian_expr_of_exponential_families_is_lambda_over_one_plus_lambda(fam):
    J = jacobian_expr(fam)
    k = fam.dim
    assert sp.simplify(J - lam_sym / (1 + lam_sym) * sp.eye(k)) == sp.zeros(k, k)


def test_jacobian_expr_nonexponential_evaluates_to_the_quadrature_jacobian():
    """Independent evaluation: data integrals by scipy.quad against the Laplace pdf, model
    integrals by sympy/mpmath evalf; compared with the DE-quadrature Jacobian."""
    fam, truth, lam = student_t_family(4.0), laplace_truth(0.2, 1.3), 1.7
    J = jacobian_expr(fam)
    tstar = fixed_point(fam, truth)
    sub = {fam.params[0]: sp.Float(tstar[0], 30), lam_sym: lam}

    def ev(I):
        f = I.function.subs(sub)
        if f.has(data_density_sym(x_sym)):
            g = sp.lambdify(x_sym, f.subs(data_density_sym(x_sym), 1))
            pdf = lambda x: stats.laplace.pdf(x, 0.2, 1.3) * g(x)  # noqa: E731
            return integrate.quad(pdf, -np.inf, 0.2, epsabs=1e-14)[0] + integrate.quad(pdf, 0.2, np.inf, epsabs=1e-14)[0]
        return float(sp.Integral(f, *I.limits).evalf(20))

    Jnum = J.subs(sub)
    Jnum = Jnum.xreplace({I: sp.Float(ev(I)) for I in Jnum.atoms(sp.Integral)})
    assert float(Jnum[0, 0]) == pytest.approx(stability_jacobian(fam, truth, lam).J[0, 0], rel=1e-10)


def test_student_t_fisher_information_closed_form():
    for nu, s in ((3.0, 1.0), (5.0, 0.7)):
        sj = stability_jacobian(student_t_family(nu, scale=s), gaussian_truth(0.4, 1.2), 1.0)
        assert -sj.B[0, 0] == pytest.approx((nu + 1) / ((nu + 3) * s * s), rel=1e-12)
    sj = stability_jacobian(student_t_family(6.0, scale=None), laplace_truth(), 1.0)
    s = sj.theta_star[1]
    np.testing.assert_allclose(-sj.B, np.diag([7 / (9 * s * s), 2 * 6 / (9 * s * s)]), rtol=1e-11, atol=1e-13)


def test_mixture_weight_curvatures_against_scipy_quad():
    fam, truth = mixture_weight_family(-1.0, 1.5, 1.0, 0.6), laplace_truth(0.3, 1.1)
    sj = stability_jacobian(fam, truth, 2.0)
    w = sj.theta_star[0]
    p = lambda x, w: w * stats.norm.pdf(x, -1.0, 1.0) + (1 - w) * stats.norm.pdf(x, 1.5, 0.6)  # noqa: E731
    s = lambda x: (stats.norm.pdf(x, -1.0, 1.0) - stats.norm.pdf(x, 1.5, 0.6)) / p(x, w)  # noqa: E731
    kw = dict(epsabs=1e-14, epsrel=1e-13, limit=400)
    foc = sum(integrate.quad(lambda x: s(x) * stats.laplace.pdf(x, 0.3, 1.1), a, b, **kw)[0]
              for a, b in ((-35, 0.3), (0.3, 35)))
    assert abs(foc) < 1e-11
    A = -sum(integrate.quad(lambda x: s(x) ** 2 * stats.laplace.pdf(x, 0.3, 1.1), a, b, **kw)[0]
             for a, b in ((-35, 0.3), (0.3, 35)))
    B = -integrate.quad(lambda x: s(x) ** 2 * p(x, w), -35, 35, **kw)[0]
    assert sj.A[0, 0] == pytest.approx(A, rel=1e-10)
    assert sj.B[0, 0] == pytest.approx(B, rel=1e-10)


CASES = [
    (student_t_family(4.0), gaussian_truth(), 1.0),
    (mixture_weight_family(-1.0, 1.0), laplace_truth(0.3), 2.0),
    (student_t_family(10.0, scale=None), mixture_truth(0.7, 0.0, 1.5), 1.0),
    (gaussian_family(), student_t_truth(6.0, 0.5, 2.0), 3.0),
]


@pytest.mark.parametrize("fam,truth,lam", CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_jacobian_matches_finite_differences_of_the_map(fam, truth, lam):
    """J = λ(A+λB)⁻¹B (implicit differentiation) vs central differences of G_λ itself."""
    sj = stability_jacobian(fam, truth, lam)
    G = retraining_map(fam, truth, lam)
    t0 = sj.theta_star
    h = 1e-5
    fd = np.column_stack([(G(t0 + h * e) - G(t0 - h * e)) / (2 * h) for e in np.eye(fam.dim)])
    np.testing.assert_allclose(fd, sj.J, atol=2e-8)
    np.testing.assert_allclose(G(t0), t0, atol=1e-12)  # θ* is a fixed point for every λ


def test_spectral_radius_is_lambda_kappa_formula():
    fam, truth = student_t_family(10.0, scale=None), mixture_truth(0.7, 0.0, 1.5)
    for lam in (0.1, 1.0, 50.0):
        sj = stability_jacobian(fam, truth, lam)
        kappa = np.linalg.eigvals(np.linalg.solve(-sj.A, -sj.B)).real
        np.testing.assert_allclose(np.sort(sj.eigenvalues), np.sort(lam * kappa / (1 + lam * kappa)), rtol=1e-12)
        assert sj.spectral_radius < 1 and sj.norm >= sj.spectral_radius - 1e-15


def test_bad_input():
    fam, truth = gaussian_family(), laplace_truth()
    for lam in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="lam"):
            retraining_map(fam, truth, lam)
        with pytest.raises(ValueError, match="lam"):
            stability_jacobian(fam, truth, lam)
    with pytest.raises(ValueError, match="family"):
        fixed_point("weibull", truth)
    with pytest.raises(ValueError, match="truth"):
        fixed_point(fam, "cauchy")
    with pytest.raises(TypeError):
        fixed_point(42, truth)
    with pytest.raises(ValueError, match="moments"):
        fixed_point(fam, student_t_truth(2.0))  # a Gaussian fit needs E x²
    with pytest.raises(ValueError, match="moments"):
        retraining_map(exponential_family(), student_t_truth(1.5), 1.0)
    with pytest.raises(ValueError, match="W1"):
        model_constants(student_t_family(3.0), student_t_truth(1.0))  # no mean: W1 = ∞
    with pytest.raises(ValueError, match="support"):
        fixed_point(exponential_family("x", support=(0.0, math.inf)), truth)
    with pytest.raises(ValueError, match="search"):
        retraining_map(fam, truth, 1.0, search="everywhere")
    G = retraining_map(fam, truth, 1.0)
    with pytest.raises(ValueError, match="theta"):
        G([0.0])
    with pytest.raises(ValueError, match="theta"):
        G([0.0, -1.0])
    with pytest.raises(ValueError, match="symbolic"):
        fixed_point(abstract_exponential_family(1), truth)
    with pytest.raises(ValueError, match="nu"):
        student_t_family(0.0)
    with pytest.raises(ValueError, match="weight"):
        mixture_truth(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        gaussian_truth(0.0, -1.0)
    with pytest.raises(ValueError, match="steps"):
        iterate_retraining_map(fam, truth, 1.0, [0.0, 1.0], -1)


def test_generic_exponential_family_paths():
    """T(x) = x on [0, 1] (η of both signs) and T = 2x on (0, ∞) without a scipy law: the
    log-partition is derived, the CDF integrated numerically."""
    from scipy import optimize

    beta = truth_from_scipy(stats.beta(2.0, 3.0))
    fam = exponential_family("x", support=(0.0, 1.0), eta_bounds=(-50.0, 50.0))
    eta = fixed_point(fam, beta)[0]
    mean = lambda e: 1 / (1 - math.exp(-e)) - 1 / e  # noqa: E731  E_η x of the truncated exponential
    assert eta == pytest.approx(optimize.brentq(lambda e: mean(e) - 0.4, -20, -1e-6, xtol=1e-14), rel=1e-10)
    assert stability_jacobian(fam, beta, 2.0).J[0, 0] == pytest.approx(2 / 3, abs=1e-12)
    gam = truth_from_scipy(stats.gamma(3.0, scale=0.5))
    preset = model_constants(exponential_family("x", support=(0.0, math.inf)), gam)
    generic = model_constants(exponential_family("2*x", support=(0.0, math.inf)), gam)
    assert generic.eps == pytest.approx(preset.eps, rel=1e-9) and generic.L == preset.L == 0.0
