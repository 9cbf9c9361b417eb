r"""The accumulate workflow: every generation's samples kept (Gerstgrasser et al. 2024; Kazdan et al. 2025).

With accumulation the fitted covariance shrinks by :math:`\prod_{j\le k}(1-1/(nj^2))`, which
converges (to :math:`\sin(\pi/\sqrt n)/(\pi/\sqrt n)`), and the mean error stays below
:math:`\frac{\pi^2}{6}\,\mathrm{tr}\,\Sigma_0/n` (``shared/theory.md`` §3.4, §3.5; closed
forms by sympy ``product``, ``limit`` and ``summation``, 🧮).

Kazdan et al.'s fixed-compute variant, accumulate-subsample (each model fitted on a uniform
subsample of size n of the pool, as in their released code), has exact first moments by a
linear recursion (:func:`expected_accumulate_subsample`), and their determinant metric
:math:`\mathbb E\det\hat\Sigma_t/\det\Sigma_0` is exact for the fully synthetic and the
accumulate workflows (:func:`expected_det_ratio`; 0 when n ≤ d). Both are numeric (NumPy), 🧮.
"""

from __future__ import annotations

import math

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import special

from selfconsume._validation import check_choice, check_int, check_int_array, check_memory, check_real

from ._mixing import _synthetic_count

__all__ = [
    'expected_accumulate_cov',
    'expected_accumulate_cov_expr',
    'accumulate_cov_limit',
    'accumulate_cov_limit_expr',
    'expected_accumulate_mean_err',
    'expected_accumulate_mean_err_expr',
    'bound_accumulate_mean_err',
    'bound_accumulate_mean_err_expr',
    'expected_accumulate_subsample',
    'expected_det_ratio',
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




# --------------------------------------------------------------------------------------
# Accumulate-subsample (Kazdan et al.'s fixed-compute workflow) and the determinant metric
# --------------------------------------------------------------------------------------

_ESTIMATORS = ("mle", "unbiased")


def _subsample_moments(n, m, T, k, unbiased):
    r"""Exact per-coordinate first moments of the accumulate-subsample chain, t = 0..T (σ² = 1).

    ``k`` is the subsample size of the fits t ≥ 1: an int, or an int array of length T + 1
    (entry t used at generation t; ``k[t] = n + t·m`` is the whole pool, i.e. the accumulate
    workflow). Generation 0 is the fit to all n real points. Returns ``(E v_t, E(x̄_{S,t} − μ)²)``.

    Per coordinate, with a pool of N points of scatter SS and mean x̄_P, a uniform subsample S of
    k points without replacement and its fit (x̄_S, v = SS_S/div_k):
    E[SS_S | pool] = (k − 1) SS/(N − 1) and E[(x̄_S − x̄_P)² | pool] = (1 − k/N) SS/((N − 1) k),
    with E[x̄_S − x̄_P | pool] = 0. The m new points from N(x̄_S, v) have mean ȳ and scatter
    SS_y with E SS_y = (m − 1) v and E[(ȳ − x̄_P)² | ·] = (x̄_S − x̄_P)² + v/m; the pooled update
    SS' = SS + SS_y + (N m/(N + m))(ȳ − x̄_P)², x̄_P' − x̄_P = (m/(N + m))(ȳ − x̄_P) makes
    E SS' and E(x̄_P' − μ)² linear in (E SS, E(x̄_P − μ)²): s_{t+1} = α_t s_t and
    b_{t+1} = b_t + β_t s_t, solved here by a cumulative product and sum.
    """
    t = np.arange(T + 1, dtype=float)
    N = n + m * t                                    # pool size at generation t's fit
    kk = np.broadcast_to(np.asarray(k, dtype=float), (T + 1,)).copy()
    kk[0] = n                                        # the real-data fit uses every real point
    div = kk - 1.0 if unbiased else kk
    cv = (kk - 1.0) / (div * (N - 1.0))              # E v = cv · SS
    e = (1.0 - kk / N) / (kk * (N - 1.0))            # E(x̄_S − x̄_P)² = e · SS
    if m > 0:
        g = e + cv / m                               # E(ȳ − x̄_P)² = g · SS
        alpha = 1.0 + (m - 1.0) * cv + N * m / (N + m) * g
        beta = (m / (N + m)) ** 2 * g
    else:                                            # no new points: the pool never changes
        alpha, beta = np.ones(T + 1), np.zeros(T + 1)
    s = (n - 1.0) * np.concatenate(([1.0], np.cumprod(alpha[:-1])))
    b = 1.0 / n + np.concatenate(([0.0], np.cumsum(beta[:-1] * s[:-1])))
    return cv * s, b + e * s


def expected_accumulate_subsample(n, t, *, subsample=None, d=1, lam=1.0, estimator="mle", sigma2=1.0):
    r"""Exact :math:`\mathbb E\,\mathrm{tr}\hat\Sigma_t/\mathrm{tr}\Sigma_0` and
    :math:`\mathbb E\|\hat\mu_t-\mu\|^2` in the accumulate-subsample workflow.

    Kazdan et al. (ICML 2025) accumulate every generation's data in a pool but fit each model
    on a uniform subsample of the pool, without replacement, of fixed size — in their released
    code (``src/fit_gaussians/fit_gaussians.py``) of size ``n``, the per-generation sample size
    (``theory.md`` §3.5). Generation 0 is the fit to the ``n`` real points from
    :math:`N(\mu,\sigma^2 I_d)`; generation :math:`t\ge1` adds :math:`m=\lfloor\lambda n\rfloor`
    points from fit :math:`t-1` to the pool (now :math:`n+tm` points) and fits on a subsample
    of it. Kazdan's iteration :math:`k` is generation :math:`t=k-1`; ``subsample`` equal to the
    pool size would be their accumulate workflow (:func:`expected_accumulate_cov`).

    Parameters
    ----------
    n : int
        Real sample size (≥ 2).
    t : int or array_like of int
        Generation(s), ≥ 0.
    subsample : int, optional
        Subsample size :math:`k` of the fits at :math:`t\ge1`, :math:`2\le k\le n+m` (the pool
        at generation 1). Default ``n`` (the released code); ``2n`` is the fixed-compute
        variant that fits on as many points as the accumulate workflow's second model.
    d : int
        Dimension (≥ 1; any :math:`d`, also :math:`d\ge n` where :math:`\hat\Sigma_t` is singular).
    lam : float
        Synthetic-to-real ratio λ ≥ 0 (:math:`m=\lfloor\lambda n\rfloor`; Kazdan et al.: λ = 1).
    estimator : {"mle", "unbiased"}
        Covariance divisor :math:`k` (Kazdan et al.) or :math:`k-1`.
    sigma2 : float
        :math:`\Sigma_0=\sigma^2 I_d` (only the mean error depends on it).

    Returns
    -------
    trace_ratio, mean_err : float or ndarray
        :math:`\mathbb E\,\mathrm{tr}\hat\Sigma_t/(d\sigma^2)` and
        :math:`\mathbb E\|\hat\mu_t-\mu\|^2`, shaped like ``t``.

    Notes
    -----
    Each coordinate of the chain is the 1-D chain (the fit's :math:`i`-th mean and
    :math:`(i,i)` entry depend only on coordinate :math:`i` of the subsample, and the new
    points' coordinate :math:`i` only on them), so the trace ratio is the 1-D variance ratio
    and the mean error is :math:`d` times the 1-D one. Per coordinate, with pool size
    :math:`N`, scatter :math:`SS` and :math:`\mathrm{div}=k` (MLE) or :math:`k-1`:

    .. math:: \mathbb E[v\mid\cdot]=\frac{k-1}{\mathrm{div}}\frac{SS}{N-1},\quad
              \mathbb E[(\bar x_S-\bar x_P)^2\mid\cdot]=\Big(1-\frac kN\Big)\frac{SS}{(N-1)k},

    .. math:: \mathbb E[SS'\mid\cdot]=SS+(m-1)v+\frac{Nm}{N+m}\Big((\bar x_S-\bar x_P)^2+\frac vm\Big),\quad
              \mathbb E[(\bar x_{P'}-\mu)^2\mid\cdot]=(\bar x_P-\mu)^2+\frac{m^2}{(N+m)^2}
              \Big((\bar x_S-\bar x_P)^2+\frac vm\Big),

    all linear in :math:`SS`, so the expectations recurse exactly from
    :math:`\mathbb E\,SS_0=(n-1)\sigma^2`, :math:`\mathbb E(\bar x_{P,0}-\mu)^2=\sigma^2/n`, and
    :math:`\mathbb E(\hat\mu_t-\mu)^2=\mathbb E(\bar x_P-\mu)^2+\mathbb E(\bar x_S-\bar x_P)^2`.
    With :math:`k` equal to the pool size it reduces to
    :math:`\prod_{j\le t+1}(1-1/(nj^2))` (to rounding). With the MLE,
    :math:`v+(\bar x_S-\mu)^2` is the subsample's mean of :math:`(x-\mu)^2`, and a new point
    has :math:`\mathbb E[(y-\mu)^2\mid\cdot]=v+(\bar x_S-\mu)^2`, so every pool point keeps
    :math:`\mathbb E(x-\mu)^2=\sigma^2` and ``trace_ratio + mean_err/(d σ²) = 1`` at every
    :math:`t` (a check, not used). Source: derived here 🧮, checked against the authors'
    released code (``theory.md`` §3.5).

    Examples
    --------
    >>> from selfconsume.theory import expected_accumulate_subsample
    >>> tr, err = expected_accumulate_subsample(10, 100)
    >>> round(tr, 3), round(expected_accumulate_subsample(10, 100, subsample=20)[0], 3)
    (0.741, 0.796)
    >>> tr, err = expected_accumulate_subsample(10, [0, 1], d=3)
    >>> [round(float(x), 4) for x in tr], round(float(err[0]), 4)
    ([0.9, 0.8313], 0.3)
    """
    n = check_int("n", n, min_value=2)
    t = check_int_array("t", t, min_value=0)
    d = check_int("d", d, min_value=1)
    lam = check_real("lam", lam, min_value=0.0)
    estimator = check_choice("estimator", estimator, _ESTIMATORS)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    m = _synthetic_count(n, lam)
    k = n if subsample is None else _check_subsample(subsample, n, m)
    T = int(np.max(t))
    check_memory("the per-generation moments up to max(t)", 8 * (T + 1), names="t")
    v, err = _subsample_moments(n, m, T, k, estimator == "unbiased")
    tr, me = v[t], d * sigma2 * err[t]
    return (tr, me) if np.ndim(t) else (float(tr), float(me))


def _check_subsample(subsample, n, m):
    k = check_int("subsample", subsample)
    if not 2 <= k <= n + m:
        raise ValueError(f"subsample must be an integer in [2, n + m] = [2, {n + m}]: a variance needs 2 points, "
                         f"and the pool holds n + m = {n} + {m} points at the first subsampled fit (generation 1, "
                         f"m = floor(lam·n)); got {k}")
    return k


def expected_det_ratio(n, d, t, *, lam=None, workflow="replace", estimator="mle"):
    r"""Exact :math:`\mathbb E\det\hat\Sigma_t/\det\Sigma_0` (Kazdan et al.'s determinant metric).

    ``lam=None``: the fully synthetic chain (Kazdan et al.'s *replace*; generation 0 is the
    truth :math:`\Sigma_0`, generation :math:`t` their iteration :math:`k=t`). With ``lam``
    and ``workflow="accumulate"``: generation 0 is the fit to the ``n`` real points and each
    generation adds :math:`m=\lfloor\lambda n\rfloor` points from the current fit to the pool
    (their iteration :math:`k=t+1`; their code has λ = 1). Other workflows have no closed
    form for :math:`d>1` (the next determinant mixes the real or pool scatter with the fit's,
    not only :math:`\det\hat\Sigma_t`); for :math:`d=1` the determinant is the variance and
    every workflow is exact (:func:`expected_mixed_moments`, :func:`expected_accumulate_subsample`).

    Parameters
    ----------
    n : int
        Samples per generation (``lam=None``) or real sample size, ≥ 2. For :math:`n\le d`
        every fitted covariance is singular (rank ≤ n − 1) and the ratio is exactly 0.
    d : int
        Dimension, ≥ 1.
    t : int or array_like of int
        Generation(s), ≥ 0.
    lam : float, optional
        Synthetic-to-real ratio λ ≥ 0, or ``None`` (fully synthetic).
    workflow : {"replace", "accumulate", "accumulate-subsample"}
        As in :func:`~selfconsume.simulators.simulate_gaussian` (``"replace"`` with ``lam``:
        real ∪ the new points; ``"accumulate-subsample"``: the default subsample ``n``).
    estimator : {"mle", "unbiased"}
        Covariance divisor :math:`N` (Kazdan et al.) or :math:`N-1`.

    Returns
    -------
    float or ndarray
        Shaped like ``t``.

    Notes
    -----
    Fully synthetic: :math:`\det W=\prod_{i=1}^d\chi^2_{n-i}` for :math:`W\sim\mathcal W_d(I,n-1)`
    (Bartlett), so :math:`\mathbb E\det\hat\Sigma_t/\det\Sigma_0=\big(\prod_{i=1}^d\frac{n-i}{\mathrm{div}}\big)^t`.
    Accumulate: with a pool of :math:`P` points, :math:`SS=q\hat\Sigma` (:math:`q` = the pool's
    divisor) and the batch written as :math:`\hat\Sigma^{1/2}g_a`,
    :math:`SS'=\hat\Sigma^{1/2}\big(qI+\sum_{a<m}g_ag_a^\top+\tfrac{P}{P+m}g_0g_0^\top\big)\hat\Sigma^{1/2}`,
    a factor whose law does not depend on :math:`\hat\Sigma`; by Cauchy–Binet
    (:math:`\mathbb E\det(G_{RS})^2=j!` for a :math:`j\times j` standard normal block)

    .. math:: \frac{\mathbb E[\det\hat\Sigma'\mid\hat\Sigma]}{\det\hat\Sigma}
              =\frac{1}{q'^{\,d}}\sum_{j=0}^{d}\frac{d!}{(d-j)!}\,q^{d-j}\,e_j(c),\qquad
              c=(\underbrace{1,\dots,1}_{m-1},\tfrac{P}{P+m}),

    :math:`e_j` the elementary symmetric polynomials and :math:`q'` the divisor of the new pool;
    the real-data fit starts at :math:`\prod_{i=1}^d(n-i)/\mathrm{div}_n^d`. Evaluated in log
    space. Source: derived here 🧮 (``theory.md`` §3.5; the metric of Kazdan et al.'s
    released code).

    Examples
    --------
    >>> from selfconsume.theory import expected_det_ratio
    >>> round(expected_det_ratio(10, 3, 1), 4)  # (9·8·7)/10³
    0.504
    >>> expected_det_ratio(10, 10, [0, 1, 2])
    array([1., 0., 0.])
    >>> round(expected_det_ratio(10, 1, 3, lam=1.0, workflow="accumulate"), 6)  # Π_{j≤4}(1 − 1/(10j²))
    0.862327
    """
    n = check_int("n", n, min_value=2)
    d = check_int("d", d, min_value=1)
    t = check_int_array("t", t, min_value=0)
    workflow = check_choice("workflow", workflow, ("replace", "accumulate", "accumulate-subsample"))
    estimator = check_choice("estimator", estimator, _ESTIMATORS)
    unbiased = estimator == "unbiased"
    T = int(np.max(t))
    if lam is None:
        if workflow != "replace":
            raise ValueError(f"lam must be a real number >= 0 for workflow={workflow!r} (lam=None is the fully "
                             "synthetic chain, workflow='replace')")
        check_memory("the generations", np.size(t), names="t")
        tt = np.asarray(t, dtype=float)
        if n <= d:
            out = np.where(tt == 0, 1.0, 0.0)
        else:
            i = np.arange(1, d + 1, dtype=float)
            out = np.exp(tt * np.sum(np.log((n - i) / (n - 1.0 if unbiased else n))))
        return out if np.ndim(t) else float(out)
    lam = check_real("lam", lam, min_value=0.0)
    if d > 1 and workflow != "accumulate":
        raise ValueError(f"workflow must be 'accumulate' when d > 1 and lam is given: E det Σ̂_t has no closed form "
                         f"for workflow={workflow!r} in d = {d} dimensions (use d = 1, or lam=None for the fully "
                         "synthetic chain)")
    m = _synthetic_count(n, lam)
    check_memory("the per-generation factors up to max(t)", (T + 1) * (min(d, m) + 3), names="t, d")
    if d == 1:
        if workflow == "accumulate-subsample":
            return expected_accumulate_subsample(n, t, lam=lam, estimator=estimator)[0]
        from ._mixing import expected_mixed_moments
        out = expected_mixed_moments(n, lam, T, workflow=workflow, estimator=estimator)[0][t]
        return out if np.ndim(t) else float(out)
    if n <= d:
        out = np.zeros(np.shape(t))
        return out if np.ndim(t) else 0.0
    i = np.arange(1, d + 1, dtype=float)
    log0 = float(np.sum(np.log((n - i) / (n - 1.0 if unbiased else n))))
    if m == 0:
        logs = np.full(T + 1, log0)
    else:
        P = n + m * np.arange(T, dtype=float)[:, None]          # pool before the step t → t + 1
        q, q2 = (P - 1.0, P + m - 1.0) if unbiased else (P, P + m)
        j = np.arange(min(d, m) + 1, dtype=float)[None, :]
        # e_j(1,…,1 (m−1 times), c) = C(m−1, j) + c·C(m−1, j−1), c = P/(P + m)
        e_j = np.exp(_log_binom(m - 1.0, j)) + P / (P + m) * np.exp(_log_binom(m - 1.0, j - 1.0))
        with np.errstate(divide="ignore"):
            terms = (special.gammaln(d + 1.0) - special.gammaln(d - j + 1.0) + (d - j) * np.log(q)
                     + np.log(e_j))
        log_factor = special.logsumexp(terms, axis=1) - d * np.log(q2[:, 0])
        logs = log0 + np.concatenate(([0.0], np.cumsum(log_factor)))
    out = np.exp(logs[t])
    return out if np.ndim(t) else float(out)


def _log_binom(a, b):
    """log C(a, b) for real a ≥ 0 and integer-valued b (−inf outside 0 ≤ b ≤ a)."""
    b = np.asarray(b, dtype=float)
    ok = (b >= 0) & (b <= a)
    bb = np.where(ok, b, 0.0)
    val = special.gammaln(a + 1.0) - special.gammaln(bb + 1.0) - special.gammaln(a - bb + 1.0)
    return np.where(ok, val, -np.inf)
