r"""Curated retraining on a finite space: the exact Bradley–Terry operator.

Ferbach, Bertrand, Bose, Gidel (NeurIPS 2024, arXiv 2407.09499), ``shared/theory.md``
§1.1–1.5 and §1.7. A user sees K samples of the model p and keeps one with probability
:math:`e^{r(x_k)}/\sum_j e^{r(x_j)}`; the kept sample has law :math:`p\,H^K_p` with

.. math:: H^K_p(x)=\mathbb E_{X_{1..K-1}\sim p}\Big[\frac{K e^{r(x)}}{e^{r(x)}+\sum_i e^{r(X_i)}}\Big].

Everything here depends on p and r only through the distinct reward levels and their
masses, and is invariant under adding a constant to r; so every computation shifts the
rewards by the top level :math:`r^*` of the support and works in log space (rewards in
±700, K up to 10⁶ and beyond stay finite).

The factor itself is computed by the Laplace quadrature kernel of :mod:`._curation_kernels`;
the closed forms it is checked against (K = 2, K = ∞, exact enumeration) and its large-K
expansion are here. Derivations (sympy, run once on first use and cached):
:func:`curation_laplace_integral`, :func:`curation_H_large_K_coefficients`. The bounds and
the convergence of the curated chain are in :mod:`._curation_bounds`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from selfconsume._validation import (
    check_finite_array,
    check_int,
    check_probability_vector,
    check_real,
)

from ._curation_kernels import log_h_levels_gapped

__all__ = [
    "curation_H",
    "curated_distribution",
    "curation_H_logistic",
    "curation_H_enumerated",
    "curation_H_large_K",
    "curation_H_large_K_coefficients",
    "curation_laplace_integral",
    "tilt",
]

#: Largest ``dps`` of :func:`curation_H_enumerated`: an oracle for float64 output needs ~20 digits; more
#: only slows mpmath down, and a value like 10¹⁵ would exhaust memory.
MAX_ENUMERATION_DPS = 10_000
#: Up to this K, :func:`curation_H_enumerated` tabulates the powers q_j^c, c < K; above, it computes them on demand.
_POWER_TABLE_MAX = 100_000


class _Powers:
    """``q**c`` on demand, cached (the table of :func:`curation_H_enumerated` for a huge K)."""

    def __init__(self, q, mp):
        self.q, self.mp, self.cache = q, mp, {}

    def __getitem__(self, c):
        v = self.cache.get(c)
        if v is None:
            v = self.cache[c] = self.mp.power(self.q, c)
        return v


# --------------------------------------------------------------------------- validation


def _check_K(K, *, allow_inf=True):
    """K as int ≥ 1, or math.inf when allowed."""
    if allow_inf and isinstance(K, (float, np.floating)) and math.isinf(K) and K > 0:
        return math.inf
    what = "an integer >= 1" + (" or numpy.inf" if allow_inf else "")
    try:
        return check_int("K", K, min_value=1)
    except TypeError:
        raise TypeError(f"K must be {what}; got {K!r}") from None
    except ValueError:
        raise ValueError(f"K must be {what}; got {K!r}") from None


def _check_p_reward(p, reward, *, p_name="p"):
    """(p, reward) with p a probability vector (sum 1 within 1e-9) and reward finite, same shape."""
    p = check_probability_vector(p_name, p)
    r = check_finite_array("reward", reward, ndim=1)
    if r.shape != p.shape:
        raise ValueError(f"reward must have the same shape as {p_name} {p.shape}; got shape {r.shape}")
    return p, r


class _Levels(NamedTuple):
    values: np.ndarray  # distinct rewards, decreasing
    index: np.ndarray  # level of each atom
    mass: np.ndarray  # mass of each level under p
    support: np.ndarray  # indices of levels with positive mass (increasing = rewards decreasing)

    @property
    def top(self) -> float:
        return float(self.values[self.support[0]])


def _levels(p, r) -> _Levels:
    uniq, inv = np.unique(r, return_inverse=True)
    L = uniq.size
    values = uniq[::-1].copy()
    index = (L - 1 - inv).astype(np.int64)
    mass = np.bincount(index, weights=p, minlength=L)
    support = np.flatnonzero(mass > 0)
    return _Levels(values, index, mass, support)


def _log_h_levels(lev: _Levels, K) -> np.ndarray:
    """log H^K_p on every level (support or not)."""
    L = lev.values.size
    if K == 1:
        return np.zeros(L)
    lw_all = lev.values - lev.top
    q = lev.mass[lev.support]
    q = q / q.sum()
    lw = lw_all[lev.support]
    if K == math.inf:
        return lw_all - special.logsumexp(lw, b=q)
    out = np.empty(L)
    log_h_levels_gapped(np.ascontiguousarray(lw), np.ascontiguousarray(q), lw_all, float(K), out)
    return out


# --------------------------------------------------------------------------- the operator


def curation_H(p, reward, K, *, log=False):
    r"""The curation factor :math:`H^K_p(x)` at every atom (Ferbach et al. 2024, Eq. 6).

    Parameters
    ----------
    p : array_like, shape (m,)
        Model distribution :math:`p` on m atoms (non-negative, summing to 1 within 1e-9).
    reward : array_like, shape (m,)
        Reward :math:`r(x)` of each atom (finite; ties allowed).
    K : int or numpy.inf
        Candidates per curation event, :math:`K\ge1`. ``numpy.inf`` gives the limit
        :math:`e^{r(x)}/\mathbb E_pe^{r}` (Lemma 2.1).
    log : bool
        Return :math:`\log H` (exact even where H underflows, e.g. rewards 1400 below the top).

    Returns
    -------
    ndarray, shape (m,)
        :math:`H^K_p(x)\in(0,K)`, also at atoms with :math:`p(x)=0`.

    Notes
    -----
    Computed on the distinct reward levels through the Laplace representation derived in
    :func:`curation_laplace_integral`,

    .. math:: H^K_p(x)=K e^{r(x)}\int_0^\infty e^{-se^{r(x)}}\varphi_p(s)^{K-1}ds
              =K\int_{\mathbb R}e^{u+\alpha-e^{u+\alpha}}\varphi_p(e^u)^{K-1}du,
              \quad\varphi_p(s)=\mathbb E_pe^{-se^{r(X)-r^*}},\ \alpha=r(x)-r^*,

    by the trapezoidal rule on the u-line with a proven relative error below 1e-18 for
    every K, p and reward (see ``selfconsume.theory._curation_kernels``); the cost does
    not grow with K. Measured against exact enumeration over compositions
    (:func:`curation_H_enumerated`, K up to 2·10⁴) and the K = 2 logistic form: relative
    error ≤ 1e-14, except where |log H| is in the hundreds (rewards ±700), where it is the
    float64 resolution of log H (≤ 2.3e-13).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import curation_H
    >>> p = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
    >>> r = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])
    >>> H = curation_H(p, r, 4)
    >>> round(float(p @ H), 12)
    1.0
    >>> bool(H[2] == H[1]), bool((np.diff(H[[0, 1, 3, 4]]) > 0).all())
    (True, True)
    """
    p, r = _check_p_reward(p, reward)
    K = _check_K(K)
    lev = _levels(p, r)
    lh = _log_h_levels(lev, K)[lev.index]
    return lh if log else np.exp(lh)


def curated_distribution(p, reward, K):
    r"""Law of the kept sample, :math:`p\,H^K_p` (K may be ``numpy.inf``: the tilt).

    Parameters
    ----------
    p, reward, K
        As in :func:`curation_H`.

    Returns
    -------
    ndarray, shape (m,)
        :math:`p(x)H^K_p(x)`; it sums to 1 up to rounding (≈1e-15), and is 0 where p is.

    Notes
    -----
    Ferbach et al. 2024, §2 (Eq. 6): :math:`\Pr(\hat x\in dx)=\sum_k\Pr(X_k\in dx,\ k\text{ kept})
    =p(x)H^K_p(x)dx`. This is one generation of the fully synthetic population loop.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import curated_distribution
    >>> q = curated_distribution([0.5, 0.5], [0.0, np.log(3.0)], 2)   # Bradley–Terry, K = 2
    >>> np.round(q, 12).tolist()     # 2·(½·½ + ½·¼) and 2·(½·½ + ½·¾)
    [0.375, 0.625]
    """
    p, r = _check_p_reward(p, reward)
    K = _check_K(K)
    lev = _levels(p, r)
    lh = _log_h_levels(lev, K)[lev.index]
    out = np.zeros_like(p)
    pos = p > 0
    out[pos] = np.exp(np.log(p[pos]) + lh[pos])
    return out


def curation_H_logistic(p, reward, *, log=False):
    r"""Closed form of :math:`H^2_p` (Bradley–Terry pairs): :math:`2\,\mathbb E_{X'\sim p}\sigma(r(x)-r(X'))`.

    An independent oracle for K = 2 (no integral): cost O(m × support levels).

    Parameters
    ----------
    p, reward
        As in :func:`curation_H`.
    log : bool
        Return :math:`\log H^2_p` (computed with :func:`scipy.special.log_expit`).

    Notes
    -----
    With K = 2, :math:`\frac{2e^{r}}{e^{r}+e^{r'}}=2\sigma(r-r')` (theory.md §1.2 item 1).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import curation_H, curation_H_logistic
    >>> p, r = np.array([0.2, 0.5, 0.3]), np.array([1.0, -2.0, 0.5])
    >>> bool(np.allclose(curation_H_logistic(p, r), curation_H(p, r, 2), rtol=1e-13, atol=0))
    True
    """
    p, r = _check_p_reward(p, reward)
    lev = _levels(p, r)
    vs = lev.values[lev.support]
    lq = np.log(lev.mass[lev.support] / lev.mass[lev.support].sum())
    lh = np.empty(lev.values.size)
    step = max(1, 2_000_000 // max(vs.size, 1))  # bounded memory for big inputs
    for a in range(0, lev.values.size, step):
        d = lev.values[a:a + step, None] - vs[None, :]
        lh[a:a + step] = math.log(2.0) + special.logsumexp(lq[None, :] + special.log_expit(d), axis=1)
    lh = lh[lev.index]
    return lh if log else np.exp(lh)


def curation_H_enumerated(p, reward, K, *, dps=40, log=False, max_terms=2_000_000):
    r"""Exact :math:`H^K_p` by enumeration over compositions of K − 1 (mpmath, ``dps`` digits).

    The oracle the Laplace quadrature is tested against: the K − 1 other candidates fall on
    the distinct support levels with multinomial counts :math:`c`, so

    .. math:: H^K_p(x)=K\sum_{c_1+\dots+c_L=K-1}\binom{K-1}{c}\prod_j q_j^{c_j}
              \frac{e^{r(x)}}{e^{r(x)}+\sum_jc_je^{r_j}} .

    Parameters
    ----------
    p, reward
        As in :func:`curation_H`; the float inputs are taken as exact.
    K : int
        Finite, ≥ 1.
    dps : int
        mpmath decimal digits, 15 ≤ dps ≤ 10 000 (an oracle for float64 output needs about 20;
        more only slows it down, and a huge value would exhaust memory).
    log : bool
        Return log H.
    max_terms : int
        At least 1. Refuse (ValueError) when the number of compositions
        :math:`\binom{K+L-2}{L-1}` exceeds it.

    Returns
    -------
    ndarray, shape (m,)
        H (or log H) rounded to float64.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import curation_H_enumerated
    >>> H = curation_H_enumerated([0.5, 0.5], [0.0, np.log(3.0)], 2)
    >>> np.round(H, 12).tolist()
    [0.75, 1.25]
    """
    import mpmath as mp

    p, r = _check_p_reward(p, reward)
    K = _check_K(K, allow_inf=False)
    dps = check_int("dps", dps, min_value=15, max_value=MAX_ENUMERATION_DPS)
    max_terms = check_int("max_terms", max_terms, min_value=1)
    lev = _levels(p, r)
    if K == 1:
        return np.zeros(p.size) if log else np.ones(p.size)
    sup = lev.support
    L = sup.size
    nterms = math.comb(K - 1 + L - 1, L - 1)
    if nterms > max_terms:
        raise ValueError(
            f"K must give at most max_terms = {max_terms} compositions of K - 1 over the {L} support "
            f"levels; got {nterms} (use curation_H, or raise max_terms)"
        )
    with mp.workdps(dps):
        top = mp.mpf(lev.top)
        w = [mp.exp(mp.mpf(lev.values[j]) - top) for j in sup]
        tot = mp.fsum(mp.mpf(x) for x in lev.mass[sup])
        q = [mp.mpf(lev.mass[j]) / tot for j in sup]
        wt = [mp.exp(mp.mpf(v) - top) for v in lev.values]
        acc = [mp.mpf(0)] * len(wt)
        if K - 1 <= _POWER_TABLE_MAX:
            powq = [[mp.mpf(1)] for _ in range(L)]
            for j in range(L):
                for _ in range(K - 1):
                    powq[j].append(powq[j][-1] * q[j])
        else:  # few compositions of a huge K (one or two levels): powers on demand, not K − 1 of them
            powq = [_Powers(qj, mp) for qj in q]

        def rec(j, rem, prob, S):
            if j == L - 1:
                pr = prob * powq[j][rem]
                S = S + rem * w[j]
                for i, a in enumerate(wt):
                    acc[i] += pr * a / (a + S)
                return
            for c in range(rem + 1):
                rec(j + 1, rem - c, prob * mp.binomial(rem, c) * powq[j][c], S + c * w[j])

        rec(0, K - 1, mp.mpf(1), mp.mpf(0))
        vals = [K * a for a in acc]
        out = np.array([float(mp.log(v)) if log else float(v) for v in vals])
    return out[lev.index]


# --------------------------------------------------------------------------- derivations


@functools.cache
def curation_laplace_integral():
    r"""The Laplace representation of :math:`H^K_p`, derived with sympy.

    Returns ``(H_s, H_u)``: sympy ``Integral`` objects in the symbols ``K, w`` (:math:`w=e^{r(x)}`)
    and the function :math:`\varphi`, over :math:`s\in(0,\infty)` and, after the substitution
    :math:`s=e^u`, over :math:`u\in\mathbb R` (the form the quadrature integrates).

    Notes
    -----
    Assumptions: :math:`a=w+S_{K-1}>0`, :math:`S_{K-1}=\sum_{i<K}e^{r(X_i)}` with iid
    :math:`X_i\sim p`. From :math:`1/a=\int_0^\infty e^{-sa}ds` (sympy computes it),
    Tonelli (positive integrand) and independence,
    :math:`H=Kw\,\mathbb E[1/(w+S)]=Kw\int_0^\infty e^{-sw}\,\mathbb E[e^{-sS}]ds
    =Kw\int_0^\infty e^{-sw}\varphi(s)^{K-1}ds` (theory.md §1.2 item 3).

    Examples
    --------
    >>> from selfconsume.theory import curation_laplace_integral
    >>> H_s, H_u = curation_laplace_integral()
    >>> H_u.limits[0][1:]
    (-oo, oo)
    """
    import sympy as sp

    s, a, w = sp.symbols("s a w", positive=True)
    u = sp.symbols("u", real=True)
    K = sp.symbols("K", positive=True, integer=True)
    phi = sp.Function("varphi")
    inv_a = sp.integrate(sp.exp(-s * a), (s, 0, sp.oo))
    if sp.simplify(inv_a - 1 / a) != 0:  # the identity the whole representation rests on
        raise AssertionError("sympy did not return 1/a for the Laplace integral")
    S = sp.symbols("S", positive=True)
    # 1/(w + S) as the Laplace integral, then E over S_{K-1}: e^{-sS} -> φ(s)^{K-1}.
    integrand = (K * w * sp.exp(-s * a)).subs(a, w + S)
    integrand = sp.powsimp(sp.expand_power_exp(integrand))
    integrand = integrand.replace(lambda e: e.has(S) and e.func == sp.exp,
                                  lambda e: sp.exp(sp.expand(e.args[0]).coeff(S, 0)) * phi(s) ** (K - 1))
    H_s = sp.Integral(integrand, (s, 0, sp.oo))
    H_u = H_s.transform(s, sp.exp(u))
    return H_s, H_u


@functools.cache
def curation_H_large_K_coefficients():
    r"""Coefficients :math:`c_0,c_1,c_2` of :math:`H^K_p(x)=c_0+c_1/K+c_2/K^2+O(K^{-3})`, derived with sympy.

    Returns
    -------
    dict
        ``{"c0": Expr, "c1": Expr, "c2": Expr, "symbols": (w, mu, v, kappa3, kappa4)}`` with
        :math:`w=e^{r(x)}`, :math:`\mu=\mathbb E_pe^r`, :math:`v=\mathrm{Var}_pe^r` and
        :math:`\kappa_3` the third cumulant of :math:`e^r` under p (:math:`\kappa_4` cancels).

    Notes
    -----
    :math:`H=Kw\,\mathbb E[1/(A+\Delta)]` with :math:`A=(K-1)\mu+w` and
    :math:`\Delta=S_{K-1}-(K-1)\mu`, whose moments are :math:`\mathbb E\Delta^2=(K-1)v`,
    :math:`\mathbb E\Delta^3=(K-1)\kappa_3`, :math:`\mathbb E\Delta^4=3(K-1)^2v^2+(K-1)\kappa_4`;
    the geometric expansion to :math:`\Delta^4` is exact to :math:`O(K^{-2})`, then sympy expands
    in :math:`\varepsilon=1/K`. It reproduces theory.md §1.2 item 4:
    :math:`c_0=w/\mu`, :math:`c_1=\frac{w}{\mu}\big(\frac{v}{\mu^2}+1-\frac{w}{\mu}\big)` (Lemma 2.1
    is :math:`c_0`).

    Examples
    --------
    >>> import sympy as sp
    >>> from selfconsume.theory import curation_H_large_K_coefficients
    >>> c = curation_H_large_K_coefficients()
    >>> w, mu, v, k3, k4 = c["symbols"]
    >>> sp.simplify(c["c1"] - w / mu * (v / mu**2 + 1 - w / mu))
    0
    """
    import sympy as sp

    w, mu, v, k3, k4, eps = sp.symbols("w mu v kappa3 kappa4 epsilon", positive=True)
    K = 1 / eps
    A = (K - 1) * mu + w
    mom = {0: 1, 1: 0, 2: (K - 1) * v, 3: (K - 1) * k3, 4: 3 * (K - 1) ** 2 * v**2 + (K - 1) * k4}
    H = K * w * sum((-1) ** j * mom[j] / A ** (j + 1) for j in range(5))
    ser = sp.series(H, eps, 0, 3).removeO()
    c = {f"c{i}": sp.factor(sp.simplify(ser.coeff(eps, i))) for i in range(3)}
    c["symbols"] = (w, mu, v, k3, k4)
    return c


@functools.cache
def _large_K_numeric():
    import sympy as sp

    c = curation_H_large_K_coefficients()
    syms = c["symbols"]
    return tuple(sp.lambdify(syms, c[f"c{i}"], "numpy") for i in range(3))


def curation_H_large_K(p, reward, K, *, order=1):
    r"""Large-K expansion of :math:`H^K_p` to ``order`` 0, 1 or 2 in 1/K (theory.md §1.2 item 4).

    Parameters
    ----------
    p, reward
        As in :func:`curation_H`.
    K : int or numpy.inf
        ``numpy.inf`` gives :math:`c_0=e^{r}/\mathbb E_pe^r` (Lemma 2.1) whatever the order.
    order : {0, 1, 2}

    Returns
    -------
    ndarray, shape (m,)

    Notes
    -----
    :math:`H\approx c_0+c_1/K+c_2/K^2` with the coefficients of
    :func:`curation_H_large_K_coefficients`, evaluated with rewards shifted by the top of the
    support (every coefficient is scale invariant in :math:`e^r`). The error is
    :math:`O(K^{-order-1})`.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import curation_H, curation_H_large_K
    >>> p, r = np.array([0.3, 0.7]), np.array([1.0, 0.0])
    >>> err1 = np.abs(curation_H(p, r, 1000) - curation_H_large_K(p, r, 1000, order=1)).max()
    >>> err2 = np.abs(curation_H(p, r, 1000) - curation_H_large_K(p, r, 1000, order=2)).max()
    >>> bool(err1 < 1e-6 and err2 < 1e-9)
    True
    """
    p, r = _check_p_reward(p, reward)
    K = _check_K(K)
    order = check_int("order", order, min_value=0, max_value=2)
    lev = _levels(p, r)
    w = np.exp(r - lev.top)
    pos = p > 0
    ws = w[pos]
    ps = p[pos] / p[pos].sum()
    mu = float(ps @ ws)
    d = ws - mu
    v = float(ps @ d**2)
    k3 = float(ps @ d**3)
    c0, c1, c2 = _large_K_numeric()
    out = np.asarray(c0(w, mu, v, k3, 0.0), dtype=float) * np.ones_like(w)
    if K == math.inf:
        return out
    if order >= 1:
        out = out + c1(w, mu, v, k3, 0.0) / K
    if order >= 2:
        out = out + c2(w, mu, v, k3, 0.0) / K**2
    return out


def tilt(p0, reward, t):
    r"""The RLHF tilt :math:`p_0e^{tr}/\mathbb E_{p_0}e^{tr}` (Lemma 2.1 iterated t times).

    Parameters
    ----------
    p0, reward
        As in :func:`curation_H`.
    t : float
        :math:`t\ge0`; ``numpy.inf`` gives :math:`p^*`, :math:`p_0` restricted to its top reward
        level and renormalised (the limit of Theorem 2.1).

    Returns
    -------
    ndarray, shape (m,)

    Notes
    -----
    The :math:`K=\infty` map :math:`p\mapsto pe^r/\mathbb E_pe^r` composes to
    :math:`p_t=p_0e^{tr}/\mathbb E_{p_0}e^{tr}` — the maximiser of
    :math:`\mathbb E_p r-\frac1t\mathrm{KL}(p\|p_0)` (theory.md §1.3).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import tilt
    >>> np.round(tilt([0.5, 0.5], [np.log(3.0), 0.0], 1), 12).tolist()
    [0.75, 0.25]
    >>> tilt([0.2, 0.3, 0.5], [1.0, 1.0, 0.0], np.inf).tolist()
    [0.4, 0.6, 0.0]
    """
    p0, r = _check_p_reward(p0, reward, p_name="p0")
    t = check_real("t", t, min_value=0.0, allow_inf=True)
    pos = p0 > 0
    top = r[pos].max()
    out = np.zeros_like(p0)
    if t == math.inf:
        sel = pos & (r == top)
        out[sel] = p0[sel] / p0[sel].sum()
        return out
    lt = np.log(p0[pos]) + t * (r[pos] - top)
    out[pos] = np.exp(lt - special.logsumexp(lt))
    return out
