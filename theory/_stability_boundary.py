r"""The stability boundary in λ: where the population loop stops contracting.

At a strict maximum every eigenvalue of the exact Jacobian is :math:`\lambda\kappa/(1+\lambda\kappa)<1`:
there is no local boundary. What fails at finite λ is global: with a bimodal misspecified
likelihood a second fixed point attracts the loop above a threshold :math:`\lambda_c`,
found here and confirmed by iterating :math:`\mathcal G_\lambda`; the sufficient conditions
of the papers' bounds are reported beside it (``shared/theory.md`` §1.6, §2.3; 🧮).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize

from selfconsume._validation import check_real

from ._quadrature import _expect
from ._stability_bounds import (
    ModelConstants,
    model_constants,
    rho_B_expr,
    rho_F_expr,
    rho_sharp_expr,
)
from ._stability_families import _check_pair
from ._stability_jacobian import _curvatures
from ._stability_operator import (
    _fixed_point_cached,
    _grid_values,
    _inside,
    _newton,
    _objective,
    retraining_map,
)
from ._symbols import ALPHA, EPS, LAM, LIPSCHITZ

__all__ = [
    'stability_boundary',
    'StabilityBoundary',
]


@lru_cache(maxsize=None)
def _boundary_exprs():
    out = {}
    for key, e in (("B", rho_B_expr()), ("F", rho_F_expr()), ("sharp", rho_sharp_expr())):
        sol = [s for s in sp.solve(sp.Eq(e, 1), LAM)]
        out[key] = sol[0] if sol else sp.oo
    return out


def _boundary_value(key, alpha, L, eps):
    le = L * eps
    if key == "F" and le == 0:
        return math.inf
    if key == "sharp" and 2 * le <= alpha:
        return math.inf
    v = float(_boundary_exprs()[key].subs({ALPHA: alpha, LIPSCHITZ: L, EPS: eps}))
    return v if v > 0 else math.inf


@dataclass(frozen=True)
class StabilityBoundary:
    r"""Where the population loop stops contracting, and the sufficient conditions beside it.

    Attributes
    ----------
    lam_spectral : float
        :math:`\sup\{\lambda:\rho(J(\lambda))<1\}` (``inf``: locally stable for every λ).
    lam_norm : float
        First :math:`\lambda` with :math:`\|J(\lambda)\|_2\ge1` (one step may expand the
        Euclidean error though the spectral radius is < 1); ``inf`` if none (always in 1-D).
    lam_B, lam_F, lam_sharp : float
        Where :math:`\rho_B`, :math:`\rho_F`, :math:`\rho_\sharp` reach 1 (sufficient conditions).
    lam_bistable : float
        Smallest :math:`\lambda` at which a *second* local maximum :math:`\theta_2` of the
        real-data likelihood becomes a fixed point of the global-argmax operator (then an
        attracting one): the loop started near it never reaches :math:`\theta^*`. ``inf``
        when the likelihood has a single maximum.
    theta_star, theta_secondary : ndarray, ndarray or None
    kappa : ndarray
        Generalised eigenvalues of :math:`(N, M)`: :math:`\rho(J)=\max\lambda\kappa/(1+\lambda\kappa)`.
    constants : ModelConstants or None
        None when :math:`W_1(p_{\theta^*},p_\text{data})=\infty` (a model or truth without a
        mean); the sufficient conditions then never hold (``lam_B = lam_F = lam_sharp = 0``).
    confirmation : tuple of dict
        Population runs started near :math:`\theta_2` below and above ``lam_bistable``:
        ``{"lam", "theta0", "limit", "steps", "converged_to"}``.
    note : str
    """

    lam_spectral: float
    lam_norm: float
    lam_B: float
    lam_F: float
    lam_sharp: float
    lam_bistable: float
    theta_star: np.ndarray
    theta_secondary: np.ndarray | None
    kappa: np.ndarray
    constants: ModelConstants | None
    confirmation: tuple
    note: str


def _local_maxima(family, truth):
    """Distinct strict local maxima of θ ↦ E_data log p_θ (best first)."""
    data = [(truth.law, 1.0)]
    th_star = _fixed_point_cached(family, truth)
    if family.unimodal:
        return [th_star]
    num = family._num
    found = []
    if family.dim == 1 and family.grid is not None:
        grid = family.grid(truth, th_star)
        vals = _grid_values(family, data, grid, th_star)
        starts = [np.array([grid[i]]) for i in range(1, grid.size - 1) if vals[i] > vals[i - 1] and vals[i] > vals[i + 1]]
    else:
        starts = list(family.starts(truth))
    for s in [th_star, *starts]:
        th = _newton(family, data, s)
        H = _expect(truth.law, lambda x: num.hess(x, th))
        if np.linalg.eigvalsh(0.5 * (H + H.T)).max() >= 0:
            continue
        scale = np.maximum(np.abs(th), 1.0)
        if all(np.max(np.abs(th - f) / scale) > 1e-6 for f in found):
            found.append(th)
    vals = [_objective(family, data, th, th_star) for th in found]
    order = np.argsort(vals)[::-1]
    return [found[i] for i in order]


def _bistable_lambda(family, truth, th2):
    r"""λ_c(θ₂) = sup_{θ'} [ℓ(θ') − ℓ(θ₂)] / KL(p_θ₂ ‖ p_θ'): θ₂ is a fixed point of G_λ iff λ ≥ λ_c."""
    law2 = family.law(th2)

    def ratio(t):
        t = np.atleast_1d(np.asarray(t, dtype=float))
        gain = _objective(family, [(truth.law, 1.0)], t, th2)
        kl = -_objective(family, [(law2, 1.0)], t, th2)
        return gain / kl if kl > 0 and gain > 0 else 0.0

    th_star = _fixed_point_cached(family, truth)
    if family.dim == 1 and family.grid is not None:
        # coarse: level-0 rules on the whole grid; then polish the best cell adaptively
        grid = family.grid(truth, th2)
        gain = _grid_values(family, [(truth.law, 1.0)], grid, th2)
        kl = -_grid_values(family, [(law2, 1.0)], grid, th2)
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = np.where((kl > 0) & (gain > 0), gain / kl, 0.0)
        i = int(np.argmax(vals))
        if vals[i] <= 0:
            return 0.0
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        r = optimize.minimize_scalar(lambda s: -ratio([s]), bounds=(a, b), method="bounded",
                                     options={"xatol": 1e-12})
        return max(ratio([grid[i]]), -float(r.fun))
    r = optimize.minimize(lambda t: -ratio(t) if _inside(family, t) else 0.0, th_star, method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    return max(-float(r.fun), ratio(th_star))


def _run_to_limit(G, th0, max_steps=400, tol=1e-11):
    th = np.asarray(th0, dtype=float)
    for k in range(1, max_steps + 1):
        nxt = G(th)
        if np.max(np.abs(nxt - th)) <= tol * (1 + np.max(np.abs(th))):
            return nxt, k
        th = nxt
    return th, max_steps


def stability_boundary(family, truth, *, confirm=True, margin=0.1, domain=None) -> StabilityBoundary:
    r"""The largest :math:`\lambda` for which the population loop still converges to :math:`\theta^*`.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
    confirm : bool
        Iterate the population map from near :math:`\theta_2` at
        :math:`\lambda_c(1\mp\text{margin})` and record where it goes.
    margin : float
        Relative distance to :math:`\lambda_c` of the confirmation runs.
    domain : (float, float), optional
        Passed to :func:`model_constants`.

    Returns
    -------
    StabilityBoundary

    Notes
    -----
    *Local (spectral) boundary: none.* :math:`Jv=\mu v\iff Nv=\kappa Mv` with
    :math:`\mu=\lambda\kappa/(1+\lambda\kappa)`. At a strict maximum :math:`M=-A\succ0` and
    :math:`N=-B\succ0`, so every :math:`\kappa>0` and :math:`0<\mu<1` for **every**
    :math:`\lambda\ge0`: the spectral radius only tends to 1 as :math:`\lambda\to\infty`.
    No misspecification of the model or truth makes :math:`\theta^*` locally unstable; the
    sufficient conditions of [B] (:math:`\rho_B<1\iff\lambda<\alpha/(2(\alpha+L\varepsilon))`)
    and [F] (:math:`\lambda<\alpha/(2L\varepsilon)`) are only sufficient. In more than one
    dimension :math:`J` is not symmetric and :math:`\|J\|_2` may exceed 1 (``lam_norm``):
    errors can grow for a few steps before they shrink.

    *Global boundary: bistability.* Fixed points of :math:`\mathcal G_\lambda` are the
    stationary points :math:`\theta` of :math:`\ell(\theta)=\mathbb E_\text{data}\log p_\theta`
    that are global maximisers of :math:`\ell(\theta')+\lambda\mathbb E_\theta\log p_{\theta'}`.
    A second local maximum :math:`\theta_2` is one iff
    :math:`\ell(\theta')-\ell(\theta_2)\le\lambda\,\mathrm{KL}(p_{\theta_2}\|p_{\theta'})` for all
    :math:`\theta'`, i.e. iff

    .. math:: \lambda\ \ge\ \lambda_c=\sup_{\theta'}\frac{\ell(\theta')-\ell(\theta_2)}{\mathrm{KL}(p_{\theta_2}\,\|\,p_{\theta'})},

    and it is then attracting (its own :math:`\kappa>0`). Above :math:`\lambda_c` the loop
    started near :math:`\theta_2` (a poor initial model) stays there forever; below, it
    jumps to :math:`\theta^*`'s basin. This needs a multimodal likelihood — e.g. a
    heavy-tailed location model fitted to a bimodal truth; it cannot happen for exponential
    families or the mixture weight (concave objectives: ``lam_bistable = inf``).
    Derived here (🧮); [B] Thm 1 is local and assumes a good initial model (§2.3).

    Examples
    --------
    >>> from selfconsume.theory import stability_boundary, student_t_family, mixture_truth
    >>> sb = stability_boundary(student_t_family(3.0, scale=0.5), mixture_truth(0.6, -3.0, 3.0))
    >>> sb.lam_spectral, round(sb.lam_bistable, 4)
    (inf, 0.1948)
    >>> [c["converged_to"] for c in sb.confirmation]
    ['theta_star', 'theta_secondary']
    """
    family, truth = _check_pair(family, truth)
    margin = check_real("margin", margin, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False)
    try:
        mc = model_constants(family, truth, domain=domain)
    except ValueError as exc:
        if "W1" not in str(exc):
            raise
        mc = None  # ε = W1 = ∞: ρ_B = ρ_F = ∞ for every λ > 0, the sufficient conditions never hold
    A, B = _curvatures(family, truth, _fixed_point_cached(family, truth))
    M, N = -A, -B
    if np.linalg.eigvalsh(M).min() <= 0:
        raise ValueError("E_data ∇² log p at θ* is not negative definite: θ* is not a strict maximum")
    kappa = np.sort(np.linalg.eigvals(np.linalg.solve(M, N)).real)
    if np.all(kappa > 0):
        lam_spec = math.inf
    else:  # not reachable at a strict maximum with positive Fisher information; kept general
        km = kappa.min()
        lam_spec = 1.0 / (2.0 * abs(km)) if km < 0 else math.inf
    lam_norm = math.inf
    if family.dim > 1:
        lams = np.logspace(-3, 8, 441)
        norms = np.array([np.linalg.norm(l * np.linalg.solve(M + l * N, N), 2) for l in lams])
        hit = np.nonzero(norms >= 1.0)[0]
        if hit.size:
            i = hit[0]
            lo = lams[i - 1] if i > 0 else 0.0
            f = lambda l: np.linalg.norm(l * np.linalg.solve(M + l * N, N), 2) - 1.0  # noqa: E731
            lam_norm = float(optimize.brentq(f, lo, lams[i], xtol=1e-14, rtol=1e-13)) if i > 0 else float(lams[0])
    if mc is None:
        lam_B = lam_F = lam_sh = 0.0
    else:
        lam_B = _boundary_value("B", mc.alpha, mc.L, mc.eps)
        lam_F = _boundary_value("F", mc.alpha, mc.L, mc.eps)
        lam_sh = _boundary_value("sharp", mc.alpha, mc.L, mc.eps)
    maxima = _local_maxima(family, truth)
    th_star = maxima[0]
    lam_bi, th2 = math.inf, None
    for cand in maxima[1:]:
        lc = _bistable_lambda(family, truth, cand)
        if lc < lam_bi:
            lam_bi, th2 = lc, cand
    runs = []
    if confirm and th2 is not None and math.isfinite(lam_bi) and lam_bi > 0:
        scale = np.maximum(np.abs(th2 - th_star), 1e-3)
        th0 = th2 + 0.02 * scale * np.sign(th2 - th_star + 1e-300)  # inside θ₂'s basin
        for lam in (lam_bi * (1 - margin), lam_bi * (1 + margin)):
            G = retraining_map(family, truth, lam, search="global")
            lim, k = _run_to_limit(G, th0)
            d_star = float(np.max(np.abs(lim - th_star)))
            d_two = float(np.max(np.abs(lim - th2)))
            to = "theta_star" if d_star < 1e-6 * (1 + np.max(np.abs(th_star))) else (
                "theta_secondary" if d_two < 1e-6 * (1 + np.max(np.abs(th2))) else "other")
            runs.append({"lam": float(lam), "theta0": th0, "limit": lim, "steps": k, "converged_to": to})
    if th2 is None:
        note = (f"{family.name} fitted to {truth.name}: a single maximum of the real-data likelihood; "
                "the population loop is locally stable for every λ (ρ(J) = λκ/(1+λκ) < 1) and has no "
                "second fixed point: no finite stability boundary exists.")
    else:
        note = (f"{family.name} fitted to {truth.name}: locally stable for every λ (ρ(J) < 1); a second "
                f"maximum θ₂ = {np.round(th2, 6).tolist()} becomes an attracting fixed point for "
                f"λ ≥ λ_c = {lam_bi:.6g} (bistability: global convergence to θ* is lost).")
    return StabilityBoundary(lam_spec, lam_norm, lam_B, lam_F, lam_sh, lam_bi, th_star.copy(),
                             None if th2 is None else th2.copy(), kappa, mc, tuple(runs), note)


