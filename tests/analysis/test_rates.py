"""estimate_rate: exact oracles, recovery of the Gaussian collapse rates, coverage, power, bad input."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from selfconsume import theory as th
from selfconsume.analysis import FAMILY_LEVEL, estimate_rate, proportion_se
from selfconsume.simulators import simulate_gaussian

#: Confidence level of the catalogue's single 5-SE test: used wherever a fixed-seed test
#: asserts that theory lies inside the interval.
LEVEL5 = 1.0 - FAMILY_LEVEL
N = 10


def _geometric(rho, reps=5, gens=(0, 1, 2, 3, 5, 8), seed=0):
    """X_rt = u_r·rho^t: every method must return rho exactly, with SE 0."""
    u = np.random.default_rng(seed).uniform(0.5, 2.0, reps)
    t = np.asarray(gens, dtype=float)
    X = u[:, None] * rho ** t[None, :]
    return pd.DataFrame({"rep": np.repeat(np.arange(reps), len(t)), "generation": np.tile(t, reps),
                         "x": X.ravel()})


def _log_rate_sigma2(n, estimator="unbiased"):
    """exp of the per-generation drift of E log σ_t², from the public theory function."""
    return math.exp(th.expected_log_sigma2(n, 1, 1.0, estimator) - th.expected_log_sigma2(n, 0, 1.0, estimator))


def _gauss(n=N, generations=20, reps=2000, seed=0, **kw):
    df = simulate_gaussian(n, generations, reps=reps, rng=seed, **kw).to_frame()
    df["sigma2"] = df["sigma"] ** 2
    return df


# ---------------------------------------------------------------- exact oracles


@pytest.mark.parametrize("method", ["log", "mean", "ratio"])
@pytest.mark.parametrize("fit", ["ols", "ends"])
def test_a_deterministic_geometric_chain_gives_its_rate_exactly(method, fit):
    res = estimate_rate(_geometric(0.9), "x", method=method, fit=fit, theory=0.9, min_ess=0)
    row = res.iloc[0]
    assert row["rate"] == pytest.approx(0.9, rel=1e-12)
    assert row["se"] == pytest.approx(0.0, abs=1e-12)
    assert row["consistent"] and row["n_reps"] == 5 and row["n_generations"] == 6
    assert (row["generation_start"], row["generation_stop"]) == (0, 8)


def test_the_window_and_the_output_columns():
    res = estimate_rate(_geometric(0.8, gens=range(10)), "x", start=2, stop=6)
    assert (res.loc[0, "generation_start"], res.loc[0, "generation_stop"], res.loc[0, "n_generations"]) == (2, 6, 5)
    assert list(res.columns) == ["statistic", "method", "fit", "n_reps", "generation_start", "generation_stop",
                                 "n_generations", "ess_min", "rate", "se", "ci_low", "ci_high", "log_rate",
                                 "log_rate_se", "level"]


def test_cells_by_column_and_theory_as_callable_or_column():
    df = pd.concat([_gauss(n, 15, 2000, seed=n) for n in (5, 20)], ignore_index=True)
    res = estimate_rate(df, "sigma", by="n", method="mean", level=LEVEL5, theory=lambda p: th.alpha(p["n"]))
    assert list(res["n"]) == [5, 20]
    assert np.allclose(res["theory_rate"], th.alpha(np.array([5, 20])))
    assert res["consistent"].all() and (res["z"].abs() < 5).all()
    df["alpha"] = th.alpha(df["n"].to_numpy())
    res2 = estimate_rate(df, "sigma", by=["n"], method="mean", level=LEVEL5, theory="alpha")
    pd.testing.assert_frame_equal(res, res2)
    with pytest.raises(ValueError, match=r"by=.*'n'"):
        estimate_rate(df, "sigma")        # (rep, generation) repeats across the two cells


# ---------------------------------------------------------------- the Gaussian collapse rates (theory.md §2.2, §3.5)


def test_mean_recovers_alpha_for_e_sigma():
    res = estimate_rate(_gauss(seed=1), "sigma", method="mean", level=LEVEL5,
                        theory=lambda p: th.alpha(p["n"]))
    assert res.loc[0, "consistent"] and abs(res.loc[0, "z"]) < 5
    assert res.loc[0, "ess_min"] > 500


@pytest.mark.parametrize("fit", ["ols", "ends"])
def test_log_recovers_the_drift_of_e_log_sigma2(fit):
    df = _gauss(generations=60, reps=1000, seed=2)
    res = estimate_rate(df, "sigma2", method="log", fit=fit, level=LEVEL5, theory=_log_rate_sigma2(N))
    assert res.loc[0, "consistent"] and abs(res.loc[0, "z"]) < 5
    # the almost-sure rate is below the rate of the mean (Jensen), here E σ_t² is constant
    assert res.loc[0, "ci_high"] < 1.0


@pytest.mark.parametrize("method", ["mean", "ratio"])
def test_mle_replace_rate_of_e_sigma2_is_n_minus_1_over_n(method):
    df = _gauss(generations=15, reps=3000, seed=3, estimator="mle")
    theory = th.expected_sigma2(N, 1, 1.0, "mle") / th.expected_sigma2(N, 0, 1.0, "mle")
    assert theory == pytest.approx((N - 1) / N)
    res = estimate_rate(df, "sigma2", method=method, level=LEVEL5, theory=theory)
    assert res.loc[0, "consistent"] and abs(res.loc[0, "z"]) < 5


def test_kazdan_replace_trace_in_three_dimensions():
    df = simulate_gaussian(N, 15, reps=1000, dim=3, estimator="mle", rng=4).to_frame()
    res = estimate_rate(df, "trace", method="ratio", stop=8, level=LEVEL5, theory=(N - 1) / N)
    assert res.loc[0, "ess_min"] > 100
    assert res.loc[0, "consistent"]


def test_ratio_handles_generations_recorded_every_other_step():
    df = _gauss(generations=20, reps=3000, seed=5)
    every2 = df[df["generation"] % 2 == 0]
    res = estimate_rate(every2, "sigma", method="ratio", level=LEVEL5, theory=th.alpha(N))
    assert res.loc[0, "consistent"]


# ---------------------------------------------------------------- coverage and power


def test_95_percent_intervals_cover_the_truth():
    """200 independent small runs per method; coverage >= 0.95 − 5 binomial SEs (≈ 0.873)."""
    seeds = 200
    _, se = proportion_se(0, seeds, 0.95)
    floor = 0.95 - 5 * se
    hits = {"log": 0, "mean": 0, "ratio": 0}
    truth = {"log": _log_rate_sigma2(N), "mean": th.alpha(N), "ratio": th.alpha(N)}
    value = {"log": "sigma2", "mean": "sigma", "ratio": "sigma"}
    for s in range(seeds):
        df = _gauss(generations=10, reps=300, seed=1000 + s)
        for m in hits:
            res = estimate_rate(df, value[m], method=m, theory=truth[m])
            hits[m] += bool(res.loc[0, "consistent"])
    for m, h in hits.items():
        assert h / seeds >= floor, (m, h / seeds, floor)


@pytest.mark.parametrize("method, value, truth", [
    ("log", "sigma2", lambda: _log_rate_sigma2(N)),
    ("mean", "sigma", lambda: th.alpha(N)),
    ("ratio", "sigma", lambda: th.alpha(N)),
])
def test_a_theory_rate_wrong_by_2_percent_is_flagged(method, value, truth):
    df = _gauss(generations=20, reps=2000, seed=6)
    right = estimate_rate(df, value, method=method, level=LEVEL5, theory=truth())
    wrong = estimate_rate(df, value, method=method, level=LEVEL5, theory=1.02 * truth())
    assert right.loc[0, "consistent"]
    assert not wrong.loc[0, "consistent"] and wrong.loc[0, "z"] < -5
    assert wrong.loc[0, "ratio"] == pytest.approx(right.loc[0, "ratio"] / 1.02)


def test_few_effective_paths_warn():
    df = _gauss(generations=100, reps=200, seed=7)
    with pytest.warns(UserWarning, match="effective sample size"):
        estimate_rate(df, "sigma", method="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate_rate(df, "sigma", method="log")
        estimate_rate(df, "sigma", method="mean", stop=10)


# ---------------------------------------------------------------- bad input


def test_zeros_are_refused_by_log_with_the_generation_and_accepted_before_it():
    df = _geometric(0.5, reps=4, gens=range(6))
    df.loc[(df["rep"] == 1) & (df["generation"] >= 3), "x"] = 0.0
    with pytest.raises(ValueError, match=r"value.*> 0.*generation 3"):
        estimate_rate(df, "x", method="log")
    assert estimate_rate(df, "x", method="log", stop=2).loc[0, "rate"] == pytest.approx(0.5)
    assert estimate_rate(df, "x", method="mean", min_ess=0).loc[0, "rate"] < 0.5


@pytest.mark.parametrize("kw, exc, match", [
    ({"value": "nope"}, ValueError, "value='nope' is not a column"),
    ({"value": 3}, TypeError, "value must be the name"),
    ({"by": "nope"}, ValueError, "by='nope'"),
    ({"by": "rep"}, ValueError, "by must not contain"),
    ({"generation": "nope"}, ValueError, "generation='nope'"),
    ({"replicate": "nope"}, ValueError, "replicate='nope'"),
    ({"method": "median"}, ValueError, "method must be one of"),
    ({"fit": "lad"}, ValueError, "fit must be one of"),
    ({"start": 3, "stop": 3}, ValueError, "at least 2 generations"),
    ({"start": 4, "stop": 2}, ValueError, "start must be <= stop"),
    ({"start": math.nan}, ValueError, "start"),
    ({"level": 1.0}, ValueError, "level"),
    ({"min_ess": -1.0}, ValueError, "min_ess"),
    ({"theory": -0.9}, ValueError, "theory"),
    ({"theory": "nope"}, ValueError, "theory='nope'"),
    ({"theory": lambda p: "x"}, TypeError, "theory"),
    ({"theory": lambda p: math.inf}, ValueError, "theory"),
])
def test_bad_arguments_are_named(kw, exc, match):
    args = {"value": "x", **kw}
    with pytest.raises(exc, match=match):
        estimate_rate(_geometric(0.9), args.pop("value"), **args)


def test_bad_frames_are_named():
    good = _geometric(0.9)
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        estimate_rate(good.to_numpy(), "x")
    with pytest.raises(ValueError, match="at least 2 replicates"):
        estimate_rate(good[good["rep"] == 0], "x")
    with pytest.raises(ValueError, match="missing rows"):
        estimate_rate(good.iloc[1:], "x")
    with pytest.raises(ValueError, match="repeats"):
        estimate_rate(pd.concat([good, good]), "x")
    bad = good.copy()
    bad.loc[3, "x"] = math.nan
    with pytest.raises(ValueError, match="value column 'x' must be finite"):
        estimate_rate(bad, "x")
    bad["x"] = "a"
    with pytest.raises(TypeError, match="value column 'x' must hold real numbers"):
        estimate_rate(bad, "x")
    neg = good.assign(x=-good["x"])
    with pytest.raises(ValueError, match=">= 0"):
        estimate_rate(neg, "x", method="mean")
