"""``selfconsume selftest``: plant plausible mistakes one at a time and see which ``verify`` catches.

A verifier is worth what it catches. Each :class:`Mutant` is one mistake a careful reviewer
could make — a factor off by 1%, a generation index off by one, K − 1 candidates for K, a
bound divided by 4, floor for ceil, real and synthetic shares swapped, an (n − 1)/n factor,
the wrong sample size in a simulator — planted *in process*: the named function is replaced,
in every ``selfconsume`` module that holds it, by a wrapper that makes the mistake (changes
one argument or scales the result), the claims that should notice are run on a small budget,
and the original is put back. A mutant is **caught** when at least one of them fails (or
errors); a survivor is a hole in the verifier. In-process planting keeps a run to seconds
(no recompilation of the Numba kernels); its price is that the mistake sits at a Python entry
point, not inside a compiled loop.

Mistakes *inside* the Numba kernels are :class:`SourceMutant` s: a one-line edit of the source
(``old`` → ``new``, exactly one occurrence), planted in a private copy of the package in a
temporary folder and run in a child process that imports that copy (its kernels compile from
the edited source, in their own Numba cache), so nothing of the installed toolkit is touched.
They cost a compilation each (10–40 s), so ``selfconsume selftest`` runs them with ``--source``.
A child that cannot import the copy is reported as an error, never as a catch.

:data:`MUTANTS` (in process) and :data:`SOURCE_MUTANTS` (kernel source) are the curated lists;
:func:`run_selftest` plants them and returns a tidy table (one row per mutant: caught, the
claims that caught it, why, seconds).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["Mutant", "MUTANTS", "SourceMutant", "SOURCE_MUTANTS", "get_mutant", "plant", "run_mutant",
           "run_source_mutant", "run_selftest"]


@dataclass(frozen=True)
class Mutant:
    """One plausible mistake: ``target`` (``"module:attribute"``) wrapped by ``wrap(original)``;
    ``claims``: the claims that should catch it; ``mistake``: what it does, in words."""

    name: str
    target: str
    wrap: Callable
    claims: tuple[str, ...]
    mistake: str
    kind: str = "theory"


def _with_args(update):
    """A wrapper factory: call the original after ``update(arguments)`` changed its bound arguments in place."""

    def wrap(orig):
        sig = inspect.signature(orig)

        @functools.wraps(orig)
        def mutated(*args, **kwargs):
            b = sig.bind(*args, **kwargs)
            b.apply_defaults()
            update(b.arguments)
            return orig(*b.args, **b.kwargs)

        return mutated

    return wrap


def _subsample_plus_1(a):
    a["subsample"] = (a["n"] if a["subsample"] is None else a["subsample"]) + 1


def _with_arg(name, change):
    """A wrapper factory: call the original with argument ``name`` replaced by ``change(value)``."""

    def update(arguments):
        arguments[name] = change(arguments[name])

    return _with_args(update)


def _result_mu_scaled(applies, origin, factor):
    """A wrapper factory for ``simulate_gaussian``: when ``applies(kwargs)``, the result's μ_t − origin(res)
    is scaled by ``factor(res)`` (a mistake in one method's mean walk; the other method stays right)."""

    def wrap(orig):
        import dataclasses

        @functools.wraps(orig)
        def mutated(*args, **kwargs):
            res = orig(*args, **kwargs)
            if not applies(kwargs):
                return res
            o = origin(res)
            return dataclasses.replace(res, mu=o + (res.mu - o) * factor(res))

        return mutated

    return wrap


def _scaled(factor_of):
    """A wrapper factory: multiply the result by ``factor_of(bound arguments)`` (or a constant)."""

    def wrap(orig):
        sig = inspect.signature(orig)

        @functools.wraps(orig)
        def mutated(*args, **kwargs):
            out = orig(*args, **kwargs)
            b = sig.bind(*args, **kwargs)
            b.apply_defaults()
            f = factor_of(b.arguments) if callable(factor_of) else factor_of
            if isinstance(out, tuple):
                return tuple(np.asarray(o) * f for o in out)
            return out * f if np.ndim(out) == 0 else np.asarray(out) * f

        return mutated

    return wrap


def _n_factor(args):
    n = np.asarray(args["n"], dtype=float)
    return (n - 1.0) / n


def _ceil_lam(args):
    """⌈λn⌉ for ⌊λn⌋ synthetic points: λ moved so that its floor becomes the ceiling (with real data only)."""
    if args.get("lam") is not None:
        lam, n = args["lam"], args["n"]
        args["lam"] = math.ceil(lam * n - 1e-9) / n + 1e-12


def _expr_changed(change):
    """A wrapper factory for a sympy derivation: ``change(expr, symbols by name)``."""

    def wrap(orig):
        @functools.wraps(orig)
        def mutated():
            e = orig()
            return change(e, {x.name: x for x in e.free_symbols})

        return mutated

    return wrap


def _thm23_scaled(seq, factor):
    b_t, b_lim, (lam, t) = seq
    return b_t * factor(lam), b_lim * factor(lam), (lam, t)


def _laplace_without_jacobian(integrals):
    import sympy as sp

    H_s, H_u = integrals
    (u, lo, hi) = H_u.limits[0]
    return H_s, sp.Integral(H_u.function / sp.exp(u), (u, lo, hi))


T = "selfconsume.theory"
S = "selfconsume.simulators"

MUTANTS: tuple[Mutant, ...] = (
    # --- Gaussian collapse (theory.md §2.2)
    Mutant("alpha_plus_1pct", f"{T}._gaussian:alpha", _scaled(1.01), ("gauss.alpha_law",), "α(n) 1% too large"),
    Mutant("expected_sigma_t_plus_1", f"{T}._gaussian:expected_sigma", _with_arg("t", lambda t: np.asarray(t) + 1),
           ("gauss.alpha_law", "gauss.mle_variant"), "E σ_t indexed one generation late"),
    Mutant("expected_sigma2_n_factor", f"{T}._gaussian:expected_sigma2", _scaled(_n_factor),
           ("gauss.second_moment", "gauss.mle_variant"), "E σ_t² times a stray (n − 1)/n"),
    Mutant("expected_log_sigma2_n_minus_1", f"{T}._gaussian:expected_log_sigma2", _with_arg("n", lambda n: n - 1),
           ("gauss.log_moments", "gauss.as_collapse"), "E log σ_t² with n − 1 for n"),
    Mutant("var_log_sigma2_plus_5pct", f"{T}._gaussian:var_log_sigma2", _scaled(1.05), ("gauss.log_moments",),
           "Var log σ_t² 5% too large"),
    Mutant("prob_collapsed_t_minus_1", f"{T}._gaussian_log_law:prob_collapsed",
           _with_arg("t", lambda t: np.maximum(np.asarray(t) - 1, 0)), ("gauss.as_collapse",),
           "collapse probability one generation early"),
    Mutant("mean_sq_drift_n_factor", f"{T}._gaussian:expected_mean_sq_drift", _scaled(_n_factor),
           ("gauss.mean_random_walk", "gauss.mle_variant"), "E ‖μ_t − μ_0‖² times (n − 1)/n"),
    Mutant("det_sqrt_t_plus_1", f"{T}._gaussian:expected_det_sqrt", _with_arg("t", lambda t: np.asarray(t) + 1),
           ("gauss.det_factor",), "E det^{1/2} one generation late"),
    Mutant("w2_sq_plus_1pct", f"{T}._gaussian:expected_w2_sq", _scaled(1.01), ("gauss.w2_growth",),
           "E W₂² 1% too large"),
    Mutant("alpha_mle_plus_1pct", f"{T}._gaussian:alpha_mle", _scaled(1.01), ("gauss.mle_variant",),
           "the MLE factor α_mle(n) 1% too large"),
    Mutant("half_life_plus_1", f"{T}._gaussian:half_life", lambda orig: functools.wraps(orig)(
        lambda *a, **k: orig(*a, **k) + 1.0), ("gauss.mle_variant",), "half-life one generation too long"),
    Mutant("det_factor_d_minus_1", f"{T}._gaussian:det_factor", _with_arg("d", lambda d: d - 1),
           ("gauss.det_factor",), "the determinant factor with d − 1 dimensions"),
    Mutant("log_sigma2_cdf_t_plus_1", f"{T}._gaussian_log_law:log_sigma2_cdf", _with_arg("t", lambda t: t + 1),
           ("gauss.as_collapse",), "the exact CDF of log σ_t² one generation late"),
    Mutant("w2_gaussians_plus_1pct", f"{T}._distances:w2_gaussians", _scaled(1.01), ("gauss.w2_growth",),
           "W₂² between Gaussians 1% too large"),
    # --- real data in the loop (theory.md §3)
    Mutant("mixed_stationary_shares_swapped", f"{T}._mixing:expected_mixed_stationary",
           _with_arg("lam", lambda lam: 1.0 / lam), ("mixing.replace_moments",),
           "the stationary moments with λ ↔ 1/λ"),
    Mutant("paper_stationary_var_wrong_denominator", f"{T}._mixing:expected_stationary_mean_var",
           _scaled(lambda a: (1 + 2 * a["lam"]) / (1 + a["lam"])), ("mixing.replace_moments",),
           "λσ²/(n(1+λ)) for λσ²/(n(1+2λ))"),
    Mutant("accumulate_cov_n_minus_1", f"{T}._accumulate:expected_accumulate_cov", _with_arg("n", lambda n: n - 1),
           ("mixing.accumulate_pi2_6",), "the accumulate product with n − 1"),
    Mutant("accumulate_limit_plus_1pct", f"{T}._accumulate:accumulate_cov_limit", _scaled(1.01),
           ("mixing.accumulate_pi2_6",), "the sinc limit 1% too large"),
    Mutant("accumulate_mean_err_plus_1pct", f"{T}._accumulate:expected_accumulate_mean_err", _scaled(1.01),
           ("mixing.accumulate_pi2_6",), "the accumulate mean error 1% too large"),
    Mutant("accumulate_bound_div_2", f"{T}._accumulate:bound_accumulate_mean_err", _scaled(0.5),
           ("mixing.accumulate_pi2_6",), "the π²/6 bound halved"),
    Mutant("mixed_moments_floor_for_ceil", f"{T}._mixing:expected_mixed_moments", _with_args(_ceil_lam),
           ("mixing.replace_moments", "mixing.accumulate_pi2_6"), "⌈λn⌉ for ⌊λn⌋ synthetic points (floor for ceil)"),
    Mutant("mixed_moments_shares_swapped", f"{T}._mixing:expected_mixed_moments",
           _with_arg("lam", lambda lam: 1.0 / lam if lam else lam), ("mixing.replace_moments", "mixing.accumulate_pi2_6"),
           "real and synthetic shares swapped (λ ↔ 1/λ)"),
    Mutant("accumulate_limit_expr_n_minus_1", f"{T}._accumulate:accumulate_cov_limit_expr",
           _expr_changed(lambda e, s: e.subs(s["n"], s["n"] - 1)), ("mixing.accumulate_pi2_6",),
           "the derived sinc limit with n − 1 for n"),
    Mutant("accumulate_mean_err_expr_n_factor", f"{T}._accumulate:expected_accumulate_mean_err_expr",
           _expr_changed(lambda e, s: e * (s["n"] - 1) / s["n"]), ("mixing.accumulate_pi2_6",),
           "the derived accumulate mean error times a stray (n − 1)/n"),
    Mutant("regression_risk_plus_1pct", f"{T}._regression:expected_regression_risk", _scaled(1.01),
           ("stability.regression_replace_accumulate",), "regression risk 1% too large"),
    # --- population stability (theory.md §4)
    Mutant("model_constants_L_div_4", f"{T}._stability_bounds:model_constants",
           lambda orig: functools.wraps(orig)(lambda *a, **k: _replace_field(orig(*a, **k), "L", 0.25)),
           ("stability.jacobian_bounds",), "the Lipschitz constant L divided by 4 (bounds 4× too strong)"),
    Mutant("rho_F_div_4", f"{T}._stability_bounds:rho_F", _scaled(0.25), ("stability.jacobian_bounds",),
           "[F]'s contraction factor divided by 4"),
    Mutant("rho_sharp_plus_1pct", f"{T}._stability_bounds:rho_sharp", _scaled(1.01), ("stability.jacobian_bounds",),
           "the sharper bound ρ_♯ 1% too large (a looser bound)"),
    Mutant("jacobian_expr_cubed_denominator", f"{T}._stability_jacobian:jacobian_expr",
           lambda orig: functools.wraps(orig)(lambda fam, *a, **k: _over_one_plus_lam_sq(orig(fam, *a, **k))),
           ("stability.exact_jacobian_expfamily",), "the symbolic Jacobian λ/(1+λ)³ (the paper's slip) for λ/(1+λ)"),
    Mutant("fixed_point_shifted", f"{T}._stability_operator:fixed_point", lambda orig: functools.wraps(orig)(
        lambda *a, **k: orig(*a, **k) + 1e-3), ("stability.jacobian_bounds",), "θ* off by 1e-3"),
    Mutant("error_recursion_t_minus_1", f"{T}._mixing:bound_error_recursion",
           _with_arg("t", lambda t: t - 1), ("stability.jacobian_bounds",), "the error-recursion bound one step early"),
    # --- curation on finite spaces (theory.md §5)
    Mutant("curation_H_K_minus_1", f"{T}._curation_operator:curation_H", _with_arg("K", lambda K: K - 1),
           ("curation.h_exact",), "H^K computed with K − 1 candidates"),
    Mutant("laplace_integral_no_jacobian", f"{T}._curation_operator:curation_laplace_integral",
           lambda orig: functools.wraps(orig)(lambda: _laplace_without_jacobian(orig())), ("curation.h_exact",),
           "the u-form of the Laplace integral without the Jacobian e^u of s = e^u"),
    Mutant("curated_distribution_K_plus_1", f"{T}._curation_operator:curated_distribution",
           _with_arg("K", lambda K: K + 1), ("curation.luce_histogram", "curation.large_K"),
           "curated law with K + 1 candidates"),
    Mutant("tilt_beta_plus_1pct", f"{T}._curation_operator:tilt", _with_arg("beta", lambda b: b * 1.01),
           ("curation.rlhf_tilt",), "RLHF tilt with β 1% too large"),
    Mutant("exp_reward_plus_1pct", f"{T}._curation_bounds:expected_exp_reward", _scaled(1.01),
           ("curation.lemma22_gain", "curation.mixed_fixed_point_inf"), "E e^r 1% too large"),
    Mutant("lemma22_bound_div_2", f"{T}._curation_bounds:bound_lemma22_gain", _scaled(0.5),
           ("curation.lemma22_gain",), "Lemma 2.2's gain bound halved"),
    Mutant("kl_to_top_t_plus_1", f"{T}._curation_bounds:kl_to_top", _with_arg("t", lambda t: np.asarray(t) + 1),
           ("curation.kl_to_top",), "KL to the top set one generation late"),
    Mutant("thm23_bound_t_minus_1", f"{T}._curation_bounds:bound_thm23",
           _with_arg("t", lambda t: np.maximum(np.asarray(t) - 1, 0)),
           ("curation.thm23_reward_with_real", "continuous.with_real_data"), "Theorem 2.3 bound one generation early"),
    Mutant("thm23_sequence_paper_factor", f"{T}._curation_bounds:thm23_gain_sequence",
           lambda orig: functools.wraps(orig)(lambda: _thm23_scaled(orig(), lambda lam: 1 / (1 + lam) ** 2)),
           ("curation.thm23_reward_with_real",), "the derived gain sequence λ/(1+λ)³ (the paper's factor) for λ/(1+λ)"),
    Mutant("thm23_sequence_lam", f"{T}._curation_bounds:thm23_gain_sequence",
           lambda orig: functools.wraps(orig)(lambda: _thm23_scaled(orig(), lambda lam: 1 + lam)),
           ("curation.thm23_reward_with_real",), "the derived gain sequence λ for λ/(1+λ) (b_t too large)"),
    Mutant("thm24_bound_div_4", f"{T}._curation_bounds:bound_thm24", _scaled(0.25),
           ("curation.thm24_kl_bound", "continuous.with_real_data"), "Theorem 2.4 bound divided by 4"),
    Mutant("thm24_bound_t_plus_1", f"{T}._curation_bounds:bound_thm24",
           _with_arg("t", lambda t: None if t is None else t + 1), ("curation.thm24_kl_bound",),
           "Theorem 2.4's time-dependent bound log c_t one generation late"),
    Mutant("thm24_bound_K_minus_1", f"{T}._curation_bounds:bound_thm24", _with_arg("K", lambda K: K - 1),
           ("curation.thm24_kl_bound",), "Theorem 2.4's bound with K − 1 for K"),
    Mutant("fixed_point_inf_shares_swapped", f"{T}._curation_bounds:mixed_fixed_point_inf",
           _with_arg("lam", lambda lam: 1.0 / lam), ("curation.mixed_fixed_point_inf",),
           "K = ∞ fixed point with λ ↔ 1/λ"),
    # --- curation on densities (theory.md §6)
    Mutant("curate_reward_law_K_minus_1", f"{T}._continuous:curate_reward_law",
           _with_arg("K", lambda K: K - 1 if np.isfinite(K) and K > 2 else K),
           ("continuous.reward_law", "continuous.top_set_limit", "continuous.with_real_data"),
           "the exact chain with K − 1 candidates"),
    Mutant("gaussian_tilt_t_plus_1", f"{T}._continuous:gaussian_tilt", _with_arg("t", lambda t: t + 1),
           ("continuous.gaussian_tilt",), "the K = ∞ Gaussian tilt one generation late"),
    Mutant("best_of_k_cdf_K_minus_1", f"{T}._continuous:best_of_k_cdf", _with_arg("K", lambda K: K - 1),
           ("continuous.best_of_k",), "best-of-K law with K − 1"),
    Mutant("top_set_constant_plus_1pct", f"{T}._continuous:top_set_kl_constant", _scaled(1.01),
           ("continuous.top_set_limit",), "the 1/t constant of KL(p*‖p_t) 1% too large"),
    Mutant("curated_moments_K_minus_1", f"{T}._continuous:curated_gaussian_moments",
           _with_arg("K", lambda K: K - 1 if K > 2 else K), ("continuous.learned_gaussian",),
           "curated Gaussian moments with K − 1"),
    Mutant("mixture_tilt_t_plus_1", f"{T}._continuous:mixture_tilt", _with_arg("t", lambda t: t + 1),
           ("continuous.mode_selection",), "mode-selection weights one generation late"),
    # --- the public peers' experiments (theory.md §3.1, §3.5)
    Mutant("accumulate_subsample_k_plus_1", f"{T}._accumulate:expected_accumulate_subsample",
           _with_args(_subsample_plus_1), ("peers.accumulate_subsample",),
           "the subsample recursion with k + 1 points for k"),
    Mutant("symbol_survival_n_minus_1", f"{T}._survival:symbol_survival", _with_arg("n", lambda n: n - 1),
           ("peers.symbol_survival",), "symbol survival with Binomial(n − 1, ·) resampling"),
    Mutant("poisson_lineage_one_generation_ahead", f"{T}._survival:_q",
           lambda orig: functools.wraps(orig)(lambda generations: orig(generations + 1)[1:]),
           ("peers.poisson_extinction",), "the Poisson lineage survival q_t one generation ahead"),
    Mutant("discrete_subsample_as_accumulate", f"{T}._discrete_workflows:expected_discrete_gini",
           _with_arg("workflow", lambda w: "accumulate" if w == "accumulate-subsample" else w),
           ("peers.cot_discrete",), "the accumulate diversity factor used for the subsample workflow"),
    Mutant("mixture_step_variance_unbiased", f"{T}._peers_mixture:expected_mixture_step",
           lambda orig: functools.wraps(orig)(
               lambda mu, sigma, n, eta=2.0: (lambda r: (r[0], r[1] * n / (n - 1)))(orig(mu, sigma, n, eta))),
           ("peers.mixture_refit",), "the refit's one-step E σ² without the (1 − 1/n) of the MLE variance"),
    # --- simulators (the measurement side)
    Mutant("simulate_gaussian_n_minus_1", f"{S}._gaussian:simulate_gaussian", _with_arg("n", lambda n: n - 1),
           ("gauss.alpha_law", "gauss.second_moment", "gauss.log_moments"),
           "the collapse simulator draws n − 1 points for n", kind="simulator"),
    Mutant("exact_chain_mean_step_n_minus_1", f"{S}._gaussian:simulate_gaussian",
           _result_mu_scaled(lambda kw: kw.get("method", "exact") == "exact", lambda r: r.mu[:, :1],
                             lambda r: math.sqrt(r.n / (r.n - 1))),
           ("gauss.exact_equals_samples",),
           "the exact chain's mean step drawn with variance Σ/(n − 1) instead of Σ/n (literal loop right)",
           kind="simulator"),
    Mutant("mixed_exact_drift_variance_plus_10pct", f"{S}._gaussian:simulate_gaussian",
           _result_mu_scaled(lambda kw: kw.get("method", "exact") == "exact" and kw.get("lam") is not None,
                             lambda r: r.real_mean[:, None] if r.mu.ndim == 2 else r.real_mean[:, None, :],
                             lambda r: math.sqrt(1.1)),
           ("mixing.exact_equals_samples",),
           "the exact mixed chain's mean drift from the real mean 10% too variable (literal loop right)",
           kind="simulator"),
    Mutant("simulate_curation_K_minus_1", f"{S}._curation:simulate_curation",
           _with_arg("K", lambda K: K - 1 if K > 2 else K), ("curation.exact_equals_luce", "curation.luce_histogram"),
           "the curation simulator keeps one of K − 1", kind="simulator"),
    Mutant("luce_select_K_minus_1", f"{S}._retrain:luce_select", lambda orig: functools.wraps(orig)(
        lambda cand, reward, K, rng: orig(cand[: (cand.shape[0] // K) * (K - 1)], reward, K - 1, rng) if K > 2
        else orig(cand, reward, K, rng)), ("continuous.learned_gaussian",),
           "the learned loop's Luce choice among K − 1", kind="simulator"),
)


def _over_one_plus_lam_sq(J):
    import selfconsume.theory as th

    return J / (1 + th.lam_sym) ** 2


def _replace_field(obj, field, factor):
    import dataclasses

    return dataclasses.replace(obj, **{field: getattr(obj, field) * factor})


@dataclass(frozen=True)
class SourceMutant:
    """One plausible mistake inside a compiled kernel: in ``path`` (``"subpackage/file.py"``),
    the one occurrence of ``old`` becomes ``new``; ``claims`` should catch it."""

    name: str
    path: str
    old: str
    new: str
    claims: tuple[str, ...]
    mistake: str
    kind: str = "kernel"


SK = "simulators/_gaussian_kernels.py"

SOURCE_MUTANTS: tuple[SourceMutant, ...] = (
    SourceMutant("kernel_chisquare_df_n", SK, "    k = n - 1.0\n    b, cc = chisquare_consts(k)\n    inv_div",
                 "    k = n * 1.0\n    b, cc = chisquare_consts(k)\n    inv_div", ("gauss.alpha_law",),
                 "the exact 1-D chain draws χ² with n degrees of freedom for n − 1"),
    SourceMutant("kernel_mean_walk_sigma_t", SK, "acc += s_prev * M[r, t] * inv_sqrt_n",
                 "acc += S[r, t] * M[r, t] * inv_sqrt_n", ("gauss.mean_random_walk", "gauss.exact_equals_samples"),
                 "the exact mean walk steps with σ_t instead of σ_{t−1} (an index slip in the fused loop)"),
    SourceMutant("kernel_literal_scatter_about_old_mean", SK, "d = buf[i] - zbar\n", "d = buf[i]\n",
                 ("gauss.exact_equals_samples",),
                 "the literal 1-D loop takes the scatter about the previous mean, not the sample mean"),
    SourceMutant("kernel_mixed_no_between_term", "simulators/_mixing_kernels.py",
                 "    ss = ssr + ssy + d * d * (n * m / N)\n            lt = 0.5 * math.log(ss / divisor)\n            L[r, t] = lt\n            M[r, t] = mu\n\n\n@njit(cache=True, nogil=True)\ndef replace_samples",
                 "    ss = ssr + ssy\n            lt = 0.5 * math.log(ss / divisor)\n            L[r, t] = lt\n            M[r, t] = mu\n\n\n@njit(cache=True, nogil=True)\ndef replace_samples",
                 ("mixing.replace_moments", "mixing.exact_equals_samples"),
                 "the exact mixed chain pools the scatters without the between-group term n m/N (ȳ − x̄)²"),
    SourceMutant("kernel_literal_bias_mean_step", SK, "mt += math.exp(lt) * sb * zbar", "mt += math.exp(lt) * zbar",
                 ("mad.biased_collapse",),
                 "the literal 1-D loop with a sampling bias b steps the mean with σ_t instead of √b σ_t"),
    SourceMutant("kernel_fresh_no_between_term", "simulators/_mixing_kernels.py",
                 "ss = ssr + ssy + dd * dd * between", "ss = ssr + ssy", ("mad.fresh_limit",),
                 "the exact fresh-data chain pools the real and synthetic scatters without the between-batch term"),
    SourceMutant("kernel_luce_normaliser_short", "simulators/_curation_kernels.py",
                 "        for k in range(Ki):\n            S += wt[cand[k]]\n        if S > 0.0:",
                 "        for k in range(Ki - 1):\n            S += wt[cand[k]]\n        if S > 0.0:",
                 ("curation.luce_histogram", "curation.exact_equals_luce"),
                 "the literal Luce choice normalises over K − 1 of the K candidates"),
    SourceMutant("kernel_population_shares_swapped", "simulators/_curation_kernels.py",
                 "out[x] = (p_ref[x] + lam * out[x]) * c", "out[x] = (lam * p_ref[x] + out[x]) * c",
                 ("curation.thm23_reward_with_real", "curation.mixed_fixed_point_inf"),
                 "the mixed population step with the real and curated shares swapped"),
    SourceMutant("kernel_mixnd_between_weight", "simulators/_mixing_nd_kernels.py", "w = P * m / P2\n",
                 "w = m / P2\n", ("mixing.replace_moments", "mixing.exact_equals_samples"),
                 "the d-dimensional exact chain weights the between-group scatter by m/N for n m/N"),
    SourceMutant("kernel_regression_accumulate_step", "simulators/_regression_kernels.py",
                 "a = sigma / (n + 1.0) if accumulate else sigma", "a = sigma / (n + 2.0) if accumulate else sigma",
                 ("stability.regression_replace_accumulate",),
                 "the exact accumulate regression shrinks round n's step by 1/(n + 1) for 1/n (an index slip)"),
    SourceMutant("kernel_laplace_power_K", "theory/_curation_kernels.py", "    Km1 = K - 1.0\n    h = H_STEP\n",
                 "    Km1 = K * 1.0\n    h = H_STEP\n", ("curation.h_exact",),
                 "the Laplace quadrature of H^K raises φ to the power K instead of K − 1"),
)


def get_mutant(name: str):
    """The mutant called ``name``, in :data:`MUTANTS` or :data:`SOURCE_MUTANTS`."""
    for m in MUTANTS + SOURCE_MUTANTS:
        if m.name == name:
            return m
    names = ", ".join(m.name for m in MUTANTS + SOURCE_MUTANTS)
    raise ValueError(f"mutant must be one of {names}; got {name!r}")


_SUBPACKAGES = ("theory", "simulators", "analysis", "paper_figures", "benchmarks")


def _package_copy(dest: str) -> str:
    """Copy the installed ``selfconsume`` (its folder and every mapped subpackage folder) to ``dest``
    in the installed layout; returns the folder to put first on ``sys.path``."""
    import importlib.util

    import selfconsume

    root = os.path.join(dest, "site")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    shutil.copytree(os.path.dirname(selfconsume.__file__), os.path.join(root, "selfconsume"), ignore=ignore)
    for sub in _SUBPACKAGES:
        spec = importlib.util.find_spec(f"selfconsume.{sub}")
        target = os.path.join(root, "selfconsume", sub)
        if spec is not None and spec.submodule_search_locations and not os.path.exists(target):
            shutil.copytree(list(spec.submodule_search_locations)[0], target, ignore=ignore)
    return root


def _apply(root: str, mutant: SourceMutant) -> None:
    path = os.path.join(root, "selfconsume", mutant.path)
    with open(path, encoding="utf-8") as fh:
        src = fh.read()
    count = src.count(mutant.old)
    if count != 1:
        raise ValueError(f"source mutant {mutant.name!r}: {mutant.path} holds its old text {count} times, not once")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(src.replace(mutant.old, mutant.new))


_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
import selfconsume
assert selfconsume.__file__.startswith({root!r}), selfconsume.__file__
from selfconsume.analysis.claims import get_claim, run_claim
out = []
for cid in {claims!r}:
    r = run_claim(get_claim(cid), {budget!r}, seed={seed!r})
    bad = r.error or next((x.quantity for x in r.rows if not x.passed), "")
    out.append([cid, bool(r.passed), bad])
print("SELFTEST-RESULT " + json.dumps(out))
"""


def run_source_mutant(mutant: SourceMutant | None, claims=None, *, budget="quick", seed=0, timeout=600) -> dict:
    """Plant ``mutant`` in a private copy of the package and run its claims in a child process.

    ``mutant=None`` runs the unedited copy (the control: its claims must pass there). A child that
    fails before reporting (import error, timeout) gives ``caught=False`` with the reason in ``why``.
    """
    claims = tuple(claims or mutant.claims)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="selfconsume-selftest-") as tmp:
        root = _package_copy(tmp)
        if mutant is not None:
            _apply(root, mutant)
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        env.pop("PYTHONPATH", None)
        code = _CHILD.format(root=root, claims=list(claims), budget=budget, seed=seed)
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                  cwd=tmp, timeout=timeout)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SELFTEST-RESULT ")), None)
            if line is None:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                results, error = [], f"child failed (exit {proc.returncode}): {tail[0][:200]}"
            else:
                results, error = json.loads(line.split(" ", 1)[1]), None
        except subprocess.TimeoutExpired:
            results, error = [], f"child timed out after {timeout} s"
    caught_by = [cid for cid, ok, _ in results if not ok]
    why = error or "; ".join(f"{cid}: {bad}" for cid, ok, bad in results if not ok)
    name = mutant.name if mutant is not None else "(control: no edit)"
    return {"mutant": name, "kind": "kernel", "target": mutant.path if mutant else "",
            "mistake": mutant.mistake if mutant else "none", "claims": ", ".join(claims),
            "caught": bool(caught_by) and error is None, "caught_by": ", ".join(caught_by),
            "why": why[:300], "holders": 0, "seconds": time.perf_counter() - t0, "error": error}


def _resolve(target: str):
    import importlib

    modname, attr = target.split(":")
    mod = importlib.import_module(modname)
    return mod, attr, getattr(mod, attr)


@contextlib.contextmanager
def plant(mutant: Mutant):
    """Replace the target by its mutated wrapper in every loaded ``selfconsume`` module that holds it
    (the defining module, the public namespace, and any module that imported the name), then restore."""
    import selfconsume.theory as th

    th.__getattr__("__all__")  # bind the public namespace first, so it is patched too
    _, _, orig = _resolve(mutant.target)
    mutated = mutant.wrap(orig)
    holders = []
    for name, mod in list(sys.modules.items()):
        if not name.startswith("selfconsume") or mod is None:
            continue
        for attr, val in list(vars(mod).items()):
            if val is orig:
                holders.append((mod, attr))
    for mod, attr in holders:
        setattr(mod, attr, mutated)
    try:
        yield len(holders)
    finally:
        for mod, attr in holders:
            setattr(mod, attr, orig)


def run_mutant(mutant: Mutant, *, budget="quick", seed=0, workers=None) -> dict:
    """Plant ``mutant``, run its claims, restore; one result row."""
    from .claims import get_claim, run_claim

    claims = [get_claim(c) for c in mutant.claims]
    t0 = time.perf_counter()
    with plant(mutant) as holders:
        results = [run_claim(c, budget, seed=seed, workers=workers) for c in claims]
    caught_by = [r.claim.id for r in results if not r.passed]
    why = "; ".join(f"{r.claim.id}: {r.error or next(x.quantity for x in r.rows if not x.passed)}"
                    for r in results if not r.passed)
    return {"mutant": mutant.name, "kind": mutant.kind, "target": mutant.target, "mistake": mutant.mistake,
            "claims": ", ".join(mutant.claims), "caught": bool(caught_by), "caught_by": ", ".join(caught_by),
            "why": why[:300], "holders": holders, "seconds": time.perf_counter() - t0, "error": None}


def run_selftest(names=None, *, budget="quick", seed=0, workers=None, progress=False,
                 source=False) -> pd.DataFrame:
    """Plant each mutant in turn (those of :data:`MUTANTS`, with ``source=True`` also those of
    :data:`SOURCE_MUTANTS`; or the ones in ``names``); a table with one row per mutant.
    Interrupting keeps the rows finished so far (``df.attrs["interrupted"]``)."""
    if names is None:
        mutants = MUTANTS + (SOURCE_MUTANTS if source else ())
    else:
        mutants = tuple(get_mutant(n) for n in names)
    rows, interrupted = [], False
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(mutants), desc="selftest", unit="mutant")
    try:
        for m in mutants:
            if isinstance(m, SourceMutant):
                rows.append(run_source_mutant(m, budget=budget, seed=seed))
            else:
                rows.append(run_mutant(m, budget=budget, seed=seed, workers=workers))
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    df = pd.DataFrame(rows)
    df.attrs["interrupted"] = interrupted
    return df
