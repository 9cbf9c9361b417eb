"""Closed forms and bounds, derived with sympy, each with a numeric twin.

Modules by concept (all public names are re-exported here, so user code imports
``selfconsume.theory.<name>`` and never a private module):

* symbols and laws: ``_symbols`` (the shared sympy symbols), ``_quadrature`` (adaptive
  double-exponential quadrature on 1-D laws), ``_mixture`` (the one Gaussian-mixture law, on the line or in d dimensions),
  ``_targets`` (the 8-Gaussian ring, two moons, grid densities, samplers), ``_rewards``
  (rewards on R^d), ``_laws`` (the real-data truths of the population computations);
* Gaussian collapse: ``_gaussian_derivation`` (sympy), ``_gaussian`` (numeric twins),
  ``_gaussian_log_law`` (exact law of log σ_t²);
* real data in the loop: ``_mixing`` (finite-n replace/accumulate moments, the AR(1) limit),
  ``_accumulate`` (the accumulate workflow), ``_regression`` (iterated least squares);
* population stability: ``_stability_families`` (p_θ), ``_stability_operator`` (G_λ and its
  fixed points), ``_stability_jacobian`` (exact Jacobian), ``_stability_bounds`` (α, L, ε and
  ρ_B, ρ_F, ρ_♯), ``_stability_boundary`` (the boundary in λ);
* curation: ``_curation_kernels`` (Numba Laplace quadrature of H^K), ``_curation_operator``
  (H^K and the curated law), ``_curation_bounds`` (rewards, KL, Theorems 2.1–2.4),
  ``_continuous`` (curation on densities in any dimension, exact through the law of the reward);
* the public peers' experiments: ``_survival`` (symbols, vocabularies and Poisson counts under
  resampling, Suresh et al.'s bounds), ``_peers_mixture`` (the two-Gaussian mixture refit),
  ``_discrete_workflows`` (Collapse-or-Thrive's discrete law under the three workflows).
"""

import importlib

# The modules with public names, in the order of the namespace's __all__ (``_quadrature`` and
# ``_curation_kernels`` have none: they are imported by the modules that use them).
_MODULES = (
    "_symbols", "_gaussian_derivation", "_gaussian", "_gaussian_log_law",
    "_mixing", "_accumulate", "_regression",
    "_curation_operator", "_curation_bounds", "_continuous", "_distances",
    "_mixture", "_targets", "_rewards", "_laws", "_stability_families", "_stability_operator", "_stability_jacobian",
    "_stability_bounds", "_stability_boundary", "_survival", "_peers_mixture", "_discrete_workflows", "_mad",
)


def _load():
    """Import every module and bind its public names here (once, on first use).

    Lazy so that ``import selfconsume.simulators`` (which needs only the curation kernel and
    the mixture law) does not pay for sympy and the derivations; a single name is bound by
    :func:`__getattr__` through :func:`_index`, importing only its module.
    """
    names = []
    for m in _MODULES:
        mod = importlib.import_module(f"{__name__}.{m}")
        public = getattr(mod, "__all__", ())
        globals().update({k: getattr(mod, k) for k in public})
        names += public
    globals()["__all__"] = names
    return names


_INDEX: dict | None = None


def _index() -> dict:
    """Public name → module, read from each module's literal ``__all__`` without importing it (about
    60 ms, once): ``theory.<name>`` then imports only the module that defines it, so the numeric
    modules that need no sympy (laws, rewards, mixtures, survival, ...) are used without loading it."""
    global _INDEX
    if _INDEX is None:
        import ast
        from pathlib import Path

        idx = {}
        here = Path(__file__).resolve().parent
        for m in _MODULES:
            tree = ast.parse((here / f"{m}.py").read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                    idx.update((k, m) for k in ast.literal_eval(node.value))
        _INDEX = idx
    return _INDEX


def __getattr__(name):
    if name.startswith("__") and name != "__all__":
        raise AttributeError(name)
    module = None if name == "__all__" else _index().get(name)
    if module is None:
        _load()
    else:
        mod = importlib.import_module(f"{__name__}.{module}")
        globals().update({k: getattr(mod, k) for k in mod.__all__})
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted({*globals(), *_load()})
