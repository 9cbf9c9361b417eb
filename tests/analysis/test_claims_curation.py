"""Curation claims pass on their quick budget, fail on a wrong theory; the curation tables.

Statistical claims use fixed seeds (0 and 1), so these are deterministic tests; the power
checks monkeypatch one theoretical ingredient to a wrong one and require the same harness
to reject it.
"""

import numpy as np
import pytest

from selfconsume import theory
from selfconsume.analysis import list_claims, run_claim

CURATION = [c.id for c in list_claims("curation")]


def test_curation_claims_registered():
    assert {"curation.h_exact", "curation.luce_histogram", "curation.large_K", "curation.rlhf_tilt",
            "curation.lemma22_gain", "curation.kl_to_top", "curation.thm23_reward_with_real",
            "curation.thm24_kl_bound", "curation.mixed_fixed_point_inf", "curation.exact_equals_luce",
            "curation.wf_diversity", "curation.wf_fixation"} <= set(CURATION)
    for c in list_claims("curation"):
        assert c.source and c.statement and c.assumptions and c.tags == ("curation",)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("claim_id", CURATION)
def test_curation_claim_passes(claim_id, seed):
    res = run_claim(claim_id, budget="quick", seed=seed)
    assert res.error is None, res.error
    assert res.passed, [r for r in res.rows if not r.passed]


def _wrong_K(f, dK):
    return lambda p, r, K, *a, **kw: f(p, r, K + dK if np.isfinite(K) else K, *a, **kw)


POWER = [
    ("curation.luce_histogram", "curated_distribution", lambda f: _wrong_K(f, -1)),
    ("curation.h_exact", "curation_H_enumerated", lambda f: _wrong_K(f, 1)),
    ("curation.lemma22_gain", "bound_lemma22_gain", lambda f: (lambda *a, **kw: f(*a, **kw) + (np.log(1.2) if kw.get("log") else 0))),
    ("curation.kl_to_top", "level_rates", lambda f: (lambda p, r, K: (f(p, r, K)[0], f(p, r, K)[1] ** 1.01))),
    ("curation.thm23_reward_with_real", "bound_thm23", lambda f: (lambda *a, **kw: f(*a, **kw) * 1.02)),
    ("curation.mixed_fixed_point_inf", "mixed_fixed_point_inf", lambda f: (lambda p, r, lam: f(p, r, lam * 1.01))),
    ("curation.large_K", "curation_H_large_K", lambda f: (lambda p, r, K, order=1: f(p, r, K, order=order) * (1 + 0.01 / K))),
]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id,name,wrong", POWER, ids=[p[0] for p in POWER])
def test_claim_rejects_a_wrong_theory(monkeypatch, claim_id, name, wrong):
    monkeypatch.setattr(theory, name, wrong(getattr(theory, name)))
    assert not run_claim(claim_id, budget="quick", seed=0).passed


@pytest.mark.slow
def test_exact_equals_luce_has_power(monkeypatch):
    """The two-sample harness notices a sampler curating with K = 5 instead of 4."""
    import selfconsume.analysis.claims.curation as mod

    real = mod.simulate_curation

    def skewed(p0, r, K, T, **kw):
        return real(p0, r, K + 1 if kw.get("method") == "exact" else K, T, **kw)

    monkeypatch.setattr(mod, "simulate_curation", skewed)
    assert not run_claim("curation.exact_equals_luce", budget="quick", seed=0).passed


@pytest.mark.slow
def test_wright_fisher_claims_have_power(monkeypatch):
    import selfconsume.analysis.claims.curation as mod

    monkeypatch.setattr(mod, "P_WF", np.array([0.4, 0.4, 0.15, 0.05]))  # predictions from a wrong p_0 …
    real = mod.simulate_curation
    monkeypatch.setattr(mod, "simulate_curation",
                        lambda p0, *a, **kw: real(np.array([0.5, 0.3, 0.15, 0.05]), *a, **kw))  # … data from the true one
    assert not run_claim("curation.wf_fixation", budget="quick", seed=0).passed


def test_cifar_table_shows_amplification_and_suppression():
    from selfconsume.analysis.tables import curation_cifar_table

    df = curation_cifar_table(quick=True)
    last = df[(df["quantity"] == "proportion") & (df["source"] == "population") & (df["generation"] == 20)]
    top = {reg: d["value"].max() for reg, d in last.groupby("regime")}
    syn, real = sorted(top, key=lambda k: "real" in k)
    assert top[syn] > 0.4 and top[real] < 0.2  # bias amplified, then suppressed by real data
    kl_curve = df[(df["quantity"] == "mean_reward") & (df["source"] == "population")]
    for _, d in kl_curve.groupby("regime"):
        assert np.all(np.diff(d["value"].to_numpy()) >= -1e-12)  # the reward never decreases


def test_large_k_table_slopes():
    from selfconsume.analysis.tables import curation_large_k_table

    df = curation_large_k_table(quick=True)
    for _, d in df.groupby("example"):
        d = d[d["K"] >= 100]
        s1 = np.polyfit(np.log(d["K"]), np.log(d["max_abs"]), 1)[0]
        s2 = np.polyfit(np.log(d["K"]), np.log(d["second_order_residual"]), 1)[0]
        assert s1 == pytest.approx(-1.0, abs=0.01) and s2 == pytest.approx(-2.0, abs=0.05)
