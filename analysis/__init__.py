"""Statistics, the claim registry and catalogue (``selfconsume verify``), and the tables behind the figures.

Layout (data flows downwards; each layer imports only the ones above it):

* ``_stats`` — standard errors, the Bonferroni z, KS critical values;
* ``_registry`` — :class:`Claim`, :class:`Comparison`, :func:`register_claim`; imports no claim;
* ``claims/`` — the catalogue, one module per area (``AREAS``), registered in report order;
  :func:`list_claims`, :func:`get_claim`, :func:`run_claim`;
* ``_verify`` — :func:`verify`: runs the catalogue, writes the report;
* ``tables/`` and ``_cache`` — the figures' tables and their on-disk cache.

The catalogue, the runner and the tables import the theory and the simulators; they are
loaded on first use, so ``import selfconsume.analysis`` stays cheap.
"""

import importlib

from ._cache import cache_dir, cached_table
from ._registry import (
    BUDGETS,
    CheckContext,
    Claim,
    ClaimResult,
    Comparison,
    Row,
    register_claim,
)
from ._metrics import kl_grid, mmd, mode_coverage, sliced_wasserstein
from ._stats import FAMILY_LEVEL, ks_critical, mean_se, proportion_se, variance_se, z_bonferroni

__all__ = [
    "BUDGETS", "CheckContext", "Claim", "ClaimResult", "Comparison", "Row",
    "get_claim", "list_claims", "register_claim", "run_claim",
    "cache_dir", "cached_table", "VerifyReport", "verify",
    "sweep", "estimate_rate",
    "fresh_limit_distance", "effective_sample_size", "admissibility_threshold", "real_fit_distance", "FreshDistance",
    "Threshold",
    "sliced_wasserstein", "mmd", "mode_coverage", "kl_grid",
    "FAMILY_LEVEL", "ks_critical", "mean_se", "proportion_se", "variance_se", "z_bonferroni",
]

# Loaded on first use (PEP 562): name -> module that defines it.
_LAZY = {"list_claims": "claims", "get_claim": "claims", "run_claim": "claims",
         "verify": "_verify", "VerifyReport": "_verify",
         "sweep": "_sweep", "estimate_rate": "_rates",
         "fresh_limit_distance": "_mad", "effective_sample_size": "_mad", "admissibility_threshold": "_mad",
         "FreshDistance": "_mad", "Threshold": "_mad", "real_fit_distance": "_mad"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    if name in ("claims", "tables"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
