r"""Curated retraining on a finite space: what the Bradley–Terry loop does to rewards and diversity.

Ferbach, Bertrand, Bose, Gidel (NeurIPS 2024, arXiv 2407.09499), ``shared/theory.md``
§1.3–1.5 and §1.7: the moments :math:`\mathbb E_p e^{r}` and :math:`\mathrm{Var}_p e^{r}`, the
per-generation gain of Lemma 2.2, the reward bound with real data of Theorem 2.3 (and its
sharper factor), the KL bound of Theorem 2.4, the convergence of the chain to the top
reward level (:func:`kl_to_top`, :func:`level_rates`) and the K = ∞ fixed point with real
data. Everything works in log space on rewards shifted by the top level, so rewards ±700
stay finite.

Derivations (sympy, run once on first use and cached): :func:`thm23_gain_sequence`,
:func:`thm24_ratio_sequence`, :func:`mixed_fixed_point_inf_expr`, :func:`level_rate_expr`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import optimize, special

from selfconsume._validation import check_int, check_lam, check_probability_vector

from ._curation_operator import _check_K, _check_p_reward, _levels, tilt

__all__ = [
    "expected_exp_reward",
    "variance_exp_reward",
    "bound_lemma22_gain",
    "bound_thm23",
    "thm23_gain_sequence",
    "bound_thm24",
    "thm24_ratio_sequence",
    "kl_to_top",
    "level_rates",
    "level_rate_expr",
    "mixed_fixed_point_inf",
    "mixed_fixed_point_inf_expr",
    "MixedFixedPoint",
]


# --------------------------------------------------------------------------- moments and bounds


def _exp(x):
    """e^x as a float, ``inf`` past the float64 range (the log forms stay finite)."""
    return math.exp(x) if x < 709.78 else math.inf


def _shifted_moments(p, r):
    """(r*, E_p w, Var_p w) with w = e^{r − r*}, r* the top of the support (Var by :func:`_var_exp`)."""
    top, mu = _top_mean(p, r)
    return top, mu, _var_exp(p, r).linear()


def _top_mean(p, r):
    """(r*, E_p w) with w = e^{r − r*}, r* the top of the support."""
    pos = p > 0
    top = float(r[pos].max())
    return top, float(p[pos] @ np.exp(r[pos] - top))


class _VarExp(NamedTuple):
    r""":math:`\mathrm{Var}_pw`, :math:`w=e^{r-r^*}`: ``ldexp(var_s, 2 e)`` when ``var_s`` is not None
    (exact to O(Lε)), and its log ``log_var`` (exact always; ``-inf`` for one level)."""

    top: float
    var_s: float | None
    e: int
    log_var: float

    def linear(self) -> float:
        """Var_p w as a float (0 when it underflows)."""
        if self.var_s is not None:
            return math.ldexp(self.var_s, 2 * self.e)
        return math.exp(self.log_var) if self.log_var > -745.2 else 0.0

    def times_exp(self, log_scale: float) -> float:
        r""":math:`e^{\text{log\_scale}}\,\mathrm{Var}_pw`, exact whenever both factors are normal floats
        (``inf`` past the float64 range)."""
        if self.log_var == -math.inf:
            return 0.0
        if self.var_s is not None and abs(log_scale) < 708.0:
            v = math.ldexp(self.var_s, 2 * self.e)
            if v >= 2.2250738585072014e-308:
                return math.exp(log_scale) * v
        return _exp(log_scale + self.log_var)


def _var_exp(p, r) -> _VarExp:
    r""":math:`\mathrm{Var}_p[e^{r-r^*}]` from differences of levels, never from :math:`w-\mathbb E_pw`.

    With the distinct support levels in increasing order, :math:`q` their masses and
    :math:`\Delta_k=w_{k+1}-w_k=w_{k+1}\,(-\operatorname{expm1}(r_k-r_{k+1}))` (exact for any gap, down
    to the smallest subnormal),

    .. math:: w_i-\mathbb E_pw=A_i-B_i,\quad A_i=\sum_{k<i}P_k\Delta_k,\quad B_i=\sum_{k\ge i}Q_{k+1}\Delta_k,

    :math:`P_k=\sum_{j\le k}q_j`, :math:`Q_k=\sum_{j\ge k}q_j`: sums of positive terms, so each deviation
    has absolute error :math:`O(\epsilon)\sqrt{\mathrm{Var}+d_i^2}` and :math:`\mathrm{Var}=\sum_iq_i(A_i-B_i)^2`
    relative error :math:`O(L\epsilon)` — also for levels 1e-78 apart, where :math:`e^r-\mathbb E e^r`
    rounds to 0. The gaps are scaled by a power of two (exact) so that the largest is in [1/2, 1);
    when the scaled variance is still below 1e-250 (tiny masses), the same sums are taken in log space.
    """
    pos = p > 0
    v, inv = np.unique(r[pos], return_inverse=True)  # increasing levels
    top = float(v[-1])
    if v.size == 1:
        return _VarExp(top, 0.0, 0, -math.inf)
    q = np.bincount(inv.ravel(), weights=p[pos], minlength=v.size)
    q = q / q.sum()
    lw = v - top
    em = -np.expm1(v[:-1] - v[1:])  # 1 − e^{−gap} ∈ (0, 1]
    P = np.cumsum(q)[:-1]  # P_k, k = 0..L−2
    Q = np.cumsum(q[::-1])[::-1][1:]  # Q_{k+1}
    delta = np.exp(lw[1:]) * em
    dmax = float(delta.max())
    if dmax > 0.0:
        e = math.frexp(dmax)[1]
        delta = np.ldexp(delta, -e)
        A = np.concatenate(([0.0], np.cumsum(P * delta)))
        B = np.concatenate((np.cumsum((Q * delta)[::-1])[::-1], [0.0]))
        var_s = float(q @ (A - B) ** 2)
        if var_s > 1e-250:
            return _VarExp(top, var_s, e, math.log(var_s) + 2 * e * math.log(2.0))
    ldelta = lw[1:] + np.log(em)
    lA = np.concatenate(([-math.inf], np.logaddexp.accumulate(np.log(P) + ldelta)))
    lB = np.concatenate((np.logaddexp.accumulate((np.log(Q) + ldelta)[::-1])[::-1], [-math.inf]))
    hi, lo = np.maximum(lA, lB), np.minimum(lA, lB)
    with np.errstate(divide="ignore"):  # A_i = B_i exactly: a zero deviation, log 0 = −inf
        ld = hi + np.log(-np.expm1(lo - hi))
    return _VarExp(top, None, 0, float(special.logsumexp(np.log(q) + 2.0 * ld)))


def expected_exp_reward(p, reward, *, log=False):
    r""":math:`\mathbb E_p[e^{r}]` (or its log, finite for any finite reward).

    Examples
    --------
    >>> from selfconsume.theory import expected_exp_reward
    >>> round(expected_exp_reward([0.5, 0.5], [0.0, 700.0], log=True), 10)
    699.3068528194
    """
    p, r = _check_p_reward(p, reward)
    top, mu = _top_mean(p, r)
    return top + math.log(mu) if log else _exp(top) * mu


def variance_exp_reward(p, reward, *, log=False):
    r""":math:`\mathrm{Var}_p[e^{r}]` (or its log; ``-inf`` when the support is one level).

    Computed as :math:`e^{2r^*}\mathrm{Var}_p[e^{r-r^*}]` from differences of levels,
    :math:`e^{r_i}-e^{r_j}=e^{r_j}\operatorname{expm1}(r_i-r_j)`, never from :math:`e^r-\mathbb E_pe^r`
    (no cancellation, in log space where the variance is tiny): exact to a few ulps also for
    levels 1e-78 apart (``log=True``: about −358, not ``-inf``).

    Examples
    --------
    >>> from selfconsume.theory import variance_exp_reward
    >>> round(variance_exp_reward([0.5, 0.5], [0.0, 0.0]), 12), round(variance_exp_reward([0.5, 0.5], [0.0, 1.0]), 12)
    (0.0, 0.738123110503)
    >>> round(variance_exp_reward([0.5, 0.5], [0.0, 1e-78], log=True), 6)   # log(1e-156 / 4)
    -360.589569
    """
    p, r = _check_p_reward(p, reward)
    ve = _var_exp(p, r)
    return 2 * ve.top + ve.log_var if log else ve.times_exp(2 * ve.top)


def bound_lemma22_gain(p, reward, K, *, upper=False, log=False):
    r"""Lemma 2.2 bound on the one-step gain :math:`\mathbb E_{pH^K_p}[e^r]-\mathbb E_p[e^r]`.

    Parameters
    ----------
    p, reward, K
        As in :func:`curation_H` (K = ``numpy.inf`` gives the factor 1).
    upper : bool
        Return the upper end of the bracket instead (with :math:`e^{r_{\min}}`).
    log : bool
        Return the log of the bound (finite at rewards ±700, where the upper end is
        :math:`\approx e^{2100}`; ``-inf`` when the support is one level or K = 1).

    Returns
    -------
    float
        Lower bound :math:`\frac{K-1}{K}\frac{\mathrm{Var}_p[e^r]}{e^{r^*}}` (Ferbach et al.
        2024, Lemma 2.2; :math:`r^*`, :math:`r_{\min}`: top and bottom of the support), or the
        upper bound :math:`\frac{K-1}{K}\frac{\mathrm{Var}_p[e^r]}{e^{r_{\min}}}`.

    Notes
    -----
    Exact identity behind both (theory.md §1.4): with :math:`W_k=e^{r(X_k)}`,
    :math:`\mathbb E_{pH}e^r-\mathbb E_pe^r=\mathbb E\big[\sum_{k<l}(W_k-W_l)^2/(K\sum_kW_k)\big]`
    and :math:`K e^{r_{\min}}\le\sum_k W_k\le Ke^{r^*}`.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import bound_lemma22_gain, curated_distribution, expected_exp_reward
    >>> p, r = np.array([0.3, 0.2, 0.5]), np.array([0.0, 0.4, 1.0])
    >>> gain = expected_exp_reward(curated_distribution(p, r, 4), r) - expected_exp_reward(p, r)
    >>> bool(bound_lemma22_gain(p, r, 4) <= gain <= bound_lemma22_gain(p, r, 4, upper=True))
    True
    """
    p, r = _check_p_reward(p, reward)
    K = _check_K(K)
    ve = _var_exp(p, r)
    f = 1.0 if K == math.inf else (K - 1) / K
    scale = 2 * ve.top - float(r[p > 0].min()) if upper else ve.top
    if f == 0 or ve.log_var == -math.inf:
        return -math.inf if log else 0.0
    return math.log(f) + scale + ve.log_var if log else f * ve.times_exp(scale)


@functools.cache
def thm23_gain_sequence():
    r"""The lower-bound sequence behind Theorem 2.3, solved with sympy ``rsolve``.

    Returns ``(b_t, b_limit, symbols)``: :math:`b_t` bounds
    :math:`\mathbb E_{p_t}e^r-\mathbb E_{p_\text{ref}}e^r` from below for :math:`t\ge1`, in units
    of :math:`gV=\frac{K-1}{K}\mathrm{Var}_{p_\text{ref}}[e^r]/e^{r^*}` (symbols ``lam, t``).

    Notes
    -----
    Setting: :math:`p_0=p_\text{ref}`, :math:`p_{t+1}=(p_\text{ref}+\lambda p_tH)/(1+\lambda)`.
    By Lemma 2.2 and induction :math:`m_t\ge m_\text{ref}`; for :math:`t\ge1` the mixture
    weight of :math:`p_\text{ref}` gives :math:`\mathrm{Var}_{p_t}\ge V/(1+\lambda)` (law of total
    variance), so
    :math:`b_{t+1}=\frac{\lambda}{1+\lambda}\big(b_t+\frac{1}{1+\lambda}\big)`, :math:`b_1=\frac{\lambda}{1+\lambda}`.
    sympy finds the constant solution :math:`b_t=\lambda/(1+\lambda)`: the same argument as
    the paper's (which states :math:`\lambda/(1+\lambda)^3`; theory.md 🧮 has :math:`\lambda/(1+\lambda)^2`)
    gives the factor :math:`\lambda/(1+\lambda)`, used by ``bound_thm23(..., sharp=True)``.

    Examples
    --------
    >>> from selfconsume.theory import thm23_gain_sequence
    >>> b_t, b_lim, (lam, t) = thm23_gain_sequence()
    >>> b_lim
    lambda/(lambda + 1)
    """
    import sympy as sp

    lam = sp.symbols("lambda", positive=True)
    t = sp.symbols("t", integer=True, positive=True)
    b = sp.Function("b")
    sol = sp.rsolve(b(t + 1) - lam / (1 + lam) * (b(t) + 1 / (1 + lam)), b(t), {b(1): lam / (1 + lam)})
    sol = sp.simplify(sol)
    return sol, sp.simplify(sp.limit(sol, t, sp.oo)), (lam, t)


def bound_thm23(p_ref, reward, K, lam, *, sharp=False):
    r"""Theorem 2.3 lower bound on :math:`\mathbb E_{p_t}[e^r]` for all :math:`t\ge1` (with real data).

    Parameters
    ----------
    p_ref, reward
        Reference (real) distribution, which is also :math:`p_0`, and reward.
    K : int or numpy.inf
    lam : float
        Synthetic-to-real ratio :math:`\lambda\ge0`.
    sharp : bool
        Use the factor :math:`\lambda/(1+\lambda)` that :func:`thm23_gain_sequence` derives
        instead of the paper's :math:`\lambda/(1+\lambda)^3`.

    Returns
    -------
    float
        :math:`\mathbb E_{p_\text{ref}}[e^r]+\frac{\lambda}{(1+\lambda)^3}\frac{(K-1)\mathrm{Var}_{p_\text{ref}}[e^r]}{Ke^{r^*}}`
        (Ferbach et al. 2024, Thm 2.3; 🔶 secondary in theory.md §1.7).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import bound_thm23, expected_exp_reward
    >>> p, r = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    >>> bool(expected_exp_reward(p, r) < bound_thm23(p, r, 4, 0.3) < bound_thm23(p, r, 4, 0.3, sharp=True))
    True
    """
    p, r = _check_p_reward(p_ref, reward, p_name="p_ref")
    K = _check_K(K)
    lam = check_lam(lam)
    top, mu, var = _shifted_moments(p, r)
    f = 1.0 if K == math.inf else (K - 1) / K
    factor = lam / (1 + lam) if sharp else lam / (1 + lam) ** 3
    return _exp(top) * (mu + factor * f * var)


@functools.cache
def thm24_ratio_sequence():
    r"""The bound :math:`c_t\ge\sup_x p_t(x)/p_\text{ref}(x)` behind Theorem 2.4, solved with sympy.

    Returns ``(c_t, c_t_equal, c_limit, symbols)``: the solution of
    :math:`c_{t+1}=(1+\lambda Kc_t)/(1+\lambda)`, :math:`c_0=1`, the solution at
    :math:`\lambda(K-1)=1`, and the limit :math:`1/(1-\lambda(K-1))` for :math:`\lambda(K-1)<1`
    (symbols ``K, lam, t``).

    Notes
    -----
    :math:`H<K` and :math:`p_0=p_\text{ref}` give :math:`p_{t+1}\le(p_\text{ref}+\lambda Kc_tp_\text{ref})/(1+\lambda)`;
    then :math:`\mathrm{KL}(p_t\|p_\text{ref})\le\log\sup p_t/p_\text{ref}\le\log c_t` (theory.md §1.7).

    Examples
    --------
    >>> from selfconsume.theory import thm24_ratio_sequence
    >>> c_t, c_eq, c_lim, (K, lam, t) = thm24_ratio_sequence()
    >>> c_lim
    1/(-K*lambda + lambda + 1)
    """
    import sympy as sp

    K = sp.symbols("K", positive=True)
    lam = sp.symbols("lambda", positive=True)
    t = sp.symbols("t", integer=True, nonnegative=True)
    c = sp.Function("c")
    rec = c(t + 1) - (1 + lam * K * c(t)) / (1 + lam)
    sol = sp.simplify(sp.rsolve(rec, c(t), {c(0): 1}))
    sol_eq = sp.simplify(sp.rsolve(rec.subs(K, (1 + lam) / lam), c(t), {c(0): 1}))
    # Write (λK)^t = R (1+λ)^t with R = ρ^t, ρ = λK/(1+λ); below the threshold ρ < 1, R → 0.
    R = sp.symbols("R", nonnegative=True)
    lim = sp.simplify(sp.simplify(sol.subs((K * lam) ** t, R * (1 + lam) ** t)).subs(R, 0))
    return sol, sol_eq, lim, (K, lam, t)


def bound_thm24(K, lam, *, t=None):
    r"""Theorem 2.4 bound on :math:`\mathrm{KL}(p_t\|p_\text{ref})` with real data (:math:`p_0=p_\text{ref}`).

    Parameters
    ----------
    K : int or numpy.inf
    lam : float
        :math:`\lambda\ge0`.
    t : int, optional
        Generation. ``None``: the bound for all t, :math:`-\log(1-\lambda(K-1))` when
        :math:`\lambda(K-1)<1` and ``inf`` otherwise (Ferbach et al. 2024, Thm 2.4). An int:
        :math:`\log c_t` from :func:`thm24_ratio_sequence`, finite for every λ and every finite K.

    Returns
    -------
    float
        ``inf`` for K = ``numpy.inf`` with λ > 0 and t ≥ 1 (or t None): then
        :math:`c_1=(1+\lambda K)/(1+\lambda)=\infty`, and no bound in K, λ, t alone exists — with
        :math:`H^\infty_p=e^r/\mathbb E_pe^r`, :math:`p_1(x^*)/p_\text{ref}(x^*)=(1+\lambda e^{r^*}/\mathbb E_{p_\text{ref}}e^r)/(1+\lambda)`
        is unbounded over :math:`p_\text{ref}` (a top level of small mass far above the rest), and so is
        :math:`\mathrm{KL}(p_1\|p_\text{ref})`. 0 when λ = 0, K = 1 or t = 0.

    Notes
    -----
    :math:`c_t=1+\frac{\lambda(K-1)}{1+\lambda}\sum_{i<t}\rho^i` with :math:`\rho=\frac{\lambda K}{1+\lambda}`,
    the sympy solution rearranged so that it stays exact near :math:`\lambda(K-1)=1`.

    Examples
    --------
    >>> from selfconsume.theory import bound_thm24
    >>> round(bound_thm24(4, 0.3), 12), round(bound_thm24(4, 0.3, t=1), 12)
    (2.302585092994, 0.526093095897)
    >>> bound_thm24(4, 0.5)
    inf
    >>> bound_thm24(np.inf, 1.0, t=1), bound_thm24(np.inf, 1.0, t=0)
    (inf, 0.0)
    """
    K = _check_K(K)
    lam = check_lam(lam)
    if lam == 0 or K == 1:
        return 0.0
    if t is None:
        if K == math.inf:
            return math.inf
        x = lam * (K - 1)
        return -math.log1p(-x) if x < 1 else math.inf
    t = check_int("t", t, min_value=0)
    if t == 0:
        return 0.0
    if K == math.inf:
        return math.inf
    # log c_t = log(1 + A Σ_{i<t} ρ^i), A = λ(K−1)/(1+λ), with δ = 1 − ρ computed directly:
    # Σ_{i<t} ρ^i = −expm1(t log1p(−δ))/δ has no cancellation for any δ ≠ 0.
    A = lam * (K - 1) / (1.0 + lam)
    delta = (1.0 - lam * (K - 1)) / (1.0 + lam)
    if delta == 0.0:
        return math.log1p(A * t)
    L = t * math.log1p(-delta)  # t log ρ
    if L > 30.0:  # ρ > 1 and ρ^t huge: stay in log space
        log_geo = L + math.log(-math.expm1(-L)) - math.log(-delta)
        return float(np.logaddexp(0.0, math.log(A) + log_geo))
    return math.log1p(A * (-math.expm1(L) / delta))


# --------------------------------------------------------------------------- convergence


def kl_to_top(p0, p, reward):
    r""":math:`\mathrm{KL}(p^*\|p)` with :math:`p^*` = :math:`p_0` restricted to its top reward level.

    Parameters
    ----------
    p0 : array_like
        Initial distribution, defining :math:`p^*=p_0\mathbf 1\{r=r^*\}/P_0(r=r^*)`.
    p : array_like
        The distribution compared (e.g. :math:`p_t`).
    reward : array_like

    Returns
    -------
    float
        The divergence computed from its definition (``inf`` if p misses part of the top set).

    Notes
    -----
    Theorem 2.1 (Ferbach et al. 2024): for the fully synthetic loop this tends to 0. Because
    :math:`H` depends on x only through r(x), :math:`p_t/p_0` is constant on the top level and
    :math:`\mathrm{KL}(p^*\|p_t)=-\log P_{p_t}(r=r^*)` exactly (theory.md §1.5).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import kl_to_top
    >>> p0, r = np.array([0.2, 0.3, 0.5]), np.array([1.0, 1.0, 0.0])
    >>> bool(abs(kl_to_top(p0, p0, r) - np.log(2.0)) < 1e-15)
    True
    """
    p0, r = _check_p_reward(p0, reward, p_name="p0")
    p = check_probability_vector("p", p)
    if p.shape != p0.shape:
        raise ValueError(f"p must have the same shape as p0 {p0.shape}; got shape {p.shape}")
    ps = tilt(p0, r, math.inf)
    sel = ps > 0
    if np.any(p[sel] == 0):
        return math.inf
    return float(np.sum(special.rel_entr(ps[sel], p[sel])))


@functools.cache
def level_rate_expr():
    r"""Per-level geometric rate :math:`\rho_j` and its :math:`K\to\infty` limit, derived with sympy.

    Returns ``(rho, rho_inf, symbols)`` in the symbols ``K, delta`` (gap :math:`\Delta_j=r^*-r_j\ge0`).

    Notes
    -----
    Near convergence :math:`p_t\approx\delta_{r^*}`, so the other K − 1 candidates all have
    weight :math:`e^{r^*}`: :math:`H(x_j)\to Ke^{r_j}/(e^{r_j}+(K-1)e^{r^*})`, which is also the lower
    end of the sandwich of theory.md §1.2 item 2. The mass of level j then decays like
    :math:`\rho_j^t` (theory.md §1.5).

    Examples
    --------
    >>> from selfconsume.theory import level_rate_expr
    >>> rho, rho_inf, (K, delta) = level_rate_expr()
    >>> rho_inf
    exp(-delta)
    """
    import sympy as sp

    K = sp.symbols("K", positive=True)
    delta = sp.symbols("delta", nonnegative=True)
    w, S, rs = sp.symbols("w S r_star", positive=True)
    H = K * w / (w + S)  # H = K w E[1/(w + S)] with S deterministic
    rho = sp.simplify(H.subs(S, (K - 1) * sp.exp(rs)).subs(w, sp.exp(rs - delta)))
    return rho, sp.limit(rho, K, sp.oo), (K, delta)


def level_rates(p0, reward, K):
    r"""Geometric rates :math:`\rho_j=\frac{Ke^{-\Delta_j}}{e^{-\Delta_j}+K-1}` of the reward levels.

    Parameters
    ----------
    p0, reward
        The levels are the distinct rewards of the support of ``p0``.
    K : int or numpy.inf
        ``numpy.inf`` gives :math:`e^{-\Delta_j}`.

    Returns
    -------
    levels, rho : ndarray
        Distinct rewards, decreasing, and their rates (:math:`\rho=1` on the top level,
        :math:`\rho_j<1` below when K ≥ 2; K = 1 is no curation: every :math:`\rho_j=1`, for any
        gap). ``-log P_t(r=r^*)`` decays like :math:`\rho_2^t`. A rate below the float64 range
        (gap past ~745) is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import level_rates
    >>> lv, rho = level_rates([0.5, 0.5], [1.0, 0.8], 4)
    >>> round(float(rho[1]), 5)
    0.85759
    """
    p0, r = _check_p_reward(p0, reward, p_name="p0")
    K = _check_K(K)
    lev = _levels(p0, r)
    vals = lev.values[lev.support]
    if K == 1:  # H = 1: ρ_j = e/(e + 0) = 1 exactly (not 0/0 when e^{−Δ} underflows)
        return vals, np.ones(vals.size)
    e = np.exp(vals - vals[0])
    if K == math.inf:
        return vals, e
    return vals, K * e / (e + (K - 1))


class MixedFixedPoint(NamedTuple):
    """Fixed point of the K = ∞ mixed map: ``p`` and :math:`Z=\\mathbb E_{p}[e^r]` (and ``log_Z``)."""

    p: np.ndarray
    Z: float
    log_Z: float


@functools.cache
def mixed_fixed_point_inf_expr():
    r"""The K = ∞ mixed fixed point solved with sympy: :math:`p=p_\text{ref}/(1+\lambda-\lambda w/Z)`.

    Returns ``(p_inf, symbols)`` in the symbols ``p_ref, lam, w, Z`` (:math:`w=e^{r(x)}`).

    Examples
    --------
    >>> from selfconsume.theory import mixed_fixed_point_inf_expr
    >>> expr, _ = mixed_fixed_point_inf_expr()
    >>> expr
    Z*p_ref/(Z*lambda + Z - lambda*w)
    """
    import sympy as sp

    p, pref, lam, w, Z = sp.symbols("p p_ref lambda w Z", positive=True)
    sol = sp.solve(sp.Eq(p, (pref + lam * p * w / Z) / (1 + lam)), p)
    return sp.simplify(sol[0]), (pref, lam, w, Z)


def mixed_fixed_point_inf(p_ref, reward, lam):
    r"""Fixed point of :math:`p\mapsto(p_\text{ref}+\lambda\,pe^r/\mathbb E_pe^r)/(1+\lambda)` (K = ∞, real data).

    Parameters
    ----------
    p_ref, reward
        Real distribution and reward.
    lam : float
        :math:`\lambda\ge0`.

    Returns
    -------
    MixedFixedPoint
        ``p`` = :math:`p_\text{ref}/(1+\lambda-\lambda e^{r}/Z)` and ``Z``, ``log_Z``.

    Notes
    -----
    :math:`Z=\mathbb E_{p_\infty}[e^r]` is the unique root with :math:`Z>\lambda e^{r^*}/(1+\lambda)`
    of :math:`\sum_xp_\text{ref}(x)/(1+\lambda-\lambda e^{r(x)}/Z)=1` (the left side decreases from
    +∞ to :math:`1/(1+\lambda)`); summing the fixed-point equation shows the root is
    self-consistent (theory.md §1.7). Solved by Brent's method for :math:`d=1+\lambda-\lambda e^{r^*}/Z`,
    the denominator at the top level, written so that no denominator suffers cancellation: first in
    :math:`\log d` (d is of the order of the top level's mass, which may be 1e-282 or subnormal), then
    polished in d to a relative 4ε.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import mixed_fixed_point_inf
    >>> fp = mixed_fixed_point_inf([0.5, 0.5], [0.0, 1.0], 0.5)
    >>> round(float(fp.p.sum()), 12), bool(abs(fp.p @ np.exp([0.0, 1.0]) - fp.Z) < 1e-12)
    (1.0, True)
    """
    p, r = _check_p_reward(p_ref, reward, p_name="p_ref")
    lam = check_lam(lam)
    pos = p > 0
    top = float(r[pos].max())
    if lam == 0:
        _, mu = _top_mean(p, r)
        return MixedFixedPoint(p.copy(), _exp(top) * mu, top + math.log(mu))
    q = p[pos]
    one_minus_w = -np.expm1(r[pos] - top)  # 1 − w, exact for w near 1
    a = 1.0 + lam

    is_top = one_minus_w == 0
    log_qtop = math.log(float(q[is_top].sum()))
    rest, rest_omw = q[~is_top], one_minus_w[~is_top]

    def g_rest(d):  # Σ over the atoms below the top of q/(1 + λ − y w), y = 1 + λ − d
        return float(np.sum(rest / (d + (a - d) * rest_omw)))

    def g_log(u):  # g(e^u) − 1, the top atoms' Σ q/d as exp(log q_top − u): no overflow for tiny d
        return math.exp(log_qtop - u) + g_rest(math.exp(u)) - 1.0

    # Brent in u = log d first: d is of the order of q_top (1e-282, or subnormal), where Brent in d
    # from the bracket [q_top/(2a), a] would need ~1000 bisections (g ~ q_top/d is hyperbolic).
    # g(lo) ≥ q_top/lo − 1 = 2a − 1 > 0 at lo = q_top/(2a); g(a) = 1/a − 1 < 0.
    eps = np.finfo(float).eps
    u = optimize.brentq(g_log, log_qtop - math.log(2.0 * a), math.log(a), xtol=1e-15, rtol=4 * eps, maxiter=500)
    # Then polish (relative error ~ε instead of |u|ε) on d = 2^e m (1 + s), |s| ≤ 1e-9, with the top
    # atoms' q scaled by 2^−e (exact): no step of Brent's is subnormal, even when d is.
    e = math.floor(u / math.log(2.0)) + 1
    m = math.exp(u - e * math.log(2.0))  # ≈ the mantissa of d, in [1/2, 1)
    qs_top = np.ldexp(q[is_top], -e)

    def g_s(s):
        dm = m * (1.0 + s)
        return float(np.sum(qs_top / dm)) + g_rest(math.ldexp(dm, e)) - 1.0

    s_lo, s_hi = -1e-9, min(1e-9, a / math.ldexp(m, e) - 1.0)  # d ≤ a
    g_lo, g_hi = g_s(s_lo), g_s(s_hi)
    s = 0.0
    if g_lo == 0.0 or g_hi == 0.0:
        s = s_lo if g_lo == 0.0 else s_hi
    elif g_lo > 0.0 > g_hi:
        s = optimize.brentq(g_s, s_lo, s_hi, xtol=1e-17, rtol=4 * eps, maxiter=200)
    dm = m * (1.0 + s)
    d = math.ldexp(dm, e)
    out = np.zeros_like(p)
    vals = np.empty(q.size)
    vals[is_top] = qs_top / dm
    vals[~is_top] = rest / (d + (a - d) * rest_omw)
    out[pos] = vals
    # Z = E_{p_∞} e^r (summing the fixed-point equation). Not λe^{r*}/(a − d): for λ ≪ 1, a − d
    # cancels (d → a), and a − d may even round to 0 (λ = 1e-16).
    log_Z = top + math.log(float(out[pos] @ (1.0 - one_minus_w)))
    return MixedFixedPoint(out, _exp(log_Z), log_Z)
