r"""Curated retraining on a finite space: the exact Bradley–Terry operator and its bounds.

Ferbach, Bertrand, Bose, Gidel (NeurIPS 2024, arXiv 2407.09499), ``shared/theory.md``
§1.1–1.5 and §1.7. A user sees K samples of the model p and keeps one with probability
:math:`e^{r(x_k)}/\sum_j e^{r(x_j)}`; the kept sample has law :math:`p\,H^K_p` with

.. math:: H^K_p(x)=\mathbb E_{X_{1..K-1}\sim p}\Big[\frac{K e^{r(x)}}{e^{r(x)}+\sum_i e^{r(X_i)}}\Big].

Everything here depends on p and r only through the distinct reward levels and their
masses, and is invariant under adding a constant to r; so every computation shifts the
rewards by the top level :math:`r^*` of the support and works in log space (rewards in
±700, K up to 10⁶ and beyond stay finite).

Derivations (sympy, run once on first use and cached): :func:`curation_laplace_integral`,
:func:`curation_H_large_K_coefficients`, :func:`thm23_gain_sequence`,
:func:`thm24_ratio_sequence`, :func:`mixed_fixed_point_inf_expr`, :func:`level_rate_expr`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import optimize, special

from selfconsume._validation import check_finite_array, check_int, check_probability_vector, check_real

__all__ = [
    "curation_H",
    "curated_distribution",
    "curation_H_logistic",
    "curation_H_enumerated",
    "curation_H_large_K",
    "curation_H_large_K_coefficients",
    "curation_laplace_integral",
    "tilt",
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


def _check_lam(lam):
    return check_real("lam", lam, min_value=0.0)


def _kernels():
    # Imported at call time: the numeric core lives with the other curation kernels (one
    # Numba cache file), and importing it from here at module load would make the
    # theory package depend on the simulators package's import order.
    from selfconsume.simulators import _curation_kernels

    return _curation_kernels


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
    _kernels().log_h_levels(np.ascontiguousarray(lw), np.ascontiguousarray(q), lw_all, float(K), out)
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
    every K, p and reward (see ``selfconsume.simulators._curation_kernels``); the cost does
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
        mpmath decimal digits.
    log : bool
        Return log H.
    max_terms : int
        Refuse (ValueError) when the number of compositions
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
    dps = check_int("dps", dps, min_value=15)
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
        powq = [[mp.mpf(1)] for _ in range(L)]
        for j in range(L):
            for _ in range(K - 1):
                powq[j].append(powq[j][-1] * q[j])

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


# --------------------------------------------------------------------------- moments and bounds


def _exp(x):
    """e^x as a float, ``inf`` past the float64 range (the log forms stay finite)."""
    return math.exp(x) if x < 709.78 else math.inf


def _shifted_moments(p, r):
    """(r*, E_p w, Var_p w) with w = e^{r − r*}, r* the top of the support (Var from centred terms)."""
    pos = p > 0
    top = float(r[pos].max())
    w = np.exp(r[pos] - top)
    ps = p[pos]
    mu = float(ps @ w)
    var = float(ps @ (w - mu) ** 2)
    return top, mu, var


def expected_exp_reward(p, reward, *, log=False):
    r""":math:`\mathbb E_p[e^{r}]` (or its log, finite for any finite reward).

    Examples
    --------
    >>> from selfconsume.theory import expected_exp_reward
    >>> round(expected_exp_reward([0.5, 0.5], [0.0, 700.0], log=True), 10)
    699.3068528194
    """
    p, r = _check_p_reward(p, reward)
    top, mu, _ = _shifted_moments(p, r)
    return top + math.log(mu) if log else _exp(top) * mu


def variance_exp_reward(p, reward, *, log=False):
    r""":math:`\mathrm{Var}_p[e^{r}]` (or its log; ``-inf`` when the support is one level).

    Computed as :math:`e^{2r^*}\mathrm{Var}_p[e^{r-r^*}]` from centred terms (no cancellation).

    Examples
    --------
    >>> from selfconsume.theory import variance_exp_reward
    >>> round(variance_exp_reward([0.5, 0.5], [0.0, 0.0]), 12), round(variance_exp_reward([0.5, 0.5], [0.0, 1.0]), 12)
    (0.0, 0.738123110503)
    """
    p, r = _check_p_reward(p, reward)
    top, _, var = _shifted_moments(p, r)
    if log:
        return 2 * top + math.log(var) if var > 0 else -math.inf
    return _exp(2 * top) * var if var > 0 else 0.0


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
    top, _, var = _shifted_moments(p, r)
    f = 1.0 if K == math.inf else (K - 1) / K
    scale = 2 * top - float(r[p > 0].min()) if upper else top
    if log:
        return math.log(f) + scale + math.log(var) if f > 0 and var > 0 else -math.inf
    return f * var * _exp(scale) if f * var > 0 else 0.0


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
    lam = _check_lam(lam)
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
        :math:`\log c_t` from :func:`thm24_ratio_sequence`, finite for every λ and K.

    Returns
    -------
    float

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
    """
    K = _check_K(K)
    lam = _check_lam(lam)
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
        :math:`\rho_j<1` below when K ≥ 2). ``-log P_t(r=r^*)`` decays like :math:`\rho_2^t`.

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
    the denominator at the top level, written so that no denominator suffers cancellation.

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import mixed_fixed_point_inf
    >>> fp = mixed_fixed_point_inf([0.5, 0.5], [0.0, 1.0], 0.5)
    >>> round(float(fp.p.sum()), 12), bool(abs(fp.p @ np.exp([0.0, 1.0]) - fp.Z) < 1e-12)
    (1.0, True)
    """
    p, r = _check_p_reward(p_ref, reward, p_name="p_ref")
    lam = _check_lam(lam)
    pos = p > 0
    top = float(r[pos].max())
    if lam == 0:
        _, mu, _ = _shifted_moments(p, r)
        return MixedFixedPoint(p.copy(), _exp(top) * mu, top + math.log(mu))
    q = p[pos]
    one_minus_w = -np.expm1(r[pos] - top)  # 1 − w, exact for w near 1
    a = 1.0 + lam

    def denom(d):  # 1 + λ − y w with y = 1 + λ − d
        return d + (a - d) * one_minus_w

    def g(d):
        return float(np.sum(q / denom(d))) - 1.0

    qtop = float(q[one_minus_w == 0].sum())
    lo = qtop / (2.0 * a)  # g(lo) ≥ qtop/lo − 1 = 2a − 1 > 0
    d = optimize.brentq(g, lo, a, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    out = np.zeros_like(p)
    out[pos] = q / denom(d)
    y = a - d  # = λ/z with z = Z e^{−r*}
    log_Z = top + math.log(lam) - math.log(y)
    return MixedFixedPoint(out, _exp(log_Z), log_Z)
