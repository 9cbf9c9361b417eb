"""Kazdan et al.'s Gaussian claims (peers.accumulate_subsample, peers.n_le_d): they pass, and they have power."""

import numpy as np
import pytest

from selfconsume.analysis import run_claim


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", ["peers.accumulate_subsample", "peers.n_le_d"])
def test_claim_passes(claim_id):
    res = run_claim(claim_id, budget="quick", seed=0)
    assert res.error is None, res.error
    assert res.passed, [r for r in res.rows if not r.passed]


@pytest.mark.slow
def test_accumulate_subsample_detects_the_n_plus_m_protocol(monkeypatch):
    """The former toolkit protocol (subsample n + m = 2n) as the theory of the released one is rejected."""
    from selfconsume import theory

    true = theory.expected_accumulate_subsample

    def wrong(n, t, *, subsample=None, **kw):
        return true(n, t, subsample=2 * n if subsample == n or subsample is None else subsample, **kw)

    monkeypatch.setattr(theory, "expected_accumulate_subsample", wrong)
    res = run_claim("peers.accumulate_subsample", budget="quick", seed=0)
    assert res.error is None and not res.passed


@pytest.mark.slow
def test_n_le_d_detects_a_wrong_accumulate_det_factor(monkeypatch):
    """An accumulate determinant 3% too large per generation (n > d contrast rows) is rejected."""
    from selfconsume import theory

    true = theory.expected_det_ratio

    def wrong(n, d, t, **kw):
        r = true(n, d, t, **kw)
        if kw.get("workflow") == "accumulate" and n > d:
            return r * 1.03 ** (np.asarray(t) + 1)
        return r

    monkeypatch.setattr(theory, "expected_det_ratio", wrong)
    res = run_claim("peers.n_le_d", budget="quick", seed=0)
    assert res.error is None and not res.passed
