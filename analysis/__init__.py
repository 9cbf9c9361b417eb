"""Statistics, the claim registry (``selfconsume verify``), sweeps and cached tidy tables."""

from ._cache import cache_dir, cached_table
from ._claims import (
    BUDGETS,
    CheckContext,
    Claim,
    ClaimResult,
    Comparison,
    Row,
    get_claim,
    list_claims,
    register_claim,
    run_claim,
)
from ._verify import VerifyReport, verify
from ._stats import FAMILY_LEVEL, ks_critical, mean_se, proportion_se, variance_se, z_bonferroni

__all__ = [
    "BUDGETS", "CheckContext", "Claim", "ClaimResult", "Comparison", "Row",
    "get_claim", "list_claims", "register_claim", "run_claim",
    "cache_dir", "cached_table", "VerifyReport", "verify",
    "FAMILY_LEVEL", "ks_critical", "mean_se", "proportion_se", "variance_se", "z_bonferroni",
]
