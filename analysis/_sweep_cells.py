"""The registered cells of :func:`selfconsume.analysis.sweep`: the toolkit's simulators as tidy tables.

A cell is ``cell(params, reps, rng) -> DataFrame`` (long form: one row per replicate ×
generation, or per replicate for a summary). A registered cell also has ``validate(params)``,
which checks the parameter names and runs the simulator's own argument checks cheaply (one
replicate, no generation), so that a bad grid is refused before anything runs.

* ``"gaussian"`` — Collapse-or-Thrive's Gaussian protocol (Kazdan et al. 2025) through
  :func:`selfconsume.simulators.simulate_gaussian`;
* ``"fixation"`` — neutral Wright–Fisher resampling of ``categories`` symbols until one is
  left (:func:`selfconsume.simulators.simulate_curation` with K = 1, ``record="last"``, which
  stops drawing once a path is absorbed): the fixation time per replicate;
* ``"curation"`` — Bradley–Terry curated retraining over K and λ
  (:func:`selfconsume.simulators.simulate_curation`): mean reward, top-level mass, diversity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from selfconsume._validation import check_choice, check_int, check_real

__all__ = ["CELLS", "RegisteredCell", "get_cell"]


@dataclass(frozen=True)
class RegisteredCell:
    """A named cell: the function, its parameter names (required and optional) and a validator."""

    name: str
    fn: Callable
    required: tuple
    optional: dict = field(default_factory=dict)
    check: Callable | None = None
    doc: str = ""

    def validate(self, params: dict) -> None:
        """Raise ``ValueError``/``TypeError`` naming the bad parameter; run nothing expensive."""
        if not isinstance(params, dict):
            raise TypeError(f"a cell's parameters must be a dict; got {type(params).__name__}")
        known = (*self.required, *self.optional)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(map(repr, unknown))} for cell {self.name!r}; "
                             f"it takes {', '.join(known)}")
        missing = [k for k in self.required if k not in params]
        if missing:
            raise ValueError(f"cell {self.name!r} needs parameter(s) {', '.join(map(repr, missing))}")
        if self.check is not None:
            self.check(params)

    def __call__(self, params, reps, rng):
        return self.fn(params, reps, rng)


# ------------------------------------------------------------------------------ gaussian
_WORKFLOWS = ("replace", "accumulate", "accumulate-subsample", "fresh")


def _gaussian_args(params: dict) -> tuple[dict, int | None]:
    """``simulate_gaussian`` keyword arguments for a cell, and Kazdan's iteration count (or None).

    Kazdan et al.'s iteration k (1-based: the k-th fitted model) is the toolkit's generation k
    for ``replace`` (``lam=None``: generation 0 is the truth) and generation k − 1 for the
    other workflows (``lam=1``: generation 0 is the fit to the real sample).
    """
    n = check_int("n", params["n"], min_value=2)
    d = check_int("d", params.get("d", 1), min_value=1)
    workflow = check_choice("workflow", params.get("workflow", "replace"), _WORKFLOWS)
    if ("iterations" in params) == ("generations" in params):
        raise ValueError("give exactly one of iterations (Kazdan et al.'s count, >= 1) and generations "
                         f"(the toolkit's, >= 0); got {params!r}")
    if "iterations" in params:
        it = check_int("iterations", params["iterations"], min_value=1)
        generations = it if workflow == "replace" else it - 1
    else:
        it = None
        generations = check_int("generations", params["generations"], min_value=0)
    args = dict(n=n, generations=generations, dim=d, estimator=params.get("estimator", "mle"),
                bias=check_real("bias", params.get("bias", 1.0), min_value=0.0, max_value=1.0, min_inclusive=False))
    if workflow == "replace":
        if "lam" in params:
            raise ValueError("lam is the synthetic-to-real ratio of the real-data workflows; workflow 'replace' is "
                             "fully synthetic")
        args.update(method="exact")
    else:
        lam = check_real("lam", params.get("lam", 1.0), min_value=0.0)
        args.update(lam=lam, workflow=workflow, method="samples" if workflow == "accumulate-subsample" else "exact")
    return args, it


def _gaussian_check(params):
    from selfconsume.simulators import simulate_gaussian

    args, _ = _gaussian_args(params)
    simulate_gaussian(**dict(args, generations=0), reps=1, rng=0, workers=1)


def gaussian_cell(params: dict, reps: int, rng) -> pd.DataFrame:
    r"""Collapse-or-Thrive's Gaussian metrics per replicate × iteration.

    Parameters (``params``): ``n`` (samples per model), ``d`` (dimension, default 1),
    ``workflow`` (``replace`` — fully synthetic, ``accumulate``, ``accumulate-subsample``, or
    ``fresh`` — Alemohammad et al.'s fresh real data each generation), ``iterations`` (Kazdan et
    al.'s count) or ``generations`` (the toolkit's), ``estimator`` (default ``"mle"``, as in their
    code), ``lam`` (synthetic-to-real ratio of the real-data workflows, default 1 as in their
    code) and ``bias`` (sampling bias b ∈ (0, 1], default 1). Columns: ``rep``, ``generation``, ``iteration``,
    ``tr_ratio`` = :math:`\operatorname{tr}\hat\Sigma/(d\sigma_0^2)`, ``det_ratio`` =
    :math:`\det\hat\Sigma/\sigma_0^{2d}` (exactly 0 for n ≤ d), ``mean_sq_error`` =
    :math:`\|\hat\mu-\mu_0\|^2`. With ``iterations`` the rows are iterations 1..I (for
    ``replace`` the truth, generation 0, is left out).
    """
    from selfconsume.simulators import simulate_gaussian

    args, iterations = _gaussian_args(params)
    res = simulate_gaussian(**args, reps=reps, rng=rng)
    if res.dim == 1:
        tr = res.sigma**2
        det = tr
        mse = res.mu**2
    else:
        tr = res.trace / res.dim
        with np.errstate(under="ignore"):
            det = np.exp(res.logdet)
        mse = np.sum(res.mu**2, axis=-1)
    T1 = res.generations + 1
    gen = np.arange(T1)
    it = gen + (0 if params.get("workflow", "replace") == "replace" else 1)
    keep = it >= 1 if iterations is not None else np.ones(T1, dtype=bool)
    g, k = gen[keep], it[keep]
    return pd.DataFrame({
        "rep": np.repeat(np.arange(reps), g.size),
        "generation": np.tile(g, reps),
        "iteration": np.tile(k, reps),
        "tr_ratio": tr[:, keep].ravel(),
        "det_ratio": det[:, keep].ravel(),
        "mean_sq_error": mse[:, keep].ravel(),
    })


# ------------------------------------------------------------------------------ fixation
def _fixation_args(params):
    m = check_int("categories", params["categories"], min_value=1)
    n = check_int("n", params["n"], min_value=1)
    cap = check_int("generations", params["generations"], min_value=0)
    return m, n, cap


def _fixation_run(params, reps, rng):
    from selfconsume.simulators import simulate_curation

    m, n, cap = _fixation_args(params)
    return simulate_curation(np.full(m, 1.0 / m), np.zeros(m), 1, cap, n=n, reps=reps, record="last", rng=rng)


def fixation_cell(params: dict, reps: int, rng) -> pd.DataFrame:
    """Neutral resampling from the uniform law on ``categories`` symbols until one is left.

    Parameters: ``categories`` (symbols, uniform at generation 0), ``n`` (samples per
    generation), ``generations`` (the cap). Columns per replicate: ``rep``, ``fixation_time``
    (first generation with a single symbol; NaN if not within the cap), ``fixed``,
    ``support`` (symbols alive at the end).
    """
    res = _fixation_run(params, reps, rng)
    fix = res.fixation.astype(float)
    fix[res.fixation < 0] = np.nan
    return pd.DataFrame({
        "rep": np.arange(reps),
        "fixation_time": fix,
        "fixed": res.fixation >= 0,
        "support": (res.p[:, -1, :] > 0).sum(axis=-1).astype(np.int64),
    })


def _fixation_check(params):
    _fixation_run(dict(params, generations=0), 1, 0)


# ------------------------------------------------------------------------------ curation
def _curation_args(params):
    K = params["K"]
    if isinstance(K, str) and K.lower() == "inf":
        K = math.inf
    m = check_int("levels", params.get("levels", 5), min_value=2)
    beta = check_real("beta", params.get("beta", 1.0), min_value=0.0, min_inclusive=False)
    kw = dict(generations=check_int("generations", params["generations"], min_value=0))
    if params.get("lam") is not None:
        kw["lam"] = params["lam"]
    if params.get("n") is not None:
        kw["n"] = params["n"]
    return np.full(m, 1.0 / m), beta * np.arange(m) / (m - 1), K, kw


def curation_cell(params: dict, reps: int, rng) -> pd.DataFrame:
    r"""Curated retraining on ``levels`` equally likely atoms with rewards :math:`\beta i/(m-1)`.

    Parameters: ``K`` (candidates per curation; ``"inf"`` for the tilt), ``generations``,
    optional ``lam`` (synthetic-to-real ratio; absent: fully synthetic), ``n`` (samples per
    generation; absent: the deterministic population chain, every replicate the same path),
    ``levels`` (default 5), ``beta`` (reward scale, default 1). Columns per replicate ×
    generation: ``rep``, ``generation``, ``mean_reward``, ``top_mass``, ``gini``.
    """
    from selfconsume.simulators import simulate_curation

    p0, r, K, kw = _curation_args(params)
    res = simulate_curation(p0, r, K, reps=reps, rng=rng, **kw)
    R, T = res.p.shape[:2]
    return pd.DataFrame({
        "rep": np.repeat(np.arange(R), T),
        "generation": np.tile(res.t, R),
        "mean_reward": res.mean_reward().ravel(),
        "top_mass": res.top_mass().ravel(),
        "gini": res.gini().ravel(),
    })


def _curation_check(params):
    from selfconsume.simulators import simulate_curation

    p0, r, K, kw = _curation_args(params)
    simulate_curation(p0, r, K, reps=1, rng=0, workers=1, **dict(kw, generations=0))


CELLS = {
    "gaussian": RegisteredCell("gaussian", gaussian_cell, ("n",),
                               {"d": 1, "workflow": "replace", "iterations": None, "generations": None,
                                "estimator": "mle", "lam": 1.0, "bias": 1.0}, _gaussian_check, gaussian_cell.__doc__),
    "fixation": RegisteredCell("fixation", fixation_cell, ("categories", "n", "generations"), {},
                               _fixation_check, fixation_cell.__doc__),
    "curation": RegisteredCell("curation", curation_cell, ("K", "generations"),
                               {"lam": None, "n": None, "levels": 5, "beta": 1.0}, _curation_check,
                               curation_cell.__doc__),
}


def get_cell(name: str) -> RegisteredCell:
    """The registered cell ``name``, or a ValueError listing them."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be a callable cell(params, reps, rng) or one of "
                         f"{', '.join(map(repr, CELLS))}; got {name!r}")
    return CELLS[name]
