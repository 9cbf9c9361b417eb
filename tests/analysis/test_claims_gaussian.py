"""Statistical agreement with exact theory: every Gaussian claim passes on its quick budget.

The checks compare simulation with the closed forms of selfconsume.theory at 5 SE
(Bonferroni within each claim); seeds are fixed (seed 0 and one more), so these are
deterministic tests that fail if the simulator or the theory is wrong.
"""

import pytest

from selfconsume.analysis import list_claims, run_claim

GAUSS = [c.id for c in list_claims("gaussian")]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", GAUSS)
def test_gaussian_claim_passes(claim_id):
    res = run_claim(claim_id, budget="quick", seed=0)
    bad = [r for r in res.rows if not r.passed]
    assert res.error is None, res.error
    assert res.passed, bad


def test_gaussian_claims_registered():
    assert {"gauss.alpha_law", "gauss.second_moment", "gauss.as_collapse", "gauss.log_moments",
            "gauss.mean_random_walk", "gauss.mle_variant", "gauss.det_factor", "gauss.w2_growth",
            "gauss.exact_equals_samples"} <= set(GAUSS)


@pytest.mark.slow
def test_alpha_law_detects_a_wrong_rate(monkeypatch):
    """Power check: the same harness rejects α(n+1) in place of α(n) (the wrong theory)."""
    from selfconsume import theory

    true_alpha = theory.alpha
    monkeypatch.setattr(theory, "expected_sigma",
                        lambda n, t, sigma0=1.0, estimator="unbiased": true_alpha(n + 1) ** t * sigma0)
    res = run_claim("gauss.alpha_law", budget="quick", seed=0)
    assert not res.passed
