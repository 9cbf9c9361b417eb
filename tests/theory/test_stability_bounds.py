"""ρ_B, ρ_F, ρ_♯: derivations, numeric twins, and the theorems' conclusions on real models."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given, settings, strategies as st
from scipy import integrate, stats

from selfconsume.theory import (
    lam_sym, condition_B, condition_F, gaussian_truth, iterate_retraining_map, laplace_truth, mixture_truth,
    mixture_weight_family, model_constants, rho_B, rho_B_expr, rho_F, rho_F_expr, rho_sharp, rho_sharp_expr,
    stability_boundary, stability_jacobian, student_t_family, student_t_truth,
)

a, L, e = sp.symbols("alpha L epsilon", positive=True)


def _sub(expr):
    f = {s.name: s for s in expr.free_symbols}
    return expr.subs({f["alpha"]: a, f["L"]: L, f["epsilon"]: e})


def test_rho_expressions_and_their_ordering_symbolically():
    rb, rf, rs = _sub(rho_B_expr()), _sub(rho_F_expr()), _sub(rho_sharp_expr())
    assert sp.simplify(rb - lam_sym * (a + e * L) / (a - lam_sym * (a + e * L))) == 0
    assert sp.simplify(rf - lam_sym * (a + e * L) / (a + lam_sym * (a - e * L))) == 0
    assert sp.simplify(rs - lam_sym / (1 + lam_sym) * (1 + L * e / (a + lam_sym * (a - L * e)))) == 0
    # ρ_F − ρ_♯ and ρ_B − ρ_F are products of factors that are ≥ 0 where the denominators are > 0
    assert sp.simplify(rf - rs - 2 * lam_sym**2 * L * e / ((1 + lam_sym) * (a + lam_sym * (a - L * e)))) == 0
    assert sp.simplify(rb - rf - 2 * lam_sym**2 * a * (a + L * e) / ((a - lam_sym * (a + L * e)) * (a + lam_sym * (a - L * e)))) == 0
    # well specified: ρ_F = λ/(1+λ) (the exact Jacobian), ρ_B = λ/(1−λ)
    assert sp.simplify(rf.subs(e, 0) - lam_sym / (1 + lam_sym)) == 0 and sp.simplify(rb.subs(e, 0) - lam_sym / (1 - lam_sym)) == 0


pos = st.floats(1e-3, 1e2)
nonneg = st.floats(0.0, 1e2)


@settings(max_examples=80)
@given(lam=st.floats(0.0, 50.0), alpha=pos, Lip=nonneg, eps=st.floats(0.0, 5.0))
def test_numeric_twins_and_conditions(lam, alpha, Lip, eps):
    exprs = {"B": rho_B_expr(), "F": rho_F_expr(), "sharp": rho_sharp_expr()}
    nums = {"B": rho_B(lam, alpha, Lip, eps), "F": rho_F(lam, alpha, Lip, eps), "sharp": rho_sharp(lam, alpha, Lip, eps)}
    dens = {"B": alpha - lam * (alpha + eps * Lip), "F": alpha + lam * (alpha - eps * Lip)}
    dens["sharp"] = dens["F"]
    for k, ex in exprs.items():
        if dens[k] <= 0:
            assert nums[k] == math.inf
            continue
        sym = {s.name: s for s in ex.free_symbols}
        ref = float(ex.subs({sym["lambda"]: lam, sym["alpha"]: alpha, sym["L"]: Lip, sym["epsilon"]: eps}).evalf(30))
        assert nums[k] == pytest.approx(ref, rel=1e-9, abs=1e-300)
    # conditions are exactly "ρ < 1 with a positive denominator"
    assert condition_B(lam, alpha, Lip, eps) == (dens["B"] > 0 and nums["B"] < 1)
    if not (abs(nums["F"] - 1) < 1e-9 or abs(Lip * eps - alpha) < 1e-9 * alpha):  # away from the boundary
        assert condition_F(lam, alpha, Lip, eps) == (Lip * eps < alpha and nums["F"] < 1)
    # the ordering wherever all are finite
    if math.isfinite(nums["B"]):
        assert nums["sharp"] <= nums["F"] * (1 + 1e-12) <= nums["B"] * (1 + 1e-12)


@settings(max_examples=100)
@given(d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), lam=st.floats(0.0, 30.0),
       alpha=st.floats(0.05, 3.0), frac=st.floats(0.0, 0.999))
def test_rho_sharp_bounds_the_jacobian_of_any_admissible_curvatures(d, seed, lam, alpha, frac):
    """Linear algebra behind ρ_♯: M ⪰ αI, ‖N−M‖ ≤ Lε < α, N ≻ 0 ⇒ ‖λ(M+λN)⁻¹N‖ ≤ ρ_♯ ≤ ρ_F, and
    the spectral radius is max λκ/(1+λκ) < 1 for every λ."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    M = Q @ np.diag(alpha * (1 + rng.exponential(2.0, d))) @ Q.T
    D = rng.standard_normal((d, d))
    D = D + D.T
    le = frac * alpha
    D *= le / max(np.linalg.norm(D, 2), 1e-300)
    N = M + D
    J = lam * np.linalg.solve(M + lam * N, N)
    assert np.linalg.norm(J, 2) <= rho_sharp(lam, alpha, le, 1.0) * (1 + 1e-10) + 1e-14
    assert rho_sharp(lam, alpha, le, 1.0) <= rho_F(lam, alpha, le, 1.0) * (1 + 1e-12)
    kappa = np.linalg.eigvals(np.linalg.solve(M, N)).real
    assert np.max(np.abs(np.linalg.eigvals(J))) == pytest.approx(np.max(lam * kappa / (1 + lam * kappa)), abs=1e-10)
    assert np.max(np.abs(np.linalg.eigvals(J))) < 1


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # scipy's own, on the oracle side
def test_model_constants_against_independent_computations():
    fam, truth = student_t_family(5.0, scale=0.8), laplace_truth(0.2, 1.3)
    mc = model_constants(fam, truth)
    mu = mc.theta_star[0]
    # W1 by scipy.quad of |F − G| split at the crossings
    D = lambda x: stats.t.cdf(x, 5.0, mu, 0.8) - stats.laplace.cdf(x, 0.2, 1.3)  # noqa: E731
    xs = np.linspace(-30, 30, 60001)
    dv = D(xs)
    roots = list(xs[np.nonzero(dv[:-1] * dv[1:] < 0)[0]])
    edges = [-np.inf, *sorted(set(roots) | {0.2}), np.inf]
    w1 = sum(abs(integrate.quad(D, lo, hi, epsabs=1e-14, limit=400)[0]) for lo, hi in zip(edges[:-1], edges[1:]))
    assert mc.eps == pytest.approx(w1, rel=1e-7)
    # L: sup |∂x ∂²μ log p| on a fine grid, by finite differences of the closed-form Hessian
    h2 = lambda x: -(6.0 / 0.64) * (1 - (x - mu) ** 2 / (5 * 0.64)) / (1 + (x - mu) ** 2 / (5 * 0.64)) ** 2 / 5  # noqa: E731
    g = np.linspace(mc.domain[0], mc.domain[1], 400001)
    fd = np.max(np.abs(np.gradient(h2(g), g)))
    assert mc.L == pytest.approx(fd, rel=1e-6)
    assert mc.alpha == pytest.approx(-mc.A[0, 0], rel=1e-14)
    assert mc.mismatch <= mc.L * mc.eps  # Kantorovich–Rubinstein


# --- the theorems' conclusions on random admissible models ------------------------------------

@st.composite
def admissible(draw):
    kind = draw(st.sampled_from(["t_gauss", "t_laplace", "t_t", "mixw_mix", "mixw_laplace"]))
    s = draw(st.floats(0.0, 1.0))  # misspecification strength
    if kind.startswith("t_"):
        nu = draw(st.sampled_from([2.0, 3.0, 5.0, 10.0, 30.0]))
        fam = student_t_family(nu, scale=draw(st.floats(0.5, 2.0)))
        loc = draw(st.floats(-1.0, 1.0))
        if kind == "t_gauss":
            truth = gaussian_truth(loc, 0.5 + s)
        elif kind == "t_laplace":
            truth = laplace_truth(loc, 0.3 + s)
        else:
            truth = student_t_truth(nu * (1 + 3 * s), loc, 1.0)
    else:
        fam = mixture_weight_family(-1.0, 1.0)
        truth = (mixture_truth(draw(st.floats(0.2, 0.8)), -1.0 - 0.5 * s, 1.0 + 0.5 * s) if kind == "mixw_mix"
                 else laplace_truth(draw(st.floats(-0.5, 0.5)), 0.5 + s))
    return kind, fam, truth


@settings(max_examples=25)
@given(model=admissible(), u=st.floats(0.02, 0.98))
def test_under_the_conditions_the_jacobian_obeys_the_bounds_and_the_loop_contracts(model, u):
    kind, fam, truth = model
    mc = model_constants(fam, truth)
    le = mc.L * mc.eps
    assume(le < mc.alpha)
    lam_F = math.inf if le == 0 else mc.alpha / (2 * le)
    lam = u * min(lam_F, 20.0)
    assert mc.condition_F(lam)
    assert mc.mismatch <= le * (1 + 1e-9)  # the Kantorovich–Rubinstein step of both proofs
    sj = stability_jacobian(fam, truth, lam)
    assert sj.norm <= mc.rho_sharp(lam) + 1e-12 <= mc.rho_F(lam) + 2e-12
    if mc.condition_B(lam):
        assert mc.rho_F(lam) <= mc.rho_B(lam) + 1e-12
    # contraction of the population iterates at a rate ≤ ρ_F (up to the O(δ) nonlinearity)
    delta = 1e-3
    path = iterate_retraining_map(fam, truth, lam, sj.theta_star + delta, 3)
    err = np.abs(path[:, 0] - sj.theta_star[0])
    ratios = err[1:] / err[:-1]
    assert np.all(ratios <= mc.rho_F(lam) + 50 * delta)
    assert ratios[-1] == pytest.approx(sj.spectral_radius, abs=50 * delta * err[-2] / delta + 1e-6)


# --- dropping a condition: "θ₀ close enough to θ*" -----------------------------------------------

@settings(max_examples=3)
@given(nu=st.sampled_from([1.0, 2.0, 3.0, 5.0]), s=st.sampled_from([0.5, 1.0]), w=st.sampled_from([0.55, 0.6, 0.7]),
       sep=st.sampled_from([2.0, 3.0, 4.0]))
@example(nu=2.0, s=0.5, w=0.55, sep=3.0)  # the counterexample hypothesis found (hypothesis.find), kept
def test_locality_cannot_be_dropped_for_a_warm_started_loop(nu, s, w, sep):
    """[B] Thm 1 holds for θ₀ near θ*. A heavy-tailed location model fitted to a bimodal truth has a
    second maximum θ₂ of ℓ; a warm-started (local) loop started there stays there for *every* λ —
    also for λ satisfying [B]'s condition at θ* — while the global-argmax loop escapes when λ < λ_c."""
    fam, truth = student_t_family(nu, scale=s), mixture_truth(w, -sep, sep)
    sb = stability_boundary(fam, truth, confirm=False)
    assume(sb.theta_secondary is not None and sb.lam_B > 0)
    lam = 0.5 * sb.lam_B
    assert sb.constants.condition_B(lam)
    t2 = sb.theta_secondary
    local = iterate_retraining_map(fam, truth, lam, t2, 5, search="local")
    np.testing.assert_allclose(local[-1], t2, atol=1e-9)  # the conclusion fails: no convergence to θ*
    assert abs(local[-1, 0] - sb.theta_star[0]) > 1.0
    # the counterexample is real: θ₂ is a strict maximum of ℓ, an attracting local fixed point
    assert stability_jacobian(fam, truth, lam).spectral_radius < 1
    assert lam < sb.lam_bistable  # ... and the global operator does leave it
    glob = iterate_retraining_map(fam, truth, lam, t2, 30, search="global")
    assert abs(glob[-1, 0] - sb.theta_star[0]) < 1e-8
    # restoring the condition (θ₀ near θ*) restores the conclusion for the local loop
    near = iterate_retraining_map(fam, truth, lam, sb.theta_star + 0.05, 30, search="local")
    assert abs(near[-1, 0] - sb.theta_star[0]) < 1e-8


def test_bad_input():
    for args in ((-1.0, 1.0, 0.0, 0.0), (math.nan, 1.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), (0.5, 1.0, -1.0, 0.0),
                 (0.5, 1.0, 0.0, math.inf)):
        for f in (rho_B, rho_F, rho_sharp, condition_B, condition_F):
            with pytest.raises(ValueError):
                f(*args)
    with pytest.raises(ValueError, match="domain"):
        model_constants(student_t_family(3.0), gaussian_truth(), domain=(1.0, -1.0))
