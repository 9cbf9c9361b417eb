r"""Exact moments of the 1-D Gaussian refit loop with real data mixed in (finite n).

Setting (Bertrand et al., ICLR 2024 §2.1; Gerstgrasser et al. 2024; Kazdan et al. 2025):
n real points drawn once, generation 0 fitted to them; each generation adds
:math:`m=\lfloor\lambda n\rfloor` fresh points from the current fit N(μ_t, σ_t²) and refits
the mean and the variance (divisor N−1 or N) on

* ``replace``: real ∪ the m new points (N = n + m);
* ``accumulate``: every point so far (N_t = n + t m).

Conditionally on the real sample, the one-step conditional expectations of
:math:`\sigma_{t+1}^2` and :math:`D_{t+1}^2` (:math:`D_t=\mu_t-\hat\mu_{\rm real}`) are
*linear* in :math:`(\sigma_t^2, D_t^2, SS_{\rm real})`, so their expectations follow an
exact linear recursion — derived below with :mod:`sympy.stats` from
:math:`\bar y\sim N(\mu_t,\sigma_t^2/m)` and :math:`SS_y\sim\sigma_t^2\chi^2_{m-1}` — and
averaging over the real sample only replaces :math:`SS_{\rm real}` by
:math:`(n-1)\sigma^2`. These are exact finite-n values (🧮, derived here); the papers'
closed forms (e.g. :math:`\lambda\sigma^2/(n(1+2\lambda))`, theory.md §1.6 (iii)) are
their large-n / m = λn limits, also given here: the AR(1) recursion of the mean
(:func:`expected_mean_var`, :func:`expected_stationary_mean_var`) and the error recursion
:math:`e_t=\rho e_{t-1}+\eta` of Bertrand et al. Thm 2 (:func:`bound_error_recursion`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from selfconsume._validation import (
    hashable_cache,
    check_choice,
    check_int,
    check_int_array,
    check_lam,
    check_memory,
    check_real,
)

from ._symbols import LAM


def _synthetic_count(n, lam):
    """m = ⌊λn⌋ synthetic points per generation, as in ``simulate_gaussian`` (robust to λn = 1.9999999
    from a decimal λ); the one rule the theory modules share."""
    return int(math.floor(lam * n + 1e-9))

__all__ = [
    "mixing_recursion_expr",
    "expected_mixed_moments",
    "expected_mixed_stationary",
    "expected_mixed_stationary_expr",
    "expected_stationary_mean_var", "expected_stationary_mean_var_expr",
    "expected_mean_var", "expected_mean_var_expr",
    "bound_error_recursion", "bound_error_recursion_expr",
]

_n, _m = sp.symbols("n m", positive=True, integer=True)
_s2, _D2, _SSr, _P = sp.symbols("sigma2 D2 SS_r P", positive=True)


@hashable_cache(None)
def mixing_recursion_expr(workflow: str = "replace", estimator: str = "unbiased") -> dict:
    r"""One-step conditional expectations, as sympy expressions.

    Returns ``{"sigma2": E[σ²_{t+1} | ·], "D2": E[D²_{t+1} | ·]}`` in the symbols
    ``n, m, sigma2 (σ_t²), D2 (D_t²), SS_r`` and, for ``accumulate``, ``P`` (pool size
    before the new batch) and ``SS_pool`` expressed through ``sigma2`` (the fit's variance
    is the pool's).

    Derivation: with :math:`Z\sim N(0,1)`, :math:`C\sim\chi^2_{m-1}` independent,
    :math:`\bar y=\mu_t+\sigma_tZ/\sqrt m`, :math:`SS_y=\sigma_t^2C`. Replace:
    :math:`SS_{t+1}=SS_r+SS_y+\frac{nm}{n+m}(\bar y-\hat\mu_r)^2`,
    :math:`D_{t+1}=\frac{m}{n+m}(\bar y-\hat\mu_r)`. Accumulate (pool of P points with the
    fit's mean): :math:`SS'=SS+SS_y+\frac{Pm}{P+m}(\bar y-\mu_t)^2`,
    :math:`D'=D+\frac{m}{P+m}(\bar y-\mu_t)`.
    """
    from sympy.stats import ChiSquared, E, Normal

    workflow = check_choice("workflow", workflow, ("replace", "accumulate"))
    estimator = check_choice("estimator", estimator, ("unbiased", "mle"))
    Z = Normal("Z", 0, 1)
    C = ChiSquared("C", _m - 1)
    sd = sp.sqrt(_s2)
    if workflow == "replace":
        N = _n + _m
        div = N - 1 if estimator == "unbiased" else N
        dev = sp.sqrt(_D2) + sd * Z / sp.sqrt(_m)  # ȳ − μ̂_real (D_t ≥ 0 wlog: only D² enters)
        ss_next = _SSr + _s2 * C + _n * _m / N * dev**2
        d_next = _m / N * dev
        return {"sigma2": sp.factor(sp.expand(E(ss_next)) / div), "D2": sp.factor(sp.expand(E(d_next**2)))}
    P2 = _P + _m
    div_old = _P - 1 if estimator == "unbiased" else _P
    div_new = P2 - 1 if estimator == "unbiased" else P2
    ss_pool = _s2 * div_old
    dev = sd * Z / sp.sqrt(_m)  # ȳ − μ_t: the fit's mean is the pool's mean
    ss_next = ss_pool + _s2 * C + _P * _m / P2 * dev**2
    d_next = sp.sqrt(_D2) + _m / P2 * dev
    return {"sigma2": sp.factor(sp.expand(E(ss_next)) / div_new),
            "D2": sp.expand(E(sp.expand(d_next**2)))}


@functools.cache
def _step_functions(workflow, estimator):
    ex = mixing_recursion_expr(workflow, estimator)
    args = (_n, _m, _s2, _D2, _SSr, _P)
    return (sp.lambdify(args, ex["sigma2"], "math"), sp.lambdify(args, ex["D2"], "math"))


def expected_mixed_moments(n, lam, generations, *, sigma2=1.0, workflow="replace", estimator="unbiased"):
    r"""Exact :math:`\mathbb E\sigma_t^2` and :math:`\mathbb E(\mu_t-\hat\mu_{\rm real})^2`, t = 0..T.

    Parameters
    ----------
    n : int
        Real sample size (≥ 2).
    lam : float
        Synthetic-to-real ratio λ ≥ 0; m = ⌊λn⌋ synthetic points per generation.
    generations : int
    sigma2 : float
        Variance of the truth (any law with finite variance: only E SS_real = (n−1)σ² enters).
    workflow : {"replace", "accumulate"}
    estimator : {"unbiased", "mle"}

    Returns
    -------
    sigma2_t, drift2_t : ndarray, shape (generations+1,)

    Notes
    -----
    Iterates the exact linear recursion of :func:`mixing_recursion_expr` from
    :math:`\mathbb E\sigma_0^2 = (n-1)\sigma^2/\mathrm{div}_0`, :math:`D_0 = 0`.

    Examples
    --------
    >>> s2, d2 = expected_mixed_moments(200, 1.0, 200)
    >>> round(float(d2[-1]) * 200 * 3, 4)  # → λ/(1+2λ)·σ²/n, up to O(1/n)
    0.9983
    """
    n = check_int("n", n, min_value=2)
    lam = check_real("lam", lam, min_value=0.0)
    T = check_int("generations", generations, min_value=0)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    workflow = check_choice("workflow", workflow, ("replace", "accumulate"))
    estimator = check_choice("estimator", estimator, ("unbiased", "mle"))
    check_memory("storing the moment trajectories", 2 * (T + 1), names="generations")
    m = _synthetic_count(n, lam)
    fs, fd = _step_functions(workflow, estimator)
    ssr = (n - 1) * sigma2
    s2 = ssr / (n - 1 if estimator == "unbiased" else n)
    d2 = 0.0
    out_s, out_d = np.empty(T + 1), np.empty(T + 1)
    out_s[0], out_d[0] = s2, d2
    P = float(n)
    for t in range(1, T + 1):
        if m > 0:
            s2, d2 = fs(n, m, s2, d2, ssr, P), fd(n, m, s2, d2, ssr, P)
            P += m
        out_s[t], out_d[t] = s2, d2
    return out_s, out_d


@hashable_cache(None)
def expected_mixed_stationary_expr(estimator: str = "unbiased"):
    r"""Fixed point (E σ²_∞, E D²_∞) of the replace recursion, solved in sympy, with SS_r = (n−1)σ²."""
    ex = mixing_recursion_expr("replace", estimator)
    sol = sp.solve([sp.Eq(_s2, ex["sigma2"]), sp.Eq(_D2, ex["D2"])], [_s2, _D2], dict=True)
    (s,) = sol
    sig = sp.symbols("sigma_truth2", positive=True)
    return {k: sp.factor(s[v].subs(_SSr, (_n - 1) * sig)) for k, v in (("sigma2", _s2), ("D2", _D2))}


def expected_mixed_stationary(n, lam, sigma2=1.0, estimator="unbiased"):
    r"""Stationary :math:`(\mathbb E\sigma_\infty^2, \mathbb E D_\infty^2)` of the replace loop (m = ⌊λn⌋ ≥ 1).

    For m = λn and n → ∞, :math:`\mathbb E D_\infty^2 \to \lambda\sigma^2/(n(1+2\lambda))`
    (Bertrand et al. 2024 finite-sample regime; theory.md §1.6 (iii)).
    """
    n = check_int("n", n, min_value=2)
    lam = check_real("lam", lam, min_value=0.0)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    m = _synthetic_count(n, lam)
    if m < 1:
        raise ValueError(f"lam must be >= 1/n = {1 / n:g} for synthetic data to enter; got {lam}")
    ex = expected_mixed_stationary_expr(estimator)
    sig = sp.symbols("sigma_truth2", positive=True)
    vals = {_n: n, _m: m, sig: sigma2}
    return float(ex["sigma2"].subs(vals)), float(ex["D2"].subs(vals))


# --------------------------------------------------------------------------------------
# The large-n limit: the AR(1) mean recursion and the error recursion (§1.6 (iii), §2.4)
# --------------------------------------------------------------------------------------

_N = sp.Symbol("n", positive=True)
_SIGMA2 = sp.Symbol("sigma2", positive=True)
_T = sp.Symbol("t", integer=True, nonnegative=True)
_V = sp.Function("v")


@functools.lru_cache(maxsize=None)
def expected_mean_var_expr() -> sp.Expr:
    r""":math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})` from the AR(1) recursion, by ``rsolve``.

    :math:`e_{t+1}=a(e_t+\xi_t)`, :math:`a=\lambda/(1+\lambda)`, :math:`\mathrm{Var}\,\xi_t=\sigma^2/(\lambda n)`,
    :math:`e_0=0` (start at the real-data fit): :math:`v_{t+1}=a^2(v_t+\sigma^2/(\lambda n))`.
    """
    a = LAM / (1 + LAM)
    sol = sp.rsolve(_V(_T + 1) - a**2 * (_V(_T) + _SIGMA2 / (LAM * _N)), _V(_T), {_V(0): 0})
    # rsolve returns ratios of (λ+1)^t and λ^t that overflow for large t; return the same
    # function in the form v_∞ (1 − a^{2t}), after checking the two agree
    stable = expected_stationary_mean_var_expr() * (1 - a ** (2 * _T))
    if sp.simplify(sol - stable) != 0:
        raise RuntimeError(f"rsolve gave {sol}, not {stable}")
    return stable


@functools.lru_cache(maxsize=None)
def expected_stationary_mean_var_expr() -> sp.Expr:
    r"""Stationary variance of the AR(1) recursion: the fixed point of :math:`v=a^2(v+\sigma^2/(\lambda n))`.

    .. math:: \mathrm{Var}_\infty=\frac{\lambda\sigma^2}{n(1+2\lambda)}.
    """
    v = sp.Symbol("v")
    a = LAM / (1 + LAM)
    sol = sp.solve(sp.Eq(v, a**2 * (v + _SIGMA2 / (LAM * _N))), v)
    return sp.factor(sol[0])


@functools.lru_cache(maxsize=None)
def _mean_var_funcs():
    return (sp.lambdify((_N, LAM, _SIGMA2), expected_stationary_mean_var_expr(), "numpy"),
            sp.lambdify((_N, LAM, _SIGMA2, _T), expected_mean_var_expr(), "numpy"))


def expected_stationary_mean_var(n, lam, sigma2) -> float:
    r"""Stationary :math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})=\lambda\sigma^2/(n(1+2\lambda))`.

    Gaussian-mean coordinate, real data (n points) reused every round, :math:`\lambda n`
    fresh synthetic points from the current fit (of variance :math:`\sigma^2`)
    (``theory.md`` §1.6 (iii), 🧮; [B] §2.4 setting). See :func:`expected_stationary_mean_var_expr`.

    Examples
    --------
    >>> from selfconsume.theory import expected_stationary_mean_var
    >>> round(expected_stationary_mean_var(200, 1.0, 1.0), 8)
    0.00166667
    """
    n = check_int("n", n, min_value=1)
    lam = check_lam(lam)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    return float(_mean_var_funcs()[0](n, lam, sigma2))


def expected_mean_var(n, lam, sigma2, t):
    r""":math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})=\frac{\lambda\sigma^2}{n(1+2\lambda)}\big(1-(\tfrac{\lambda}{1+\lambda})^{2t}\big)`
    (start at the real-data fit; see :func:`expected_mean_var_expr`). ``t`` may be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_mean_var
    >>> round(float(expected_mean_var(10, 1.0, 1.0, 1)), 6)     # one round: a² σ²/(λ n)
    0.025
    """
    n = check_int("n", n, min_value=1)
    lam = check_lam(lam)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    t = check_int_array("t", t)
    if lam == 0.0:
        return np.zeros_like(t, dtype=float) if np.ndim(t) else 0.0
    return _mean_var_funcs()[1](n, lam, sigma2, t).astype(float) if np.ndim(t) else float(
        _mean_var_funcs()[1](n, lam, sigma2, int(t)))


_E0, _RHO, _ETA = sp.symbols("e0 rho eta", nonnegative=True)


@functools.lru_cache(maxsize=None)
def bound_error_recursion_expr() -> sp.Expr:
    r"""Solution of :math:`e_t=\rho e_{t-1}+\eta`, :math:`e_0` given, by ``rsolve``:
    :math:`\rho^te_0+\eta(1-\rho^t)/(1-\rho)` ([B] Thm 2, ``theory.md`` §2.4 ⚠️)."""
    sol = sp.rsolve(_V(_T) - _RHO * _V(_T - 1) - _ETA, _V(_T), {_V(0): _E0})
    return sp.collect(sp.simplify(sol), _E0)


@functools.lru_cache(maxsize=None)
def _err_rec_func():
    e = bound_error_recursion_expr()
    return sp.lambdify((_E0, _RHO, _ETA, _T), e, "numpy"), sp.lambdify((_E0, _ETA, _T), sp.limit(e, _RHO, 1), "numpy")


def bound_error_recursion(e0, rho, eta, t):
    r"""Bound :math:`e_t\le\rho^te_0+\eta\frac{1-\rho^t}{1-\rho}` of the recursion :math:`e_{t+1}\le\rho e_t+\eta`.

    ``rho = 1`` gives the limit :math:`e_0+\eta t`. ``t`` may be an int array.
    Source: [B] Thm 2 (finite-sample stability), reconstructed (``theory.md`` §2.4 ⚠️);
    see :func:`bound_error_recursion_expr`.

    Examples
    --------
    >>> from selfconsume.theory import bound_error_recursion
    >>> bound_error_recursion(1.0, 0.5, 0.1, 2)
    0.4
    """
    e0 = check_real("e0", e0, min_value=0.0)
    rho = check_real("rho", rho, min_value=0.0)
    eta = check_real("eta", eta, min_value=0.0)
    t = check_int_array("t", t)
    f, f1 = _err_rec_func()
    if rho == 1.0:
        out = f1(e0, eta, t)
    else:
        out = f(e0, rho, eta, t)
    return np.asarray(out, dtype=float) if np.ndim(t) else float(out)
