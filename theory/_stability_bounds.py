r"""The constants α, L, ε of the stability theorems and the contraction factors they give.

:func:`model_constants` measures the strong concavity α, the Lipschitz constant L of the
score and the distance ε between the truth and the model at :math:`\theta^*`;
:math:`\rho_B` (Bertrand et al. 2024 Thm 1, its Neumann series), :math:`\rho_F` (Ferbach
et al. 2024 Thm 2.2) and a sharper :math:`\rho_\sharp` derived here bound the spectral radius
of the exact Jacobian (``shared/theory.md`` §1.6, §2.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize

from selfconsume._validation import check_lam, check_real, check_interval

from ._quadrature import _expect, _Law
from ._stability_families import _check_pair
from ._stability_jacobian import _curvatures
from ._stability_operator import _fixed_point_cached
from ._symbols import ALPHA, EPS, LAM, LIPSCHITZ

__all__ = [
    'model_constants',
    'ModelConstants',
    'rho_B',
    'rho_F',
    'rho_sharp',
    'rho_B_expr',
    'rho_F_expr',
    'rho_sharp_expr',
    'condition_B',
    'condition_F',
]


def _w1(p: _Law, q: _Law) -> float:
    """W1(p, q) = ∫|F_p − F_q| dx, split at the crossings of the two CDFs."""
    # crossing search on both laws' quadrature nodes: dense in the bulk, spread into the tails
    g = np.unique(np.concatenate([p.rule[0], q.rule[0], p.breakpoints, q.breakpoints]))
    g = g[np.isfinite(g)]
    med = 0.5 * (float(p.ppf(np.array([0.5]))[0]) + float(q.ppf(np.array([0.5]))[0]))

    def D(x):
        x = np.asarray(x, dtype=float)
        # right of the median use survival functions: no cancellation in the upper tail
        return np.where(x > med, q.sf(x) - p.sf(x), p.cdf(x) - q.cdf(x))

    dg = D(g)
    nz = np.nonzero(dg)[0]  # exact zeros (saturated tails) carry no sign
    g, dg = g[nz], dg[nz]
    roots = []
    for a, b, fa, fb in zip(g[:-1], g[1:], dg[:-1], dg[1:]):
        if fa * fb < 0:
            roots.append(optimize.brentq(lambda s: float(D(s)), a, b, xtol=1e-15, rtol=1e-15))
    # pieces end at crossings (kinks of |D|), at the laws' own kinks (kinks of D') and at
    # finite ends of the supports (where D starts)
    ends = {v for v in (*p.support, *q.support) if math.isfinite(v)}
    edges = [-math.inf, *sorted(set(roots) | {med} | set(p.breakpoints) | set(q.breakpoints) | ends), math.inf]
    lo = min(p.support[0], q.support[0])
    hi = max(p.support[1], q.support[1])
    edges = [v for v in edges if lo <= v <= hi] if math.isfinite(lo) or math.isfinite(hi) else edges
    edges = sorted(set(edges) | {lo, hi})
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        if a == b:
            continue
        # integrate D (one sign per piece) with DE rules on the piece (density-free: log 1 = 0)
        piece = _Law(lambda s: np.zeros_like(s), support=(a, b), center=med, scale=max(p.scale, q.scale),
                     label="W1 piece")
        # a CDF integrated numerically (generic families) carries ~1e-12 noise: accept 1e-10 there
        atol = None if (p.exact_cdf and q.exact_cdf) else 1e-10
        total += abs(float(_expect(piece, D, atol=atol)))
    return total


@dataclass(frozen=True)
class ModelConstants:
    r"""The constants of [B] Thm 1 / [F] Thm 2.2 measured on a model (``theory.md`` §1.6, §2.3).

    Attributes
    ----------
    alpha : float
        :math:`\alpha=\lambda_{\min}(-A)`, :math:`A=\mathbb E_\text{data}\nabla^2\log p_{\theta^*}`.
    L : float
        :math:`\sup_{x\in\text{domain}}\|\partial_x\nabla^2_\theta\log p_{\theta^*}(x)\|_2`.
    eps : float
        :math:`\varepsilon=W_1(p_{\theta^*},p_\text{data})`.
    domain : tuple of float
        Where the sup defining ``L`` was taken.
    theta_star : ndarray
    A, B : ndarray
    mismatch : float
        :math:`\|A-B\|_2=\|N-M\|_2`; Kantorovich–Rubinstein gives ``mismatch <= L*eps``
        when ``L`` is a global Lipschitz constant.
    """

    alpha: float
    L: float
    eps: float
    domain: tuple
    theta_star: np.ndarray
    A: np.ndarray
    B: np.ndarray
    mismatch: float

    def rho_B(self, lam):
        return rho_B(lam, self.alpha, self.L, self.eps)

    def rho_F(self, lam):
        return rho_F(lam, self.alpha, self.L, self.eps)

    def rho_sharp(self, lam):
        return rho_sharp(lam, self.alpha, self.L, self.eps)

    def condition_B(self, lam):
        return condition_B(lam, self.alpha, self.L, self.eps)

    def condition_F(self, lam):
        return condition_F(lam, self.alpha, self.L, self.eps)


def _lipschitz(family, th, domain, extra=()):
    num = family._num
    lo, hi = domain
    g = np.unique(np.concatenate([np.linspace(lo, hi, 4001), [v for v in extra if lo <= v <= hi]]))

    def size(x):
        D = num.dxhess(np.atleast_1d(np.asarray(x, dtype=float)), th)  # (d, d, n)
        if family.dim == 1:
            return np.abs(D[0, 0])
        return np.abs(np.linalg.eigvalsh(np.moveaxis(D, -1, 0))).max(axis=-1)

    v = size(g)
    if not np.all(np.isfinite(v)):
        raise FloatingPointError("the x-derivative of the Hessian is not finite on the domain")
    best = float(v.max())
    order = np.argsort(v)[::-1][:5]
    for i in order:  # polish the largest grid values: the sup lies between neighbours
        a, b = g[max(i - 1, 0)], g[min(i + 1, g.size - 1)]
        if b > a:
            r = optimize.minimize_scalar(lambda s: -float(size(s)[0]), bounds=(a, b), method="bounded",
                                         options={"xatol": 1e-12 * (1 + abs(a))})
            best = max(best, -float(r.fun))
    return best


def model_constants(family, truth, domain=None) -> ModelConstants:
    r"""Measure :math:`\alpha`, :math:`L`, :math:`\varepsilon` of the stability theorems on a model.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
    domain : (float, float), optional
        Bounded interval on which the Lipschitz constant of
        :math:`x\mapsto\nabla^2_\theta\log p_{\theta^*}(x)` is taken. Default: the smallest
        interval holding all but :math:`10^{-6}` of the mass of :math:`p_\text{data}` and of
        :math:`p_{\theta^*}` in each tail. (For the Student-t and mixture-weight families the
        derivative is bounded on :math:`\mathbb R` and its sup lies well inside this
        interval; for the Gaussian family it grows linearly and ``L`` depends on the domain.)

    Returns
    -------
    ModelConstants

    Notes
    -----
    :math:`\alpha=\lambda_{\min}(-\mathbb E_\text{data}\nabla^2\log p_{\theta^*})` (quadrature);
    :math:`L=\sup_x\|\partial_x\nabla^2_\theta\log p_{\theta^*}(x)\|_2` (grid of 4001 points,
    the five largest values polished by bounded scalar maximisation);
    :math:`\varepsilon=W_1=\int|F_{\theta^*}-F_\text{data}|\,dx` split at the crossings of the
    CDFs (double-exponential quadrature per piece). Assumptions of [B] Thm 1 (§2.3) and
    [F] Thm 2.2 (§1.6).

    Examples
    --------
    >>> from selfconsume.theory import model_constants, student_t_family, gaussian_truth
    >>> mc = model_constants(student_t_family(4.0), gaussian_truth())
    >>> bool(mc.mismatch <= mc.L * mc.eps)      # Kantorovich–Rubinstein
    True
    """
    family, truth = _check_pair(family, truth)
    if domain is not None:  # a bounded interval, checked before any work
        domain = check_interval("domain", domain, allow_inf=False)
    if truth.max_moment <= 1:
        raise ValueError(f"truth {truth.name!r} has no finite mean: W1(p_θ*, p_data) is infinite")
    th = _fixed_point_cached(family, truth)
    law = family.law(th)
    if law.mean is None or not math.isfinite(law.mean):
        raise ValueError(f"the fitted model {family.name!r} at θ* = {th} has no finite mean: W1 is infinite")
    if domain is None:
        u = np.array([1e-6, 1 - 1e-6])
        qa, qb = truth.law.ppf(u), law.ppf(u)
        domain = (float(min(qa[0], qb[0])), float(max(qa[1], qb[1])))
    A, B = _curvatures(family, truth, th)
    alpha = float(np.linalg.eigvalsh(-A).min())
    if not alpha > 0:
        raise ValueError(f"E_data ∇² log p at θ* is not negative definite (alpha = {alpha:g}): θ* is not a strict maximum")
    L = _lipschitz(family, th, domain, extra=[*truth.law.breakpoints, *law.breakpoints, float(th[0])])
    eps = _w1(law, truth.law)
    mismatch = float(np.linalg.norm(A - B, 2))
    return ModelConstants(alpha, L, eps, domain, th.copy(), A, B, mismatch)


@lru_cache(maxsize=None)
def rho_B_expr() -> sp.Expr:
    r""":math:`\rho_B` of [B] Thm 1, derived from its Neumann-series proof.

    With :math:`K=A^{-1}B` and :math:`\|K\|\le\kappa=1+L\varepsilon/\alpha`,
    :math:`J=\lambda(I+\lambda K)^{-1}K=\sum_{k\ge0}(-1)^k\lambda^{k+1}K^{k+1}`, so
    :math:`\|J\|\le\sum_k(\lambda\kappa)^{k+1}=\lambda\kappa/(1-\lambda\kappa)`, i.e.

    .. math:: \rho_B=\frac{\lambda(\alpha+\varepsilon L)}{\alpha-\lambda(\alpha+\varepsilon L)}.
    """
    k = sp.Symbol("k", integer=True, nonnegative=True)
    kappa = sp.Symbol("kappa", positive=True)
    series = sp.summation((LAM * kappa) ** (k + 1), (k, 0, sp.oo))
    conv = [a for a in series.atoms(sp.Piecewise)][0].args[0][0]  # the convergent branch λκ < 1
    closed = series.subs([a for a in series.atoms(sp.Piecewise)][0], conv)
    return sp.factor(sp.cancel(closed.subs(kappa, 1 + LIPSCHITZ * EPS / ALPHA)))


@lru_cache(maxsize=None)
def rho_F_expr() -> sp.Expr:
    r""":math:`\rho_F` of [F] Thm 2.2 (as reported, 🔶, ``theory.md`` §1.6).

    It is the bound :math:`\lambda\,\sup\|N\|/\inf\lambda_{\min}(M+\lambda N)` with
    :math:`M=\alpha I` and :math:`\|N-M\|\le L\varepsilon`:

    .. math:: \rho_F=\frac{\lambda(\alpha+\varepsilon L)}{\alpha+\lambda(\alpha-\varepsilon L)}.
    """
    n_sup = ALPHA + LIPSCHITZ * EPS
    den_inf = ALPHA + LAM * (ALPHA - LIPSCHITZ * EPS)
    return LAM * n_sup / den_inf


@lru_cache(maxsize=None)
def rho_sharp_expr() -> sp.Expr:
    r"""A sharper bound on :math:`\|J\|_2` derived here (beyond [B], [F]).

    With :math:`N=M+\Delta`, :math:`c=\lambda/(1+\lambda)`: :math:`J-cI=c(M+\lambda N)^{-1}\Delta`
    (sympy-checked identity), and :math:`\lambda_{\min}(M+\lambda N)\ge\alpha+\lambda(\alpha-L\varepsilon)`,
    :math:`\|\Delta\|\le L\varepsilon`, so

    .. math:: \|J\|_2\le\rho_\sharp=\frac{\lambda}{1+\lambda}\Big(1+\frac{L\varepsilon}{\alpha+\lambda(\alpha-L\varepsilon)}\Big),
              \qquad \rho_F-\rho_\sharp=\frac{2\lambda^2L\varepsilon}{(1+\lambda)(\alpha+\lambda(\alpha-L\varepsilon))}\ge0.

    :math:`\rho_\sharp<1\iff\lambda(2L\varepsilon-\alpha)<\alpha`: for :math:`L\varepsilon\le\alpha/2`
    every :math:`\lambda` contracts, where [F] needs :math:`\lambda<\alpha/(2L\varepsilon)`.
    """
    # the identity J − cI = c (M + λN)^{-1}(N − M), for generic symmetric 2×2 M, N
    m = sp.symbols("m11 m12 m22")
    nn = sp.symbols("n11 n12 n22")
    M = sp.Matrix([[m[0], m[1]], [m[1], m[2]]])
    N = sp.Matrix([[nn[0], nn[1]], [nn[1], nn[2]]])
    c = LAM / (1 + LAM)
    gap = LAM * (M + LAM * N).inv() * N - c * sp.eye(2) - c * (M + LAM * N).inv() * (N - M)
    if sp.simplify(gap) != sp.zeros(2, 2):
        raise RuntimeError("J − cI = c(M+λN)⁻¹(N−M) failed")
    lmin = ALPHA + LAM * (ALPHA - LIPSCHITZ * EPS)
    return sp.factor(c * (1 + LIPSCHITZ * EPS / lmin))


def _lambdify_rho(expr):
    return sp.lambdify((LAM, ALPHA, LIPSCHITZ, EPS), expr, modules="numpy")


@lru_cache(maxsize=None)
def _rho_funcs():
    return {"B": _lambdify_rho(rho_B_expr()), "F": _lambdify_rho(rho_F_expr()), "sharp": _lambdify_rho(rho_sharp_expr())}


def _check_constants(lam, alpha, L, eps):
    lam = check_lam(lam)
    alpha = check_real("alpha", alpha, min_value=0.0, min_inclusive=False)
    L = check_real("L", L, min_value=0.0)
    eps = check_real("eps", eps, min_value=0.0)
    return lam, alpha, L, eps


def rho_B(lam, alpha, L, eps) -> float:
    r"""[B] Thm 1 contraction factor :math:`\lambda(\alpha+\varepsilon L)/(\alpha-\lambda(\alpha+\varepsilon L))`.

    ``inf`` where the denominator is :math:`\le0` (no bound). See :func:`rho_B_expr`.

    Examples
    --------
    >>> from selfconsume.theory import rho_B
    >>> rho_B(0.25, 1.0, 0.0, 0.0)   # λ/(1-λ) when well specified
    0.3333333333333333
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha - lam * (alpha + eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["B"](lam, alpha, L, eps))


def rho_F(lam, alpha, L, eps) -> float:
    r"""[F] Thm 2.2 factor :math:`\lambda(\alpha+\varepsilon L)/(\alpha+\lambda(\alpha-\varepsilon L))`.

    ``inf`` where the denominator is :math:`\le0`. See :func:`rho_F_expr`.

    Examples
    --------
    >>> from selfconsume.theory import rho_F
    >>> rho_F(1.0, 1.0, 0.0, 0.0)    # λ/(1+λ) when well specified
    0.5
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha + lam * (alpha - eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["F"](lam, alpha, L, eps))


def rho_sharp(lam, alpha, L, eps) -> float:
    r"""The sharper bound :math:`\frac{\lambda}{1+\lambda}(1+\frac{L\varepsilon}{\alpha+\lambda(\alpha-L\varepsilon)})`
    on :math:`\|J\|_2` (derived here; see :func:`rho_sharp_expr`). ``inf`` where the
    denominator is :math:`\le0`.

    Examples
    --------
    >>> from selfconsume.theory import rho_sharp, rho_F
    >>> rho_sharp(3.0, 1.0, 0.4, 1.0) < 1 <= rho_F(3.0, 1.0, 0.4, 1.0)
    True
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha + lam * (alpha - eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["sharp"](lam, alpha, L, eps))


def condition_B(lam, alpha, L, eps) -> bool:
    r"""[B] Thm 1's condition :math:`\lambda(1+L\varepsilon/\alpha)<1/2` (⇔ :math:`\rho_B<1`)."""
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    return bool(lam * (1.0 + L * eps / alpha) < 0.5)


def condition_F(lam, alpha, L, eps) -> bool:
    r"""[F] Thm 2.2's conditions :math:`L\varepsilon<\alpha` and :math:`\lambda<\alpha/(2L\varepsilon)`."""
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    le = L * eps
    return bool(le < alpha and (le == 0.0 or lam < alpha / (2.0 * le)))


