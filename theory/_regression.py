r"""Iterated least squares on a fixed design: replace vs accumulate (Gerstgrasser et al., COLM 2024).

Replace adds :math:`c=\sigma^2 d/(T-d-1)` to the test risk every round (linear growth);
accumulate adds :math:`c/n^2`, so the risk stays below :math:`\frac{\pi^2}{6}c`
(``shared/theory.md`` §3.3; ``rsolve`` and ``summation``, 🧮).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from selfconsume._validation import check_choice, check_int, check_int_array, check_real, hashable_cache

WORKFLOWS = ("replace", "accumulate")
_SIGMA2 = sp.Symbol("sigma2", positive=True)

__all__ = [
    'expected_regression_risk',
    'expected_regression_risk_expr',
    'bound_regression_risk',
]

_TT, _D = sp.symbols("T d", positive=True, integer=True)
_R = sp.Function("r")


@hashable_cache(None)
def expected_regression_risk_expr(workflow: str = "replace") -> sp.Expr:
    r"""Test risk :math:`\mathcal E_n=\mathbb E\|\hat w_n-w^*\|^2_\Sigma` of iterated least squares.

    Fixed Gaussian design :math:`X\in\mathbb R^{T\times d}` reused every round, labels of round
    n drawn from the previous fit plus fresh noise (Gerstgrasser et al. 2024, ``theory.md``
    §3.3). With :math:`c=\sigma^2\,\mathbb E\,\mathrm{tr}(\Sigma(X^\top X)^{-1})=\sigma^2d/(T-d-1)`
    (inverse-Wishart mean): replace adds :math:`c` per round (:math:`\hat w_n=\hat w_{n-1}+X^+E_n`,
    solved by ``rsolve``: :math:`nc`), accumulate adds :math:`c/n^2`
    (:math:`\hat w_n=\hat w_{n-1}+X^+E_n/n`, ``summation``: :math:`c\,H_n^{(2)}`).
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    c = _SIGMA2 * _D / (_TT - _D - 1)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    if workflow == "replace":
        return sp.simplify(sp.rsolve(_R(n) - _R(n - 1) - c, _R(n), {_R(0): 0}))
    i = sp.Symbol("i", integer=True, positive=True)
    summed = sp.expand_func(sp.summation(c / i**2, (i, 1, n)))  # sympy's Lerch/Hurwitz form
    closed = c * sp.harmonic(n, 2)
    if sp.simplify(summed - closed.rewrite(sp.zeta)) != 0:
        raise RuntimeError(f"summation gave {summed}, not {closed}")
    return closed


@lru_cache(maxsize=None)
def _regression_funcs():
    n = sp.Symbol("n", integer=True, nonnegative=True)
    rep = expected_regression_risk_expr("replace")
    acc = expected_regression_risk_expr("accumulate").rewrite(sp.zeta)
    fr = sp.lambdify((n, _TT, _D, _SIGMA2), rep, "numpy")
    fa = sp.lambdify((n, _TT, _D, _SIGMA2), acc, ["scipy", "numpy"])
    return fr, fa


def expected_regression_risk(n_iter, T, d, sigma2=1.0, workflow="replace"):
    r"""Risk after ``n_iter`` rounds: :math:`n c` (replace) or :math:`c\sum_{i\le n}i^{-2}` (accumulate).

    :math:`c=\sigma^2d/(T-d-1)`; see :func:`expected_regression_risk_expr`. ``n_iter`` may
    be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_regression_risk
    >>> round(float(expected_regression_risk(12, 40, 5, 1.0, "replace")), 4)
    1.7647
    >>> round(float(expected_regression_risk(12, 40, 5, 1.0, "accumulate")), 4)
    0.2301
    """
    n = check_int_array("n_iter", n_iter, min_value=0)
    T, d = _check_design(T, d)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    fr, fa = _regression_funcs()
    f = fr if workflow == "replace" else fa
    out = np.asarray(f(np.asarray(n, dtype=float), T, d, sigma2), dtype=float) * np.ones(np.shape(n))
    if workflow == "accumulate":
        out = np.where(np.asarray(n) == 0, 0.0, out)  # ζ(2) − ζ(2, 1) rounds to ~1e-16
    return out if np.ndim(n) else float(out)


def _check_design(T, d):
    """(T, d): d ≥ 1 and T ≥ d + 2 (the inverse-Wishart mean needs T − d − 1 > 0).

    Each is first checked on its own (d ≥ 1, T ≥ 3); the coupling is then reported as a range
    for d that names T, so a too-large d is blamed on d, not on T.
    """
    d = check_int("d", d, min_value=1)
    T = check_int("T", T, min_value=3)
    if d > T - 2:
        raise ValueError(f"d must be an integer in [1, T - 2] = [1, {T - 2}] (the design needs T >= d + 2 "
                         f"rows for E tr (X^T X)^-1 to be finite; T = {T}); got {d}")
    return T, d


def bound_regression_risk(T, d, sigma2=1.0) -> float:
    r"""Accumulate-workflow bound :math:`\frac{\pi^2}{6}\,\sigma^2d/(T-d-1)` (the limit of the
    accumulate risk: its increments summed to infinity by sympy ``summation``).

    Examples
    --------
    >>> from selfconsume.theory import bound_regression_risk
    >>> round(bound_regression_risk(40, 5), 4)
    0.2419
    """
    T, d = _check_design(T, d)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    return float(_regression_bound_expr().subs({_SIGMA2: sigma2, _D: d, _TT: T}))


@lru_cache(maxsize=None)
def _regression_bound_expr():
    # the n → ∞ limit of the accumulate risk: the same summation taken to infinity
    i = sp.Symbol("i", integer=True, positive=True)
    return sp.summation(_SIGMA2 * _D / (_TT - _D - 1) / i**2, (i, 1, sp.oo))
