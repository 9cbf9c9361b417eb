"""The catalogue of claims: one module per area, registered in a fixed order.

Importing this package imports :data:`AREAS` in order; each area module registers its claims
with :func:`selfconsume.analysis.register_claim` as it is imported, in the order they appear
in the file. That order — areas as listed, claims as written — is the order of
``selfconsume verify``'s report and of the README's claims table.

To add a claim, write it in the module of its area (or add a module and name it in
:data:`AREAS`); see ``ARCHITECTURE.md``.
"""

from __future__ import annotations

import importlib

from .._registry import Claim, ClaimResult, registered_claims, run_check

__all__ = ["AREAS", "list_claims", "get_claim", "run_claim"]

#: The area modules, in report order: collapse, then real data, population stability, curation on
#: finite spaces, curation on densities.
AREAS = ("gaussian", "mixing", "stability", "curation", "continuous")

for _area in AREAS:
    importlib.import_module(f"{__name__}.{_area}")
del _area


def list_claims(tag: str | None = None) -> list[Claim]:
    """Every registered claim (optionally only those with ``tag``), in registration order."""
    return [c for c in registered_claims() if tag is None or tag in c.tags]


def get_claim(claim_id: str) -> Claim:
    """The registered claim with id ``claim_id``."""
    for c in registered_claims():
        if c.id == claim_id:
            return c
    ids = ", ".join(c.id for c in registered_claims())
    raise ValueError(f"claim must be one of the registered ids ({ids}); got {claim_id!r}")


def run_claim(claim, budget: str = "quick", *, seed: int = 0, progress: bool = False, workers=None) -> ClaimResult:
    """Run one claim (a :class:`Claim` or its id) on a budget (``"quick"`` or ``"full"``) and seed.

    Each claim draws from its own stream, a child of ``seed`` keyed by the claim's id, so
    its numbers do not depend on which other claims run or in what order.
    """
    if isinstance(claim, str):
        claim = get_claim(claim)
    return run_check(claim, budget=budget, seed=seed, progress=progress, workers=workers)
