"""Continuous-curation claims pass on their quick budget and fail on plausible mistakes."""

import math

import numpy as np
import pytest

import selfconsume.theory as th
import selfconsume.theory._continuous as cont
from selfconsume.analysis import list_claims, run_claim

CONTINUOUS = [c.id for c in list_claims("continuous")]


def test_continuous_claims_registered():
    assert set(CONTINUOUS) == {"continuous.reward_law", "continuous.gaussian_tilt", "continuous.mode_selection",
                               "continuous.best_of_k", "continuous.top_set_limit", "continuous.with_real_data",
                               "continuous.learned_gaussian", "continuous.learned_mixture"}


@pytest.mark.parametrize("claim_id", CONTINUOUS)
@pytest.mark.parametrize("seed", [0, 1])
def test_claim_passes(claim_id, seed):
    res = run_claim(claim_id, budget="quick", seed=seed)
    assert res.error is None, res.error
    assert res.passed, res.to_frame().query("not passed").to_string()


def _fails(claim_id):
    res = run_claim(claim_id, budget="quick", seed=0)
    return res.error is None and not res.passed


def test_wrong_tilt_generation_is_caught(monkeypatch):
    orig = th.gaussian_tilt
    monkeypatch.setattr(th, "gaussian_tilt", lambda m, S, r, t: orig(m, S, r, t + 1))
    assert _fails("continuous.gaussian_tilt")


def test_wrong_kl_step_is_caught(monkeypatch):
    monkeypatch.setattr(th, "best_of_k_kl_step", lambda K: math.log(K) - (K - 2) / K)
    assert _fails("continuous.best_of_k")


def test_wrong_best_of_k_power_is_caught(monkeypatch):
    orig = th.best_of_k_cdf
    monkeypatch.setattr(th, "best_of_k_cdf", lambda F0, K, t: orig(F0, K, t + 1) if t > 0 else orig(F0, K, t))
    assert _fails("continuous.best_of_k")


def test_top_set_constant_without_k_factor_is_caught(monkeypatch):
    orig = th.top_set_kl_constant
    monkeypatch.setattr(th, "top_set_kl_constant",
                        lambda law, K: orig(law, K) * (1.0 if K == math.inf else (K - 1) / K))
    assert _fails("continuous.top_set_limit")


def test_mode_weights_without_the_tilt_variance_are_caught(monkeypatch):
    orig = th.mixture_tilt

    def wrong(p0, reward, t):  # weights ∝ w_k N(c; m_k, S_k): the I/(tγ) term forgotten
        right = orig(p0, reward, t)
        w, m, S, _ = p0._arrays
        c = reward.params["centre"]
        from scipy import stats
        lw = np.log(w) + np.array([stats.multivariate_normal(m[k], S[k]).logpdf(c) for k in range(len(w))])
        wk = np.exp(lw - lw.max())
        wk /= wk.sum()
        return th.gaussian_mixture(wk, np.asarray(right.locs), covs=right.covariances())

    monkeypatch.setattr(th, "mixture_tilt", wrong)
    assert _fails("continuous.mode_selection")


def test_k_minus_one_candidates_in_the_chain_is_caught(monkeypatch):
    orig = cont._log_h
    monkeypatch.setattr(cont, "_log_h", lambda nodes, q, tg, K: orig(nodes, q, tg, K - 1 if 2 < K < math.inf else K))
    assert _fails("continuous.reward_law")


def test_bounds_one_percent_too_strong_are_caught(monkeypatch):
    orig = th.bound_thm24
    monkeypatch.setattr(th, "bound_thm24", lambda K, lam, t=None: orig(K, lam, t=t) - 0.01)
    assert _fails("continuous.with_real_data")


def test_learned_gaussian_detects_k_minus_one(monkeypatch):
    orig = th.curated_gaussian_moments
    monkeypatch.setattr(th, "curated_gaussian_moments", lambda m, S, r, K: orig(m, S, r, max(K - 1, 2)))
    assert _fails("continuous.learned_gaussian")


def test_kde_recursion_with_divisor_n_is_caught(monkeypatch):
    orig = th.expected_kde_trace

    def wrong(trace0, dim, bandwidth, generations, *, n_synthetic, n_real=None):
        if n_real is not None:
            return orig(trace0, dim, bandwidth, generations, n_synthetic=n_synthetic, n_real=n_real)
        # forgetting the (n−1)/n shrinkage of the refit: tr S_{t+1} = tr S_t + d h²
        return trace0 + dim * bandwidth**2 * np.arange(generations + 1)

    monkeypatch.setattr(th, "expected_kde_trace", wrong)
    assert _fails("continuous.learned_mixture")
