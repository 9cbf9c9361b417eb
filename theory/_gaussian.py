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
``n_sym, t_sym, d_sym, sigma0_sym, u_sym`` (also in :data:`SYMBOLS`, :mod:`._symbols`).

The sympy derivations and the expressions live in :mod:`._gaussian_derivation` (cached on
disk), the exact law of :math:`\log\sigma_t^2` in :mod:`._gaussian_log_law`.

Provenance tags as in ``shared/theory.md``: 🔶 secondary (Bertrand's bound
:math:`\mathbb E\sigma_t \le \alpha(n)^t\sigma_0`), ✅ verified (Shumailov Thm 3.1:
:math:`\mathbb E W_2^2 \to \infty`), 🧮 derived here (the equalities, the MLE variants, the
exact law of :math:`\log\sigma_t^2`, the :math:`d`-dimensional factors).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import special as _sc

from selfconsume._validation import check_choice, check_int, hashable_cache

from ._gaussian_derivation import (
    _ALPHA_TERMS,
    _D,
    _LOG_ALPHA_SERIES,
    _LOG_ALPHA_SMALL,
    _N_SERIES,
    _PSI_MINUS_LOG_SERIES,
    _Z_ASYMPTOTIC,
)
from ._symbols import n_sym

__all__ = [
    "alpha", "alpha_mle", "alpha_series",
    "expected_sigma", "expected_sigma2", "expected_log_sigma2", "var_log_sigma2",
    "expected_mean_sq_drift", "half_life",
    "det_factor", "expected_logdet_drift", "expected_det_sqrt",
    "expected_w2_sq",
]

_ESTIMATORS = ("unbiased", "mle")


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


@hashable_cache(None)
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
