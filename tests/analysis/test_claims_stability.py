"""The stability claims pass in the quick budget, fast, with readable rows — and can fail."""

import time

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.analysis import list_claims, run_claim

IDS = ["stability.exact_jacobian_expfamily", "stability.jacobian_bounds", "stability.contraction_rate",
       "stability.boundary", "stability.regression_replace_accumulate"]


def test_registered():
    ids = {c.id for c in list_claims("stability")}
    assert set(IDS) <= ids


@pytest.mark.parametrize("cid", IDS)
def test_claim_passes_quickly(cid):
    run_claim(cid, "quick", workers=2)  # warm caches (sympy derivations, numba)
    t0 = time.perf_counter()
    res = run_claim(cid, "quick", seed=1, workers=2)
    elapsed = time.perf_counter() - t0
    assert res.error is None, res.error
    assert res.passed, [r for r in res.rows if not r.passed]
    assert elapsed < 6.0  # budget ≲ 2 s each on 2 cores; generous for a shared machine
    assert len(res.rows) >= 4


def test_bound_rows_report_tightness():
    res = run_claim("stability.jacobian_bounds", "quick")
    notes = [r.note for r in res.rows if r.quantity.startswith("‖J‖₂ ≤ ρ_F")]
    assert notes and all("tightness ρ_F/‖J‖ = " in n for n in notes)
    for r in res.rows:
        if r.quantity.startswith("‖J‖₂ ≤ ρ_F"):
            assert r.measured < r.predicted  # strictly inside: the bound is not tight


def test_regression_claim_has_power(monkeypatch):
    real = th.expected_regression_risk
    monkeypatch.setattr(th, "expected_regression_risk", lambda *a, **k: 1.05 * np.asarray(real(*a, **k)))
    assert not run_claim("stability.regression_replace_accumulate", "quick").passed


def test_contraction_claim_has_power(monkeypatch):
    real = th.stability_jacobian
    monkeypatch.setattr(th, "stability_jacobian", lambda fam, truth, lam: real(fam, truth, 1.05 * lam))
    assert not run_claim("stability.contraction_rate", "quick").passed
