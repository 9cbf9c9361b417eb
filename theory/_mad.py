r"""Model Autophagy Disorder: exact first moments of Alemohammad et al.'s Gaussian loops.

Alemohammad et al., "Self-consuming generative models go MAD" (ICLR 2024; ``shared/theory.md``
§3.2) study three loops (✅, from the paper); two of them have exact Gaussian first moments here.
A model is :math:`N(\mu_t,\Sigma_t)`, refitted by the sample mean and the sample covariance with
divisor :math:`N-1` (``estimator="unbiased"``, the paper's) or :math:`N` (``"mle"``), and it
*samples with bias* :math:`b\in(0,1]` (``bias``; the paper's λ): its samples come from
:math:`N(\mu_t,b\,\Sigma_t)` (:math:`b<1` is the Gaussian analogue of StyleGAN truncation or
of classifier-free guidance).

* **Fully synthetic** (✅): generation 0 is the truth :math:`N(\mu_0,\Sigma_0)`; generation
  :math:`t` is the fit to ``n`` samples of generation :math:`t-1`. Then
  :math:`\mathbb E\Sigma_t=(bc)^t\Sigma_0` (:math:`c=1` unbiased, :math:`(n-1)/n` MLE) and
  :math:`\mathrm{Cov}(\mu_t-\mu_0)=\frac bn\sum_{s<t}(bc)^s\,\Sigma_0` (🧮, derived here):
  :func:`biased_cov_factor`, :func:`biased_mean_cov_factor`, :func:`expected_biased_sigma`.
* **Fresh data** (✅): generation 0 is the fit to ``n_init`` real points; generation
  :math:`t\ge1` is the pooled fit to ``n`` *fresh* real points plus :math:`m=\lfloor\lambda n\rfloor`
  synthetic points from generation :math:`t-1` (sampled with bias :math:`b`). The first moments
  :math:`(\mathbb E\Sigma_t,\ \mathbb E(\mu_t-\mu_0)(\mu_t-\mu_0)^\top)` follow an exact 2×2
  affine recursion (🧮): :func:`fresh_moments`, its fixed point :func:`fresh_limit` (independent
  of ``n_init``, as the paper observes empirically, Eq. 3).
* The paper's *effective sample size* (Eq. 4) compares the limit distance with the distance
  of a fit to real data only; in 1-D with :math:`W_2` the latter is exact for any real
  :math:`n\ge2` (:func:`real_fit_w2`) and is inverted by :func:`w2_equivalent_sample_size` (🧮).

Everything is in units of :math:`\Sigma_0` (any positive-definite :math:`\Sigma_0`): every
first moment above is a scalar multiple of it. The limit distance itself,
:math:`\mathbb E\,W_2^2=\mathbb E\|\mu_t-\mu_0\|^2+\mathbb E\,(\sigma_t-\sigma_0)^2`, is *not* a
function of these first moments (:math:`\mathbb E\sigma_t`, not :math:`\sqrt{\mathbb E\sigma_t^2}`,
enters the cross term of the fresh loop), so the toolkit measures it by Monte Carlo over exact
chains; these functions give its exact first-moment parts (the mean-error term and
:math:`\mathbb E\sigma_t^2`), against which the chains are checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize as _opt
from scipy import special as _sc

from selfconsume._validation import check_int, check_memory, check_real

from ._mixing import _synthetic_count
from ._gaussian import (
    _LOG_ALPHA_SERIES,
    _N_SERIES,
    _check_estimator,
    _check_n,
    _check_sigma0,
    _check_t,
    _first_bad,
    _log_alpha,
    _log_factor,
    _poly_in_inverse,
    _real_array,
    _result,
)

__all__ = [
    "biased_cov_factor",
    "biased_mean_cov_factor",
    "expected_biased_sigma",
    "FreshMoments",
    "fresh_moments",
    "fresh_limit",
    "real_fit_w2",
    "w2_equivalent_sample_size",
]


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

def _check_bias(value):
    arr = _real_array("bias", value)
    bad = ~np.isfinite(arr) | (arr <= 0) | (arr > 1)
    if bad.any():
        raise ValueError(f"bias must be a finite number in (0, 1] (samples from N(mu, bias*Sigma)); "
                         f"got {_first_bad(arr, bad)}")
    return arr


def _check_real_n(value):
    arr = _real_array("n", value)
    bad = ~np.isfinite(arr) | (arr < 2)
    if bad.any():
        raise ValueError(f"n must be a finite real number >= 2; got {_first_bad(arr, bad)}")
    return arr


def _log_c(n, estimator):
    """log of E[Σ_t | Σ_{t-1}]/(b Σ_{t-1}): 0 (unbiased) or log1p(-1/n) (MLE)."""
    return np.zeros_like(n) if estimator == "unbiased" else np.log1p(-1.0 / n)


def _exact_synthetic_count(n, lam):
    """:func:`._mixing._synthetic_count`, refused where λn is too large to be an exact count."""
    if lam * n + 1e-9 >= 2.0 ** 53:
        raise ValueError(f"lam must be a finite real number in [0, inf) with lam*n < 2**53 (m = floor(lam*n) "
                         f"synthetic points must be an exactly representable count); got lam={lam}, n={n}")
    return _synthetic_count(n, lam)


# --------------------------------------------------------------------------------------
# Fully synthetic loop with sampling bias
# --------------------------------------------------------------------------------------

def biased_cov_factor(n, t, bias=1.0, estimator="unbiased"):
    r""":math:`\mathbb E\Sigma_t/\Sigma_0=(bc)^t` in the fully synthetic loop with sampling bias.

    Generation :math:`t` fits ``n`` samples of :math:`N(\mu_{t-1},b\Sigma_{t-1})`, so
    :math:`\Sigma_t\mid\Sigma_{t-1}\sim\mathcal W_d(b\Sigma_{t-1}/D,\,n-1)` with divisor
    :math:`D=n-1` (unbiased, :math:`c=1`) or :math:`n` (MLE, :math:`c=(n-1)/n`), and
    :math:`\mathbb E[\Sigma_t\mid\Sigma_{t-1}]=bc\,\Sigma_{t-1}`: a supermartingale for
    :math:`b<1` (Alemohammad et al., ICLR 2024, §3 ✅; the closed form 🧮, ``theory.md`` §3.2).

    Parameters
    ----------
    n : int or array_like
        Samples per generation, :math:`n\ge2`.
    t : float or array_like
        Generations, :math:`t\ge0`.
    bias : float or array_like, default 1.0
        Sampling bias :math:`b\in(0,1]` (the paper's λ).
    estimator : {"unbiased", "mle"}
        Covariance divisor :math:`n-1` or :math:`n`.

    Returns
    -------
    float or ndarray
        Broadcast over ``n, t, bias``; computed as :math:`\exp(t\log(bc))` (0 by underflow for
        astronomically large ``t``, never NaN).

    Examples
    --------
    >>> round(biased_cov_factor(20, 15, bias=0.8), 6)  # 0.8**15
    0.035184
    >>> biased_cov_factor(10, [0, 1], estimator="mle").tolist()
    [1.0, 0.9]
    """
    n_arr, t_arr, b_arr = _check_n(n), _check_t(t), _check_bias(bias)
    est = _check_estimator(estimator)
    return _result(np.exp(t_arr * (np.log(b_arr) + _log_c(n_arr, est))), n, t, bias)


def biased_mean_cov_factor(n, t, bias=1.0, estimator="unbiased"):
    r""":math:`\mathrm{Cov}(\mu_t-\mu_0)/\Sigma_0=\frac bn\sum_{s=0}^{t-1}(bc)^s` (fully synthetic, biased).

    :math:`\mu_t\mid\text{past}\sim N(\mu_{t-1},b\Sigma_{t-1}/n)`, so the increments are
    uncorrelated with covariances :math:`b\,\mathbb E\Sigma_{s}/n=\frac bn(bc)^s\Sigma_0`
    (:func:`biased_cov_factor`). Summed in closed form,

    .. math:: \frac bn\,\frac{1-(bc)^t}{1-bc}=\frac bn\,
              \frac{\operatorname{expm1}(t\log bc)}{\operatorname{expm1}(\log bc)}
              \quad(\,=bt/n\ \text{when}\ bc=1),

    bounded by :math:`b/(n(1-bc))` when :math:`bc<1`: bias stops the random walk of the mean
    but shrinks the covariance faster (``theory.md`` §3.2, 🧮; the paper's λ is ``bias``).

    Parameters
    ----------
    n, t, bias, estimator
        As in :func:`biased_cov_factor`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(biased_mean_cov_factor(20, 15, bias=0.8), 5)
    0.19296
    >>> round(biased_mean_cov_factor(10, 7), 12)  # t/n when b c = 1
    0.7
    """
    n_arr, t_arr, b_arr = _check_n(n), _check_t(t), _check_bias(bias)
    est = _check_estimator(estimator)
    n_arr, t_arr, b_arr = np.broadcast_arrays(n_arr, t_arr, b_arr)
    log_q = np.log(b_arr) + _log_c(n_arr, est)
    flat = log_q == 0.0
    safe = np.where(flat, -1.0, log_q)
    ratio = np.where(flat, t_arr, np.expm1(t_arr * safe) / np.expm1(safe))
    return _result(b_arr / n_arr * ratio, n, t, bias)


def expected_biased_sigma(n, t, bias=1.0, sigma0=1.0, estimator="unbiased"):
    r"""1-D :math:`\mathbb E\sigma_t=\sigma_0\big(\sqrt b\,\alpha_c(n)\big)^t` in the fully synthetic biased loop.

    :math:`\sigma_t=\sqrt b\,\sigma_{t-1}\sqrt{\chi^2_{n-1}/D}` with independent factors, so
    :math:`\mathbb E\sigma_t=` :func:`~selfconsume.theory.expected_sigma` :math:`\cdot\,b^{t/2}`
    (:math:`\alpha_c=\alpha` or :math:`\alpha_{\rm mle}`; 🧮).

    Parameters
    ----------
    n, t, bias, estimator
        As in :func:`biased_cov_factor`.
    sigma0 : float or array_like, default 1.0
        :math:`\sigma_0>0`.

    Returns
    -------
    float or ndarray
        Computed as :math:`\sigma_0\exp\!\big(t(\log\alpha_c+\tfrac12\log b)\big)`.

    Examples
    --------
    >>> round(expected_biased_sigma(10, 10), 4)  # = expected_sigma(10, 10)
    0.7579
    >>> round(expected_biased_sigma(10, 2, bias=0.25), 6)  # alpha(10)**2 / 4
    0.236517
    """
    n_arr, t_arr, b_arr = _check_n(n), _check_t(t), _check_bias(bias)
    s_arr = _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    return _result(s_arr * np.exp(t_arr * (_log_factor(n_arr, est) + 0.5 * np.log(b_arr))), n, t, bias, sigma0)


# --------------------------------------------------------------------------------------
# Fresh-data loop
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FreshMoments:
    r"""First moments of the fresh-data loop, generations :math:`0..T` (units of :math:`\Sigma_0`).

    Attributes
    ----------
    cov : ndarray, shape (T + 1,)
        :math:`\mathbb E\Sigma_t=\mathrm{cov}[t]\,\Sigma_0` (read-only).
    mean_sq : ndarray, shape (T + 1,)
        :math:`\mathbb E(\mu_t-\mu_0)(\mu_t-\mu_0)^\top=\mathrm{mean\_sq}[t]\,\Sigma_0` (read-only).
    n, m, n_init : int
        Fresh real points, synthetic points (:math:`\lfloor\lambda n\rfloor`) per generation,
        real points of generation 0.
    bias, lam : float
    estimator : str
    """

    cov: np.ndarray
    mean_sq: np.ndarray
    n: int
    m: int
    n_init: int
    bias: float
    lam: float
    estimator: str


def _fresh_setup(n, lam, bias, estimator):
    """Validated (n, m, b, unbiased) and the recursion x_t = A x_{t-1} + c, x = (mean_sq, cov)."""
    n = check_int("n", n, min_value=1)
    lam = check_real("lam", lam, min_value=0.0)
    b = check_real("bias", bias, min_value=0.0, max_value=1.0, min_inclusive=False)
    est = _check_estimator(estimator)
    m = _exact_synthetic_count(n, lam)
    N = n + m
    if N < 2:
        raise ValueError(f"n + m must be >= 2 (n = {n} real points plus m = floor(lam*n) = {m} synthetic points "
                         f"per generation; a covariance needs 2 points): use n >= 2 or lam >= {1.0 / n:g}; "
                         f"got n={n}, lam={lam}")
    Nf, nf, mf = float(N), float(n), float(m)
    D = Nf - 1.0 if est == "unbiased" else Nf
    if m == 0:
        A = np.zeros((2, 2))
        c = np.array([1.0 / nf, (nf - 1.0) / D])
    else:
        A = np.array([[(mf / Nf) ** 2, mf * b / Nf ** 2],
                      [nf * mf / (Nf * D), b * ((mf - 1.0) + nf / Nf) / D]])
        c = np.array([nf / Nf ** 2, ((nf - 1.0) + mf / Nf) / D])
    return n, m, lam, b, est, A, c


def fresh_moments(n, generations, *, lam, bias=1.0, n_init=None, estimator="unbiased"):
    r"""Exact :math:`\mathbb E\Sigma_t` and :math:`\mathbb E(\mu_t-\mu_0)(\mu_t-\mu_0)^\top` in the fresh-data loop.

    Alemohammad et al.'s third loop (ICLR 2024, §5 ✅; ``theory.md`` §3.2): generation 0 is
    the fit to ``n_init`` real points of :math:`N(\mu_0,\Sigma_0)`; generation :math:`t\ge1` is
    the pooled fit to ``n`` fresh real points plus :math:`m=\lfloor\lambda n\rfloor` synthetic
    points from :math:`N(\mu_{t-1},b\Sigma_{t-1})`, :math:`N=n+m` points, divisor
    :math:`D=N-1` (unbiased) or :math:`N`.

    Parameters
    ----------
    n : int
        Fresh real points per generation, :math:`n\ge1` (with :math:`n+m\ge2`).
    generations : int
        Last generation :math:`T\ge0`.
    lam : float
        Synthetic-to-real ratio λ ≥ 0, :math:`m=\lfloor\lambda n\rfloor` (the paper's
        :math:`n_s=m`, :math:`n_r=n`).
    bias : float, default 1.0
        Sampling bias :math:`b\in(0,1]` of the synthetic points.
    n_init : int, optional
        Real points of generation 0, :math:`\ge2`; default ``n`` (required when ``n = 1``).
    estimator : {"unbiased", "mle"}

    Returns
    -------
    FreshMoments
        ``cov[t]`` and ``mean_sq[t]`` for :math:`t=0..T`: :math:`\mathbb E\Sigma_t=\mathrm{cov}[t]\Sigma_0`,
        :math:`\mathbb E(\mu_t-\mu_0)(\mu_t-\mu_0)^\top=\mathrm{mean\_sq}[t]\Sigma_0`.

    Notes
    -----
    With :math:`\bar x\sim N(\mu_0,\Sigma_0/n)`, :math:`S_r\sim\mathcal W(\Sigma_0,n-1)`,
    :math:`\bar y\mid\cdot\sim N(\mu_{t-1},b\Sigma_{t-1}/m)`, :math:`S_s\mid\cdot\sim\mathcal W(b\Sigma_{t-1},m-1)`,
    all independent given the past, :math:`\mu_t=(n\bar x+m\bar y)/N` and the pooled scatter is
    :math:`S_r+S_s+\frac{nm}{N}(\bar x-\bar y)(\bar x-\bar y)^\top`. Taking expectations (🧮),
    with :math:`M_t` = ``mean_sq[t]`` and :math:`C_t` = ``cov[t]``:

    .. math:: M_t=\Big(\frac mN\Big)^2M_{t-1}+\frac n{N^2}+\frac{mb}{N^2}C_{t-1},

    .. math:: C_t=\frac1D\Big[(n-1)+(m-1)bC_{t-1}+\frac{nm}N\Big(M_{t-1}+\frac1n+\frac{bC_{t-1}}m\Big)\Big]

    (for :math:`m=0`: :math:`C_t=(n-1)/D`, :math:`M_t=1/n`), from :math:`C_0=(n_{\rm init}-1)/D_{\rm init}`,
    :math:`M_0=1/n_{\rm init}`. The paper states the conditional form of the second line (1-D,
    unbiased). With the MLE and :math:`b=1`, :math:`C_t+M_t=1` at every :math:`t` (each pool point
    has :math:`\mathbb E(x-\mu_0)^2=\sigma_0^2`). Iterated in floating point, :math:`O(T)`.

    Examples
    --------
    >>> fm = fresh_moments(100, 3, lam=9.0, bias=0.8)
    >>> fm.m, fm.cov.round(4).tolist()
    (900, [1.0, 0.8209, 0.6919, 0.5988])
    >>> fresh_moments(10, 2, lam=1.0, estimator="mle").cov + fresh_moments(10, 2, lam=1.0, estimator="mle").mean_sq
    array([1., 1., 1.])
    """
    n, m, lam, b, est, A, c = _fresh_setup(n, lam, bias, estimator)
    T = check_int("generations", generations, min_value=0)
    if n_init is None:
        if n < 2:
            raise ValueError("n_init must be given, an integer >= 2, when n = 1 (generation 0 is the fit to "
                             "n_init real points; default n_init = n needs n >= 2)")
        n_init = n
    n_init = check_int("n_init", n_init, min_value=2)
    check_memory("the per-generation moments up to generations", 2 * (T + 1), names="generations")
    D0 = n_init - 1.0 if est == "unbiased" else float(n_init)
    M = np.empty(T + 1)
    C = np.empty(T + 1)
    Mt, Ct = 1.0 / n_init, (n_init - 1.0) / D0
    M[0], C[0] = Mt, Ct
    (a11, a12), (a21, a22) = A.tolist()
    c1, c2 = c.tolist()
    for t in range(1, T + 1):
        Mn = a11 * Mt + a12 * Ct + c1
        Cn = a21 * Mt + a22 * Ct + c2
        if Mn == Mt and Cn == Ct:          # converged to a floating-point fixed point
            M[t:], C[t:] = Mt, Ct
            break
        Mt, Ct = Mn, Cn
        M[t], C[t] = Mt, Ct
    M.setflags(write=False)
    C.setflags(write=False)
    return FreshMoments(cov=C, mean_sq=M, n=n, m=m, n_init=n_init, bias=b, lam=lam, estimator=est)


def fresh_limit(n, *, lam, bias=1.0, estimator="unbiased"):
    r""":math:`\lim_t(\mathbb E\Sigma_t,\ \mathbb E(\mu_t-\mu_0)(\mu_t-\mu_0)^\top)` of the fresh-data loop, in units of :math:`\Sigma_0`.

    The fixed point of the affine recursion of :func:`fresh_moments`,
    :math:`x=Ax+c` with :math:`x=(M,C)`, solved exactly (Cramer's rule). It does not depend on
    ``n_init`` (Alemohammad et al.'s empirical observation, Eq. 3, ✅; here exact, 🧮).

    Parameters
    ----------
    n, lam, bias, estimator
        As in :func:`fresh_moments`.

    Returns
    -------
    cov_inf, mean_sq_inf : float

    Notes
    -----
    The recursion converges from any start: the spectral radius of :math:`A` is below 1 for
    every valid input. :math:`A\ge0` entrywise and its entries grow with :math:`b` and with
    :math:`1/D`, so :math:`\rho(A)` is largest at :math:`b=1`, :math:`D=N-1`. There
    :math:`1-a_{11}=n(N+m)/N^2>0`, :math:`1-a_{22}=n/N>0` and
    :math:`(1-a_{11})(1-a_{22})-a_{12}a_{21}=\frac{n}{N^3}\big(n(N+m)-\frac{m^2}{N-1}\big)>0`
    (as :math:`N-1\ge m` and :math:`n(N+m)>m`), the 2×2 M-matrix criterion for
    :math:`\rho(A)<1`. With the MLE and :math:`b=1`, :math:`(1,1)A=\frac mN(1,1)`, so
    :math:`\rho(A)=m/N` and :math:`C_\infty+M_\infty=1`. For :math:`m=0`, :math:`A=0`.

    Examples
    --------
    >>> cov, msq = fresh_limit(100, lam=9.0, bias=0.8)
    >>> round(cov, 6), round(msq, 6)
    (0.357748, 0.001882)
    >>> fresh_limit(10, lam=0.0)
    (1.0, 0.1)
    """
    n, m, lam, b, est, A, c = _fresh_setup(n, lam, bias, estimator)
    (a11, a12), (a21, a22) = A.tolist()
    c1, c2 = c.tolist()
    det = (1.0 - a11) * (1.0 - a22) - a12 * a21
    msq = (c1 * (1.0 - a22) + a12 * c2) / det
    cov = ((1.0 - a11) * c2 + a21 * c1) / det
    return float(cov), float(msq)


# --------------------------------------------------------------------------------------
# W_2 of a real-data fit and the effective sample size
# --------------------------------------------------------------------------------------

def _log_alpha_real(n):
    """log α(n) for real n >= 2: the exact table at small integers, Γ ratio below _N_SERIES, series above."""
    n = np.asarray(n, dtype=float)
    out = np.empty(n.shape)
    integer_small = (n < _N_SERIES) & (n == np.floor(n))
    if integer_small.any():
        out[integer_small] = _log_alpha(n[integer_small])
    other_small = (n < _N_SERIES) & ~integer_small
    if other_small.any():
        x = n[other_small]
        out[other_small] = 0.5 * np.log(2.0 / (x - 1.0)) + _sc.gammaln(x / 2.0) - _sc.gammaln((x - 1.0) / 2.0)
    big = n >= _N_SERIES
    if big.any():
        out[big] = _poly_in_inverse(_LOG_ALPHA_SERIES, 1.0 / n[big])
    return out


def _w2_unit(n, est):
    """E W_2² of the real-data fit for σ0 = 1 (arrays, no validation)."""
    la = _log_alpha_real(n)
    if est == "unbiased":
        return 1.0 / n - 2.0 * np.expm1(la)
    return -2.0 * np.expm1(la + 0.5 * np.log1p(-1.0 / n))


def real_fit_w2(n, *, sigma0=1.0, estimator="unbiased"):
    r"""1-D :math:`\mathbb E\,W_2^2\big(N(\bar x,s^2),N(\mu_0,\sigma_0^2)\big)` of a fit to ``n`` real points, for real :math:`n\ge2`.

    With :math:`W_2^2=(\bar x-\mu_0)^2+(s-\sigma_0)^2`, :math:`\mathbb E(\bar x-\mu_0)^2=\sigma_0^2/n`,
    :math:`\mathbb Es^2=\sigma_0^2(n-1)/D` and :math:`\mathbb Es=\sigma_0\alpha(n)\sqrt{(n-1)/D}`:

    .. math:: \sigma_0^2\Big[\frac1n+\frac{n-1}D-2\alpha(n)\sqrt{\frac{n-1}D}+1\Big]
              =\sigma_0^2\Big[\frac1n+2(1-\alpha(n))\Big]\ (\text{unbiased}),\quad
              2\sigma_0^2(1-\alpha_{\rm mle}(n))\ (\text{mle}),

    :math:`\alpha(n)=\sqrt{2/(n-1)}\,\Gamma(n/2)/\Gamma((n-1)/2)`, continued to real ``n`` (it is
    inverted by :func:`w2_equivalent_sample_size`). At integer ``n`` it is
    :func:`~selfconsume.theory.expected_w2_sq` ``(n, 1)``; it decreases strictly in ``n``, as
    :math:`\tfrac32\sigma_0^2/n+O(n^{-2})` (🧮; the reference distance of Alemohammad et al.'s
    effective sample size, Eq. 4, for :math:`W_2`).

    Parameters
    ----------
    n : float or array_like
        Real sample size, :math:`n\ge2` (need not be an integer).
    sigma0 : float or array_like, default 1.0
        :math:`\sigma_0>0`.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(real_fit_w2(10), 6)
    0.154681
    >>> round(real_fit_w2(10.5), 6)
    0.14709
    """
    n_arr, s_arr = _check_real_n(n), _check_sigma0(sigma0)
    est = _check_estimator(estimator)
    return _result(s_arr ** 2 * _w2_unit(n_arr, est), n, sigma0)


def _invert_w2(u, est):
    """The n >= 2 with _w2_unit(n) = u, for 0 < u <= _w2_unit(2) (σ0 = 1)."""
    lo = math.log(2.0)
    f_lo = float(_w2_unit(np.array(2.0), est))
    if u == f_lo:
        return 2.0

    def h(x):
        return math.log(float(_w2_unit(np.array(math.exp(x)), est))) - math.log(u)

    hi = math.log(4.0) - math.log(u)           # n f(n) <= 1.81 < 4 for every n >= 2
    while h(hi) > 0.0:
        hi += math.log(2.0)
    if not math.isfinite(math.exp(hi)):
        raise OverflowError
    x = _opt.brentq(h, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.exp(x)


def w2_equivalent_sample_size(w2, *, sigma0=1.0, estimator="unbiased"):
    r"""The real :math:`n\ge2` at which :func:`real_fit_w2` equals ``w2``: the effective sample size in :math:`W_2^2`.

    Alemohammad et al. (ICLR 2024, Eq. 4, ✅) define the effective sample size :math:`n_e` of
    a loop by :math:`\mathbb E\,\mathrm{dist}(G(n_e),P_r)=\lim_t\mathbb E\,\mathrm{dist}(G_t,P_r)`;
    here for :math:`\mathrm{dist}=W_2^2` between 1-D Gaussians (🧮). Solved by Brent's method
    on :math:`\log n` (bracket :math:`[2,\,4\sigma_0^2/w_2]`, from
    :math:`n\,\mathbb EW_2^2(n)\le1.81\sigma_0^2`), to a relative :math:`10^{-14}`.

    Parameters
    ----------
    w2 : float or array_like
        Target :math:`\mathbb E W_2^2`, finite, :math:`0<w_2\le` ``real_fit_w2(2, sigma0=sigma0)``
        (0.904 σ0² unbiased, 0.872 σ0² MLE).
    sigma0 : float, default 1.0
        :math:`\sigma_0>0`.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray
        Shaped like ``w2``.

    Examples
    --------
    >>> round(w2_equivalent_sample_size(real_fit_w2(10)), 9)
    10.0
    >>> round(w2_equivalent_sample_size(1.5e-6), 0)  # about 1.5 σ0² / w2
    1000000.0
    """
    s = check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False)
    est = _check_estimator(estimator)
    w = _real_array("w2", w2)
    top = s * s * float(_w2_unit(np.array(2.0), est))
    bad = ~np.isfinite(w) | (w <= 0) | (w > top)
    if bad.any():
        raise ValueError(f"w2 must be a finite number in (0, real_fit_w2(2, sigma0={s:g})] = (0, {top!r}] "
                         f"(the distance of a fit to n >= 2 real points); got {_first_bad(w, bad)}")
    out = np.empty(w.shape)
    for i, wi in np.ndenumerate(w):
        u = float(wi) / (s * s)
        try:
            if not (u > 0.0 and math.isfinite(u)):
                raise OverflowError
            out[i] = _invert_w2(u, est)
        except OverflowError:
            raise ValueError(f"w2 must be in (0, {top!r}] and large enough that the equivalent n "
                             f"(about 1.5*sigma0**2/w2) is a finite float; got {float(wi)!r}") from None
    return _result(out, w2)
