"""Iterated least squares on a fixed design: replace vs accumulate (Gerstgrasser et al. 2024), and
Kazdan et al.'s accumulate-subsample (2025)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import check_choice, check_int, check_memory, check_real

from . import _regression_kernels as _k

pd = lazy("pandas")

__all__ = ["simulate_regression", "RegressionChain"]

WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")
METHODS = ("exact", "samples")


@dataclass(frozen=True)
class RegressionChain:
    """Result of :func:`simulate_regression` (frozen; ``risk`` is read-only).

    Attributes
    ----------
    T, d, iterations, workflow, sigma, method, reps
        The parameters of the run.
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    risk : ndarray
        Test risk :math:`\\|\\hat w_n-w^*\\|^2_\\Sigma` (Σ = I), shape (reps, iterations);
        column ``n - 1`` is round ``n``.
    """

    T: int
    d: int
    iterations: int
    workflow: str
    sigma: float
    method: str
    reps: int
    seed: dict
    risk: np.ndarray = field(repr=False)

    @property
    def n(self) -> np.ndarray:
        """Round index 1..iterations."""
        return np.arange(1, self.iterations + 1)

    def mean_risk(self):
        """Monte-Carlo mean risk per round and its standard error (needs reps ≥ 2 for the SE)."""
        m = self.risk.mean(axis=0)
        se = self.risk.std(axis=0, ddof=1) / math.sqrt(self.reps) if self.reps > 1 else np.full_like(m, np.nan)
        return m, se

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, iteration) with a ``risk`` column."""
        R, N = self.risk.shape
        df = pd.DataFrame({"rep": np.repeat(np.arange(R), N), "iteration": np.tile(np.arange(1, N + 1), R),
                           "risk": self.risk.ravel()})
        for name in ("T", "d", "workflow", "sigma", "method"):
            df[name] = getattr(self, name)
        return df


def simulate_regression(T, d, iterations, *, workflow="replace", sigma=1.0, reps=1, method="exact",
                        rng=None, workers=None, progress=False) -> RegressionChain:
    r"""Iterate least squares on its own labels, replacing, accumulating or subsampling the data.

    A design :math:`X\in\mathbb R^{T\times d}` (rows :math:`N(0,I_d)`) is drawn once and reused
    (``shared/theory.md`` §3.3). Round 1 fits :math:`y^{(1)}=Xw^*+\sigma E_1`; round
    :math:`n` fits labels :math:`y^{(n)}=X\hat w_{n-1}+\sigma E_n` (replace), all label
    sets :math:`y^{(1..n)}` pooled (accumulate), or a uniform subsample of T of the nT pooled
    (row, label) pairs, without replacement (accumulate-subsample: Kazdan et al., ICML 2025, their
    released ``fit_linear_regressions``, where T is their samples per iteration; §3.5).

    Parameters
    ----------
    T : int
        Rows of the design, :math:`T\ge d+2` (finite expected risk).
    d : int
        Dimension :math:`d\ge1`.
    iterations : int
        Rounds :math:`\ge1`.
    workflow : {"replace", "accumulate", "accumulate-subsample"}
        ``"accumulate-subsample"`` runs with ``method="samples"`` only (a subsample's fit depends on
        which rows it holds, not on a sufficient statistic), fits by minimum-norm least squares
        (``pinv``, as released: a subsample may repeat design rows and span fewer than d) and
        draws :math:`w^*\sim N(0,I_d)` per replicate, as released (replace and accumulate do not
        depend on w*). Kazdan et al. score a fit on 1,000 test points; ``risk`` is that score's
        expectation given the fit.
    sigma : float
        Label-noise standard deviation :math:`\sigma>0`.
    reps : int
        Independent replicates (each with its own design).
    method : {"exact", "samples"}
        ``"exact"`` draws :math:`X^\top X` (Bartlett) and :math:`X^+E_n` from their laws at a
        cost independent of T; ``"samples"`` runs the literal loop. Same law.
    rng : None, int, SeedSequence or Generator
    workers : int, optional
        Threads; results do not depend on it.
    progress : bool

    Returns
    -------
    RegressionChain

    Notes
    -----
    :math:`\hat w_n-w^*=\sum_{i\le n}a_iX^+E_i` with :math:`a_i=1` (replace) or :math:`1/i`
    (accumulate), so with :math:`c=\sigma^2d/(T-d-1)`

    .. math:: \mathbb E\,\text{risk}_n = nc\ \text{(replace)},\qquad c\sum_{i\le n}i^{-2}\le\tfrac{\pi^2}{6}c\ \text{(accumulate)}

    (:func:`selfconsume.theory.expected_regression_risk`). Accumulate-subsample has no closed
    form beyond round 1, where every workflow fits the real labels: :math:`\mathbb E\,\text{risk}_1=c`.

    Examples
    --------
    >>> from selfconsume.simulators._regression import simulate_regression
    >>> res = simulate_regression(40, 5, 12, workflow="accumulate", reps=200, rng=0)
    >>> res.risk.shape
    (200, 12)
    >>> sub = simulate_regression(40, 5, 12, workflow="accumulate-subsample", method="samples", reps=20, rng=0)
    >>> sub.risk.shape
    (20, 12)
    """
    d = check_int("d", d, min_value=1)
    # every kernel holds d × d factors (the samples loop two of them); checked before T, whose
    # lower bound d + 2 would otherwise be the first thing a huge d trips
    check_memory("the d × d Gram/Cholesky factors", 2 * d * d, names="d")
    T = check_int("T", T, min_value=d + 2)
    iterations = check_int("iterations", iterations, min_value=1)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    sigma = check_real("sigma", sigma, min_value=0.0, min_inclusive=False)
    reps = check_int("reps", reps, min_value=1)
    method = check_choice("method", method, METHODS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    check_memory("the risk output (reps × iterations)", reps * iterations, names="reps, iterations")
    if workflow == "accumulate-subsample" and method == "exact":
        raise ValueError("method must be 'samples' for workflow='accumulate-subsample': a random subsample's "
                         "fit depends on which rows it holds, not on a sufficient statistic")
    if method == "samples":  # the literal loop holds the T × d design and T labels
        check_memory("the T × d design", T * (d + 1), names="T, d")
    if workflow == "accumulate-subsample":  # and the pool of every (row, label) pair, twice
        check_memory("the pool of T × iterations (row, label) pairs", 2 * T * iterations + T * T,
                     names="T, iterations")
    gen = as_generator(rng)
    seed = seed_info(gen)
    risk = np.empty((reps, iterations))
    acc = workflow == "accumulate"
    blocks = replicate_blocks(reps)
    ok = np.ones(len(blocks), dtype=bool)
    w_star = np.full(d, 1.0 / math.sqrt(d))  # any w* gives the same risk; fixed for the literal loop

    def work(b, g):
        out = risk[b.start:b.stop]
        if workflow == "accumulate-subsample":
            ok[b.index] = _k.regression_subsample_samples(g, T, d, sigma, out)
        elif method == "exact":
            _k.regression_exact(g, T, d, sigma, acc, out)
        else:
            ok[b.index] = _k.regression_samples(g, T, d, sigma, acc, w_star, out)

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="regression")
    if not ok.all():  # probability 0 for T ≥ d
        raise FloatingPointError("a design Gram matrix was numerically singular")
    risk.setflags(write=False)
    return RegressionChain(T, d, iterations, workflow, sigma, method, reps, seed, risk)
