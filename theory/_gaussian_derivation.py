r"""Gaussian collapse, derived: the sympy derivations behind :mod:`._gaussian`.

Setting (Bertrand et al., ICLR 2024, §2.2; Shumailov et al., Nature 2024, Thm 3.1;
``shared/theory.md`` §0, §2.2, §3.1): generation ``t + 1`` refits :math:`N(\mu, \sigma^2)` to
``n`` samples of generation ``t``, so :math:`\sigma_t^2=\sigma_0^2\prod_s\chi^2_{n-1,s}/m` with
:math:`m` the variance divisor. Each closed form is derived here from a definition (an
integral against the :math:`\chi^2` density, the Mellin transform, a recursion solved with
``rsolve``, a telescoping Bartlett product) and exported as a sympy ``Expr``
(``<name>_expr`` for the unbiased refit, ``<name>_mle_expr`` where the MLE refit differs).

Derivation cache: the derivation takes about a second, longer than importing
:mod:`selfconsume.theory` may take, and ``theory/__init__.py`` star-imports every name of
``__all__``. The derived objects are therefore pickled next to the bytecode
(``__pycache__/_gaussian_derivation.derived-<key>.pickle``) under a key made of this file's
bytes and the sympy and Python versions: any edit re-derives. Nothing is typed in; set
``SELFCONSUME_REDERIVE=1`` to ignore (and rewrite) the cache.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from ._symbols import cached_derivation, d_sym, n_sym, sigma0_sym, t_sym, u_sym

__all__ = [
    "alpha_expr", "alpha_mle_expr",
    "expected_sigma_expr", "expected_sigma_mle_expr",
    "expected_sigma2_expr", "expected_sigma2_mle_expr",
    "expected_log_sigma2_expr", "expected_log_sigma2_mle_expr",
    "var_log_sigma2_expr",
    "expected_mean_sq_drift_expr", "expected_mean_sq_drift_mle_expr",
    "half_life_expr", "half_life_mle_expr",
    "det_factor_expr", "det_factor_mle_expr",
    "expected_logdet_drift_expr", "expected_logdet_drift_mle_expr",
    "expected_det_sqrt_expr", "expected_det_sqrt_mle_expr",
    "expected_w2_sq_expr", "expected_w2_sq_mle_expr",
    "log_sigma2_cf_expr", "log_sigma2_cf_mle_expr",
]

# Private derivation symbols: k = n - 1 degrees of freedom, m the variance divisor,
# x the chi-square variable, s the Mellin exponent, i the Bartlett index.
_k = sp.Symbol("k", positive=True)
_m = sp.Symbol("m", positive=True)
_x = sp.Symbol("x", positive=True)
_s = sp.Symbol("s")
_i = sp.Symbol("i", integer=True, positive=True)

#: Terms of the asymptotic series of log alpha(n) in 1/n used for n >= _N_SERIES.
_ALPHA_TERMS = 24
_N_SERIES = 20
#: Terms of the Stirling series log Gamma(z) - [(z - 1/2) log z - z + log(2 pi)/2] in 1/z,
#: used (and psi(z) - log z, from its derivative) for z >= _Z_ASYMPTOTIC.
_STIRLING_TERMS = 25
_Z_ASYMPTOTIC = 8.0


# --------------------------------------------------------------------------------------
# Derivation
# --------------------------------------------------------------------------------------

def _formal_difference_solution(g, sign, order):
    r"""Coefficients :math:`f_1..f_{order}` of the formal series :math:`f(z)=\sum_j f_j z^{-j}`
    solving :math:`f(z+1) + \text{sign}\cdot f(z) = g(z)`, ``g[p]`` the coefficient of
    :math:`z^{-p}` (``sign=-1`` needs ``g`` up to ``order + 1``).

    Uses :math:`(z+1)^{-j} = \sum_r \binom{-j}{r} z^{-j-r}`; the system is triangular. The
    formal solution vanishing at infinity is unique, so it *is* the asymptotic series of
    any solution that has one.
    """
    f = [sp.Integer(0)] * (order + 2)
    if sign == 1:
        for p in range(1, order + 1):
            known = sum((f[j] * sp.binomial(-j, p - j) for j in range(1, p)), sp.Integer(0))
            f[p] = (g[p] - known) / 2
    else:  # the f_p terms cancel at order p: order p + 1 fixes f_p (coefficient -p)
        for p in range(1, order + 1):
            known = sum((f[j] * sp.binomial(-j, p + 1 - j) for j in range(1, p)), sp.Integer(0))
            f[p] = (known - g[p + 1]) / p
    return f[1: order + 1]


def _series_coeffs(expr, var, order):
    """Coefficients ``[c_0, ..., c_order]`` of the Taylor series of ``expr`` in ``var`` at 0."""
    ser = sp.series(expr, var, 0, order + 1).removeO()
    return [ser.coeff(var, j) for j in range(order + 1)]


def _derive():
    """Run every derivation; return a dict of sympy objects and exact coefficients."""
    n, t, d, s0, u = n_sym, t_sym, d_sym, sigma0_sym, u_sym
    k, m, x, s, i = _k, _m, _x, _s, _i
    tidy = functools.partial(sp.powsimp, combine="exp")

    # chi-square density with k > 0 degrees of freedom; (n - 1) S^2 / sigma^2 ~ chi2_{n-1}.
    pdf = x ** (k / 2 - 1) * sp.exp(-x / 2) / (2 ** (k / 2) * sp.gamma(k / 2))
    # Mellin transform E[(chi2_k)^s] (valid for Re s > -k/2): every moment below comes from it.
    mellin = tidy(sp.integrate(x ** s * pdf, (x, 0, sp.oo), conds="none"))
    # sigma_{t+1} / sigma_t = sqrt(chi2_k / m): its mean by direct integration.
    e_sqrt = tidy(sp.integrate(sp.sqrt(x / m) * pdf, (x, 0, sp.oo)))

    def at(expr, divisor):  # k = n - 1 degrees of freedom, divisor m = n - 1 or n
        return expr.subs(m, divisor).subs(k, n - 1)

    out = {}
    divisors = {"": n - 1, "_mle": n}
    v = sp.Function("v")

    def rsolve(step, init):  # the law of iterated expectations as a recursion in t
        return sp.rsolve(v(t + 1) - step(v(t)), v(t), {v(0): init})

    # The two recursion shapes met below, solved once for generic coefficients.
    A, B, y0 = sp.Dummy("A", positive=True), sp.Dummy("B"), sp.Dummy("y0")
    geometric = rsolve(lambda y: A * y, y0)      # y_{t+1} = A y_t
    additive = rsolve(lambda y: y + B, y0)        # y_{t+1} = y_t + B

    def iterate(step_kind, coeff, init):
        return (geometric if step_kind == "*" else additive).subs({A: coeff, B: coeff, y0: init})

    logM = sp.expand_log(sp.log(mellin), force=True)
    drift_k = sp.logcombine(sp.diff(logM, s).subs(s, 0) - sp.log(m), force=True)  # E log(chi2_k/m)
    var_k = sp.diff(logM, s, 2).subs(s, 0)                                          # Var log chi2_k
    out["var_log_sigma2"] = iterate("+", at(var_k, n - 1), sp.Integer(0))

    # Half-life: solve A**tau = 1/2 for a generic factor A in (0, 1), then substitute.
    tau = sp.Dummy("tau", positive=True)
    (half_life_generic,) = sp.solve(sp.Eq(A ** tau, sp.Rational(1, 2)), tau)

    # Bartlett: det W = prod_{i=1}^d chi2_{n-i} (independent), so
    # E det(Sigma_{t+1})^{1/2} / det(Sigma_t)^{1/2} = prod_i E sqrt(chi2_{n-i} / m).
    bartlett_term = e_sqrt.subs(k, n - i)
    f = sp.gamma((n - i) / 2)
    const = sp.sqrt(2 / m)
    if sp.cancel(bartlett_term / (const * f.subs(i, i - 1) / f)) != 1:
        raise RuntimeError("derivation: the Bartlett factor is not the telescoping ratio f(i-1)/f(i)")
    telescoped = f.subs(i, 0) / f.subs(i, d)  # claim: prod_{i=1}^d f(i-1)/f(i) = f(0)/f(d)
    base_ok = sp.cancel(telescoped.subs(d, 1) / (f.subs(i, 0) / f.subs(i, 1))) == 1
    step_ok = sp.cancel(telescoped.subs(d, d + 1) / telescoped / (f.subs(i, d) / f.subs(i, d + 1))) == 1
    if not (base_ok and step_ok):
        raise RuntimeError("derivation: the telescoping induction failed")
    det_generic = tidy(sp.product(const, (i, 1, d)) * telescoped)
    # E log det W = sum_i E log chi2_{n-i}; divide by m^d.
    logdet_generic = sp.summation(sp.expand(drift_k.subs(k, n - i)), (i, 1, d))

    mean_ratio = sp.gammasimp(mellin.subs(s, 1)) / m  # E[chi2_k / m] = k / m
    P = sp.Dummy("P", positive=True)  # stands for factor**t while collecting the W2 terms
    for suffix, divisor in divisors.items():
        factor = at(e_sqrt, divisor)                   # E[sigma_{t+1} | sigma_t] / sigma_t
        factor2 = sp.cancel(at(mean_ratio, divisor))   # E[sigma_{t+1}^2 | sigma_t] / sigma_t^2
        out["alpha" + suffix] = factor
        out["expected_sigma" + suffix] = iterate("*", factor, s0)
        out["expected_sigma2" + suffix] = es2 = iterate("*", factor2, s0 ** 2)
        out["expected_log_sigma2" + suffix] = iterate("+", at(drift_k, divisor), sp.log(s0 ** 2))
        # mu_{t+1} - mu_0 = (mu_t - mu_0) + sigma_t Z_t / sqrt(n): v_{t+1} = v_t + E sigma_t^2 / n.
        out["expected_mean_sq_drift" + suffix] = sp.factor_terms(rsolve(lambda y: y + es2 / n, sp.Integer(0)))
        out["half_life" + suffix] = half_life_generic.subs(A, factor)
        det = det_generic.subs(m, divisor)
        out["det_factor" + suffix] = det
        out["expected_logdet_drift" + suffix] = logdet_generic.subs(m, divisor)
        out["expected_det_sqrt" + suffix] = iterate("*", det, s0 ** d)
        # W2^2(N(a, s^2), N(b, u^2)) = (a - b)^2 + (s - u)^2, expanded and averaged.
        w2 = out["expected_mean_sq_drift" + suffix] + s0 ** 2 - 2 * s0 * s0 * P + es2
        out["expected_w2_sq" + suffix] = sp.factor_terms(sp.expand(w2)).subs(P, factor ** t)
        # characteristic function of log(sigma_t^2/sigma0^2) = sum of t iid log(chi2_k/m)
        step_cf = sp.powsimp(at(mellin.subs(s, sp.I * u) * m ** (-sp.I * u), divisor), force=True)
        out["log_sigma2_cf" + suffix] = step_cf ** t

    # Asymptotic series of log alpha(n) in x = 1/n. Gamma(z + 1) = z Gamma(z) gives
    # alpha(n) alpha(n + 1) = sqrt((n - 1)/n), so L = log alpha solves L(n) + L(n+1) = g(n).
    xx = sp.Dummy("x", positive=True)
    alpha = out["alpha"]
    g_alpha = sp.expand_log(sp.log(sp.expand_func(alpha * alpha.subs(n, n + 1))), force=True)
    g_coeffs = _series_coeffs(sp.expand_log(g_alpha.subs(n, 1 / xx), force=True), xx, _ALPHA_TERMS)
    out["log_alpha_series"] = _formal_difference_solution(g_coeffs, +1, _ALPHA_TERMS)
    # Exact small-n values (gamma at half-integers is rational times sqrt(pi)).
    out["log_alpha_small"] = [float(sp.log(alpha.subs(n, j)).evalf(30)) if j >= 2 else math.nan
                              for j in range(_N_SERIES)]

    # Stirling series: J(z) = log Gamma(z) - (z - 1/2) log z + z - log(2 pi)/2 satisfies
    # J(z + 1) - J(z) = 1 - (z + 1/2) log(1 + 1/z), from log Gamma(z + 1) - log Gamma(z) = log z.
    z = sp.Dummy("z", positive=True)

    def rest(zz):  # J(z) - log Gamma(z)
        return -(zz - sp.Rational(1, 2)) * sp.log(zz) + zz - sp.log(2 * sp.pi) / 2
    log_gamma_step = sp.log(sp.expand_func(sp.gamma(z + 1) / sp.gamma(z)))            # log z
    dJ = log_gamma_step + rest(z + 1) - rest(z)
    g_stirling = _series_coeffs(sp.expand_log(dJ.subs(z, 1 / xx), force=True), xx, _STIRLING_TERMS + 1)
    out["stirling_series"] = _formal_difference_solution(g_stirling, -1, _STIRLING_TERMS)
    # psi(z) - log z = d/dz[log Gamma(z)] - log z = -1/(2z) + J'(z).
    out["psi_minus_log_series"] = ([sp.Rational(-1, 2)]
                                   + [-j * b for j, b in enumerate(out["stirling_series"], start=1)])
    return out


def _load_derivations():
    """:func:`_derive`'s dict, cached on disk (:func:`._symbols.cached_derivation`)."""
    return cached_derivation(__file__, _derive)


_D = _load_derivations()

#: alpha(n) = E sqrt(chi2_{n-1}/(n-1)): integral of sqrt(x/(n-1)) against the chi2_{n-1} density.
alpha_expr = _D["alpha"]
#: alpha_mle(n) = E sqrt(chi2_{n-1}/n) (MLE variance, divisor n).
alpha_mle_expr = _D["alpha_mle"]
#: E sigma_t = alpha(n)^t sigma0 (rsolve of e_{t+1} = alpha e_t).
expected_sigma_expr = _D["expected_sigma"]
expected_sigma_mle_expr = _D["expected_sigma_mle"]
#: E sigma_t^2: sigma0^2 (martingale) / ((n-1)/n)^t sigma0^2 (MLE).
expected_sigma2_expr = _D["expected_sigma2"]
expected_sigma2_mle_expr = _D["expected_sigma2_mle"]
#: E log sigma_t^2 from the derivative of the Mellin transform at s = 0.
expected_log_sigma2_expr = _D["expected_log_sigma2"]
expected_log_sigma2_mle_expr = _D["expected_log_sigma2_mle"]
#: Var log sigma_t^2 = t psi'((n-1)/2) (second derivative of the log Mellin transform).
var_log_sigma2_expr = _D["var_log_sigma2"]
#: E (mu_t - mu0)^2 (rsolve of v_{t+1} = v_t + E sigma_t^2 / n).
expected_mean_sq_drift_expr = _D["expected_mean_sq_drift"]
expected_mean_sq_drift_mle_expr = _D["expected_mean_sq_drift_mle"]
#: Generations for E sigma_t to halve.
half_life_expr = _D["half_life"]
half_life_mle_expr = _D["half_life_mle"]
#: E[det Sigma_{t+1}^{1/2} | Sigma_t] / det Sigma_t^{1/2} (telescoped Bartlett product).
det_factor_expr = _D["det_factor"]
det_factor_mle_expr = _D["det_factor_mle"]
#: E log det Sigma_{t+1} - log det Sigma_t (a sympy Sum over the Bartlett index).
expected_logdet_drift_expr = _D["expected_logdet_drift"]
expected_logdet_drift_mle_expr = _D["expected_logdet_drift_mle"]
#: E det Sigma_t^{1/2} for Sigma_0 = sigma0^2 I_d.
expected_det_sqrt_expr = _D["expected_det_sqrt"]
expected_det_sqrt_mle_expr = _D["expected_det_sqrt_mle"]
#: E W2^2(N(mu_t, sigma_t^2), N(mu0, sigma0^2)).
expected_w2_sq_expr = _D["expected_w2_sq"]
expected_w2_sq_mle_expr = _D["expected_w2_sq_mle"]
#: Characteristic function E exp(i u log(sigma_t^2/sigma0^2)) = phi(u)^t.
log_sigma2_cf_expr = _D["log_sigma2_cf"]
log_sigma2_cf_mle_expr = _D["log_sigma2_cf_mle"]

# Numeric constants from the derivation (floats of exact rationals).
_LOG_ALPHA_SMALL = np.array(_D["log_alpha_small"], dtype=float)
_LOG_ALPHA_SERIES = np.array([float(c) for c in _D["log_alpha_series"]], dtype=float)
_STIRLING_SERIES = np.array([float(c) for c in _D["stirling_series"]], dtype=float)
_PSI_MINUS_LOG_SERIES = np.array([float(c) for c in _D["psi_minus_log_series"]], dtype=float)
