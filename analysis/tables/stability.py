"""Tables behind the stability figures (population operator, bounds, boundaries; cached)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume._validation import check_int, check_real
from selfconsume.simulators import simulate_gaussian

__all__ = ["contraction_table", "boundary_map_table", "stability_rates_table"]


def _rate_from_iteration(family, truth, lam, steps=40, offset=0.05):
    """Contraction rate of the population loop measured by iterating it from θ* + offset:
    the geometric mean of successive error ratios over the last half of the run (errors
    above 1e-12, where the linearisation holds and rounding does not)."""
    theta_star = np.atleast_1d(th.fixed_point(family, truth))
    path = th.iterate_retraining_map(family, truth, lam, theta_star + offset, steps)
    err = np.linalg.norm(path - theta_star, axis=1)
    keep = np.nonzero(err > 1e-12)[0]
    keep = keep[keep >= 1]
    if keep.size < 3:
        return np.nan
    tail = keep[keep.size // 2:]
    ratios = err[tail] / err[tail - 1]
    return float(np.exp(np.mean(np.log(ratios))))


def contraction_table(quick: bool = True, *, seed=20240504) -> pd.DataFrame:
    """Contraction rate vs λ: measured (population iteration; finite-sample Gaussian slope)
    against the exact spectral radius of J, λ/(1+λ), ρ_♯, ρ_F and ρ_B (NaN where a bound's
    condition fails).

    Columns: ``model, lam, measured, measured_se`` (NaN for population runs), ``spectral_radius,
    lam_ratio, rho_sharp, rho_F, rho_B, alpha, L, eps``.
    """
    lams = np.geomspace(0.02, 20.0, 14 if quick else 30)
    models = [
        ("Student-t₅ location | Laplace truth", th.student_t_family(5), th.laplace_truth(0.0, 1.0)),
        ("Student-t₄ location | N(0,1) truth", th.student_t_family(4), th.gaussian_truth(0.0, 1.0)),
        ("mixture weight | mixture ±1.2 truth", th.mixture_weight_family(-1.0, 1.0),
         th.mixture_truth(0.5, -1.2, 1.2, 1.0, 1.0)),
    ]
    rows = []
    for name, fam, truth in models:
        c = th.model_constants(fam, truth)
        for lam in lams:
            J = th.stability_jacobian(fam, truth, lam)
            rb = th.rho_B(lam, c.alpha, c.L, c.eps)
            rows.append(dict(model=name, lam=lam, measured=_rate_from_iteration(fam, truth, lam), measured_se=np.nan,
                             spectral_radius=J.spectral_radius, lam_ratio=lam / (1 + lam),
                             rho_sharp=th.rho_sharp(lam, c.alpha, c.L, c.eps),
                             rho_F=th.rho_F(lam, c.alpha, c.L, c.eps),
                             rho_B=rb if np.isfinite(rb) and rb > 0 else np.nan,
                             alpha=c.alpha, L=c.L, eps=c.eps))
    # Finite samples: Gaussian mean with n real points and ⌊λn⌋ synthetic ones; the slope of
    # D_{t+1} = μ_{t+1} − μ̂_real on D_t is exactly m/(n + m).
    n, T = 200, 40
    reps = 2_000 if quick else 20_000
    rng = np.random.default_rng(seed)
    for lam in lams[(lams >= 1 / n) & (lams <= 10)][:: 2 if quick else 1]:
        res = simulate_gaussian(n, T, reps=reps, lam=lam, rng=rng)
        D = res.mu - res.real_mean[:, None]
        x, y = D[:, 10:-1].ravel(), D[:, 11:].ravel()
        slope = float(x @ y / (x @ x))
        # The residuals D_{t+1} − ρ D_t = (m/N)σ_t z_t/√m are martingale differences (independent
        # of D_t and of the past), so the usual OLS standard error holds although the D_t of one
        # path are dependent.
        se = float(np.std(y - slope * x, ddof=1) / np.sqrt(x @ x))
        m = int(np.floor(lam * n + 1e-9))
        rows.append(dict(model=f"Gaussian, n = {n} (finite sample)", lam=lam, measured=slope, measured_se=se,
                         spectral_radius=m / (n + m), lam_ratio=lam / (1 + lam), rho_sharp=np.nan, rho_F=np.nan,
                         rho_B=np.nan, alpha=np.nan, L=0.0, eps=np.nan))
    return pd.DataFrame(rows)


#: Bisection tolerance (in δ) of the onset of bistability in :func:`boundary_map_table`.
ONSET_TOL = 1e-4


def boundary_map_table(quick: bool = True) -> pd.DataFrame:
    """Where the loop stops being provably / really stable, as the truth becomes bimodal.

    Model: Student-t₃ location (scale 0.5) fitted to 0.6·N(−δ, 1) + 0.4·N(δ, 1). For each
    separation δ: λ_B, λ_F, λ_♯ (where ρ_B, ρ_F, ρ_♯ reach 1), the spectral boundary (∞: local
    contraction for every λ) and the bistability threshold λ_c above which a second fixed
    point attracts the loop (∞ while the real-data likelihood is unimodal). ``delta_onset`` is
    the smallest δ with a finite λ_c, located by bisection between grid points to ``ONSET_TOL``
    (its row is inserted in the table); NaN if the grid has no onset.
    """
    deltas = np.linspace(0.0, 3.5, 15 if quick else 36)
    fam = th.student_t_family(3, scale=0.5)

    def row(dlt):
        b = th.stability_boundary(fam, th.mixture_truth(0.6, -dlt, dlt, 1.0, 1.0), confirm=False)
        return dict(delta=float(dlt), lam_B=b.lam_B, lam_F=b.lam_F, lam_sharp=b.lam_sharp,
                    lam_spectral=b.lam_spectral, lam_bistable=b.lam_bistable)

    rows = [row(d) for d in deltas]
    # the onset of bistability, between the last unimodal and the first bimodal grid point, by bisection
    # (λ_c jumps there from ∞ to a finite value: θ₂ is born at a fold with a finite λ_c)
    onset = np.nan
    finite = [np.isfinite(r["lam_bistable"]) for r in rows]
    if any(finite) and not finite[0]:
        i = finite.index(True)
        lo, hi, hi_row = rows[i - 1]["delta"], rows[i]["delta"], rows[i]
        while hi - lo > ONSET_TOL:
            mid = 0.5 * (lo + hi)
            r = row(mid)
            if np.isfinite(r["lam_bistable"]):
                hi, hi_row = mid, r
            else:
                lo = mid
        onset = hi
        rows.insert(i, hi_row)
    return pd.DataFrame(rows).assign(delta_onset=onset)


def stability_rates_table(quick: bool = True, *, lams=(0.05, 0.25, 1.0, 4.0), offset=0.5, generations=30
                          ) -> pd.DataFrame:
    """Distance of the retrained parameter to the optimum against generations (Bertrand et al.'s
    stability figure), for several λ, with the rates that bound or give it.

    Student-t₅ location family fitted to a Laplace truth (misspecified); the exact population loop
    θ_{t+1} = G_λ(θ_t) from θ* + ``offset``. One row per (λ, generation): ``error`` = |θ_t − θ*|
    (exact), and the rates ``spectral_radius`` (the exact Jacobian of G_λ at θ*), ``rho_F``,
    ``rho_B`` (NaN where its condition fails), with ``alpha, L, eps`` of the model.
    """
    generations = check_int("generations", generations, min_value=1)
    offset = check_real("offset", offset, min_value=0.0, min_inclusive=False)
    fam, truth = th.student_t_family(5), th.laplace_truth(0.0, 1.0)
    c = th.model_constants(fam, truth)
    theta_star = np.atleast_1d(th.fixed_point(fam, truth))
    rows = []
    for lam in lams:
        path = th.iterate_retraining_map(fam, truth, lam, theta_star + offset, generations)
        err = np.linalg.norm(path - theta_star, axis=1)
        rho = th.stability_jacobian(fam, truth, lam).spectral_radius
        rb = th.rho_B(lam, c.alpha, c.L, c.eps)
        rf = th.rho_F(lam, c.alpha, c.L, c.eps)
        for t, e in enumerate(err):
            rows.append(dict(lam=lam, generation=t, error=float(e), spectral_radius=rho,
                             rho_F=rf if np.isfinite(rf) and rf > 0 else np.nan,
                             rho_B=rb if np.isfinite(rb) and rb > 0 else np.nan,
                             alpha=c.alpha, L=c.L, eps=c.eps, offset=offset))
    return pd.DataFrame(rows)
