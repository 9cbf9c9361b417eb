"""Fuzz suite: every public function of theory, simulators and analysis, on valid and bad input.

What is checked
---------------
* **Completeness.** Every public callable of ``selfconsume.theory`` / ``.simulators`` /
  ``.analysis`` (from each ``__all__``) has at least one case in ``fuzz_cases.build_cases`` or
  an entry, with a reason, in ``fuzz_cases.SKIP``. Result containers (dataclasses, named
  tuples), sympy symbols/expressions and non-callables are left out automatically; the torch
  adapter ``selfconsume.simulators.torch`` is not in ``simulators.__all__`` and is not fuzzed.
* **Valid calls** (test id ``<pkg.name>[valid]``) return finite numbers (recursively through
  floats, arrays, dicts, tuples, dataclasses, pandas frames; an ``inf`` is allowed only where it is
  documented — ``allow_nonfinite`` in the table — or echoes an argument such as ``K = inf``;
  NaN never) and emit no ``RuntimeWarning``.
* **Bad values** (``<pkg.name>[<param>=<bad>]``): each parameter of a valid call, replaced by
  typed bad values (``fuzz_cases.bad_values``: nan/inf/-inf/negative/str/None for floats;
  0/-1/1.5/True/str/None/nan and 10**15 for sizes for ints; nan/inf entries, empty, wrong
  ndim/length, negative or unnormalised probabilities for arrays; "nope" for choices;
  -1/True/1.5/"0"/``np.random.RandomState(0)`` for ``rng``). The call must either raise
  ``ValueError``/``TypeError`` whose message names the parameter (``clear_error``), or — when the
  value happens to be valid — return finite numbers with no ``RuntimeWarning`` (``finite``).
  Anything else is a failure: ``unnamed_error`` (ValueError/TypeError not naming the
  parameter), ``exception`` (any other type: ZeroDivisionError, IndexError, MemoryError, numba
  errors, ...), ``nonfinite``, ``runtime_warning``, ``timeout``, ``crash`` (the process died),
  and ``nan_accepted``: a NaN (scalar or array entry) accepted without an error even though the
  result is finite — NaN is never a valid value (``selfconsume._validation`` rejects it always),
  so a silent accept means the value was ignored or validated wrongly. ``harness_error``
  would be a bug of this suite.
* **Properties** (hypothesis, ``derandomize=True``): random valid inputs of the main numerical
  entry points give finite output, plus explicit extreme valid inputs (10**4 generations,
  K = 10**15, rewards ±700, λ from 1e-12 to 1e12, d = 50).

Design choices
--------------
* *Warnings.* Calls run under ``warnings.catch_warnings(record=True)`` with NumPy's default
  error state (underflow ignored), not under ``simplefilter('error')``: turning warnings into
  errors would change the control flow of the code under test. A ``RuntimeWarning`` (overflow,
  division by zero, invalid value, ...) recorded during a call that otherwise passed is a
  failure of kind ``runtime_warning``.
* *Time limit.* Each call runs in one long-lived child process (``fuzz_cases.Worker``, spawned),
  with a limit of ``fuzz_cases.CALL_TIMEOUT`` seconds. Numba kernels cannot be interrupted and a
  thread cannot be killed, so a hang in a daemon thread would keep a core busy for the rest of
  the run; a child can be killed, and it also survives segfaults in kernels (``crash``) and
  caps its address space (a huge allocation fails with MemoryError instead of exhausting the
  machine). Its cwd is a temporary directory, so functions that write files write there.
  After a timeout or crash the next call starts a fresh child (a few seconds of imports).
* *Ratchet.* ``KNOWN_FAILURES`` lists the ids that fail today: they are reported as xfail with
  what happened. A listed id that passes fails the suite (and the final summary lists them):
  remove it from the set. So the set can only shrink. A new failure fails the suite.
* *Counts.* ``test_zz_summary`` (last in the file) prints tried / clear error / finite /
  failures by kind; run with ``-s`` to see it. ``FUZZ_REPORT=path.json`` also writes every
  call's outcome and message there (nothing is written otherwise).
* *Properties* found by hypothesis that fail are not left in the strategies: each becomes a
  fixed valid case in the table (``theory.level_rates/K1_gap``, ...), so it is in the ratchet,
  and the property skips that corner with a comment naming the case. ``FUZZ_EXAMPLES=1500``
  runs the properties deeper (about a minute more).
* *Runtime.* About 50 s for the whole file on 2 busy cores (2658 calls + 20 tests).
"""

from __future__ import annotations

import math
import os
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_cases as fc

CASES = fc.build_cases()
SPECS = fc.fuzz_specs(CASES)
IDS = [s.id for s in SPECS]
RESULTS: dict[str, dict] = {}

#: Ids failing today (see the module docstring). Only remove entries; never add one to hide a
#: regression.
KNOWN_FAILURES: frozenset[str] = frozenset({
})


@pytest.fixture(scope="module")
def worker():
    w = fc.Worker()
    yield w
    w.close()


# --------------------------------------------------------------------------- completeness


def test_every_public_callable_has_a_case():
    public = fc.public_callables()
    covered = {c.name for c in CASES}
    missing = sorted(set(public) - covered - set(fc.SKIP))
    assert not missing, f"public callables without a fuzz case (add one to tests/fuzz_cases.py): {missing}"
    stale = sorted(set(fc.SKIP) - set(public)) + sorted(covered - fc.public_names())
    assert not stale, f"cases or SKIP entries for names that are no longer public: {stale}"


def test_known_failures_are_current_ids():
    stale = sorted(KNOWN_FAILURES - set(IDS))
    assert not stale, f"KNOWN_FAILURES ids that no longer exist (remove them): {stale}"


# --------------------------------------------------------------------------- valid calls and bad values


def _describe(res: dict) -> str:
    txt = f"{res['outcome']}: {res.get('message', '')}"
    if res.get("traceback"):
        txt += "\n" + res["traceback"]
    return txt


@pytest.mark.parametrize("spec_id", IDS)
def test_fuzz(spec_id, worker):
    res = worker.run(("spec", spec_id))
    RESULTS[spec_id] = res
    ok = res["outcome"] in fc.OK
    if spec_id.endswith("[valid]"):
        ok = res["outcome"] == "finite"
    if spec_id in KNOWN_FAILURES:
        if ok:
            pytest.fail(f"{spec_id} now passes ({res['outcome']}): remove it from KNOWN_FAILURES")
        pytest.xfail(f"KNOWN_FAILURES: {res['outcome']}: {res.get('message', '')[:200]}")
    assert ok, _describe(res)


# --------------------------------------------------------------------------- properties (hypothesis)

#: Examples per property; ``FUZZ_EXAMPLES=500`` for a deeper local run (same derandomized seed).
PROPS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

finite_pos = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _call(worker, name, *args, **kwargs):
    res = worker.run(("call", (name, args, kwargs)))
    assert res["outcome"] == "finite", f"{name}{args}{kwargs}: {_describe(res)}"


@st.composite
def prob_reward(draw, min_size=1, max_size=8):
    m = draw(st.integers(min_size, max_size))
    w = np.array(draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=m, max_size=m)))
    if w.sum() <= 0:
        w[0] = 1.0
    p = w / w.sum()
    pool = st.sampled_from([0.0, 1.0, -1.0, 700.0, -700.0, 0.5]) | st.floats(-700, 700, allow_nan=False)
    r = np.array(draw(st.lists(pool, min_size=m, max_size=m)))
    return p, r


K_values = st.sampled_from([1, 2, 3, 10, 1000, 10**6, math.inf]) | st.integers(1, 10**6)


@PROPS
@given(n=st.integers(2, 10**6), t=st.integers(0, 10**4), sigma0=finite_pos,
       estimator=st.sampled_from(["unbiased", "mle"]))
def test_gaussian_theory_random(worker, n, t, sigma0, estimator):
    _call(worker, "theory.alpha", n)
    for f in ("expected_sigma", "expected_sigma2", "expected_log_sigma2", "expected_mean_sq_drift", "expected_w2_sq"):
        _call(worker, f"theory.{f}", n, t, sigma0, estimator=estimator)
    _call(worker, "theory.var_log_sigma2", n, t, estimator=estimator)
    _call(worker, "theory.half_life", n, estimator=estimator)


@PROPS
@given(n=st.integers(3, 200), d=st.integers(1, 50), t=st.integers(0, 10**4))
def test_gaussian_det_random(worker, n, d, t):
    if n <= d + 1:
        n = d + 2
    _call(worker, "theory.det_factor", n, d)
    _call(worker, "theory.expected_logdet_drift", n, d)
    _call(worker, "theory.expected_det_sqrt", n, d, t, 1.0)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_gaussian_theory_extremes(worker, estimator):
    for n in (2, 3, 10**6):
        for f in ("expected_sigma", "expected_sigma2", "expected_log_sigma2", "expected_mean_sq_drift",
                  "expected_w2_sq"):
            _call(worker, f"theory.{f}", n, 10**4, 1.0, estimator=estimator)
        _call(worker, "theory.prob_collapsed", n, 10**4, 1e-3, estimator=estimator)
        _call(worker, "theory.median_log_sigma2", n, 10**4, estimator=estimator)
    _call(worker, "theory.det_factor", 60, 50, estimator=estimator)
    _call(worker, "theory.expected_det_sqrt", 60, 50, 10**4, 1.0, estimator=estimator)


@PROPS
@given(pr=prob_reward(), K=K_values, log=st.booleans())
def test_curation_random(worker, pr, K, log):
    p, r = pr
    _call(worker, "theory.curation_H", p, r, K, log=log)
    _call(worker, "theory.curated_distribution", p, r, K)
    _call(worker, "theory.expected_exp_reward", p, r, log=True)
    if K != 1 or np.ptp(r[p > 0]) < 700:   # K = 1 with a gap > 700: case theory.level_rates/K1_gap
        _call(worker, "theory.level_rates", p, r, K)
    _call(worker, "theory.tilt", p, r, 3.5)
    _call(worker, "theory.tilt", p, r, math.inf)
    if not np.any((p > 0) & (p < 1e-100)):   # tiny masses: case theory.mixed_fixed_point_inf/tiny_mass
        _call(worker, "theory.mixed_fixed_point_inf", p, r, 0.7)
    # one level: log Var = -inf (documented); levels closer than ~1e-16: Var rounds to 0 (case
    spread = np.ptp(r[p > 0])
    if spread > 1e-6:
        _call(worker, "theory.variance_exp_reward", p, r, log=True)
    if K > 1 and spread > 1e-6:   # else log of a zero bound: -inf
        _call(worker, "theory.bound_lemma22_gain", p, r, K, log=True)
        _call(worker, "theory.bound_lemma22_gain", p, r, K, upper=True, log=True)


@PROPS
@given(pr=prob_reward(min_size=2), K=st.sampled_from([2, 4, 100, 10**6, math.inf]), lam=st.floats(1e-12, 1e12),
       t=st.integers(0, 10**4))
def test_curation_bounds_random(worker, pr, K, lam, t):
    p, r = pr
    _call(worker, "theory.bound_thm23", p, r, K, lam)
    _call(worker, "theory.bound_thm23", p, r, K, lam, sharp=True)
    if K != math.inf:   # K = inf with t >= 1 gives inf: case theory.bound_thm24/Kinf_t in the table
        _call(worker, "theory.bound_thm24", K, lam, t=t)
    if lam * (K - 1) < 1:   # else the all-t bound is inf (documented)
        _call(worker, "theory.bound_thm24", K, lam)


def test_curation_extremes(worker):
    p = np.array([0.25, 0.25, 0.25, 0.25])
    for r in (np.array([700.0, -700.0, 0.0, 700.0]), np.array([-700.0] * 4), np.array([700.0, 700.0, 0.0, 0.0])):
        for K in (1, 2, 10**6, 10**15, math.inf):
            _call(worker, "theory.curation_H", p, r, K)
            _call(worker, "theory.curation_H", p, r, K, log=True)
            _call(worker, "theory.curated_distribution", p, r, K)
        _call(worker, "theory.expected_exp_reward", p, r, log=True)
        _call(worker, "theory.bound_thm23", p, r, 4, 0.3)


@PROPS
@given(n=st.integers(2, 10**5), lam=st.floats(1e-12, 1e12), generations=st.integers(1, 50),
       workflow=st.sampled_from(["replace", "accumulate"]))
def test_mixing_random(worker, n, lam, generations, workflow):
    # λ·n non-integer in general: m = ⌊λn⌋ synthetic points; m = 0 must give a clear error or a finite answer
    res = worker.run(("call", ("theory.expected_mixed_moments", (n, lam, generations),
                               {"workflow": workflow})))
    assert res["outcome"] == "finite" or (res["outcome"] == "exception" and res["message"].startswith(("ValueError",))
                                          and "lam" in res["message"]), _describe(res)
    _call(worker, "theory.expected_stationary_mean_var", n, lam, 1.0)
    _call(worker, "theory.expected_mean_var", n, lam, 1.0, generations)


@pytest.mark.parametrize("lam", [1e-12, 1e-6, 0.37, 1.0, 1e6, 1e12])
def test_mixing_extremes(worker, lam):
    for n in (2, 10, 10**5):
        _call(worker, "theory.expected_stationary_mean_var", n, lam, 1.0)
        _call(worker, "theory.expected_mean_var", n, lam, 1.0, 10**4)
    for f in ("rho_B", "rho_F", "rho_sharp"):
        res = worker.run(("call", (f"theory.{f}", (lam, 1.0, 0.4, 1.0), {})))
        assert res["outcome"] in ("finite",) or (res["outcome"] == "nonfinite" and "inf" in res.get("message", "")), \
            _describe(res)


@PROPS
@given(n=st.integers(2, 50), generations=st.integers(0, 20), reps=st.integers(1, 5), dim=st.integers(1, 3),
       lam=st.none() | st.floats(0.05, 3.0), seed=st.integers(0, 2**32 - 1))
def test_simulate_gaussian_random(worker, n, generations, reps, dim, lam, seed):
    if dim > 1 and n <= dim:
        n = dim + 1
    _call(worker, "simulators.simulate_gaussian", n, generations, reps=reps, dim=dim, lam=lam, rng=seed, workers=1)


@PROPS
@given(pr=prob_reward(min_size=2, max_size=6), K=st.sampled_from([1, 2, 5, math.inf]), generations=st.integers(0, 10),
       n=st.none() | st.integers(1, 100), reps=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_simulate_curation_random(worker, pr, K, generations, n, reps, seed):
    p, r = pr
    if n is None:
        reps = 1
    _call(worker, "simulators.simulate_curation", p, r, K, generations, n=n, reps=reps, rng=seed, workers=1)


def test_simulators_extremes(worker):
    _call(worker, "simulators.simulate_gaussian", 10, 10**4, reps=2, rng=0, workers=1)
    _call(worker, "simulators.simulate_gaussian", 60, 20, reps=2, dim=50, rng=0, workers=1)
    p, r = np.full(4, 0.25), np.array([700.0, -700.0, 0.0, 700.0])
    for K in (2, 10**15, math.inf):
        _call(worker, "simulators.simulate_curation", p, r, K, 50)
        _call(worker, "simulators.simulate_curation", p, r, K, 5, n=100, reps=2, rng=0, workers=1)


# --------------------------------------------------------------------------- counts and the ratchet


def test_zz_summary(worker):
    """Counts of the run (last test of the file); fails if a KNOWN_FAILURES id now passes."""
    seen = {i: RESULTS[i] for i in IDS if i in RESULTS}
    outcomes = Counter(r["outcome"] for r in seen.values())
    valid_ids = {i for i in seen if i.endswith("[valid]")}
    failed = {i for i, r in seen.items()
              if (r["outcome"] != "finite" if i in valid_ids else r["outcome"] not in fc.OK)}
    fixed = sorted(i for i in KNOWN_FAILURES if i in seen and i not in failed)
    new = sorted(failed - KNOWN_FAILURES)
    lines = [
        (f"fuzz: {len(seen)} of {len(IDS)} calls tried ({len(valid_ids)} valid, {len(seen) - len(valid_ids)} "
         f"bad-value); clear error {outcomes['clear_error']}, finite {outcomes['finite']}, failures {len(failed)} "
         f"(known {len(failed & KNOWN_FAILURES)}, new {len(new)}); worker starts {worker.restarts}"),
        "failures by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()) if k not in fc.OK),
    ]
    print("\n" + "\n".join(lines))
    if os.environ.get("FUZZ_REPORT"):
        import json

        with open(os.environ["FUZZ_REPORT"], "w") as fh:
            json.dump(seen, fh, indent=1, default=str)
    assert not fixed, "KNOWN_FAILURES that now pass (remove them from the set):\n  " + "\n  ".join(fixed)
    assert not new, "new failures:\n  " + "\n  ".join(new)
