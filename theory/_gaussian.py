r"""Gaussian collapse: exact laws of a Gaussian refitted to its own samples, derived in sympy.

Setting (Bertrand et al., ICLR 2024, §2.2 "Gaussian warm-up"; Shumailov et al., Nature 2024,
Thm 3.1; ``shared/theory.md`` §0, §2.2, §3.1). Generation ``t + 1`` fits :math:`N(\mu, \sigma^2)`
to ``n`` samples of generation ``t`` with the sample mean and either the **unbiased**
variance (divisor :math:`n - 1`, ``estimator="unbiased"``) or the **MLE** variance (divisor
:math:`n`, ``estimator="mle"``). Generation 0 is the true law :math:`N(\mu_0, \sigma_0^2)`.
Then, with :math:`m` the divisor and :math:`\chi^2_{n-1, s}` independent,

.. math:: \sigma_t^2 = \sigma_0^2 \prod_{s=1}^{t} \frac{\chi^2_{n-1,s}}{m}, \qquad
          \mu_{t+1} = \mu_t + \sigma_t Z_t / \sqrt n ,

and every closed form below follows from that law. Each is **derived** here in sympy from
a definition (an integral against the :math:`\chi^2` density, the Mellin transform
:math:`\mathbb E[(\chi^2_k)^s]`, a recursion solved with ``rsolve``, a telescoping Bartlett
product) and exported as a sympy ``Expr`` (``<name>_expr`` for the unbiased refit,
``<name>_mle_expr`` where the MLE refit differs) next to one vectorised numeric twin
written in scipy form; the tests prove that each twin equals its ``Expr``. Symbols:
``n_sym, t_sym, d_sym, sigma0_sym, u_sym`` (also in :data:`SYMBOLS`).

Derivation cache: the sympy derivation takes about a second, longer than importing
:mod:`selfconsume.theory` may take, and ``theory/__init__.py`` star-imports every name of
``__all__`` (so a lazy module ``__getattr__`` would be forced at import anyway). The derived
objects are therefore pickled next to the bytecode
(``__pycache__/_gaussian.derived-<key>.pickle``) under a key made of this file's bytes and
the sympy and Python versions: any edit re-derives. Nothing is typed in; set
``SELFCONSUME_REDERIVE=1`` to ignore (and rewrite) the cache.

Provenance tags as in ``shared/theory.md``: 🔶 secondary (Bertrand's bound
:math:`\mathbb E\sigma_t \le \alpha(n)^t\sigma_0`), ✅ verified (Shumailov Thm 3.1:
:math:`\mathbb E W_2^2 \to \infty`), 🧮 derived here (the equalities, the MLE variants, the
exact law of :math:`\log\sigma_t^2`, the :math:`d`-dimensional factors).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import sympy as sp
from scipy import special as _sc

from selfconsume._validation import check_choice, check_int, check_real

__all__ = [
    # symbols
    "n_sym", "t_sym", "d_sym", "sigma0_sym", "u_sym", "SYMBOLS",
    # numeric twins
    "alpha", "alpha_mle", "alpha_series",
    "expected_sigma", "expected_sigma2", "expected_log_sigma2", "var_log_sigma2",
    "expected_mean_sq_drift", "half_life",
    "det_factor", "expected_logdet_drift", "expected_det_sqrt",
    "expected_w2_sq",
    "log_sigma2_cdf", "prob_collapsed", "median_log_sigma2",
    # derived sympy expressions
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

_ESTIMATORS = ("unbiased", "mle")

# --------------------------------------------------------------------------------------
# Symbols
# --------------------------------------------------------------------------------------

#: n, samples per generation ([B] n, [S] M); the derivations use k = n - 1 > 0, i.e. n >= 2.
n_sym = sp.Symbol("n", integer=True, positive=True)
#: t, generation index (t = 0 is the true law).
t_sym = sp.Symbol("t", integer=True, nonnegative=True)
#: d, dimension of the d-dimensional Gaussian (1 <= d < n).
d_sym = sp.Symbol("d", integer=True, positive=True)
#: sigma0, standard deviation of generation 0 (the true law).
sigma0_sym = sp.Symbol("sigma0", positive=True)
#: u, argument of the characteristic function of log(sigma_t^2 / sigma0^2).
u_sym = sp.Symbol("u", real=True)
#: The shared symbols by name.
SYMBOLS = {"n": n_sym, "t": t_sym, "d": d_sym, "sigma0": sigma0_sym, "u": u_sym}

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
    """Return :func:`_derive`'s dict, from the pickle cache when it matches this source."""
    here = Path(__file__)
    key = hashlib.sha256(
        here.read_bytes() + f"|sympy {sp.__version__}|python {sys.version_info[:2]}".encode()
    ).hexdigest()[:16]
    cache = here.parent / "__pycache__" / f"{here.stem}.derived-{key}.pickle"
    if not os.environ.get("SELFCONSUME_REDERIVE"):
        try:
            with open(cache, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # missing, stale format or unreadable: derive again
            pass
    derived = _derive()
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(derived, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)  # atomic: concurrent importers never read half a file
        for old in cache.parent.glob(f"{here.stem}.derived-*.pickle"):
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError:  # read-only install: keep the in-memory result
        pass
    return derived


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


# --------------------------------------------------------------------------------------
# Validation and broadcasting
# --------------------------------------------------------------------------------------

def _real_array(name, value):
    """``value`` as a float array; TypeError for non-numbers (strings, bools, complex)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}")
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iufO":
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}")
    try:
        return arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}") from exc


def _show(value):
    """A number for an error message: 3 rather than np.float64(3.0)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _first_bad(arr, bad):
    return _show(arr[bad].flat[0] if arr.ndim else arr.item())


def _check_n(value, name="n", minimum=2):
    arr = _real_array(name, value)
    bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (arr < minimum)
    if bad.any():
        raise ValueError(f"{name} must be an integer >= {minimum} (integer-valued floats are accepted); "
                         f"got {_first_bad(arr, bad)}")
    return arr


def _check_t(value):
    arr = _real_array("t", value)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ValueError(f"t must be a finite number of generations >= 0; got {_first_bad(arr, bad)}")
    return arr


def _check_sigma0(value):
    arr = _real_array("sigma0", value)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        raise ValueError(f"sigma0 must be a finite number > 0; got {_first_bad(arr, bad)}")
    return arr


def _check_d(value, n):
    d = _check_n(value, "d", 1)
    nb, db = np.broadcast_arrays(n, d)
    bad = nb <= db
    if bad.any():
        raise ValueError(f"n must be greater than d (n > d >= 1, else the sample covariance is singular); "
                         f"got n={_show(nb[bad].flat[0])}, d={_show(db[bad].flat[0])}")
    return d


def _check_estimator(estimator):
    return check_choice("estimator", estimator, _ESTIMATORS)


def _result(value, *inputs):
    """A Python float when every input is a scalar, else an ndarray."""
    value = np.asarray(value, dtype=float)
    if all(np.ndim(a) == 0 for a in inputs):
        return float(value)
    return value


# --------------------------------------------------------------------------------------
# Accurate elementary pieces (arrays in, arrays out; no validation)
# --------------------------------------------------------------------------------------

def _poly_in_inverse(coeffs, x):
    """sum_{j>=1} coeffs[j-1] * x**j by Horner."""
    acc = np.zeros_like(x)
    for c in coeffs[::-1]:
        acc = (acc + c) * x
    return acc


def _log_alpha(n):
    """log alpha(n) to a few ulp: exact table below _N_SERIES, derived 1/n series above."""
    n = np.asarray(n, dtype=float)
    out = np.empty(n.shape)
    small = n < _N_SERIES
    if small.any():
        out[small] = _LOG_ALPHA_SMALL[n[small].astype(np.intp)]
    big = ~small
    if big.any():
        out[big] = _poly_in_inverse(_LOG_ALPHA_SERIES, 1.0 / n[big])
    return out


def _log_factor(n, estimator):
    """log E[sigma_{t+1}/sigma_t]: log alpha(n), or log alpha_mle(n) = log alpha + log1p(-1/n)/2."""
    la = _log_alpha(n)
    return la if estimator == "unbiased" else la + 0.5 * np.log1p(-1.0 / n)


def _log_divisor_ratio(n, estimator):
    """log((n - 1)/m): 0 for the unbiased divisor, log1p(-1/n) for the MLE one."""
    return np.zeros_like(n) if estimator == "unbiased" else np.log1p(-1.0 / n)


def _psi_minus_log(z):
    """psi(z) - log(z) without cancellation for large z (derived Stirling series)."""
    z = np.asarray(z, dtype=float)
    out = np.empty(z.shape)
    big = z >= _Z_ASYMPTOTIC
    if big.any():
        out[big] = _poly_in_inverse(_PSI_MINUS_LOG_SERIES, 1.0 / z[big])
    small = ~big
    if small.any():
        out[small] = _sc.digamma(z[small]) - np.log(z[small])
    return out


def _step_log_mean(n, estimator):
    """E log(chi2_{n-1}/m) = psi((n-1)/2) - log(m/2)."""
    return _psi_minus_log((n - 1.0) / 2.0) + _log_divisor_ratio(n, estimator)


def _sum_over_bartlett_index(term, n, d):
    """sum_{i=1}^{d} term(n, i), elementwise over broadcast n, d (d >= 1, n > d)."""
    n, d = np.broadcast_arrays(np.asarray(n, float), np.asarray(d, float))
    nf, df = n.ravel(), d.ravel()
    out = np.zeros(nf.shape)
    if nf.size == 0:
        return out.reshape(n.shape)
    dmax = int(df.max())
    chunk = max(1, (1 << 20) // nf.size)
    for lo in range(1, dmax + 1, chunk):
        i = np.arange(lo, min(lo + chunk, dmax + 1), dtype=float)[None, :]
        inside = i <= df[:, None]
        vals = term(nf[:, None], np.where(inside, i, 1.0))  # i = 1 is admissible for every n > d
        out += np.where(inside, vals, 0.0).sum(axis=1)
    return out.reshape(n.shape)


def _log_det_factor(n, d, estimator):
    """log det_factor = sum_i [log alpha(n-i+1) + log((n-i)/m)/2] (E sqrt chi2_k = sqrt(k) alpha(k+1))."""
    if estimator == "unbiased":
        def term(nn, i):
            return _log_alpha(nn - i + 1.0) + 0.5 * np.log1p(-(i - 1.0) / (nn - 1.0))
    else:
        def term(nn, i):
            return _log_alpha(nn - i + 1.0) + 0.5 * np.log1p(-i / nn)
    return _sum_over_bartlett_index(term, n, d)


# --------------------------------------------------------------------------------------
# Numeric twins
# --------------------------------------------------------------------------------------

def alpha(n):
    r"""Contraction factor of :math:`\mathbb E\sigma_t` under the unbiased refit.

    .. math:: \alpha(n) = \sqrt{\tfrac{2}{n-1}}\,\frac{\Gamma(n/2)}{\Gamma((n-1)/2)}
              = \mathbb E\sqrt{\chi^2_{n-1}/(n-1)} = 1 - \frac1{4n} - \frac7{32n^2} + O(n^{-3})

    (:math:`c_4(n)` of quality control). Source: Bertrand et al., ICLR 2024, §2.2 (🔶,
    Γ-function form); the integral is ``alpha_expr``, derived here 🧮.

    Parameters
    ----------
    n : int or array_like of int
        Samples per generation, :math:`n \ge 2` (integer-valued floats accepted).

    Returns
    -------
    float or ndarray
        :math:`\alpha(n) \in (0, 1)`, relative error below :math:`10^{-15}` for every
        :math:`2 \le n` (exact values below 20, the derived :math:`1/n` series with 24 terms
        above, where its truncation error is below :math:`10^{-18}`).

    Notes
    -----
    Assumptions: generation :math:`t+1` refits the unbiased variance to ``n`` samples of
    :math:`N(\mu_t, \sigma_t^2)`, so :math:`\sigma_{t+1}/\sigma_t = \sqrt{\chi^2_{n-1}/(n-1)}`.
    The series comes from the functional equation
    :math:`\alpha(n)\alpha(n+1) = \sqrt{(n-1)/n}` (derived from :math:`\Gamma(z+1)=z\Gamma(z)`),
    solved term by term for :math:`\log\alpha` in exact rationals; see :func:`alpha_series`.

    Examples
    --------
    >>> round(alpha(10), 6)
    0.972659
    >>> alpha([2, 3, 1000]).round(6).tolist()
    [0.797885, 0.886227, 0.99975]
    """
    n_arr = _check_n(n)
    return _result(np.exp(_log_alpha(n_arr)), n)


def alpha_mle(n):
    r"""Contraction factor of :math:`\mathbb E\sigma_t` under the MLE refit (variance divisor ``n``).

    .. math:: \alpha_{\rm mle}(n) = \sqrt{\tfrac{2}{n}}\,\frac{\Gamma(n/2)}{\Gamma((n-1)/2)}
              = \mathbb E\sqrt{\chi^2_{n-1}/n} = \sqrt{\tfrac{n-1}{n}}\,\alpha(n)

    Source: theory.md §2.2, last bullet (🧮 derived here; Kazdan et al.'s MLE protocol,
    theory.md §3.5). Expression: ``alpha_mle_expr``.

    Parameters
    ----------
    n : int or array_like of int
        Samples per generation, :math:`n \ge 2`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(alpha_mle(10), 6)
    0.922746
    """
    n_arr = _check_n(n)
    return _result(np.exp(_log_factor(n_arr, "mle")), n)


@functools.cache
def alpha_series(order=3):
    r"""Asymptotic expansion of :math:`\alpha(n)` in :math:`1/n`, up to :math:`O(n^{-\text{order}})`.

    Derived, not transcribed: :math:`\alpha(n)\alpha(n+1)=\sqrt{(n-1)/n}` (from
    ``alpha_expr`` and :math:`\Gamma(z+1)=z\Gamma(z)`), so :math:`L=\log\alpha` solves
    :math:`L(n)+L(n+1)=\tfrac12\log(1-1/n)`; the unique formal solution in powers of
    :math:`1/n` vanishing at infinity is exponentiated.

    .. math:: \alpha(n) = 1 - \frac{1}{4n} - \frac{7}{32n^2} + O(n^{-3})

    Source: theory.md §0 (🧮).

    Parameters
    ----------
    order : int, default 3
        Order of the remainder, :math:`1 \le` ``order`` :math:`\le 24`.

    Returns
    -------
    sympy.Expr
        A polynomial in :math:`1/n` plus ``O(n**-order, (n, oo))``.

    Examples
    --------
    >>> alpha_series(3)
    -7/(32*n**2) - 1/(4*n) + 1 + O(n**(-3), (n, oo))
    """
    order = check_int("order", order, min_value=1, max_value=_ALPHA_TERMS)
    x = sp.Dummy("x", positive=True)
    log_alpha = sum(c * x ** j for j, c in enumerate(_D["log_alpha_series"][:order], start=1))
    poly = sp.series(sp.exp(log_alpha), x, 0, order).removeO()
    return poly.subs(x, 1 / n_sym) + sp.Order(n_sym ** (-order), (n_sym, sp.oo))


def expected_sigma(n, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\sigma_t` after ``t`` refits: a geometric decay.

    .. math:: \mathbb E\sigma_t = \alpha(n)^t\sigma_0 \quad(\text{unbiased}), \qquad
              \mathbb E\sigma_t = \alpha_{\rm mle}(n)^t\sigma_0 \quad(\text{mle})

    Source: Bertrand et al., ICLR 2024, §2.2 state :math:`\mathbb E\sigma_t \le \alpha^t\sigma_0`
    (🔶); the *equality* holds because the ratios :math:`\sigma_{s+1}/\sigma_s` are independent
    (🧮, ``rsolve`` of :math:`e_{t+1}=\alpha e_t`). Expressions: ``expected_sigma_expr``,
    ``expected_sigma_mle_expr``.

    Parameters
    ----------
    n : int or array_like
        Samples per generation, :math:`n \ge 2`.
    t : float or array_like
        Generations, :math:`t \ge 0`.
    sigma0 : float or array_like, default 1.0
        Standard deviation of generation 0, :math:`> 0`.
    estimator : {"unbiased", "mle"}
        Variance divisor :math:`n-1` or :math:`n`.

    Returns
    -------
    float or ndarray
        Computed as :math:`\sigma_0\exp(t\log\alpha)`: finite for every admissible input
        (it underflows to 0 for astronomically large ``t``, never NaN).

    Examples
    --------
    >>> round(expected_sigma(10, 10), 4)
    0.7579
    >>> expected_sigma(2, 10**6)
    0.0
    """
    n_arr, t_arr, s_arr = _check_n(n), _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    return _result(s_arr * np.exp(t_arr * _log_factor(n_arr, est)), n, t, sigma0)


def expected_sigma2(n, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\sigma_t^2`: a martingale for the unbiased refit.

    .. math:: \mathbb E\sigma_t^2 = \sigma_0^2 \quad(\text{unbiased}),\qquad
              \mathbb E\sigma_t^2 = \left(\tfrac{n-1}{n}\right)^t\sigma_0^2 \quad(\text{mle})

    Derived from the Mellin transform at :math:`s=1`, :math:`\mathbb E\chi^2_k = k`, and
    ``rsolve``. Source: theory.md §2.2 (🧮) and §3.5 (Kazdan et al., MLE, 🧮). Although
    :math:`\mathbb E\sigma_t^2=\sigma_0^2`, :math:`\sigma_t\to0` a.s.; Monte-Carlo means of
    :math:`\sigma_t^2` at large ``t`` are dominated by rare paths.

    Parameters
    ----------
    n, t, sigma0, estimator
        As in :func:`expected_sigma`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> expected_sigma2(10, 50, 2.0)
    4.0
    >>> round(expected_sigma2(10, 10, estimator="mle"), 4)
    0.3487
    """
    n_arr, t_arr, s_arr = _check_n(n), _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    return _result(s_arr ** 2 * np.exp(t_arr * _log_divisor_ratio(n_arr, est)), n, t, sigma0)


def expected_log_sigma2(n, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\log\sigma_t^2`: a negative linear drift.

    .. math:: \mathbb E\log\sigma_t^2 = \log\sigma_0^2
              + t\left[\psi\!\left(\tfrac{n-1}{2}\right) - \log\tfrac{m}{2}\right],
              \qquad m = n-1 \text{ (unbiased) or } n \text{ (mle)}

    Derived by differentiating the Mellin transform
    :math:`\mathbb E[(\chi^2_k)^s] = 2^s\Gamma(k/2+s)/\Gamma(k/2)` at :math:`s=0`.
    Drift :math:`\approx -1/(n-1)` per generation (unbiased). Source: theory.md §2.2 (🧮).
    Expressions: ``expected_log_sigma2_expr``, ``expected_log_sigma2_mle_expr``.

    Parameters
    ----------
    n, t, sigma0, estimator
        As in :func:`expected_sigma`.

    Returns
    -------
    float or ndarray
        :math:`\psi(z)-\log z` is evaluated by its derived Stirling series for
        :math:`z\ge 8`, so the drift keeps full relative accuracy at large ``n``.

    Examples
    --------
    >>> round(expected_log_sigma2(10, 30), 3)
    -3.456
    """
    n_arr, t_arr, s_arr = _check_n(n), _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    return _result(2.0 * np.log(s_arr) + t_arr * _step_log_mean(n_arr, est), n, t, sigma0)


def var_log_sigma2(n, t, estimator="unbiased"):
    r"""Exact variance of :math:`\log\sigma_t^2`.

    .. math:: \operatorname{Var}\log\sigma_t^2 = t\,\psi'\!\left(\tfrac{n-1}{2}\right)
              = t\,\frac{d^2}{ds^2}\log\mathbb E\left[(\chi^2_{n-1})^s\right]_{s=0}

    Second derivative of :math:`\log\mathbb E[(\chi^2_k)^s]` at :math:`s=0`, times ``t``
    (independent generations). The divisor only shifts :math:`\log\sigma_t^2`, so
    ``estimator`` does not change the value (accepted for a uniform signature).
    Source: theory.md §2.2 (🧮). Expression: ``var_log_sigma2_expr``.

    Parameters
    ----------
    n : int or array_like
        Samples per generation, :math:`n \ge 2`.
    t : float or array_like
        Generations, :math:`t \ge 0`.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(var_log_sigma2(10, 30), 3)
    7.462
    """
    n_arr, t_arr = _check_n(n), _check_t(t)
    _check_estimator(estimator)
    return _result(t_arr * _sc.polygamma(1, (n_arr - 1.0) / 2.0), n, t)


def expected_mean_sq_drift(n, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E(\mu_t-\mu_0)^2`: a random walk (unbiased) or a saturating one (MLE).

    .. math:: \mathbb E(\mu_t-\mu_0)^2 = \frac{t\sigma_0^2}{n} \quad(\text{unbiased}),\qquad
              \sigma_0^2\left(1-\left(\tfrac{n-1}{n}\right)^t\right) \quad(\text{mle})

    Derived with ``rsolve`` from :math:`v_{t+1} = v_t + \mathbb E\sigma_t^2/n`
    (:math:`\mu_{t+1}=\mu_t+\sigma_tZ_t/\sqrt n`). Source: theory.md §2.2 and §3.5 (🧮).
    Expressions: ``expected_mean_sq_drift_expr``, ``expected_mean_sq_drift_mle_expr``.

    Parameters
    ----------
    n, t, sigma0, estimator
        As in :func:`expected_sigma`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> expected_mean_sq_drift(10, 10)
    1.0
    >>> round(expected_mean_sq_drift(10, 10, estimator="mle"), 4)
    0.6513
    """
    n_arr, t_arr, s_arr = _check_n(n), _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    if est == "unbiased":
        val = t_arr * s_arr ** 2 / n_arr
    else:
        val = -(s_arr ** 2) * np.expm1(t_arr * np.log1p(-1.0 / n_arr))
    return _result(val, n, t, sigma0)


def half_life(n, estimator="unbiased"):
    r"""Generations for :math:`\mathbb E\sigma_t` to halve.

    .. math:: \tau_{1/2}(n) = \frac{\ln 2}{-\ln\alpha(n)} \approx 4\ln 2\; n \approx 2.77\,n
              \qquad(\alpha_{\rm mle}\text{ for the MLE refit})

    Solved from :math:`\alpha^\tau = 1/2` in sympy (``half_life_expr``,
    ``half_life_mle_expr``). Source: theory.md §0 (🧮).

    Parameters
    ----------
    n : int or array_like
        Samples per generation, :math:`n \ge 2`.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(half_life(10), 1)
    25.0
    """
    n_arr = _check_n(n)
    est = _check_estimator(estimator)
    return _result(math.log(2.0) / -_log_factor(n_arr, est), n)


def det_factor(n, d, estimator="unbiased"):
    r"""One-generation factor of :math:`\mathbb E\det\Sigma_t^{1/2}` for a ``d``-dimensional Gaussian.

    .. math:: \frac{\mathbb E[\det\Sigma_{t+1}^{1/2}\mid\Sigma_t]}{\det\Sigma_t^{1/2}}
              = \prod_{i=1}^{d}\mathbb E\sqrt{\chi^2_{n-i}/m}
              = \frac{2^{d/2}\,\Gamma(n/2)}{\Gamma((n-d)/2)\,m^{d/2}}

    Derived from the Bartlett decomposition (:math:`\det W=\prod_{i=1}^d\chi^2_{n-i}`,
    independent, for :math:`W\sim\mathcal W_d(I, n-1)`): the product telescopes (proved by
    induction in sympy); it equals :func:`alpha` at ``d = 1``. Source: theory.md §2.2,
    :math:`d`-dimensional bullet (🧮). Expressions: ``det_factor_expr``, ``det_factor_mle_expr``.

    Parameters
    ----------
    n : int or array_like
        Samples per generation, :math:`n > d`.
    d : int or array_like
        Dimension, :math:`d \ge 1`.
    estimator : {"unbiased", "mle"}
        Covariance divisor :math:`m = n-1` or :math:`n`.

    Returns
    -------
    float or ndarray
        Evaluated in log space as :math:`\sum_i[\log\alpha(n-i+1)+\tfrac12\log\tfrac{n-i}{m}]`
        (accurate and finite for large ``n`` and ``d``).

    Examples
    --------
    >>> round(det_factor(8, 3), 4)
    0.6893
    >>> det_factor(10, 1) == alpha(10)
    True
    """
    n_arr = _check_n(n)
    d_arr = _check_d(d, n_arr)
    est = _check_estimator(estimator)
    return _result(np.exp(_log_det_factor(n_arr, d_arr, est)), n, d)


def expected_logdet_drift(n, d, estimator="unbiased"):
    r"""Per-generation drift of :math:`\mathbb E\log\det\Sigma_t` (negative).

    .. math:: \mathbb E\log\det\Sigma_{t+1} - \log\det\Sigma_t
              = \sum_{i=1}^{d}\left[\psi\!\left(\tfrac{n-i}{2}\right)+\log 2\right] - d\log m

    Bartlett decomposition plus the Mellin derivative of ``expected_log_sigma2``. Source:
    theory.md §2.2 (🧮). Expressions: ``expected_logdet_drift_expr`` (a sympy ``Sum``),
    ``expected_logdet_drift_mle_expr``.

    Parameters
    ----------
    n, d, estimator
        As in :func:`det_factor`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(expected_logdet_drift(8, 3), 3)
    -1.029
    """
    n_arr = _check_n(n)
    d_arr = _check_d(d, n_arr)
    est = _check_estimator(estimator)
    m_minus_1 = 1.0 if est == "unbiased" else 0.0  # log((n - i)/m) = log1p(-(i - m_minus_1)/m)

    def term(nn, i):
        m = nn - m_minus_1
        return _psi_minus_log((nn - i) / 2.0) + np.log1p(-(i - m_minus_1) / m)
    return _result(_sum_over_bartlett_index(term, n_arr, d_arr), n, d)


def expected_det_sqrt(n, d, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\det\Sigma_t^{1/2}` for :math:`\Sigma_0=\sigma_0^2 I_d`.

    .. math:: \mathbb E\det\Sigma_t^{1/2} = \text{det\_factor}(n,d)^t\,\sigma_0^d

    (``rsolve`` of the one-generation recursion). Source: theory.md §2.2 (🧮).
    Expressions: ``expected_det_sqrt_expr``, ``expected_det_sqrt_mle_expr``.

    Parameters
    ----------
    n, d, estimator
        As in :func:`det_factor`.
    t : float or array_like
        Generations, :math:`t \ge 0`.
    sigma0 : float or array_like, default 1.0
        :math:`\det\Sigma_0^{1/2} = \sigma_0^d`.

    Returns
    -------
    float or ndarray
        Computed as :math:`\exp(d\log\sigma_0 + t\log\text{det\_factor})`.

    Examples
    --------
    >>> round(expected_det_sqrt(8, 3, 1), 4)
    0.6893
    """
    n_arr = _check_n(n)
    d_arr = _check_d(d, n_arr)
    t_arr, s_arr = _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    val = np.exp(d_arr * np.log(s_arr) + t_arr * _log_det_factor(n_arr, d_arr, est))
    return _result(val, n, d, t, sigma0)


def expected_w2_sq(n, t, sigma0=1.0, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\,W_2^2\big(N(\mu_t,\sigma_t^2),\,N(\mu_0,\sigma_0^2)\big)`.

    With :math:`W_2^2(N(a,s^2),N(b,u^2))=(a-b)^2+(s-u)^2`, assembled in sympy from
    :func:`expected_mean_sq_drift`, :func:`expected_sigma` and :func:`expected_sigma2`:

    .. math:: \mathbb E W_2^2 = \sigma_0^2\left[\frac tn + 2\left(1-\alpha(n)^t\right)\right]
              \ (\text{unbiased}), \qquad
              2\sigma_0^2\left(1-\alpha_{\rm mle}(n)^t\right)\ (\text{mle})

    Source: Shumailov et al., Nature 2024, Thm 3.1 (✅: :math:`\mathbb E W_2^2\to\infty` for
    the unbiased refit); the exact 1-D form is derived here (🧮, theory.md §3.1, where
    :math:`n\leftrightarrow M` and :math:`t\leftrightarrow n`). The MLE refit saturates at
    :math:`2\sigma_0^2`. Expressions: ``expected_w2_sq_expr``, ``expected_w2_sq_mle_expr``.

    Parameters
    ----------
    n, t, sigma0, estimator
        As in :func:`expected_sigma`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(expected_w2_sq(10, 10), 3)
    1.484
    """
    n_arr, t_arr, s_arr = _check_n(n), _check_t(t), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    decay = -np.expm1(t_arr * _log_factor(n_arr, est))  # 1 - factor**t, exact near t = 0
    if est == "unbiased":
        val = s_arr ** 2 * (t_arr / n_arr + 2.0 * decay)
    else:
        val = 2.0 * s_arr ** 2 * decay
    return _result(val, n, t, sigma0)


# --------------------------------------------------------------------------------------
# Exact law of log(sigma_t^2 / sigma0^2): Gil-Pelaez inversion
# --------------------------------------------------------------------------------------

class _CentredLogChi2Sum:
    r"""Law of :math:`S=\sum_{s=1}^t[\log\chi^2_{k,s}-\mathbb E\log\chi^2_k]`, :math:`k=n-1`,
    standardised by its sd; the divisor only shifts it, so the law depends on (n, t) only.

    Per-generation centred log characteristic function, :math:`a=k/2`:
    :math:`\ell(u)=\log\Gamma(a+iu)-\log\Gamma(a)-iu\,\psi(a)` (``log_sigma2_cf_expr``
    without the drift). For :math:`a\ge8` it is evaluated by the derived Stirling series
    written as differences (no cancellation between large :math:`\log\Gamma` values); for
    :math:`a<8` by the cumulant series :math:`\sum_j\psi^{(j-1)}(a)(iu)^j/j!` when
    :math:`|u|\le a/10`, else by ``scipy.special.loggamma``. Its absolute error stays
    :math:`\lesssim10^{-16}(1+|u|)` per generation, so ``t`` up to :math:`10^5` costs no accuracy.
    """

    _CUMULANTS = 16  # terms j = 2..17: the series converges like (|u|/a)^j, |u|/a <= 0.1

    def __init__(self, n, t):
        a = (n - 1.0) / 2.0
        self.a, self.t = a, t
        self.sd = math.sqrt(t * float(_sc.polygamma(1, a)))
        if a >= _Z_ASYMPTOTIC:
            self._h = float(_psi_minus_log(np.array(a)))
            self._stirling_at_a = self._stirling(complex(a, 0.0)).real
        else:
            self._lg, self._psi = float(_sc.gammaln(a)), float(_sc.digamma(a))
            # Cumulant series sum_j psi^(j-1)(a) (iu)^j / j! for |u| <= a/10, where the
            # loggamma difference would only return its rounding noise (~1e-16 |log Gamma(a)|).
            j = np.arange(2, 2 + self._CUMULANTS)
            kappa = _sc.polygamma(j - 1, a) / _sc.factorial(j)
            self._cum_re = np.where(j % 2 == 0, kappa * (-1.0) ** (j // 2), 0.0)[::-1].tolist()
            self._cum_im = np.where(j % 2 == 1, kappa * (-1.0) ** ((j - 1) // 2), 0.0)[::-1].tolist()
        # |phi(u)| decreases in |u|: integrate up to where the total CF is below e^-40.
        v = 8.0
        while self.t * self._ell(v / self.sd)[0] > -40.0:
            v *= 1.5
        self.vmax = v

    @staticmethod
    def _stirling(z):
        w = 1.0 / z
        acc = 0.0
        for c in _STIRLING_SERIES[::-1]:
            acc = (acc + c) * w
        return acc

    def _ell(self, u):
        """(Re, Im) of the centred log CF of one generation at u."""
        a = self.a
        if a < _Z_ASYMPTOTIC:
            if abs(u) <= 0.1 * a:
                re = im = 0.0
                for cr, ci in zip(self._cum_re, self._cum_im):
                    re, im = (re + cr) * u, (im + ci) * u
                return re * u, im * u  # Horner ran from j = 2: one more factor u
            z = complex(_sc.loggamma(complex(a, u))) - self._lg - 1j * u * self._psi
            return z.real, z.imag
        # (a - 1/2 + iu) log(1 + iu/a) - iu - iu (psi(a) - log a) + Stirling differences,
        # with a atan(u/a) - u = u (atan(y)/y - 1) summed without cancellation.
        y = u / a
        lg_mod, arg = 0.5 * math.log1p(y * y), math.atan(y)
        if abs(y) < 0.1:  # sum_{j=1}^{9} (-y^2)^j / (2j + 1), remainder < 1e-19
            y2, atan_ratio_m1 = y * y, 0.0
            for j in range(9, 0, -1):
                atan_ratio_m1 = (atan_ratio_m1 + (-1.0) ** j / (2 * j + 1)) * y2
        else:
            atan_ratio_m1 = arg / y - 1.0
        corr = self._stirling(complex(a, u)) - self._stirling_at_a
        re = (a - 0.5) * lg_mod - u * arg + corr.real
        im = u * atan_ratio_m1 - 0.5 * arg + u * lg_mod - u * self._h + corr.imag
        return re, im

    def _re_minus_one_over_v(self, v):
        if v == 0.0:
            return 0.0
        re, im = self._ell(v / self.sd)
        re, im = self.t * re, self.t * im
        # Re(phi) - 1 = expm1(re) cos(im) - 2 sin^2(im/2), exact for small v
        return (math.expm1(re) * math.cos(im) - 2.0 * math.sin(0.5 * im) ** 2) / v

    def _im_over_v(self, v):
        if v == 0.0:
            return 0.0
        re, im = self._ell(v / self.sd)
        return math.exp(self.t * re) * math.sin(self.t * im) / v

    def cdf(self, z):
        r"""P(S/sd <= z) by Gil-Pelaez: :math:`\tfrac12+\tfrac1\pi\int_0^\infty
        [\sin(vz)\,\mathrm{Re}\,\varphi(v)-\cos(vz)\,\mathrm{Im}\,\varphi(v)]\,dv/v`, with
        :math:`\mathrm{Re}\,\varphi = 1 + (\mathrm{Re}\,\varphi - 1)` so that the singular part is
        :math:`\mathrm{Si}(Vz)` and the rest is smooth (QAWO quadrature for the oscillation)."""
        from scipy.integrate import quad

        if math.isinf(z):
            return 1.0 if z > 0 else 0.0
        V = self.vmax
        opts = dict(epsabs=1e-12, epsrel=1e-10, limit=500)
        i_cos = quad(self._im_over_v, 0.0, V, weight="cos", wvar=z, **opts)[0]
        i_sin = quad(self._re_minus_one_over_v, 0.0, V, weight="sin", wvar=z, **opts)[0] if z else 0.0
        si = float(_sc.sici(V * z)[0])
        return min(1.0, max(0.0, 0.5 + (si + i_sin - i_cos) / math.pi))

    @functools.cached_property
    def median(self):
        """Median of S/sd: |median - mean| <= sd for any finite-variance law, so it lies in [-1, 1]."""
        from scipy.optimize import brentq

        lo, hi = -1.0, 1.0
        while self.cdf(lo) > 0.5:
            lo *= 2.0
        while self.cdf(hi) < 0.5:
            hi *= 2.0
        return brentq(lambda z: self.cdf(z) - 0.5, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


@functools.lru_cache(maxsize=512)
def _centred_law(n, t):
    return _CentredLogChi2Sum(n, t)


def log_sigma2_cdf(x, n, t, estimator="unbiased"):
    r"""Exact CDF of :math:`\log(\sigma_t^2/\sigma_0^2)`, a sum of ``t`` iid :math:`\log(\chi^2_{n-1}/m)`.

    .. math:: F(x) = \frac12 - \frac1\pi\int_0^\infty
              \frac{\operatorname{Im}\left[e^{-iux}\varphi(u)^t\right]}{u}\,du,\qquad
              \varphi(u) = \left(\frac{2}{m}\right)^{iu}\frac{\Gamma(\tfrac{n-1}{2}+iu)}{\Gamma(\tfrac{n-1}{2})}

    (Gil-Pelaez inversion; :math:`\varphi` is the Mellin transform at :math:`s=iu`, see
    ``log_sigma2_cf_expr``). Source: theory.md §2.2 exact law (🧮). Accurate to about
    :math:`10^{-9}` absolute, for ``t`` up to :math:`10^5` and ``n`` up to :math:`10^6` and beyond.

    Parameters
    ----------
    x : float or array_like
        Point(s) where the CDF is evaluated (``±inf`` allowed).
    n : int or array_like
        Samples per generation, :math:`n \ge 2`.
    t : float or array_like
        Generations, :math:`t \ge 0`; at ``t = 0`` the law is a point mass at 0.
    estimator : {"unbiased", "mle"}
        Divisor :math:`m = n-1` or :math:`n`.

    Returns
    -------
    float or ndarray
        :math:`P(\log(\sigma_t^2/\sigma_0^2)\le x)`.

    Examples
    --------
    >>> import math
    >>> round(log_sigma2_cdf(0.0, 3, 1), 10) == round(1 - math.exp(-1.0), 10)  # chi2_2/2 ~ Exp(1)
    True
    """
    x_arr = _real_array("x", x)
    if np.isnan(x_arr).any():
        raise ValueError("x must not be NaN")
    n_arr, t_arr = _check_n(n), _check_t(t)
    est = _check_estimator(estimator)
    xb, nb, tb = np.broadcast_arrays(x_arr, n_arr, t_arr)
    shift = tb * _step_log_mean(nb, est)
    out = np.empty(xb.shape)
    for idx in np.ndindex(xb.shape):
        xi, ni, ti = float(xb[idx]), float(nb[idx]), float(tb[idx])
        if ti == 0.0:
            out[idx] = 1.0 if xi >= 0.0 else 0.0
            continue
        law = _centred_law(ni, ti)
        out[idx] = law.cdf((xi - shift[idx]) / law.sd)
    return _result(out, x, n, t)


def prob_collapsed(n, t, threshold=1e-3, estimator="unbiased"):
    r"""Exact :math:`P(\sigma_t < \text{threshold}\cdot\sigma_0)`.

    .. math:: P(\sigma_t < c\,\sigma_0) = F_{\log\sigma_t^2/\sigma_0^2}(2\log c)

    with :math:`F` from :func:`log_sigma2_cdf` (continuous for ``t >= 1``; at ``t = 0`` the
    probability is 1 if ``threshold > 1`` else 0). Source: theory.md §2.2 "count the
    fraction of paths with :math:`\sigma_t<10^{-3}\sigma_0`" (🧮).

    Parameters
    ----------
    n, t, estimator
        As in :func:`log_sigma2_cdf`.
    threshold : float, default 1e-3
        :math:`c > 0`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> prob_collapsed(10, 0)
    0.0
    >>> 0.0 < prob_collapsed(3, 20) < prob_collapsed(3, 40) < 1.0
    True
    """
    c = check_real("threshold", threshold, min_value=0.0, min_inclusive=False)
    n_arr, t_arr = _check_n(n), _check_t(t)
    est = _check_estimator(estimator)
    val = np.asarray(log_sigma2_cdf(2.0 * math.log(c), n_arr, t_arr, est), dtype=float)
    val = np.where(t_arr == 0, float(c > 1.0), val)  # strict inequality at the point mass
    return _result(val, n, t)


def median_log_sigma2(n, t, estimator="unbiased"):
    r"""Exact median of :math:`\log(\sigma_t^2/\sigma_0^2)`.

    .. math:: F_{\log\sigma_t^2/\sigma_0^2}(\mathrm{med}) = \tfrac12

    (:func:`log_sigma2_cdf`, root found with ``brentq`` within one standard deviation of
    the mean). Robust to the skew that makes :math:`\mathbb E\sigma_t^2` useless as a Monte-Carlo target;
    the median lies above the mean ``expected_log_sigma2(n, t) - log sigma0^2`` (left-skewed
    law) and within one standard deviation of it. Source: theory.md §2.2 (🧮).

    Parameters
    ----------
    n, t, estimator
        As in :func:`log_sigma2_cdf`.

    Returns
    -------
    float or ndarray
        0 at ``t = 0``.

    Examples
    --------
    >>> import math
    >>> round(median_log_sigma2(3, 1), 8) == round(math.log(math.log(2.0)), 8)  # median of log Exp(1)
    True
    """
    n_arr, t_arr = _check_n(n), _check_t(t)
    est = _check_estimator(estimator)
    nb, tb = np.broadcast_arrays(n_arr, t_arr)
    shift = tb * _step_log_mean(nb, est)
    out = np.zeros(nb.shape)
    for idx in np.ndindex(nb.shape):
        ti = float(tb[idx])
        if ti > 0.0:
            law = _centred_law(float(nb[idx]), ti)
            out[idx] = shift[idx] + law.sd * law.median
    return _result(out, n, t)
