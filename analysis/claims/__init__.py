"""The catalogue of claims: one module per area, registered in a fixed order.

Importing this package imports :data:`AREAS` in order; each area module registers its claims
with :func:`selfconsume.analysis.register_claim` as it is imported, in the order they appear
in the file. That order — areas as listed, claims as written — is the order of
``selfconsume verify``'s report and of the README's claims table.

To add a claim, write it in the module of its area (or add a module and name it in
:data:`AREAS`); see ``ARCHITECTURE.md``.

Backends. The areas above run on the toolkit's own simulators (backend ``"numpy"``, the
default of ``selfconsume verify``). The claims of the torch adapter (ids ``torch.*``, tag
``"torch"``) live in :data:`BACKEND_AREAS` ``["torch"]`` and are registered only when that
backend is asked for (``verify --backend torch``, :func:`list_claims` with
``backend="torch"``, or :func:`get_claim` of a ``torch.`` id), so that nothing here needs torch
unless it is used.
"""

from __future__ import annotations

import importlib

from .._registry import Claim, ClaimResult, registered_claims, run_check

__all__ = ["AREAS", "BACKENDS", "BACKEND_AREAS", "list_claims", "get_claim", "run_claim", "load_backend"]

#: The area modules, in report order: collapse, then real data, population stability, curation on
#: finite spaces, curation on densities.
AREAS = ("gaussian", "mixing", "stability", "curation", "continuous", "peers", "mad")

#: Backends of ``selfconsume verify``: the toolkit's simulators, and the torch adapter.
BACKENDS = ("numpy", "torch")
#: Area modules of the optional backends, imported on demand by :func:`load_backend`.
BACKEND_AREAS = {"torch": ("torch_adapter",)}

for _area in AREAS:
    importlib.import_module(f"{__name__}.{_area}")
del _area


def load_backend(backend: str) -> None:
    """Register the claims of ``backend`` (idempotent). For ``"torch"``, ImportError says how to install torch."""
    from selfconsume._validation import check_choice

    backend = check_choice("backend", backend, BACKENDS)
    if backend == "numpy":
        return
    from selfconsume.simulators.torch import require_torch

    require_torch()
    for area in BACKEND_AREAS[backend]:
        importlib.import_module(f"{__name__}.{area}")


def _backend_of(claim: Claim) -> str:
    return "torch" if "torch" in claim.tags else "numpy"


def list_claims(tag: str | None = None, *, backend: str = "numpy") -> list[Claim]:
    """The registered claims of ``backend`` (optionally only those with ``tag``), in registration order."""
    load_backend(backend)
    return [c for c in registered_claims() if _backend_of(c) == backend and (tag is None or tag in c.tags)]


def get_claim(claim_id: str) -> Claim:
    """The registered claim with id ``claim_id`` (a ``torch.`` id loads the torch backend)."""
    if isinstance(claim_id, str) and claim_id.startswith("torch.") and claim_id not in {c.id for c in
                                                                                      registered_claims()}:
        load_backend("torch")
    for c in registered_claims():
        if c.id == claim_id:
            return c
    ids = ", ".join(c.id for c in registered_claims())
    raise ValueError(f"claim must be one of the registered ids ({ids}, and torch.* with --backend torch); "
                     f"got {claim_id!r}")


def run_claim(claim, budget: str = "quick", *, seed: int = 0, progress: bool = False, workers=None) -> ClaimResult:
    """Run one claim (a :class:`Claim` or its id) on a budget (``"quick"`` or ``"full"``) and seed.

    Each claim draws from its own stream, a child of ``seed`` keyed by the claim's id, so
    its numbers do not depend on which other claims run or in what order.
    """
    if isinstance(claim, str):
        claim = get_claim(claim)
    return run_check(claim, budget=budget, seed=seed, progress=progress, workers=workers)
