r"""The accumulate workflow: every generation's samples kept (Gerstgrasser et al. 2024; Kazdan et al. 2025).

With accumulation the fitted covariance shrinks by :math:`\prod_{j\le k}(1-1/(nj^2))`, which
converges (to :math:`\sin(\pi/\sqrt n)/(\pi/\sqrt n)`), and the mean error stays below
:math:`\frac{\pi^2}{6}\,\mathrm{tr}\,\Sigma_0/n` (``shared/theory.md`` §3.4, §3.5; closed
forms by sympy ``product``, ``limit`` and ``summation``, 🧮).
"""

from __future__ import annotations

import math

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import special

from selfconsume._validation import check_int, check_int_array, check_memory, check_real

__all__ = [
    'expected_accumulate_cov',
    'expected_accumulate_cov_expr',
    'accumulate_cov_limit',
    'accumulate_cov_limit_expr',
    'expected_accumulate_mean_err',
    'expected_accumulate_mean_err_expr',
    'bound_accumulate_mean_err',
    'bound_accumulate_mean_err_expr',
]

_N = sp.Symbol("n", positive=True)
_SIGMA2 = sp.Symbol("sigma2", positive=True)
_J = sp.Symbol("j", integer=True, positive=True)
_K = sp.Symbol("k", integer=True, nonnegative=True)
_TR0 = sp.Symbol("trace0", positive=True)


@lru_cache(maxsize=None)
def expected_accumulate_cov_expr() -> sp.Expr:
    r""":math:`\sigma^2\prod_{j=1}^k(1-\frac{1}{nj^2})` evaluated by sympy (rising factorials).

    From :math:`\mathbb E[\hat\Sigma_j\mid\hat\Sigma_{j-1}]=(1-\frac1{nj^2})\hat\Sigma_{j-1}`
    (accumulate workflow, MLE covariance, n new points per round; Kazdan et al. 2024,
    ``theory.md`` §3.5 🧮).
    """
    return _SIGMA2 * sp.product(1 - 1 / (_N * _J**2), (_J, 1, _K))


@lru_cache(maxsize=None)
def accumulate_cov_limit_expr() -> sp.Expr:
    r""":math:`\lim_{k\to\infty}\prod_{j\le k}(1-\frac1{nj^2})=\frac{\sin(\pi/\sqrt n)}{\pi/\sqrt n}`
    (the product as Γ ratios, ``limit`` of the log of its k-dependent part, then the reflection
    formula via ``gammasimp``; about 1 s, a third of ``limit`` on the product itself)."""
    a = sp.Symbol("a", positive=True)  # a = 1/√n
    P = (expected_accumulate_cov_expr() / _SIGMA2).subs(_N, 1 / a**2)
    P = P.replace(sp.RisingFactorial, lambda x, k: sp.gamma(x + k) / sp.gamma(x))
    P = P.replace(sp.factorial, lambda k: sp.gamma(k + 1))
    const, kdep = P.as_independent(_K, as_Add=False)  # 1/(Γ(1−a)Γ(1+a)) · Γ(k+1−a)Γ(k+1+a)/Γ(k+1)²
    lg = sp.expand_log(sp.log(kdep), force=True)
    lg = lg.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
                    lambda e: sp.loggamma(e.args[0].args[0]))
    return sp.gammasimp(const * sp.exp(sp.limit(lg, _K, sp.oo))).subs(a, 1 / sp.sqrt(_N))


@lru_cache(maxsize=None)
def _log_product_func():
    # log Π = Σ log Γ(·): overflow-free for any k (rising factorials rewritten as Γ ratios)
    P = expected_accumulate_cov_expr() / _SIGMA2
    P = P.replace(sp.RisingFactorial, lambda a, k: sp.gamma(a + k) / sp.gamma(a))
    P = P.replace(sp.factorial, lambda k: sp.gamma(k + 1))
    lg = sp.expand_log(sp.log(P), force=True)
    # an opaque log-Gamma: sympy would turn loggamma(k + 1) back into log(gamma(k + 1))
    LG = sp.Function("LG")
    lg = lg.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
                    lambda e: LG(e.args[0].args[0]))
    return sp.lambdify((_N, _K), lg, modules=[{"LG": special.gammaln}, "numpy"])


def expected_accumulate_cov(n, k, sigma2=1.0):
    r""":math:`\mathbb E\hat\Sigma_k=\sigma^2\prod_{j=1}^{k}\big(1-\frac{1}{nj^2}\big)` (per coordinate).

    Accumulate workflow with MLE (1/n) refits, n samples per round, ``k`` rounds fitted
    (``k = 1``: the fit to the real data, :math:`(1-1/n)\sigma^2`). Kazdan et al. 2024,
    ``theory.md`` §3.5 (🧮). ``k`` may be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_accumulate_cov
    >>> round(float(expected_accumulate_cov(10, 1)), 12)
    0.9
    """
    n = check_int("n", n, min_value=2)
    k = check_int_array("k", k)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    out = sigma2 * np.exp(_log_product_func()(float(n), np.asarray(k, dtype=float)))
    return out if np.ndim(k) else float(out)


def accumulate_cov_limit(n) -> float:
    r""":math:`\lim_k\prod_{j\le k}(1-1/(nj^2))=\sin(\pi/\sqrt n)/(\pi/\sqrt n)` (0.8434 at n = 10).

    Examples
    --------
    >>> from selfconsume.theory import accumulate_cov_limit
    >>> round(accumulate_cov_limit(10), 4)
    0.8434
    """
    n = check_int("n", n, min_value=2)
    x = math.pi / math.sqrt(n)  # the numeric twin of accumulate_cov_limit_expr (the sympy limit takes seconds)
    return math.sin(x) / x


@lru_cache(maxsize=None)
def expected_accumulate_mean_err_expr() -> sp.Expr:
    r""":math:`\mathbb E\|\hat\mu_k-\mu\|^2=\frac{\mathrm{tr}\Sigma_0}{n}\sum_{j=1}^k\frac{P_{j-1}}{j^2}`,
    :math:`P_j=\prod_{i\le j}(1-\frac1{ni^2})`.

    Martingale increments :math:`\hat\mu_j-\hat\mu_{j-1}=(\bar x_j-\hat\mu_{j-1})/j` of variance
    :math:`\mathbb E\,\mathrm{tr}\hat\Sigma_{j-1}/(nj^2)` (``theory.md`` §3.5 🧮); the sum is
    built by ``summation`` of the per-round increments.
    """
    P = expected_accumulate_cov_expr().subs(_SIGMA2, 1)
    term = P.subs(_K, _J - 1) / _J**2
    return _TR0 / _N * sp.Sum(term, (_J, 1, _K))


def expected_accumulate_mean_err(n, k, trace0):
    r""":math:`\mathbb E\|\hat\mu_k-\mu\|^2` in the accumulate workflow (MLE, n per round).

    See :func:`expected_accumulate_mean_err_expr`; ``trace0`` = :math:`\mathrm{tr}\Sigma_0`.
    Bounded by :func:`bound_accumulate_mean_err`. ``k`` may be an int array (k ≥ 1).

    Examples
    --------
    >>> from selfconsume.theory import expected_accumulate_mean_err
    >>> round(float(expected_accumulate_mean_err(10, 40, 1.0)), 4)
    0.1545
    """
    n = check_int("n", n, min_value=2)
    k = check_int_array("k", k, min_value=1)
    trace0 = check_real("trace0", trace0, min_value=0.0, min_inclusive=False)
    kmax = int(np.max(k))
    # j, the log-Gamma temporaries of the product, the terms and their cumulative sum
    check_memory("storing the per-round terms up to max(k)", 8 * kmax, names="k")
    j = np.arange(1, kmax + 1, dtype=float)
    terms = np.exp(_log_product_func()(float(n), j - 1.0)) / j**2
    cum = trace0 / n * np.cumsum(terms)
    out = cum[np.asarray(k) - 1]
    return out if np.ndim(k) else float(out)


@lru_cache(maxsize=None)
def bound_accumulate_mean_err_expr() -> sp.Expr:
    r""":math:`\frac{\mathrm{tr}\Sigma_0}{n}\sum_{j\ge1}j^{-2}=\frac{\pi^2}{6}\frac{\mathrm{tr}\Sigma_0}{n}` (``summation``;
    :math:`P_j\le1`)."""
    return _TR0 / _N * sp.summation(1 / _J**2, (_J, 1, sp.oo))


def bound_accumulate_mean_err(n, trace0) -> float:
    r"""The π²/6 bound :math:`\frac{\pi^2}{6}\,\mathrm{tr}\Sigma_0/n` on the accumulate mean error.

    Examples
    --------
    >>> from selfconsume.theory import bound_accumulate_mean_err
    >>> round(bound_accumulate_mean_err(10, 1.0), 6)
    0.164493
    """
    n = check_int("n", n, min_value=1)
    trace0 = check_real("trace0", trace0, min_value=0.0, min_inclusive=False)
    return float(sp.lambdify((_N, _TR0), bound_accumulate_mean_err_expr(), "numpy")(n, trace0))


