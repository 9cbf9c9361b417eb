"""stability_boundary: no local boundary; the bistability threshold λ_c and its confirmation."""

import math

import numpy as np
import pytest

from selfconsume.theory import (
    gaussian_family, laplace_truth, mixture_truth, mixture_weight_family, retraining_map, rho_B, rho_F, rho_sharp,
    stability_boundary, stability_jacobian, student_t_family, student_t_truth,
)


@pytest.fixture(scope="module")
def bimodal():
    fam, truth = student_t_family(3.0, scale=0.5), mixture_truth(0.6, -3.0, 3.0)
    return fam, truth, stability_boundary(fam, truth, margin=0.1)


def test_no_local_boundary_but_a_bistability_threshold(bimodal):
    fam, truth, sb = bimodal
    assert sb.lam_spectral == math.inf and sb.lam_norm == math.inf
    assert np.all(sb.kappa > 0)
    for lam in (0.1, 10.0, 1e5):  # far beyond both sufficient conditions
        assert stability_jacobian(fam, truth, lam).spectral_radius < 1
    assert 0 < sb.lam_B <= sb.lam_F <= sb.lam_sharp < sb.lam_bistable < math.inf
    mc = sb.constants
    assert rho_B(sb.lam_B, mc.alpha, mc.L, mc.eps) == pytest.approx(1.0, rel=1e-12)
    assert rho_F(sb.lam_F, mc.alpha, mc.L, mc.eps) == pytest.approx(1.0, rel=1e-12)
    assert rho_sharp(sb.lam_sharp, mc.alpha, mc.L, mc.eps) == pytest.approx(1.0, rel=1e-12)
    assert sb.theta_star[0] < 0 < sb.theta_secondary[0]  # the heavier mode wins
    assert "bistability" in sb.note


def test_lambda_c_is_where_the_secondary_maximum_becomes_a_fixed_point(bimodal):
    fam, truth, sb = bimodal
    t2 = sb.theta_secondary
    lc = sb.lam_bistable
    assert np.max(np.abs(retraining_map(fam, truth, lc * (1 + 1e-4), search="global")(t2) - t2)) < 1e-9
    jump = retraining_map(fam, truth, lc * (1 - 1e-4), search="global")(t2)
    assert abs(jump[0] - t2[0]) > 0.5 * abs(sb.theta_star[0] - t2[0])
    below, above = sb.confirmation
    assert below["converged_to"] == "theta_star" and above["converged_to"] == "theta_secondary"
    assert below["lam"] < lc < above["lam"]


def test_single_maximum_models_have_no_boundary():
    for fam, truth in ((mixture_weight_family(-1.0, 1.0), laplace_truth(0.3)),
                       (gaussian_family(), student_t_truth(5.0)),
                       (student_t_family(4.0), laplace_truth())):
        sb = stability_boundary(fam, truth)
        assert sb.lam_bistable == math.inf and sb.theta_secondary is None and sb.confirmation == ()
        assert sb.lam_spectral == math.inf
        assert "no finite stability boundary" in sb.note


def test_infinite_w1_gives_zero_sufficient_boundaries():
    # Cauchy model: no mean, W1 = ∞, the sufficient conditions never hold; the loop is still stable
    sb = stability_boundary(student_t_family(1.0), mixture_truth(0.6, -3.0, 3.0), confirm=False)
    assert sb.constants is None and sb.lam_B == sb.lam_F == sb.lam_sharp == 0.0
    assert sb.lam_spectral == math.inf and 0 < sb.lam_bistable < math.inf


def test_bad_input():
    with pytest.raises(ValueError, match="margin"):
        stability_boundary(student_t_family(3.0), laplace_truth(), margin=1.5)
    with pytest.raises(ValueError, match="family"):
        stability_boundary("nope", laplace_truth())
