"""Claims are data: the registry behind ``selfconsume verify``.

A :class:`Claim` is a theorem (id, source, statement, assumptions) plus a ``check``: a
function of a :class:`CheckContext` that runs a simulator and returns
:class:`Comparison` objects (predicted vs measured with an SE, a tolerance or an explicit
interval). :func:`run_check` turns them into a :class:`ClaimResult` whose rows carry the
confidence interval and the verdict; the Bonferroni ``z`` is set here, once, from the
number of statistical comparisons the claim makes.

This module imports no claim: the claims register themselves from
:mod:`selfconsume.analysis.claims` (one module per area, imported in a fixed order), which
also looks them up (``list_claims``, ``get_claim``, ``run_claim``). Registration order is
the order of the report.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from selfconsume._validation import check_int

from ._stats import z_bonferroni

__all__ = [
    "Claim",
    "CheckContext",
    "Comparison",
    "Row",
    "ClaimResult",
    "register_claim",
    "registered_claims",
    "run_check",
    "BUDGETS",
]

BUDGETS = ("quick", "full")
_RELATIONS = ("==", ">=", "<=")
#: A claim id: ``<area>.<name>``; the area in lowercase letters, digits and underscores, the name
#: in letters, digits and underscores (``gauss.alpha_law``, ``curation.large_K``).
_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Comparison:
    """One predicted-vs-measured comparison, as a check returns it.

    Give exactly one of ``se`` (statistical: CI = measured ± z·se, z set by the runner),
    ``tol`` (deterministic: CI = measured ± tol) or ``ci`` (an explicit interval).

    ``relation`` says what the theory asserts about the true value of the measured
    quantity: ``"=="`` it equals ``predicted`` (pass iff predicted ∈ CI), ``">="`` it is at
    least ``predicted`` (a lower bound: pass iff CI's upper end ≥ predicted), ``"<="`` it is
    at most ``predicted`` (pass iff CI's lower end ≤ predicted).
    """

    quantity: str
    predicted: float
    measured: float
    se: float | None = None
    tol: float | None = None
    ci: tuple[float, float] | None = None
    relation: str = "=="
    note: str = ""

    def __post_init__(self):
        if sum(x is not None for x in (self.se, self.tol, self.ci)) != 1:
            raise ValueError(f"Comparison {self.quantity!r}: give exactly one of se, tol, ci")
        if self.relation not in _RELATIONS:
            raise ValueError(f"relation must be one of {_RELATIONS}; got {self.relation!r}")
        for name in ("predicted", "measured", "se", "tol"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))):
                raise TypeError(f"Comparison {self.quantity!r}: {name} must be a real number; got {v!r}")
        if not isinstance(self.quantity, str):
            raise TypeError(f"Comparison quantity must be a str; got {self.quantity!r}")
        if not isinstance(self.note, str):
            raise TypeError(f"Comparison {self.quantity!r}: note must be a str; got {self.note!r}")
        for name in ("predicted", "measured", "se", "tol"):  # a NaN is a bug upstream: say where, now
            v = getattr(self, name)
            if v is not None and math.isnan(v):
                raise ValueError(f"Comparison {self.quantity!r}: {name} must not be NaN (a theory function or "
                                 f"simulator returned NaN); got {v!r}")
        for name in ("se", "tol"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"Comparison {self.quantity!r}: {name} must be >= 0; got {v!r}")
        if self.ci is not None:
            ci = self.ci
            if (not isinstance(ci, (tuple, list, np.ndarray)) or len(ci) != 2
                    or any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) for v in ci)):
                raise TypeError(f"Comparison {self.quantity!r}: ci must be a pair (low, high) of real numbers; got {ci!r}")
            if ci[0] > ci[1]:
                raise ValueError(f"Comparison {self.quantity!r}: ci must have low <= high; got {tuple(ci)!r}")


@dataclass(frozen=True)
class Row:
    """A finished comparison: interval and verdict."""

    quantity: str
    predicted: float
    measured: float
    ci_low: float
    ci_high: float
    relation: str
    kind: str  # "statistical (z=…)", "deterministic", "interval"
    passed: bool
    note: str = ""
    #: Minimal detectable relative effect: the smallest relative error in ``predicted`` this row
    #: detects with probability ≥ 0.9 (see :func:`minimal_detectable_effect`).
    mde: float = math.nan


@dataclass(frozen=True)
class CheckContext:
    """What a check may use: the budget, its own random generator, progress display."""

    budget: str
    rng: np.random.Generator
    progress: bool = False
    workers: int | None = None

    @property
    def full(self) -> bool:
        return self.budget == "full"

    def size(self, quick, full):
        """Pick a size by budget."""
        return full if self.full else quick


@dataclass(frozen=True)
class Claim:
    """A theorem as data.

    Attributes
    ----------
    id : str
        Stable identifier, ``<area>.<name>`` (e.g. ``gauss.alpha_law``).
    title : str
        One line.
    source : str
        Paper, theorem/section, and provenance tag of ``shared/theory.md``.
    statement : str
        The claim, with its formula (plain text / LaTeX-light).
    assumptions : tuple of str
    check : callable
        ``check(ctx: CheckContext) -> list[Comparison]``.
    tags : tuple of str
    """

    id: str
    title: str
    source: str
    statement: str
    assumptions: tuple[str, ...]
    check: Callable[[CheckContext], list]
    tags: tuple[str, ...] = ()

    def __post_init__(self):
        _check_metadata(self.id, self.title, self.source, self.statement, self.assumptions, self.tags)
        if not callable(self.check):
            raise TypeError(f"claim {self.id!r}: check must be callable, check(ctx) -> list of Comparison; "
                            f"got {self.check!r}")
        if not isinstance(self.assumptions, tuple) or not isinstance(self.tags, tuple):
            raise TypeError(f"claim {self.id!r}: assumptions and tags must be tuples of str")

    def run(self, budget: str = "quick", *, seed: int = 0, progress: bool = False, workers=None) -> "ClaimResult":
        return run_check(self, budget=budget, seed=seed, progress=progress, workers=workers)


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    budget: str
    seed: int
    rows: tuple[Row, ...]
    seconds: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and len(self.rows) > 0 and all(r.passed for r in self.rows)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame([dataclasses.asdict(r) for r in self.rows])
        df.insert(0, "claim", self.claim.id)
        return df

    def summary(self) -> dict:
        """One line: the worst row (largest distance of the prediction outside/inside its CI)."""
        n_fail = sum(not r.passed for r in self.rows)
        return {
            "claim": self.claim.id,
            "title": self.claim.title,
            "source": self.claim.source,
            "verdict": self.verdict,
            "comparisons": len(self.rows),
            "failed": n_fail,
            "seconds": round(self.seconds, 2),
            "error": self.error,
        }


_REGISTRY: dict[str, Claim] = {}


def _check_metadata(id, title, source, statement, assumptions, tags) -> None:
    """Raise unless the fields of a claim are well formed (see :class:`Claim`)."""
    if not isinstance(id, str):
        raise TypeError(f"id must be a str of the form '<area>.<name>' (e.g. 'gauss.alpha_law'); got {id!r}")
    if not _ID_PATTERN.fullmatch(id):
        raise ValueError(f"id must be of the form '<area>.<name>' (e.g. 'gauss.alpha_law': letters, digits "
                         f"and _, a lowercase area, one dot); got {id!r}")
    for name, value in (("title", title), ("source", source), ("statement", statement)):
        if not isinstance(value, str):
            raise TypeError(f"claim {id!r}: {name} must be a non-empty str; got {value!r}")
        if not value.strip():
            raise ValueError(f"claim {id!r}: {name} must be a non-empty str; got {value!r}")
    for name, value in (("assumptions", assumptions), ("tags", tags)):
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"claim {id!r}: {name} must be a tuple of str; got {value!r}")


def register_claim(*, id: str, title: str, source: str, statement: str, assumptions=(), tags=()):
    """Decorator registering ``check`` as the check of a new claim; returns the :class:`Claim`.

    ``id``: ``<area>.<name>``, unique; ``title``, ``source``, ``statement``: non-empty str;
    ``assumptions``, ``tags``: tuples (or lists) of str; ``check``: a callable. Checked here,
    when the decorator is made, and again when it is applied.
    """
    _check_metadata(id, title, source, statement, assumptions, tags)
    if id in _REGISTRY:
        raise ValueError(f"claim id {id!r} is already registered")

    def deco(check):
        if id in _REGISTRY:
            raise ValueError(f"claim id {id!r} is already registered")
        c = Claim(id=id, title=title, source=source, statement=statement,
                  assumptions=tuple(assumptions), check=check, tags=tuple(tags))
        _REGISTRY[id] = c
        return c

    return deco


def registered_claims() -> tuple[Claim, ...]:
    """Every claim registered so far, in registration order."""
    return tuple(_REGISTRY.values())


def claim_seed(master: int, claim_id: str) -> np.random.SeedSequence:
    """Each claim's own stream: a child of ``master`` keyed by a stable hash of the id."""
    return np.random.SeedSequence(master, spawn_key=(zlib.crc32(claim_id.encode()),))


def run_check(claim: Claim, budget: str = "quick", *, seed: int = 0, progress: bool = False,
              workers=None) -> ClaimResult:
    """Run one claim's check and finish its comparisons into rows with verdicts."""
    if not isinstance(claim, Claim):
        raise TypeError(f"claim must be a Claim (look one up with get_claim); got {claim!r}")
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}; got {budget!r}")
    seed = check_int("seed", seed, min_value=0)
    if workers is not None:
        workers = check_int("workers", workers, min_value=1)
    ctx = CheckContext(budget=budget, rng=np.random.default_rng(claim_seed(seed, claim.id)),
                       progress=progress, workers=workers)
    t0 = time.perf_counter()
    try:
        comps = list(claim.check(ctx))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # reported as ERROR, never swallowed silently
        return ClaimResult(claim, budget, seed, (), time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}")
    rows = finish(comps)
    return ClaimResult(claim, budget, seed, tuple(rows), time.perf_counter() - t0)


#: One-sided normal quantile of the power the ``mde`` is stated at (0.9).
Z_POWER = 1.2815515655446004


def minimal_detectable_effect(predicted, measured, lo, hi, relation, se=None) -> float:
    r"""The smallest relative error :math:`|\delta|/|p|` in the prediction :math:`p` that the row detects
    with probability ≥ 0.9.

    A wrong prediction :math:`p+\delta` fails the row when it leaves the interval (``==``), exceeds
    its upper end (``>=``: only increases are detectable) or falls below its lower end (``<=``).
    Statistical rows re-draw the interval, whose centre has standard error ``se``, so the
    detectable shift is the distance from :math:`p` to the violated end plus
    :math:`z_{0.9}\,\mathrm{se}`; deterministic and interval rows detect, with certainty, any
    shift past the end. Relative to :math:`|p|`; ``inf`` when :math:`p = 0` (a difference that should
    vanish has no relative scale: its interval is the absolute resolution).
    """
    extra = Z_POWER * float(se) if se is not None else 0.0
    up, down = hi - predicted + extra, predicted - lo + extra
    if relation == "==":
        shift = max(up, down)  # the worse direction: a detectable error either way
    elif relation == ">=":
        shift = up
    else:
        shift = down
    ref = abs(predicted)
    if not (math.isfinite(shift) and ref > 0):  # a prediction of 0 (an error that should vanish) has no relative scale
        return math.inf
    return max(shift, 0.0) / ref


def finish(comps) -> list[Row]:
    """Turn comparisons into rows; one Bonferroni ``z`` for the statistical ones of a claim."""
    m = sum(c.se is not None for c in comps)
    z = z_bonferroni(m) if m else 5.0
    rows = []
    for c in comps:
        if c.se is not None:
            half = z * float(c.se)
            lo, hi, kind = c.measured - half, c.measured + half, f"statistical (z={z:.2f})"
        elif c.tol is not None:
            lo, hi, kind = c.measured - c.tol, c.measured + c.tol, "deterministic"
        else:
            lo, hi, kind = float(c.ci[0]), float(c.ci[1]), "interval"
        p = float(c.predicted)
        finite = all(math.isfinite(v) for v in (p, lo, hi, float(c.measured)))
        if c.relation == "==":
            ok = lo <= p <= hi
        elif c.relation == ">=":
            ok = hi >= p
        else:
            ok = lo <= p
        mde = minimal_detectable_effect(p, float(c.measured), float(lo), float(hi), c.relation,
                                        None if c.se is None else float(c.se))
        rows.append(Row(c.quantity, p, float(c.measured), float(lo), float(hi), c.relation, kind,
                        bool(ok and finite), c.note, mde))
    return rows
