"""Finite-sample, accumulate and regression closed forms: sympy expressions vs numeric twins vs recursions."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from selfconsume.theory import (
    accumulate_cov_limit, accumulate_cov_limit_expr, bound_accumulate_mean_err, bound_accumulate_mean_err_expr,
    bound_error_recursion, bound_error_recursion_expr, bound_regression_risk, expected_accumulate_cov,
    expected_accumulate_cov_expr, expected_accumulate_mean_err, expected_accumulate_mean_err_expr, expected_mean_var,
    expected_mean_var_expr, expected_regression_risk, expected_regression_risk_expr, expected_stationary_mean_var,
    expected_stationary_mean_var_expr,
)


def _syms(expr):
    return {s.name: s for s in expr.free_symbols}


def test_stationary_mean_var_is_the_ar1_fixed_point():
    e = expected_stationary_mean_var_expr()
    s = _syms(e)
    lam, n, s2 = s["lambda"], s["n"], s["sigma2"]
    assert sp.simplify(e - lam * s2 / (n * (1 + 2 * lam))) == 0
    # the rsolve path tends to it and starts at 0
    path = expected_mean_var_expr()
    t = [v for v in path.free_symbols if v.name == "t"][0]
    assert sp.simplify(path.subs(t, 0)) == 0
    assert expected_stationary_mean_var(200, 1.0, 1.0) == pytest.approx(1 / 600, rel=1e-14)
    # theory.md §1.6 (iii) values
    for lam, v in ((0.25, 0.000833), (1.0, 0.001667), (4.0, 0.002222)):
        assert expected_stationary_mean_var(200, lam, 1.0) == pytest.approx(v, abs=5e-7)


@settings(max_examples=40)
@given(n=st.integers(1, 500), lam=st.floats(0.01, 20.0), s2=st.floats(0.1, 10.0), T=st.integers(0, 60))
def test_mean_var_path_equals_the_recursion(n, lam, s2, T):
    a = lam / (1 + lam)
    v, path = 0.0, [0.0]
    for _ in range(T):
        v = a * a * (v + s2 / (lam * n))
        path.append(v)
    np.testing.assert_allclose(expected_mean_var(n, lam, s2, np.arange(T + 1)), path, rtol=1e-10, atol=1e-300)
    assert expected_mean_var(n, lam, s2, 10_000) == pytest.approx(expected_stationary_mean_var(n, lam, s2), rel=1e-10)


@settings(max_examples=60)
@given(e0=st.floats(0, 10), rho=st.floats(0, 1.5), eta=st.floats(0, 5), T=st.integers(0, 40))
def test_error_recursion_bound_is_the_recursion(e0, rho, eta, T):
    e, path = e0, [e0]
    for _ in range(T):
        e = rho * e + eta
        path.append(e)
    got = bound_error_recursion(e0, rho, eta, np.arange(T + 1))
    np.testing.assert_allclose(got, path, rtol=1e-9, atol=1e-12 * (1 + eta))
    assert bound_error_recursion(e0, 1.0, eta, T) == pytest.approx(e0 + eta * T)
    s = _syms(bound_error_recursion_expr())
    assert sp.simplify(bound_error_recursion_expr().subs(s["t"], 0) - s["e0"]) == 0


def test_accumulate_cov_product_and_limit():
    P = expected_accumulate_cov_expr()
    s = _syms(P)
    for n, k in ((10, 1), (10, 7), (3, 25)):
        literal = math.prod(1 - 1 / (n * j * j) for j in range(1, k + 1))
        assert float(P.subs({s["n"]: n, s["k"]: k, s["sigma2"]: 1}).evalf(30)) == pytest.approx(literal, rel=1e-14)
        assert expected_accumulate_cov(n, k) == pytest.approx(literal, rel=1e-12)
    lim = accumulate_cov_limit_expr()
    n = [v for v in lim.free_symbols][0]
    assert sp.simplify(lim - sp.sin(sp.pi / sp.sqrt(n)) / (sp.pi / sp.sqrt(n))) == 0
    for nv in (2, 10, 1000):  # the numeric twin (a closed form, no sympy at call time) = the derived limit
        assert accumulate_cov_limit(nv) == pytest.approx(float(lim.subs(n, nv).evalf(30)), rel=1e-14)
    assert accumulate_cov_limit(10) == pytest.approx(0.8434, abs=5e-5)  # theory.md §3.5
    assert accumulate_cov_limit(100) == pytest.approx(0.9836, abs=5e-5)
    ks = np.array([1, 10, 1000, 10**6])
    vals = expected_accumulate_cov(10, ks, 2.0)
    assert np.all(np.diff(vals) < 0) and vals[-1] == pytest.approx(2 * accumulate_cov_limit(10), rel=1e-6)
    assert expected_accumulate_cov(10, 40) == pytest.approx(0.8455, abs=5e-5)


def test_accumulate_mean_error_sum_and_bound():
    for n, k in ((10, 1), (10, 40), (4, 12)):
        P = [math.prod(1 - 1 / (n * i * i) for i in range(1, j)) for j in range(1, k + 1)]
        literal = sum(P[j - 1] / (j * j) for j in range(1, k + 1)) * 3.0 / n
        assert expected_accumulate_mean_err(n, k, 3.0) == pytest.approx(literal, rel=1e-12)
        E = expected_accumulate_mean_err_expr()
        s = _syms(E)
        assert float(E.subs({s["n"]: n, s["k"]: k, s["trace0"]: 3}).doit().evalf(30)) == pytest.approx(literal, rel=1e-12)
    assert expected_accumulate_mean_err(10, 40, 1.0) == pytest.approx(0.1545, abs=5e-5)  # theory.md §3.5
    b = bound_accumulate_mean_err_expr()
    s = _syms(b)
    assert sp.simplify(b - sp.pi**2 / 6 * s["trace0"] / s["n"]) == 0
    ks = np.arange(1, 300)
    assert np.all(expected_accumulate_mean_err(10, ks, 1.0) <= bound_accumulate_mean_err(10, 1.0))


def test_regression_risk_closed_forms():
    rep, acc = expected_regression_risk_expr("replace"), expected_regression_risk_expr("accumulate")
    s = _syms(rep)
    c = s["sigma2"] * s["d"] / (s["T"] - s["d"] - 1)
    assert sp.simplify(rep - s["n"] * c) == 0
    sa = _syms(acc)
    assert sp.simplify(acc - sa["sigma2"] * sa["d"] / (sa["T"] - sa["d"] - 1) * sp.harmonic(sa["n"], 2)) == 0
    n = np.arange(0, 30)
    cc = 2.0 * 5 / (40 - 5 - 1)
    np.testing.assert_allclose(expected_regression_risk(n, 40, 5, 2.0, "replace"), n * cc, rtol=1e-14)
    harm = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, 30) ** 2)])
    np.testing.assert_allclose(expected_regression_risk(n, 40, 5, 2.0, "accumulate"), cc * harm, rtol=1e-13, atol=1e-16)
    assert bound_regression_risk(40, 5, 2.0) == pytest.approx(cc * math.pi**2 / 6, rel=1e-14)
    # theory.md §3.3 run: T = 40, d = 5, n = 12
    assert expected_regression_risk(12, 40, 5) == pytest.approx(1.7647, abs=5e-5)
    assert expected_regression_risk(12, 40, 5, workflow="accumulate") == pytest.approx(0.2301, abs=5e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="lam"):
        expected_stationary_mean_var(10, -1.0, 1.0)
    with pytest.raises(ValueError, match="n"):
        expected_stationary_mean_var(0, 1.0, 1.0)
    with pytest.raises(ValueError, match="sigma2"):
        expected_stationary_mean_var(10, 1.0, 0.0)
    with pytest.raises(ValueError, match="rho"):
        bound_error_recursion(1.0, -0.5, 0.1, 3)
    with pytest.raises(ValueError, match="t"):
        bound_error_recursion(1.0, 0.5, 0.1, -1)
    with pytest.raises(ValueError, match="k"):
        expected_accumulate_cov(10, -1)
    with pytest.raises(ValueError, match="n"):
        accumulate_cov_limit(1)
    with pytest.raises(ValueError, match="k"):
        expected_accumulate_mean_err(10, 0, 1.0)
    with pytest.raises(ValueError, match="workflow"):
        expected_regression_risk(3, 40, 5, workflow="accumulate-subsample")
    with pytest.raises(ValueError, match="T"):
        expected_regression_risk(3, 6, 5)
    with pytest.raises(ValueError, match="trace0"):
        bound_accumulate_mean_err(10, -1.0)
