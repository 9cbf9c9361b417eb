r"""The exact law of :math:`\log(\sigma_t^2/\sigma_0^2)` under Gaussian refitting, by Gil–Pelaez inversion.

:math:`\log\sigma_t^2-\log\sigma_0^2` is a sum of t independent :math:`\log(\chi^2_{n-1}/m)`; its
characteristic function is ``log_sigma2_cf_expr`` (derived in :mod:`._gaussian_derivation`),
inverted here to the CDF, so that the collapsed fraction :math:`P(\sigma_t^2\le\varepsilon\,\sigma_0^2)`
and the median of :math:`\log\sigma_t^2` are exact values, not bounds (``shared/theory.md``
§2.2, 🧮).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special as _sc

from selfconsume._validation import check_real

from ._gaussian import (
    _check_estimator,
    _check_n,
    _check_t,
    _psi_minus_log,
    _real_array,
    _result,
    _step_log_mean,
)
from ._gaussian_derivation import _STIRLING_SERIES, _Z_ASYMPTOTIC

__all__ = ["log_sigma2_cdf", "prob_collapsed", "median_log_sigma2"]


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
