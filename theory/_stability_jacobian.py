r"""The exact Jacobian of :math:`\mathcal G_\lambda` at :math:`\theta^*`, by sympy implicit differentiation.

Differentiating the first-order condition of :math:`\mathcal G_\lambda` gives
:math:`J=\lambda(A+\lambda B)^{-1}B` with :math:`A=-\mathbb E_{\rm data}\nabla^2\log p_{\theta^*}` and
:math:`B=\mathbb E_{p_{\theta^*}}\nabla\log p\,\nabla\log p^\top` (Ferbach et al. 2024 Thm 2.2;
``shared/theory.md`` §1.6, 🧮): :math:`\lambda/(1+\lambda)\,I` for any exponential family
and any truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from selfconsume._validation import check_lam

from ._quadrature import _expect
from ._stability_families import _as_family, _check_pair
from ._stability_operator import _fixed_point_cached
from ._symbols import _P, DATA_DENSITY, LAM, X

__all__ = [
    'jacobian_expr',
    'stability_jacobian',
    'StabilityJacobian',
]

# --------------------------------------------------------------------------------------
# The exact Jacobian: sympy implicit differentiation
# --------------------------------------------------------------------------------------


def _moment_symbol(k):
    return sp.Symbol(f"m_{k}", real=True)  # E_data[x^k]


def _reduce_data(g):
    """E_data[g] as moments m_k when g is polynomial in x, else an unevaluated ∫ q g dx."""
    ge = sp.expand(g)
    if not ge.has(X):
        return ge  # ∫ q = 1
    if ge.is_polynomial(X):
        poly = sp.Poly(ge, X)
        return sum(c * (_moment_symbol(m[0]) if m[0] else 1) for m, c in zip(poly.monoms(), poly.coeffs()))
    return sp.Integral(DATA_DENSITY(X) * sp.factor(sp.cancel(g)), (X, -sp.oo, sp.oo))


@lru_cache(maxsize=64)
def _model_moment(family, k):
    dens = sp.exp(family.logpdf)
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    r = sp.integrate(X**k * dens, (X, lo, hi), conds="none")
    return None if r.has(sp.Integral) else sp.simplify(r)


def _reduce_model(family, g):
    """E_θ[g]: g if x-free (∫p = 1); model moments (sympy integrals) if polynomial; else ∫ p g."""
    ge = sp.expand(g)
    if not ge.has(X):
        return ge
    if ge.is_polynomial(X) and not family.symbolic_only:
        poly = sp.Poly(ge, X)
        total = 0
        for m, c in zip(poly.monoms(), poly.coeffs()):
            mk = _model_moment(family, m[0]) if m[0] else 1
            if mk is None:
                break
            total += c * mk
        else:
            return total
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    return sp.Integral(sp.exp(family.logpdf) * sp.factor(sp.cancel(g)), (X, lo, hi))


@lru_cache(maxsize=32)
def _jacobian_derivation(family):
    th = family.params
    thp = tuple(sp.Symbol(f"{p.name}'", **p.assumptions0) for p in th)
    lp = family.logpdf
    lpp = lp.subs(dict(zip(th, thp)), simultaneous=True)
    score_p = [sp.diff(lpp, a) for a in thp]
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    p_abs = _P(X, *th)
    # first-order condition of θ' = G_λ(θ): F(θ, θ') = 0
    F = sp.Matrix([sp.Integral(DATA_DENSITY(X) * s, (X, lo, hi)) + LAM * sp.Integral(p_abs * s, (X, lo, hi))
                   for s in score_p])
    F_thp = F.jacobian(thp)
    F_th = F.jacobian(th)
    # score identity ∇_θ p_θ = p_θ ∇_θ log p_θ, then evaluate at the fixed point θ' = θ = θ*
    subs_d = {sp.Derivative(p_abs, a): p_abs * sp.diff(lp, a) for a in th}
    at = dict(zip(thp, th))
    unsub = lambda e: e.replace(lambda a: isinstance(a, sp.Subs), lambda a: a.doit())  # noqa: E731
    F_th = unsub(F_th.xreplace(subs_d).subs(at, simultaneous=True))
    F_thp = unsub(F_thp.subs(at, simultaneous=True))
    d = len(th)
    score = [sp.diff(lp, a) for a in th]
    hess = [[sp.diff(lp, a, b) for b in th] for a in th]
    # Bartlett's identity, checked pointwise: ∂²p = p (∂² log p + ∂log p ∂log p^T); with
    # ∫∂²p = ∂²∫p = 0 (normalisation) the cross term λ∫p s sᵀ equals −λ B.
    dens = sp.exp(lp)
    if not family.symbolic_only:
        for i in range(d):
            for j in range(d):
                gap = sp.diff(dens, th[i], th[j]) - dens * (hess[i][j] + score[i] * score[j])
                if sp.simplify(gap) != 0:
                    raise RuntimeError(f"Bartlett identity failed for {family.name}: {gap}")
    A = sp.Matrix(d, d, lambda i, j: _reduce_data(hess[i][j]))
    B = sp.Matrix(d, d, lambda i, j: _reduce_model(family, hess[i][j]))
    # check the derived F-blocks are the integrals claimed: F_thp = ∫q H + λ∫p H, F_th = λ∫p s sᵀ
    for i in range(d):
        for j in range(d):
            integrands = [a.function for a in F_thp[i, j].atoms(sp.Integral)]
            want = (DATA_DENSITY(X) * hess[i][j], p_abs * hess[i][j])
            if not all(any(sp.simplify(e - w) == 0 for w in want) for e in integrands):
                raise RuntimeError(f"unexpected F_θ' integrands {integrands}")
            cross = [a.function for a in F_th[i, j].atoms(sp.Integral)]
            if not all(sp.simplify(c - p_abs * score[i] * score[j]) == 0 for c in cross):
                raise RuntimeError(f"unexpected F_θ integrands {cross}")
    J = LAM * (A + LAM * B).inv() * B if d > 1 else sp.Matrix([[LAM * B[0, 0] / (A[0, 0] + LAM * B[0, 0])]])
    return F, A, B, J, score


@lru_cache(maxsize=32)
def _jacobian_expr_cached(family):
    F, A, B, J, score = _jacobian_derivation(family)
    if family.exponential:
        # Exponential family: E_data[∇ log p_θ*] = 0 is moment matching; eliminate the data
        # moments that appear through it. (Natural parameters: H is x-free and A = B at once.)
        foc = [_reduce_data(s) for s in score]
        ms = sorted(set().union(*(e.free_symbols for e in list(A) + foc)) - set(family.params) - {LAM},
                    key=lambda s: s.name)
        ms = [m for m in ms if m.name.startswith("m_")]
        if ms:
            sol = sp.solve(foc, ms, dict=True)
            if len(sol) != 1:
                raise RuntimeError(f"moment matching did not determine {ms}: {sol}")
            A = A.subs(sol[0])
        J = LAM * (A + LAM * B).inv() * B
        return sp.simplify(J)
    return J


def jacobian_expr(family) -> sp.Matrix:
    r"""The exact Jacobian of :math:`\mathcal G_\lambda` at :math:`\theta^*`, derived by sympy.

    Implicit differentiation of the first-order condition
    :math:`F(\theta,\theta')=\int q\,\nabla_{\theta'}\log p_{\theta'}+\lambda\int p_\theta\nabla_{\theta'}\log p_{\theta'}=0`
    gives :math:`\partial_\theta\mathcal G=-F_{\theta'}^{-1}F_\theta` with, at :math:`\theta=\theta'=\theta^*`,
    :math:`F_{\theta'}=A+\lambda B` and :math:`F_\theta=\lambda\int p\,\nabla\log p\,\nabla\log p^\top=-\lambda B`
    (Bartlett's identity, checked pointwise in sympy), hence

    .. math:: J=\lambda\,(A+\lambda B)^{-1}B,\qquad A=\mathbb E_\text{data}\nabla^2\log p_{\theta^*},\quad
              B=\mathbb E_{\theta^*}\nabla^2\log p_{\theta^*}=-\mathcal I(\theta^*).

    Parameters
    ----------
    family : Family or str

    Returns
    -------
    sympy.Matrix
        In :data:`LAM` and the symbols ``family.params`` (standing for :math:`\theta^*`).
        Data expectations appear as moments ``m_k`` = :math:`\mathbb E_\text{data}x^k` or as
        ``Integral(q(x)*f, x)`` with :data:`DATA_DENSITY` ``q``; model expectations are
        evaluated by sympy where it can (polynomial integrands) and otherwise left as
        ``Integral(p_θ(x)*f, x)``. For exponential families (``family.statistics`` set) the
        first-order condition (moment matching) eliminates the data moments, and the result
        simplifies to :math:`\frac{\lambda}{1+\lambda}I` — for *any* truth with the moments
        the fit needs (``theory.md`` §1.6, "Exact Jacobian", 🧮).

    Examples
    --------
    >>> from selfconsume.theory import jacobian_expr, gaussian_family, abstract_exponential_family
    >>> jacobian_expr(gaussian_family())
    Matrix([
    [lambda/(lambda + 1),                   0],
    [                  0, lambda/(lambda + 1)]])
    >>> jacobian_expr(abstract_exponential_family(1))
    Matrix([[lambda/(lambda + 1)]])
    """
    family = _as_family(family)
    return _jacobian_expr_cached(family)


@dataclass(frozen=True)
class StabilityJacobian:
    r"""Numeric Jacobian of :math:`\mathcal G_\lambda` at :math:`\theta^*` (quadrature).

    Attributes
    ----------
    lam : float
    theta_star : ndarray
    A, B : ndarray
        :math:`\mathbb E_\text{data}\nabla^2\log p_{\theta^*}` and
        :math:`\mathbb E_{\theta^*}\nabla^2\log p_{\theta^*}=-\mathcal I(\theta^*)`.
    J : ndarray
        :math:`\lambda(A+\lambda B)^{-1}B`.
    """

    lam: float
    theta_star: np.ndarray
    A: np.ndarray
    B: np.ndarray
    J: np.ndarray

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.sort(np.linalg.eigvals(self.J).real)

    @property
    def spectral_radius(self) -> float:
        return float(np.max(np.abs(np.linalg.eigvals(self.J))))

    @property
    def norm(self) -> float:
        """Operator 2-norm ‖J‖₂ (what [B] Thm 1 bounds)."""
        return float(np.linalg.norm(self.J, 2))


def _curvatures(family, truth, th):
    num = family._num
    A = _expect(truth.law, lambda x: num.hess(x, th))
    B = _expect(family.law(th), lambda x: num.hess(x, th))
    return 0.5 * (A + A.T), 0.5 * (B + B.T)


def stability_jacobian(family, truth, lam) -> StabilityJacobian:
    r"""Numeric :math:`J=\lambda(A+\lambda B)^{-1}B` at :math:`\theta^*` by quadrature.

    Notes
    -----
    :math:`A` and :math:`B` are double-exponential quadratures of the family's lambdified
    Hessian against :math:`p_\text{data}` and :math:`p_{\theta^*}`. Its eigenvalues are
    :math:`\lambda\kappa_i/(1+\lambda\kappa_i)` with :math:`\kappa_i` the generalised
    eigenvalues of :math:`(N, M)=(-B,-A)`, so the spectral radius is below 1 for every
    :math:`\lambda` when :math:`M\succ0` (see :func:`stability_boundary`).

    Examples
    --------
    >>> from selfconsume.theory import stability_jacobian, student_t_family, gaussian_truth
    >>> sj = stability_jacobian(student_t_family(4.0), gaussian_truth(), lam=1.0)
    >>> round(sj.spectral_radius, 6)
    0.476002
    """
    family, truth = _check_pair(family, truth)
    lam = check_lam(lam)
    th = _fixed_point_cached(family, truth)
    A, B = _curvatures(family, truth, th)
    J = lam * np.linalg.solve(A + lam * B, B)
    return StabilityJacobian(lam, th.copy(), A, B, J)


