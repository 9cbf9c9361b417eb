"""Bad input to the simulators: impossible sizes, malformed arrays, non-callable rewards and bad
random states are refused up front with a ValueError/TypeError naming the argument (never a bare
MemoryError, a hang, an AttributeError or a silently accepted NaN)."""

import math
import time

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.simulators import (GaussianLearner, KDELearner, MixtureLearner, curate_density, luce_select,
                                    luce_tournament, retrain, simulate_curation, simulate_regression)

BIG = 10**15
REAL = np.random.default_rng(0).normal(size=(60, 2))
CAND = np.random.default_rng(1).normal(size=(12, 2))
REWARD = th.linear_reward([1.0, 0.0])
P4, R4 = np.full(4, 0.25), np.array([0.0, 0.5, 1.0, 1.0])


def _refused_fast(fn, exc, match):
    t0 = time.perf_counter()
    with pytest.raises(exc, match=match):
        fn()
    assert time.perf_counter() - t0 < 2.0, "refused, but only after doing work"


@pytest.mark.parametrize("kwargs,match", [
    (dict(d=BIG), r"\bd too large"),
    (dict(iterations=BIG), "reps, iterations too large"),
    (dict(reps=BIG), "reps, iterations too large"),
    (dict(T=BIG, method="samples"), "T, d too large"),
])
def test_regression_sizes(kwargs, match):
    args = dict(T=40, d=5, iterations=12, reps=2, rng=0, workers=1) | kwargs
    _refused_fast(lambda: simulate_regression(**args), ValueError, match)


def test_regression_huge_T_is_valid_with_the_exact_method():
    assert np.isfinite(simulate_regression(BIG, 5, 3, rng=0, workers=1).risk).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(generations=BIG), "reps, generations, n_eval too large"),
    (dict(reps=BIG), "reps, generations, n_eval too large"),
    (dict(n_eval=BIG), "reps, generations, n_eval too large"),
    (dict(n=BIG), "n, K too large"),
    (dict(K=BIG), "n, K too large"),
    (dict(n=10**12, lam=0.5, workflow="accumulate", generations=10**6), "too large"),
])
def test_retrain_sizes(kwargs, match):
    args = dict(generations=2, n=30, K=3, reward=REWARD, reps=2, rng=1, n_eval=10, workers=1) | kwargs
    g = args.pop("generations")
    _refused_fast(lambda: retrain(GaussianLearner(), REAL, g, **args), ValueError, match)


@pytest.mark.parametrize("args,kwargs,match", [
    ((4, BIG), {}, "generations too large"),
    ((4, BIG), dict(lam=0.5, p_ref=np.array([0.4, 0.3, 0.2, 0.1])), "generations too large"),
    ((4, BIG), dict(lam=0.5, n=200, reps=3), "reps, generations too large"),
    ((4, 5), dict(lam=0.5, n=200, reps=BIG), "reps, generations too large"),
    ((BIG, 3), dict(n=50, reps=2, method="luce", record="last"), r"\bK too large"),
    ((3, 3), dict(n=BIG, reps=2, method="luce", record="last"), "n, K, reps too large"),
    ((3, 3), dict(n=50, reps=BIG, method="luce", record="last"), "reps too large"),
    ((3, 3), dict(n=10**10, reps=100, method="luce", record="last"), "n, K, reps too large"),  # 3e12 draws
    ((3, BIG), dict(n=50, lam=0.5, reps=2, record="last"), "generations, reps too large"),  # never absorbed
    ((3, 3), dict(n=50, lam=1e300), "lam, n too large"),
])
def test_curation_sizes(args, kwargs, match):
    _refused_fast(lambda: simulate_curation(P4, R4, *args, rng=0, workers=1, **kwargs), ValueError, match)


def test_curation_fully_synthetic_generations_stay_a_cap():
    # absorbed chains stop drawing: a huge generations cap with record="last" is still fine
    res = simulate_curation(P4, R4, 3, 10**9, n=50, reps=2, method="luce", record="last", rng=0, workers=1)
    assert res.p.shape == (2, 1, 4) and np.allclose(res.p.sum(axis=-1), 1.0)


@pytest.mark.parametrize("mass_tol,exc", [
    (math.nan, ValueError), (math.inf, ValueError), (-1e-3, ValueError), (0.0, ValueError), (2.0, ValueError),
    (None, TypeError), ("1.0", TypeError),
])
def test_curate_density_mass_tol(mass_tol, exc):
    x = np.linspace(-6, 6, 121)
    with pytest.raises(exc, match="mass_tol"):
        curate_density(th.gaussian_mixture([1.0], [0.0], [1.0]), th.quadratic_reward([1.0]), 4, 2, grid=(x,),
                       mass_tol=mass_tol)


def _luce_select(**kw):
    args = dict(candidates=CAND, reward=REWARD, K=3, rng=np.random.default_rng(0)) | kw
    return luce_select(args["candidates"], args["reward"], args["K"], args["rng"])


def _luce_tournament(**kw):
    pts = np.random.default_rng(2).normal(size=(18, 2))
    args = dict(points=pts, reward=REWARD, K=3, rounds=2, rng=np.random.default_rng(0)) | kw
    return luce_tournament(args["points"], args["reward"], args["K"], args["rounds"], args["rng"])


def _with(a, v):
    b = a.copy()
    b.flat[0] = v
    return b


@pytest.mark.parametrize("fn,arr", [(_luce_select, "candidates"), (_luce_tournament, "points")])
@pytest.mark.parametrize("param,value,exc", [
    ("arr", _with(CAND, np.nan), ValueError),
    ("arr", _with(CAND, np.inf), ValueError),
    ("arr", np.zeros((0, 2)), ValueError),
    ("arr", CAND[None], ValueError),
    ("arr", CAND[:-1], ValueError),   # not a multiple of K (resp. K**rounds) rows
    ("arr", 1.0, ValueError),
    ("arr", "nope", TypeError),
    ("arr", None, TypeError),
    ("reward", None, TypeError),
    ("reward", "nope", TypeError),
    ("reward", 1.5, TypeError),
    ("rng", -1, ValueError),
    ("rng", True, TypeError),
    ("rng", 1.5, TypeError),
    ("rng", "0", TypeError),
    ("K", BIG, ValueError),
])
def test_luce_arguments(fn, arr, param, value, exc):
    name = arr if param == "arr" else param
    _refused_fast(lambda: fn(**{name: value}), exc, rf"\b{name}\b")


def test_luce_tournament_rounds_bound_and_K1():
    _refused_fast(lambda: _luce_tournament(rounds=BIG), ValueError, r"rounds must be an integer in \[0, 2\]")
    pts = np.random.default_rng(2).normal(size=(18, 2))
    np.testing.assert_array_equal(luce_tournament(pts, REWARD, 1, BIG, 0), pts)  # K = 1 keeps every point
    with pytest.raises(ValueError, match="reward is defined on points of dimension 3"):
        luce_select(CAND, th.linear_reward([1.0, 0.0, 0.0]), 3, 0)
    assert luce_select(CAND, REWARD, 3, np.random.RandomState(0)).shape == (4, 2)


LEARNERS = [(GaussianLearner, "unbiased"), (MixtureLearner, 2), (KDELearner, 0.3)]
X = np.random.default_rng(3).normal(size=(80, 2))


@pytest.mark.parametrize("cls,arg", LEARNERS)
@pytest.mark.parametrize("random_state,exc", [(-1, ValueError), (1.5, TypeError), ("0", TypeError),
                                              (True, TypeError)])
def test_learner_random_state(cls, arg, random_state, exc):
    with pytest.raises(exc, match="random_state"):
        cls(arg).fit(X, random_state=random_state)
    fitted = cls(arg).fit(X, random_state=0)
    with pytest.raises(exc, match="random_state"):
        fitted.sample(5, random_state=random_state)


@pytest.mark.parametrize("cls,arg", LEARNERS)
def test_learner_sample_size(cls, arg):
    fitted = cls(arg).fit(X, random_state=0)
    _refused_fast(lambda: fitted.sample(BIG, random_state=0), ValueError, r"\bn too large")
    # the streams are unchanged: an int seed, a SeedSequence and a Generator draw as default_rng does
    a = fitted.sample(4, random_state=7)
    np.testing.assert_array_equal(a, fitted.sample(4, random_state=np.random.SeedSequence(7)))
    np.testing.assert_array_equal(a, fitted.sample(4, random_state=np.random.default_rng(7)))
