"""Case table and machinery of the fuzz suite (``tests/test_fuzz.py``); no tests here.

* :func:`build_cases` — one (or a few) VALID, fast example calls per public function of
  ``selfconsume.theory``, ``selfconsume.simulators`` and ``selfconsume.analysis`` (most taken
  from the numpydoc Examples), each with the kinds of its parameters;
* :func:`bad_values` — typed bad values for a parameter of a given kind;
* :func:`fuzz_specs` — every (case, parameter, bad value) as a stable test id;
* :func:`classify` — runs one call and says what happened (clear error / finite result /
  a failure, and which);
* :class:`Worker` — a child process that runs calls by id with a wall-clock limit (see the
  docstring of ``tests/test_fuzz.py`` for why a process and not a thread).

The worker imports this module by path, so it must not import pytest or hypothesis.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

PACKAGES = ("theory", "simulators", "analysis")

#: Public names that are callable but not fuzzed, with the reason. Everything else that is
#: public and callable (and not a result container, see :func:`public_callables`) needs a case.
SKIP: dict[str, str] = {
    "theory.data_density_sym": "a sympy undefined Function (a symbol, not a numeric function)",
}

#: Parameter names that are sizes (an int 10**15 there must be refused quickly, not tried).
SIZE_NAMES = frozenset({
    "n", "reps", "generations", "K", "t", "steps", "T", "d", "dim", "iterations", "n_iter", "k",
    "n_synthetic", "n_real", "n_eval", "n_projections", "rounds", "components", "max_iter",
    "n_init", "m", "n1", "n2", "n_modes", "order", "max_terms", "jobs", "workers", "dps", "level",
})
#: Parameter names that take a random state.
RNG_NAMES = frozenset({"rng", "random_state"})

#: Wall-clock limit of one call (seconds).
CALL_TIMEOUT = 10.0


# --------------------------------------------------------------------------- the case table


@dataclass
class Case:
    """One valid call of the public function ``name`` (``"theory.alpha"``)."""

    name: str
    args: tuple
    kwargs: dict
    label: str = ""                       # tells apart several cases of one function
    fn: object = None                     # a wrapper to call instead of the public object
    kinds: dict = field(default_factory=dict)     # parameter -> kind (overrides inference)
    aliases: dict = field(default_factory=dict)   # parameter -> other names an error may use
    no_fuzz: tuple = ()                   # parameters not to fuzz (with a reason in the table)
    allow_nonfinite: tuple = ()           # result paths that may hold inf/nan (documented)
    fuzz: bool = True                     # False: only the valid call is run

    @property
    def id(self) -> str:
        return self.name + (f"/{self.label}" if self.label else "")


def resolve(name: str):
    """The public object ``"theory.alpha"`` -> ``selfconsume.theory.alpha``."""
    import importlib

    pkg, _, attr = name.partition(".")
    mod = importlib.import_module(f"selfconsume.{pkg}")
    if pkg == "theory":
        mod._load()
    return getattr(mod, attr)


def public_names() -> set[str]:
    """Every public name of the three packages (``"pkg.name"``), callable or not."""
    import importlib

    out = set()
    for pkg in PACKAGES:
        mod = importlib.import_module(f"selfconsume.{pkg}")
        out |= {f"{pkg}.{n}" for n in (mod._load() if pkg == "theory" else mod.__all__)}
    return out


def public_callables() -> dict[str, object]:
    """Every public callable of the three packages, as ``{"pkg.name": obj}``.

    Left out: non-callables (constants, sympy expressions), sympy objects (a ``Symbol`` is
    callable), and classes that are dataclasses or named tuples — result/record containers
    built by the public functions (``GaussianChain``, ``Family``, ``Claim``, ``MixedFixedPoint``, ...). A dataclass may still
    have a case (``Comparison`` validates its fields). Other classes (the learners) need a case.
    """
    import importlib

    import sympy

    out = {}
    for pkg in PACKAGES:
        mod = importlib.import_module(f"selfconsume.{pkg}")
        names = mod._load() if pkg == "theory" else list(mod.__all__)
        for n in names:
            obj = getattr(mod, n)
            if isinstance(obj, sympy.Basic) or not callable(obj):
                continue
            if inspect.isclass(obj):
                if issubclass(obj, sympy.Basic):
                    out[f"{pkg}.{n}"] = obj  # a sympy Function class: must be in SKIP
                    continue
                if dataclasses.is_dataclass(obj) or (issubclass(obj, tuple) and hasattr(obj, "_fields")):
                    continue  # a result/record container
            out[f"{pkg}.{n}"] = obj
    return out


def build_cases() -> list[Case]:
    """The case table. Values are built here, fresh, in every process that needs them."""
    import scipy.stats as st
    import selfconsume.simulators as sim
    import selfconsume.theory as th

    th._load()
    cases: list[Case] = []

    def add(_name, *args, _label="", _fn=None, _kinds=None, _aliases=None, _no_fuzz=(), _nonfinite=(),
            _fuzz=True, **kwargs):
        cases.append(Case(_name, args, kwargs, _label, _fn, dict(_kinds or {}), dict(_aliases or {}),
                          tuple(_no_fuzz), tuple(_nonfinite), _fuzz))

    def derivation(_name, *args, **kwargs):
        """A sympy derivation: one call that must return (no numbers to fuzz)."""
        add(_name, *args, _fuzz=bool(args or kwargs), **kwargs)

    p6 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
    r6 = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])
    p3 = np.array([0.3, 0.2, 0.5])
    r3 = np.array([0.0, 0.4, 1.0])
    PR = {"p": "prob", "p0": "prob", "p_ref": "prob", "reward": "array"}

    # ---- theory: Gaussian collapse (numeric twins)
    add("theory.alpha", 10)
    add("theory.alpha", [2, 3, 1000], _label="array", _kinds={"n": "int_array"})
    add("theory.alpha_mle", 10)
    add("theory.alpha_series", 3)
    for f in ("expected_sigma", "expected_sigma2", "expected_log_sigma2", "expected_mean_sq_drift",
              "expected_w2_sq"):
        add(f"theory.{f}", 10, 10, 2.0, estimator="unbiased")
    add("theory.expected_sigma2", 10, 10, 1.0, estimator="mle", _label="mle", _no_fuzz=("n", "t", "sigma0"))
    add("theory.var_log_sigma2", 10, 30, estimator="unbiased")
    add("theory.half_life", 10, estimator="unbiased")
    add("theory.det_factor", 8, 3, estimator="unbiased")
    add("theory.expected_logdet_drift", 8, 3, estimator="unbiased")
    add("theory.expected_det_sqrt", 8, 3, 1, 1.0, estimator="unbiased")
    add("theory.log_sigma2_cdf", 0.0, 3, 1, estimator="unbiased")
    add("theory.prob_collapsed", 3, 20, 1e-3, estimator="unbiased")
    add("theory.median_log_sigma2", 3, 1, estimator="unbiased")

    # ---- theory: sympy derivations
    derivation("theory.mixing_recursion_expr", "replace", "unbiased")
    derivation("theory.expected_mixed_stationary_expr", "unbiased")
    derivation("theory.expected_regression_risk_expr", "replace")
    for f in ("expected_stationary_mean_var_expr", "expected_mean_var_expr", "bound_error_recursion_expr",
              "expected_accumulate_cov_expr", "accumulate_cov_limit_expr", "expected_accumulate_mean_err_expr",
              "bound_accumulate_mean_err_expr", "curation_H_large_K_coefficients", "curation_laplace_integral",
              "thm23_gain_sequence", "thm24_ratio_sequence", "level_rate_expr", "mixed_fixed_point_inf_expr",
              "gaussian_tilt_expr", "best_of_k_kl_step_expr", "rho_B_expr", "rho_F_expr", "rho_sharp_expr",
              ):
        derivation(f"theory.{f}")
    add("theory.gaussian_family", _fuzz=False, _nonfinite=(".support", ".bounds"))

    # ---- theory: real data in the loop
    add("theory.expected_mixed_moments", 20, 1.0, 5, sigma2=1.0, workflow="replace", estimator="unbiased")
    add("theory.expected_mixed_moments", 20, 0.5, 5, sigma2=1.0, workflow="accumulate", estimator="unbiased",
        _label="accumulate", _no_fuzz=("sigma2", "estimator"))
    add("theory.expected_mixed_stationary", 20, 1.0, 1.0, estimator="unbiased")
    add("theory.expected_stationary_mean_var", 200, 1.0, 1.0)
    add("theory.expected_mean_var", 10, 1.0, 1.0, 3)
    add("theory.bound_error_recursion", 1.0, 0.5, 0.1, 2)
    add("theory.expected_accumulate_cov", 10, 3, 1.0)
    add("theory.accumulate_cov_limit", 10)
    add("theory.expected_accumulate_mean_err", 10, 40, 1.0)
    add("theory.bound_accumulate_mean_err", 10, 1.0)
    add("theory.expected_regression_risk", 12, 40, 5, 1.0, "replace")
    add("theory.expected_regression_risk", 12, 40, 5, 1.0, "accumulate", _label="accumulate",
        _no_fuzz=("n_iter", "T", "d", "sigma2"))
    add("theory.bound_regression_risk", 40, 5, 1.0)

    # ---- theory: curation on finite spaces
    add("theory.curation_H", p6, r6, 4, log=False, _kinds=PR)
    add("theory.curation_H", p6, r6, np.inf, log=True, _kinds=PR, _label="Kinf", _no_fuzz=("p", "reward"))
    add("theory.curated_distribution", p6, r6, 4, _kinds=PR)
    add("theory.curation_H_logistic", p3, r3, log=False, _kinds=PR)
    add("theory.curation_H_enumerated", np.array([0.5, 0.5]), np.array([0.0, math.log(3.0)]), 2, dps=30,
        log=False, max_terms=10_000, _kinds=PR)
    add("theory.curation_H_large_K", np.array([0.3, 0.7]), np.array([1.0, 0.0]), 1000, order=2, _kinds=PR)
    add("theory.tilt", np.array([0.5, 0.5]), np.array([math.log(3.0), 0.0]), 1.0, _kinds=PR)
    add("theory.expected_exp_reward", p3, r3, log=False, _kinds=PR)
    add("theory.variance_exp_reward", p3, r3, log=False, _kinds=PR)
    # found by test_curation_random: log=True with two levels 4e-78 apart gives -inf (exp(r) rounds to 1;
    # the true log Var is about -358)
    add("theory.variance_exp_reward", np.array([0.0, 0.5, 0.5]), np.array([0.0, 0.0, 4.02822908e-78]), log=True,
        _label="near_tie", _fuzz=False)
    add("theory.bound_lemma22_gain", p3, r3, 4, upper=False, log=False, _kinds=PR)
    add("theory.bound_thm23", np.array([0.5, 0.5]), np.array([0.0, 1.0]), 4, 0.3, sharp=False, _kinds=PR)
    add("theory.bound_thm24", 4, 0.3, t=2)
    # found by test_curation_bounds_random: "t an int: log c_t, finite for every λ and K" (docstring)
    add("theory.bound_thm24", np.inf, 1.0, t=1, _label="Kinf_t", _fuzz=False, _nonfinite=("",))  # inf: no bound exists for K = inf
    add("theory.kl_to_top", p3, np.array([0.2, 0.3, 0.5]), np.array([1.0, 1.0, 0.0]), _kinds=PR)
    add("theory.level_rates", np.array([0.5, 0.5]), np.array([1.0, 0.8]), 4, _kinds=PR)
    # found by test_curation_random: K = 1 and a reward gap > 700 (0/0 in the rate)
    add("theory.level_rates", np.array([0.5, 0.5]), np.array([700.0, -46.0]), 1, _label="K1_gap", _fuzz=False)
    add("theory.mixed_fixed_point_inf", np.array([0.5, 0.5]), np.array([0.0, 1.0]), 0.5, _kinds=PR)
    # found by test_curation_random: a tiny top mass (brentq does not converge)
    add("theory.mixed_fixed_point_inf", np.array([1.0, 1.66741319e-282]), np.array([-1.0, 0.0]), 0.7,
        _label="tiny_mass", _fuzz=False)

    # ---- theory: continuous curation
    mix2 = th.gaussian_mixture([1.0], [[0.0, 0.0]], [1.0])
    quad2 = th.quadratic_reward([1.0, 0.0], gamma=2.0)
    add("theory.reward_law", mix2, quad2, level=1)
    add("theory.reward_law", th.gaussian_mixture([0.3, 0.7], [[0.0, 0.0], [2.0, 1.0]], [1.0, 0.5]),
        th.linear_reward([1.0, -1.0], gamma=0.5), level=0, _label="linear", _no_fuzz=("level",))
    add("theory.reward_law", th.gaussian_mixture([1.0], [[0.0, 0.0, 0.0]], [1.0]),
        th.clipped_distance_reward([[1.0, 0.0, 0.0]], radius=0.5, gamma=2.0), level=2, _label="clipped")
    add("theory.reward_law_from_scipy", st.norm(1.0, 2.0), top=None, atom=0.0, level=1, label="n")
    law = th.reward_law_from_scipy(st.norm(0.0, 1.0))
    add("theory.curate_reward_law", law, 4, 3, lam=0.5)
    add("theory.curate_reward_law", law, np.inf, 3, _label="Kinf", _no_fuzz=("law", "generations"))
    add("theory.gaussian_tilt", np.array([0.0]), np.array([[1.0]]), th.quadratic_reward([2.0], gamma=1.0), 3.0)
    add("theory.mixture_tilt", th.gaussian_mixture([0.5, 0.5], [[-2.0, 0.0], [3.0, 0.0]], [1.0, 1.0]),
        th.quadratic_reward([0.0, 0.0], gamma=1.0), 10.0)
    add("theory.best_of_k_cdf", 0.5, 2, 3)
    add("theory.best_of_k_kl_step", 2)
    flat = th.reward_law(th.gaussian_mixture([1.0], [[0.0, 0.0]], [1.0]),
                         th.clipped_distance_reward([[0.0, 0.0]], radius=1.0, gamma=1.0))
    add("theory.top_set_kl_constant", flat, 4)
    add("theory.curated_gaussian_moments", np.array([0.0, 0.0]), np.eye(2), th.linear_reward([1.0, 0.0]), 4)
    add("theory.expected_kde_trace", 2.0, 2, 0.5, 3, n_synthetic=10, n_real=20)
    add("theory.w2_gaussians", np.array([0.0]), np.array([[1.0]]), np.array([1.0]), np.array([[4.0]]))

    # ---- theory: laws, targets, rewards
    add("theory.gaussian_mixture", np.array([0.6, 0.4]), np.array([-3.0, 3.0]), np.array([1.0, 1.0]),
        _kinds={"weights": "prob"}, _fn=lambda *a, **k: _use_law(resolve("theory.gaussian_mixture")(*a, **k)))
    add("theory.gaussian_mixture", np.array([0.5, 0.5]), np.array([[-2.0, 0.0], [2.0, 0.0]]), None,
        covs=np.array([np.eye(2), 0.5 * np.eye(2)]), _label="covs", _kinds={"weights": "prob"},
        _fn=lambda *a, **k: _use_law(resolve("theory.gaussian_mixture")(*a, **k)), _no_fuzz=("weights",))
    add("theory.ring_of_gaussians", 8, radius=2.0, scale=0.3,
        _fn=lambda *a, **k: _use_law(resolve("theory.ring_of_gaussians")(*a, **k)))
    add("theory.two_moons", 0.1, _fn=lambda *a, **k: _use_law(resolve("theory.two_moons")(*a, **k)))
    x81 = np.linspace(-4, 4, 41)
    add("theory.grid_density", (x81,), np.exp(-x81**2 / 2), _kinds={"grid": "object", "values": "array"},
        _fn=lambda *a, **k: _use_law(resolve("theory.grid_density")(*a, **k)))
    add("theory.sampler_law", _square_sampler, 2, name="square",
        _fn=lambda *a, **k: _use_law(resolve("theory.sampler_law")(*a, **k)))
    add("theory.clipped_distance_reward", np.array([[0.0, 0.0]]), radius=1.0, gamma=5.0, _fn=_use_reward("clipped_distance_reward"))
    add("theory.linear_reward", np.array([1.0, -1.0]), gamma=2.0, _fn=_use_reward("linear_reward"))
    add("theory.quadratic_reward", np.array([1.0, 1.0]), gamma=2.0, _fn=_use_reward("quadratic_reward"))
    add("theory.as_reward", _neg_abs_x1, dim=2, name="-|x1|", top=0.0, flat_top=False, _fn=_use_reward("as_reward"))
    add("theory.gaussian_truth", 0.0, 1.0, _fn=_use_truth("gaussian_truth"), _nonfinite=("['max_moment']",))
    add("theory.student_t_truth", 5.0, 0.0, 1.0, _fn=_use_truth("student_t_truth"), _nonfinite=("['max_moment']",))
    add("theory.laplace_truth", 0.0, 1.0, _fn=_use_truth("laplace_truth"), _nonfinite=("['max_moment']",))
    add("theory.mixture_truth", 0.6, -3.0, 3.0, 1.0, 1.0, _fn=_use_truth("mixture_truth"), _nonfinite=("['max_moment']",))
    add("theory.truth_from_scipy", st.logistic(0.0, 1.0), name="logistic", breakpoints=(0.0,),
        _fn=_use_truth("truth_from_scipy"), _nonfinite=("['max_moment']",), _kinds={"breakpoints": "array"})

    # ---- theory: population stability
    gfam, lap = th.gaussian_family(), th.laplace_truth()
    add("theory.exponential_family", None, log_base=0, support=(-math.inf, math.inf), eta_bounds=(-math.inf, 0.0),
        name="scale", _kinds={"support": "interval", "eta_bounds": "interval", "log_base": "object"},
        _fn=_use_family("exponential_family"))
    add("theory.student_t_family", 4.0, scale=1.0, _fn=_use_family("student_t_family"))
    add("theory.mixture_weight_family", -1.0, 1.0, 1.0, 1.0, _fn=_use_family("mixture_weight_family"))
    add("theory.abstract_exponential_family", 1, _fn=lambda k=1: resolve("theory.jacobian_expr")(
        resolve("theory.abstract_exponential_family")(k)))
    add("theory.retraining_map", gfam, lap, 1.0, search="auto",
        _fn=lambda *a, **k: resolve("theory.retraining_map")(*a, **k)(np.array([2.0, 1.0])))
    add("theory.fixed_point", gfam, th.laplace_truth(1.0, 2.0))
    add("theory.iterate_retraining_map", gfam, th.gaussian_truth(), 1.0, np.array([1.0, 1.0]), 3, search="auto",
        _aliases={"theta0": ("theta",)})
    add("theory.jacobian_expr", gfam)
    tfam4 = th.student_t_family(4.0)
    add("theory.stability_jacobian", tfam4, th.gaussian_truth(), 1.0)
    add("theory.model_constants", tfam4, th.gaussian_truth(), (-8.0, 8.0), _kinds={"domain": "interval"})
    for f in ("rho_B", "rho_F", "rho_sharp", "condition_B", "condition_F"):
        add(f"theory.{f}", 0.25, 1.0, 0.4, 1.0)
    add("theory.stability_boundary", th.student_t_family(3.0, scale=0.5), th.mixture_truth(0.6, -3.0, 3.0),
        confirm=False, margin=0.1, domain=None, _nonfinite=(".lam_",))

    # ---- theory: the peers' protocols (Kazdan et al.; Suresh et al.)
    add("theory.expected_accumulate_subsample", 10, 100, subsample=10, d=3, lam=1.0, estimator="mle", sigma2=1.0)
    add("theory.expected_fixation_time", 5, 20)
    add("theory.biased_cov_factor", 20, 15, bias=0.8, estimator="unbiased")
    add("theory.biased_mean_cov_factor", 20, 15, bias=0.8, estimator="unbiased")
    add("theory.expected_biased_sigma", 20, 15, bias=0.8, sigma0=2.0, estimator="unbiased")
    add("theory.fresh_moments", 5, 6, lam=1.7, bias=0.7, n_init=3, estimator="unbiased")
    add("theory.fresh_limit", 5, lam=1.7, bias=0.7, estimator="unbiased")
    add("theory.real_fit_w2", 10.5, sigma0=2.0, estimator="unbiased")
    add("theory.w2_equivalent_sample_size", 0.1, sigma0=2.0, estimator="unbiased")
    add("theory.expected_accumulate_subsample", 10, [0, 5, 100], subsample=20, _label="array",
        _kinds={"t": "int_array"}, _no_fuzz=("n", "subsample"))
    add("theory.expected_det_ratio", 10, 3, 1, lam=None, workflow="replace", estimator="mle")
    add("theory.expected_det_ratio", 10, 3, [0, 5, 20], lam=1.0, workflow="accumulate", estimator="unbiased",
        _label="accumulate", _kinds={"t": "int_array"}, _no_fuzz=("n", "d", "estimator"))
    add("theory.expected_det_ratio", 10, 10, 3, lam=1.0, workflow="accumulate", _label="n_le_d",
        _no_fuzz=("n", "d", "t", "workflow"))
    add("theory.symbol_survival", 10, 1, 3, event="nonzero")
    add("theory.symbol_survival", 10, np.array([0, 2, 10]), 3, event="interior", _label="array",
        _kinds={"count": "int_array"}, _no_fuzz=("n", "generations"))
    add("theory.bernoulli_survival", 100, 0.01, 5, event="nonzero")
    add("theory.vocabulary_survival", np.array([5, 3, 1, 1]), 5, normalize=True, _kinds={"counts": "int_array"})
    add("theory.vocabulary_survival_from_law", np.array([0.5, 0.3, 0.2]), 10, 3, normalize=True, _kinds={"p": "prob"})
    add("theory.zipf_mandelbrot", 20, 1.0, 2.7)
    add("theory.poisson_lineage_survival", 10)
    add("theory.poisson_extinction", 10, 1.0, 5)
    add("theory.bound_symbol_survival_suresh", 100, 0.01, 5, event="nonzero")
    add("theory.bound_symbol_survival_simple", 2.0, 5)
    add("theory.bound_vocabulary_survival_suresh", np.array([5, 3, 1, 1]), 5, _kinds={"counts": "int_array"})
    add("theory.bound_poisson_survival_suresh", 10, 0.1, 5)
    add("theory.bound_interior_seddik", 100, 0.5, 5)
    pm4 = np.array([0.5, 0.3, 0.15, 0.05])
    add("theory.approx_mle_kappa", 10, 2.0)
    derivation("theory.mixture_step_expr")
    add("theory.expected_mixture_step", 0.6, 1.2, 10, 2.0)
    add("theory.bound_mixture_sigma", 20, 10, 1.0, 2.0)
    add("theory.bound_mixture_sigma", np.array([0, 5, 20]), 10, 1.0, 2.0, _label="array",
        _kinds={"k": "int_array"}, _no_fuzz=("n", "sigma0", "eta"))
    add("theory.bound_mixture_collapse", 200, 10, 1.0, 0.1)
    add("theory.bound_mixture_collapse", np.array([0, 93, 200]), 10, 1.0, 0.1, _label="array",
        _kinds={"k": "int_array"}, _no_fuzz=("n", "sigma0", "eps"))
    derivation("theory.discrete_gini_factor_expr", "accumulate-subsample")
    add("theory.expected_discrete_gini", pm4, 13, 5, "accumulate-subsample", _kinds={"p0": "prob"})
    add("theory.expected_discrete_entropy", pm4, 13, 5, "accumulate-subsample", _kinds={"p0": "prob"})
    add("theory.expected_discrete_zeros", pm4, 13, 5, "replace", _kinds={"p0": "prob"})

    # ---- simulators
    add("simulators.simulate_gaussian", 10, 5, reps=3, dim=1, mu0=0.0, sigma0=1.0, estimator="unbiased",
        method="exact", workflow="replace", return_cov=False, rng=0, workers=1, progress=False)
    add("simulators.simulate_gaussian", 10, 4, reps=3, dim=2, lam=1.0, workflow="replace", method="exact", rng=0,
        workers=1, _label="mix_d2", _no_fuzz=("reps", "workers"))
    add("simulators.simulate_gaussian", 10, 4, reps=2, lam=0.5, workflow="accumulate", method="samples",
        truth=th.gaussian_mixture([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0]), rng=0, workers=1,
        _label="accumulate_samples",
        _no_fuzz=("reps", "workers"))
    add("simulators.simulate_gaussian", 8, 3, reps=2, dim=2, estimator="mle", method="samples", return_cov=True,
        rng=0, workers=1, _label="samples_cov", _no_fuzz=("reps", "rng", "workers"))
    add("simulators.simulate_regression", 40, 5, 12, workflow="accumulate", sigma=1.0, reps=20, method="exact",
        rng=0, workers=1, progress=False)
    add("simulators.gaussian_mixture", np.array([0.6, 0.4]), np.array([-3.0, 3.0]), np.array([1.0, 1.0]),
        _kinds={"weights": "prob"}, _fn=lambda *a, **k: _use_law(resolve("simulators.gaussian_mixture")(*a, **k)))
    xg = np.linspace(-6, 6, 121)
    add("simulators.curate_density", th.gaussian_mixture([1.0], [0.0], [1.0]), th.quadratic_reward([1.0]), 4, 2,
        lam=0.5, grid=(xg,), mass_tol=1e-3, _kinds={"grid": "object"})
    add("simulators.curate_density", th.gaussian_mixture([1.0], [0.0], [1.0]), th.quadratic_reward([1.0]),
        np.inf, 2, grid=(xg,), _label="Kinf", _kinds={"grid": "object"}, _no_fuzz=("p0", "reward", "grid"))
    y2 = np.linspace(-4, 4, 33)
    add("simulators.curate_density", th.gaussian_mixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], [1.0, 1.0]),
        th.clipped_distance_reward([[1.0, 0.0]], radius=0.5, gamma=2.0), 3, 2, grid=(y2, y2), _label="2d",
        _kinds={"grid": "object"}, _no_fuzz=("K", "generations"))
    real = np.random.default_rng(0).normal(size=(60, 2))
    add("simulators.retrain", sim.GaussianLearner(), real, 3, n=30, lam=None, workflow="replace", K=1,
        reward=None, reps=2, rng=1, n_eval=20, workers=1, progress=False, _kinds={"real": "array"})
    add("simulators.retrain", sim.GaussianLearner(), real, 2, n=30, lam=0.5, workflow="accumulate", K=3,
        reward=th.linear_reward([1.0, 0.0]), reps=2, rng=1, n_eval=10, workers=1, _label="curated",
        _kinds={"real": "array"}, _no_fuzz=("learner", "real", "workers", "reps"))
    add("simulators.retrain", sim.MixtureLearner(2, max_iter=10), real, 2, n=30, reps=1, rng=1, n_eval=10,
        workers=1, _label="mixture", _kinds={"real": "array"}, _no_fuzz=("real", "generations", "n", "reps", "rng",
                                                                           "n_eval", "workers"))
    add("simulators.retrain", sim.KDELearner(0.3), real, 2, n=30, reps=1, rng=1, n_eval=10, workers=1, _label="kde",
        _kinds={"real": "array"}, _no_fuzz=("real", "generations", "n", "reps", "rng", "n_eval", "workers"))
    cand = np.random.default_rng(1).normal(size=(12, 2))
    add("simulators.luce_select", cand, th.linear_reward([1.0, 0.0]), 3, np.random.default_rng(0),
        _kinds={"candidates": "array"})
    add("simulators.luce_tournament", np.random.default_rng(2).normal(size=(2 * 3**2, 2)), th.linear_reward([1.0, 0.0]),
        3, 2, np.random.default_rng(0), hard=False, _kinds={"points": "array"})
    X = np.random.default_rng(3).normal(size=(80, 2))
    add("simulators.GaussianLearner", "unbiased", _fn=_learner_run("GaussianLearner", X))
    add("simulators.MixtureLearner", 2, max_iter=20, tol=1e-6, reg_covar=1e-6, warm_start=True, n_init=1,
        _fn=_learner_run("MixtureLearner", X))
    add("simulators.KDELearner", 0.3, _fn=_learner_run("KDELearner", X))
    add("simulators.GaussianLearner", X, 5, 0, _label="fit_sample", _fn=_learner_methods("GaussianLearner", "unbiased"),
        _kinds={"X": "array", "random_state": "rng"})
    add("simulators.MixtureLearner", X, 5, 0, _label="fit_sample", _fn=_learner_methods("MixtureLearner", 2),
        _kinds={"X": "array", "random_state": "rng"})
    add("simulators.KDELearner", X, 5, 0, _label="fit_sample", _fn=_learner_methods("KDELearner", 0.3),
        _kinds={"X": "array", "random_state": "rng"})
    p4, r4 = np.full(4, 0.25), np.array([0.0, 0.5, 1.0, 1.0])
    add("simulators.simulate_curation", p4, r4, 4, 10, lam=None, p_ref=None, n=None, reps=1, method="exact",
        record="all", rng=0, workers=1, progress=False, _kinds=PR)
    add("simulators.simulate_curation", p4, r4, 4, 5, lam=0.5, p_ref=np.array([0.4, 0.3, 0.2, 0.1]), reps=1,
        method="exact", record="all", rng=0, workers=1, _label="p_ref", _kinds=PR, _no_fuzz=("workers",))
    add("simulators.simulate_curation", p4, r4, 4, 5, lam=0.5, n=200, reps=3, method="exact", record="all",
        rng=0, workers=1, _label="finite_n", _kinds=PR, _no_fuzz=("workers",))
    add("simulators.simulate_curation", p4, r4, 3, 3, n=50, reps=2, method="luce", record="last", rng=0,
        workers=1, _label="luce", _kinds=PR, _no_fuzz=("p0", "reward", "workers"))
    add("simulators.simulate_gaussian", 5, 3, reps=2, lam=1.7, workflow="fresh", bias=0.7, n_init=3, rng=0,
        _label="fresh")
    add("simulators.simulate_gaussian", 6, 3, reps=2, dim=2, sigma0=np.array([[2.0, 0.5], [0.5, 1.0]]), bias=0.8,
        rng=0, _label="cov0")
    add("simulators.simulate_gaussian", 10, 4, reps=2, lam=1.0, workflow="accumulate-subsample", subsample=10,
        method="samples", rng=0, workers=1, _label="subsample", _no_fuzz=("reps", "workers", "rng", "generations"))
    add("simulators.simulate_gaussian", 4, 3, reps=2, dim=6, lam=1.0, workflow="accumulate", return_cov=True, rng=0,
        workers=1, _label="n_le_d", _no_fuzz=("reps", "workers", "rng", "generations", "dim"), _nonfinite=(".logdet",))
    add("simulators.simulate_gaussian", 4, 3, reps=2, dim=6, method="samples", rng=0, workers=1,
        _label="n_le_d_samples", _no_fuzz=("reps", "workers", "rng", "generations", "dim"), _nonfinite=(".logdet",))
    add("simulators.simulate_multinomial", 10, 5, counts=np.array([5, 3, 1, 1]), reps=3, method="exact",
        return_freq=True, rng=0, workers=1, progress=False, _kinds={"counts": "int_array"})
    add("simulators.simulate_multinomial", 10, 5, p=np.array([0.5, 0.3, 0.2]), reps=3, method="samples", rng=0,
        workers=1, _label="law", _kinds={"p": "prob"}, _no_fuzz=("n", "generations", "workers"))
    add("simulators.simulate_poisson", 10, 1.0, 20, reps=3, method="exact", rng=0, workers=1, progress=False)
    add("simulators.simulate_mixture_refit", 10, 5, mu0=1.0, sigma0=1.0, estimator="approx_mle", eta=2.0, reps=3,
        method="exact", rng=0, workers=1, progress=False)
    add("simulators.simulate_mixture_refit", 10, 5, estimator="mle", method="samples", reps=3, rng=0, workers=1,
        _label="mle_samples", _no_fuzz=("reps", "workers"))
    add("simulators.simulate_discrete", pm4, 13, 5, workflow="accumulate-subsample", reps=3, method="exact", rng=0,
        workers=1, progress=False, _kinds={"p0": "prob"})
    add("simulators.simulate_discrete", pm4, 13, 5, workflow="replace", method="samples", reps=3, rng=0, workers=1,
        _label="samples", _kinds={"p0": "prob"}, _no_fuzz=("reps", "workers"))
    add("simulators.simulate_regression", 12, 3, 5, workflow="accumulate-subsample", method="samples", reps=4, rng=0,
        workers=1, _label="subsample", _no_fuzz=("reps", "workers", "T", "d", "iterations"))

    # ---- analysis
    add("analysis.fresh_limit_distance", 10, 2.55, 0.8, n_init=20, dim=1, sigma0=1.0, estimator="unbiased", reps=8,
        window=5, rng=0, workers=1)
    add("analysis.effective_sample_size", 50, 1.0, 0.9, dim=1, estimator="unbiased", reps=8, z=2.0, rng=0, workers=1)
    add("analysis.effective_sample_size", 20, 1.0, 0.9, dim=2, reps=8, rng=0, workers=1, _label="dim2",
        _no_fuzz=("lam", "bias", "reps", "z", "workers", "estimator"))
    add("analysis.real_fit_distance", 20, dim=3, sigma0=1.0, estimator="unbiased", reps=64, rng=0)
    add("analysis.admissibility_threshold", 50, 0.8, ns=np.array([5, 50, 500]), dim=1, estimator="unbiased", reps=8, z=2.0,
        rng=0, workers=1, progress=False, _nonfinite=(".threshold", ".lo", ".hi"))  # inf: no crossing (documented)
    add("analysis.get_claim", "curation.lemma22_gain", _aliases={"claim_id": ("claim",)}, _fn=lambda claim_id: resolve("analysis.get_claim")(claim_id).id)
    add("analysis.list_claims", "curation", backend="numpy",
        _fn=lambda *a, **k: [c.id for c in resolve("analysis.list_claims")(*a, **k)])
    add("analysis.register_claim", id="fuzz.claim", title="t", source="s", statement="st", assumptions=("a",),
        tags=("fuzz",), _fn=_register, _kinds={"assumptions": "object", "tags": "object"})
    add("analysis.run_claim", "curation.lemma22_gain", "quick", seed=0, progress=False, workers=1,
        _fn=lambda *a, **k: _claim_summary(resolve("analysis.run_claim")(*a, **k)))
    add("analysis.cache_dir", "fuzz_cache", _fn=lambda path=None: str(resolve("analysis.cache_dir")(path)))
    add("analysis.cached_table", "fuzz", _table, {"n": 3}, directory="fuzz_cache", refresh=False,
        _kinds={"params": "object", "directory": "object"})
    add("analysis.verify", ["curation.lemma22_gain"], budget="quick", seed=0, progress=False, workers=1,
        out_dir=None, echo=None, backend="numpy", jobs=1, _kinds={"claims": "object"},
        _fn=lambda *a, **k: _report_summary(resolve("analysis.verify")(*a, **k)))
    add("analysis.Comparison", "q", 1.0, 1.1, se=0.1, relation="==", note="")
    g = np.random.default_rng(0)
    a2, b2 = g.normal(size=(50, 2)), g.normal(size=(50, 2)) + [1.0, 0.0]
    add("analysis.sliced_wasserstein", a2, b2, n_projections=16, p=2, rng=1)
    add("analysis.mmd", a2, b2, bandwidth=1.0)
    add("analysis.mode_coverage", np.array([[0.0, 0.1]] * 9 + [[5.0, 5.0]]), np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 9.0]]),
        radius=1.0)
    add("analysis.kl_grid", np.array([0.2, 0.3, 0.5]), np.array([0.3, 0.3, 0.4]), _kinds={"p": "array", "q": "array"})
    add("analysis.ks_critical", 100, 120, 0.05)
    add("analysis.mean_se", g.normal(size=(20, 3)), 0)
    add("analysis.variance_se", g.normal(size=(20, 3)), 0)
    add("analysis.proportion_se", 3, 10, 0.4)
    add("analysis.proportion_se", np.array([1, 2, 3]), np.array([10, 10, 10]), None, _label="array",
        _kinds={"k": "int_array", "r": "int_array"})
    add("analysis.z_bonferroni", 10, 0.05)
    add("analysis.estimate_rate", _rate_frame(), "x", method="mean", generation="generation", replicate="rep",
        start=0, stop=5, fit="ols", theory=0.9, level=0.95, min_ess=0.0, _kinds={"frame": "object"})
    add("analysis.sweep", "gaussian", {"n": [6], "d": [1, 2], "workflow": ["replace"], "iterations": [3]}, reps=2,
        rng=0, out=None, scheduler=None, progress=False, _kinds={"grid": "object"},
        _fn=lambda *a, **k: resolve("analysis.sweep")(*a, **k).select_dtypes("number").to_numpy(dtype=float))
    return cases


# ---- helpers used by cases (module level, so that workers rebuild them identically)


def _square_sampler(n, rng):
    return rng.uniform(-1, 1, (n, 2))


def _neg_abs_x1(x):
    return -np.abs(np.asarray(x)[:, 0])


def _use_law(law):
    """Build a law and use it: a few draws, the moments, the log-density at the draws."""
    out = {"rvs": law.rvs(5, random_state=0)}
    for m in ("mean", "var", "cov"):
        if hasattr(law, m):
            try:
                out[m] = getattr(law, m)()
            except (NotImplementedError, ValueError):  # var of a 2-D law, cov of a 1-D one
                pass
    for m in ("logpdf", "log_prob"):
        if hasattr(law, m):
            x = out["rvs"]
            out[m] = getattr(law, m)(x)
            break
    return out


def _use_reward(factory):
    def run(*a, **k):
        r = resolve(f"theory.{factory}")(*a, **k)
        dim = r.dim or 2
        x = np.random.default_rng(0).normal(size=(4, dim))
        return {"values": r(x), "top": r.top}
    return run


def _use_truth(factory):
    def run(*a, **k):
        t = resolve(f"theory.{factory}")(*a, **k)
        return {"max_moment": t.max_moment, "fixed_point": resolve("theory.fixed_point")(resolve("theory.gaussian_family")(), t)}
    return run


def _use_family(factory):
    def run(*a, **k):
        fam = resolve(f"theory.{factory}")(*a, **k)
        return {"fixed_point": resolve("theory.fixed_point")(fam, resolve("theory.gaussian_truth")())}
    return run


def _learner_run(cls_name, X):
    def run(*a, **k):
        lr = resolve(f"simulators.{cls_name}")(*a, **k)
        lr.fit(X, random_state=0)
        return {"sample": lr.sample(5, random_state=0), "log_prob": lr.log_prob(X[:5])}
    return run


def _learner_methods(cls_name, arg):
    def run(X, n, random_state):
        lr = resolve(f"simulators.{cls_name}")(arg)
        lr.fit(X, random_state=random_state)
        return {"sample": lr.sample(n, random_state=random_state), "log_prob": lr.log_prob(np.zeros((2, 2)))}
    return run


def _register(**kwargs):
    import selfconsume.analysis as an

    deco = an.register_claim(**kwargs)
    claim = deco(lambda ctx: [an.Comparison("x", 1.0, 1.0, tol=0.1)])
    return getattr(claim, "id", None)


def _claim_summary(res):
    return {"passed": res.passed, "error": res.error, "frame": res.to_frame()}


def _report_summary(rep):
    return {"passed": rep.passed, "frame": rep.to_frame()}


def _rate_frame():
    """A small long-form table for ``estimate_rate``: 8 replicates × 6 generations of a noisy 0.9 chain."""
    import pandas as pd

    g = np.random.default_rng(0)
    x = np.cumprod(0.9 * g.uniform(0.8, 1.2, (8, 6)), axis=1)
    return pd.DataFrame({"rep": np.repeat(np.arange(8), 6), "generation": np.tile(np.arange(6), 8), "x": x.ravel()})


def _table(n):
    import pandas as pd

    return pd.DataFrame({"x": np.arange(int(n), dtype=float)})


# --------------------------------------------------------------------------- bad values


def infer_kind(pname: str, value, case: Case) -> str | None:
    """The kind of a parameter's valid value (``None``: not fuzzed)."""
    if pname in case.kinds:
        return case.kinds[pname]
    if pname in RNG_NAMES:
        return "rng"
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (numbers.Integral,)):
        return "int"
    if isinstance(value, (numbers.Real,)):
        return "float"
    if isinstance(value, str):
        return "choice"
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return "object"
        return "array" if arr.size else None
    return "object"


def bad_values(kind: str, value, pname: str, default) -> dict:
    """``{label: factory}`` of bad values for a parameter of ``kind`` whose valid value is ``value``.

    Factories (not values) so that a worker builds its own (a RandomState, a fresh array).
    A bad value equal to the parameter's default is left out: the default is valid by definition.
    """
    out: dict = {}
    if kind in ("float",):
        out.update({"nan": lambda: math.nan, "inf": lambda: math.inf, "-inf": lambda: -math.inf})
        if value > 0:
            out["neg"] = lambda: -float(value)
        out["str"] = lambda: "1.0"
        out["None"] = lambda: None
    elif kind == "int":
        out.update({"0": lambda: 0, "-1": lambda: -1, "1.5": lambda: 1.5, "True": lambda: True, "str": lambda: "3",
                    "None": lambda: None, "nan": lambda: math.nan})
        if pname in SIZE_NAMES:
            out["1e15"] = lambda: 10**15
    elif kind == "int_array":
        a = np.asarray(value)
        out.update({"neg": lambda: -a, "frac": lambda: a + 0.5, "empty": lambda: np.array([], dtype=int),
                    "nan": lambda: np.where(np.arange(a.size) == 0, np.nan, a.astype(float)), "str": lambda: "3"})
        if pname in SIZE_NAMES:
            out["1e15"] = lambda: np.full(a.shape, 10**15)
    elif kind == "bool":
        out.update({"str": lambda: "yes", "None": lambda: None})
    elif kind == "choice":
        out.update({"nope": lambda: "nope", "1.5": lambda: 1.5, "None": lambda: None})
    elif kind == "rng":
        out.update({"-1": lambda: -1, "True": lambda: True, "1.5": lambda: 1.5,
                    "RandomState": lambda: np.random.RandomState(0), "str": lambda: "0"})
    elif kind in ("array", "prob", "interval"):
        a = np.array(value, dtype=float)   # a copy: the views below must not alias the table's arrays
        out["nan_entry"] = lambda: _with(a, np.nan)
        out["inf_entry"] = lambda: _with(a, np.inf)
        out["empty"] = lambda: np.zeros((0,) + a.shape[1:])
        out["ndim+1"] = lambda: a[None, ...]
        if a.ndim >= 1 and a.shape[0] >= 2:
            out["short"] = lambda: a[:-1]
        if a.ndim >= 1:
            out["scalar"] = lambda: float(a.ravel()[0])
        out["str"] = lambda: "nope"
        out["None"] = lambda: None
        if kind == "prob":
            out["prob_neg"] = lambda: _prob_neg(a)
            out["prob_sum2"] = lambda: 2.0 * a
            out["prob_long"] = lambda: np.append(a, 0.0) if a.size < 2 else np.append(a * 0.5, 0.5)
        if kind == "interval" and a.shape == (2,):
            out["reversed"] = lambda: a[::-1].copy()
            out["point"] = lambda: np.array([a[0], a[0]]) if math.isfinite(a[0]) else np.array([a[1], a[1]])
    elif kind == "object":
        out.update({"None": lambda: None, "str": lambda: "nope", "1.5": lambda: 1.5})
    else:
        raise KeyError(kind)
    return {k: f for k, f in out.items() if not _same(f(), default)}


def _with(a, v):
    b = np.array(a, dtype=float, copy=True)
    b.flat[0] = v
    return b


def _prob_neg(a):
    b = np.array(a, dtype=float, copy=True)
    if b.size < 2:
        return -b
    b[0], b[1] = -0.1, b[1] + b[0] + 0.1
    return b


def _same(x, default):
    if default is inspect.Parameter.empty:
        return False
    try:
        return type(x) is type(default) and bool(x == default)
    except Exception:  # noqa: BLE001 - an array compared to a scalar default
        return False


def bound_call(case: Case):
    """``(fn, signature, BoundArguments)`` of the case's valid call (defaults applied)."""
    fn = case.fn or resolve(case.name)
    sig = inspect.signature(fn)
    bound = sig.bind(*case.args, **case.kwargs)
    return fn, sig, bound


@dataclass(frozen=True)
class Spec:
    """One fuzz call: the valid call of ``case`` with ``param`` replaced by bad value ``bad``."""

    case: Case
    param: str | None      # None: the valid call itself
    bad: str | None

    @property
    def id(self) -> str:
        if self.param is None:
            return f"{self.case.id}[valid]"
        return f"{self.case.id}[{self.param}={self.bad}]"


def fuzz_specs(cases: list[Case]) -> list[Spec]:
    """Every valid call, then every (case, parameter, bad value), in a stable order."""
    specs = []
    for case in cases:
        specs.append(Spec(case, None, None))
        if not case.fuzz:
            continue
        _, sig, bound = bound_call(case)
        for pname, value in bound.arguments.items():
            p = sig.parameters[pname]
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or pname in case.no_fuzz:
                continue
            kind = infer_kind(pname, value, case)
            if kind is None:
                continue
            for label in bad_values(kind, value, pname, p.default):
                specs.append(Spec(case, pname, label))
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids)), "duplicate fuzz ids"
    return specs


def make_call(spec: Spec):
    """``(fn, args, kwargs, bad_value)`` of a spec, built fresh."""
    import copy

    fn, sig, bound = bound_call(spec.case)
    bad = None
    if spec.param is not None:
        p = sig.parameters[spec.param]
        kind = infer_kind(spec.param, bound.arguments[spec.param], spec.case)
        bad = bad_values(kind, bound.arguments[spec.param], spec.param, p.default)[spec.bad]()
    for pname in list(bound.arguments):
        bound.arguments[pname] = bad if pname == spec.param else _fresh(bound.arguments[pname], copy)
    args, kwargs = bound.args, bound.kwargs
    return fn, tuple(args), kwargs, bad


def _fresh(v, copy):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, np.random.Generator):
        return np.random.default_rng(0)
    if isinstance(v, (list, dict)):
        return copy.deepcopy(v)
    return v


# --------------------------------------------------------------------------- outcomes


#: Outcomes that are not failures.
OK = ("clear_error", "finite")
#: Bad values that are never valid: accepting them silently is a failure (``nan_accepted``),
#: even if the result is finite (``selfconsume._validation``: "NaN is always rejected").
NAN_BAD = frozenset({"nan", "nan_entry"})


def names_param(msg: str, names) -> bool:
    """Whether ``msg`` mentions one of ``names`` as a word (``n`` in "n must be", not in "an")."""
    for nm in names:
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(nm)}(?![A-Za-z0-9_])", msg):
            return True
    return False


def nonfinite_paths(obj, path="result", seen=None, depth=0) -> list[str]:
    """Paths of the non-finite numbers in a result (floats, arrays, dataclasses, frames, containers)."""
    import pandas as pd

    seen = set() if seen is None else seen
    if depth > 8 or id(obj) in seen:
        return []
    out = []
    if isinstance(obj, (bool, np.bool_, str, bytes)) or obj is None:
        return out
    if isinstance(obj, (numbers.Real, np.floating, np.integer)):
        return [] if math.isfinite(float(obj)) else [f"{path}={float(obj)}"]
    if isinstance(obj, numbers.Complex):
        return [] if (math.isfinite(obj.real) and math.isfinite(obj.imag)) else [f"{path}={obj}"]
    if isinstance(obj, np.ndarray):
        if obj.size > 10**7 and 0 in obj.strides:   # a broadcast view: check what it repeats
            obj = obj[tuple(slice(0, 1) if s == 0 else slice(None) for s in obj.strides)]
        if obj.dtype.kind in "fc":
            bad = ~np.isfinite(obj)
            if bad.any():
                i = np.argwhere(bad)[0]
                where = [int(j) for j in i] if obj.ndim else ""
                value = obj[tuple(i)] if obj.ndim else obj
                return [f"{path}{where}={value} ({int(bad.sum())} of {obj.size})"]
        elif obj.dtype.kind == "O":
            for i, v in enumerate(obj.ravel()[:1000]):
                out += nonfinite_paths(v, f"{path}[{i}]", seen, depth + 1)
        return out
    seen.add(id(obj))
    if isinstance(obj, pd.DataFrame):
        for c in obj.columns:
            out += nonfinite_paths(obj[c].to_numpy(), f"{path}[{c!r}]", seen, depth + 1)
        return out
    if isinstance(obj, pd.Series):
        return nonfinite_paths(obj.to_numpy(), path, seen, depth + 1)
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += nonfinite_paths(v, f"{path}[{k!r}]", seen, depth + 1)
        return out
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj[:1000]):
            out += nonfinite_paths(v, f"{path}[{i}]", seen, depth + 1)
        return out
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            out += nonfinite_paths(getattr(obj, f.name, None), f"{path}.{f.name}", seen, depth + 1)
        return out
    if type(obj).__module__.startswith("selfconsume") and hasattr(obj, "__dict__"):
        for k, v in vars(obj).items():
            out += nonfinite_paths(v, f"{path}.{k}", seen, depth + 1)
    return out


def _allowed(path: str, spec: Spec, params) -> bool:
    """An infinity that is documented (``allow_nonfinite``) or echoes an argument. NaN never is."""
    bare, _, val = path.partition("=")
    if "nan" in val.split(" ")[0]:
        return False
    for a in spec.case.allow_nonfinite:
        if bare.startswith(f"result{a}"):
            return True
    # a scalar result field that echoes an argument of the call, e.g. chain.K = inf for K = inf
    return any(re.search(rf"\.{re.escape(p)}$", bare) for p in params)


def classify(spec: Spec) -> dict:
    """Run one spec here (no time limit) and say what happened."""
    fn, args, kwargs, bad = make_call(spec)
    names = (spec.param,) + tuple(spec.case.aliases.get(spec.param, ())) if spec.param else ()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np_err = np.seterr(divide="warn", over="warn", invalid="warn", under="ignore")  # numpy's defaults
        try:
            result = fn(*args, **kwargs)
            exc = None
        except BaseException as e:  # noqa: BLE001 - classifying is the point
            result, exc = None, e
        finally:
            np.seterr(**np_err)
    dt = time.perf_counter() - t0
    rw = [f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, RuntimeWarning)]
    out = {"id": spec.id, "seconds": dt, "warnings": rw[:3]}
    if exc is not None:
        msg = f"{type(exc).__name__}: {exc}"
        out["message"] = msg[:400]
        if isinstance(exc, (ValueError, TypeError)) and spec.param is not None and names_param(str(exc), names):
            out["outcome"] = "clear_error"
        elif isinstance(exc, (ValueError, TypeError)):
            out["outcome"] = "unnamed_error" if spec.param is not None else "exception"
            if spec.param is None:
                out["traceback"] = "".join(traceback.format_exception(exc))[-1500:]
        else:
            out["outcome"] = "exception"
            out["traceback"] = "".join(traceback.format_exception(exc))[-1500:]
    else:
        params = inspect.signature(fn).parameters if callable(fn) else {}
        nf = [p for p in nonfinite_paths(result) if not _allowed(p, spec, params)]
        out["outcome"] = "nonfinite" if nf else "finite"
        if nf:
            out["message"] = "; ".join(nf[:4])
        elif spec.param is not None and spec.bad in NAN_BAD:
            out["outcome"] = "nan_accepted"
            out["message"] = f"{spec.param}={bad!r} accepted without an error (NaN is never a valid value)"
    if rw and out["outcome"] in OK:
        out["outcome"] = "runtime_warning"
        out["message"] = (out.get("message", "") + " | " + "; ".join(rw[:3])).strip(" |")
    return out


# --------------------------------------------------------------------------- the worker process


def _worker_main(rfd: int, wfd: int, path: str):
    """Child process: rebuild the specs, then run the messages read from ``rfd`` until None."""
    from multiprocessing.connection import Connection

    conn_in, conn_out = Connection(rfd, writable=False), Connection(wfd, readable=False)
    os.environ.setdefault("SELFCONSUME_WORKERS", "1")
    os.environ["SELFCONSUME_CACHE"] = os.path.join(os.getcwd(), "fuzz_cache")
    try:
        import resource

        lim = 6 * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    except (ImportError, ValueError, OSError):
        pass
    sys.path.insert(0, path)
    import fuzz_cases as fc  # noqa: F401 - warm: the package and the table

    specs = {s.id: s for s in fuzz_specs(build_cases())}
    conn_out.send("ready")
    while True:
        try:
            msg = conn_in.recv()
        except EOFError:
            return
        if msg is None:
            return
        kind, payload = msg
        try:
            if kind == "spec":
                res = classify(specs[payload])
            else:  # ("call", (name, args, kwargs)): a public function on given values
                name, args, kwargs = payload
                res = classify_call(name, args, kwargs)
        except BaseException as e:  # noqa: BLE001
            res = {"outcome": "harness_error", "message": f"{type(e).__name__}: {e}",
                   "traceback": traceback.format_exc()[-2000:]}
        conn_out.send(res)


def classify_call(name: str, args, kwargs) -> dict:
    """Run a public function on VALID values (hypothesis): it must return finite numbers."""
    case = Case(name, tuple(args), dict(kwargs))
    return classify(Spec(case, None, None))


class Worker:
    """A child process that runs calls with a wall-clock limit.

    A plain ``subprocess`` (no ``multiprocessing`` start method to re-import ``__main__``),
    talking pickles over two pipes. On a timeout (or a crash) the child is killed; a spare
    child, started in the background at that moment, takes the next call (so a hang costs
    the time limit, not a re-import of the package). The child's cwd is a temporary
    directory, so functions that write files (``cache_dir``, ``cached_table``) write there.
    Its address space is limited (6 GiB), so a huge allocation fails with MemoryError
    instead of exhausting the machine.
    """

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="selfconsume-fuzz-")
        self.current = None
        self.spare = None
        self.restarts = 0

    def _spawn(self):
        import subprocess
        from multiprocessing.connection import Connection

        r1, w1 = os.pipe()   # parent -> child
        r2, w2 = os.pipe()   # child -> parent
        here = os.path.dirname(os.path.abspath(__file__))
        code = f"import sys; sys.path.insert(0, {here!r}); import fuzz_cases; fuzz_cases._worker_main({r1}, {w2}, {here!r})"
        proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(r1, w2), cwd=self.tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        os.close(r1)
        os.close(w2)
        self.restarts += 1
        return {"proc": proc, "send": Connection(w1, readable=False), "recv": Connection(r2, writable=False),
                "ready": False}

    def _take(self, start_timeout=180.0):
        if self.current is None:
            self.current, self.spare = (self.spare or self._spawn()), None
        c = self.current
        if not c["ready"]:
            if not c["recv"].poll(start_timeout):
                raise RuntimeError("fuzz worker did not start")
            assert c["recv"].recv() == "ready"
            c["ready"] = True
        return c

    def run(self, msg, timeout=CALL_TIMEOUT) -> dict:
        c = self._take()
        t0 = time.perf_counter()
        try:
            c["send"].send(msg)
            if c["recv"].poll(timeout):
                return c["recv"].recv()
            outcome = "timeout"
        except (EOFError, OSError):
            outcome = "crash"
        dt = time.perf_counter() - t0
        code = self._kill(c)
        self.current = None
        self.spare = self._spawn()   # boots while the next call is being prepared
        return {"outcome": outcome, "seconds": dt,
                "message": f"{outcome} after {dt:.1f} s (limit {timeout:.0f} s; exit code {code})"}

    @staticmethod
    def _kill(c):
        c["proc"].kill()
        try:
            c["proc"].wait(10)
        except Exception:  # noqa: BLE001, S110 - killed: nothing left to do
            pass
        for k in ("send", "recv"):
            c[k].close()
        return c["proc"].returncode

    def close(self):
        import shutil

        for c in (self.current, self.spare):
            if c is not None:
                try:
                    c["send"].send(None)
                    c["proc"].wait(5)
                except Exception:  # noqa: BLE001, S110 - it is killed just below
                    pass
                self._kill(c)
        self.current = self.spare = None
        shutil.rmtree(self.tmp, ignore_errors=True)
