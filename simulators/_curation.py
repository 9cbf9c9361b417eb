"""Retraining on Bradley–Terry-curated samples on a finite space (Ferbach et al. 2024)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import check_choice, check_int, check_lam, check_memory

from ._common import readonly
from . import _curation_kernels as _k

pd = lazy("pandas")

__all__ = ["simulate_curation", "CurationChain"]

METHODS = ("exact", "luce")
RECORDS = ("all", "last")
#: Most random draws a finite-sample chain may ask for, refused up front beyond it: about three
#: hours of one core at ~10⁸ draws/s (the Luce rule costs one draw per candidate). Counted for one
#: generation of every replicate (reps·⌊λn⌋·K candidates with ``method="luce"``); with real data
#: (``lam``) the chain is never absorbed, so all generations count (reps·generations·(m or ⌊λn⌋·K)).
#: A fully synthetic chain stops drawing once absorbed, so its ``generations`` may be a large cap.
MAX_DRAWS = 10**12


def _theory():
    # The validation and level helpers are shared with selfconsume.theory (the layer below);
    # imported at call time only so that importing the simulators does not load sympy.
    from selfconsume.theory import _curation_operator

    return _curation_operator




@dataclass(frozen=True)
class CurationChain:
    """Result of :func:`simulate_curation` (frozen; arrays are read-only).

    Attributes
    ----------
    K : int or float
        Candidates per curation (``inf`` for the K → ∞ tilt).
    lam : float or None
        Synthetic-to-real ratio λ (None: fully synthetic).
    n : int or None
        Samples per generation (None: the population chain). With ``lam``, the size of the
        real sample; ⌊λn⌋ curated samples are added per generation.
    reps, generations : int
    method : str
        ``"population"``, ``"exact"`` or ``"luce"``.
    record : str
        ``"all"`` or ``"last"``.
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    reward, p0, p_ref : ndarray, shape (m,)
    p : ndarray
        Model distributions :math:`p_t`, shape (reps, len(t), m).
    t : ndarray
        Generations recorded (0..generations, or just the last one).
    fixation : ndarray or None
        First generation whose support is a single atom, −1 if none (finite-sample runs).
    """

    K: float
    lam: float | None
    n: int | None
    reps: int
    generations: int
    method: str
    record: str
    seed: dict
    reward: np.ndarray = field(repr=False)
    p0: np.ndarray = field(repr=False)
    p_ref: np.ndarray | None = field(repr=False)
    p: np.ndarray = field(repr=False)
    t: np.ndarray = field(repr=False)
    fixation: np.ndarray | None = field(default=None, repr=False)

    @property
    def top_reward(self) -> float:
        """:math:`r^*`: the largest reward on the support of p0 (and of p_ref with real data)."""
        return float(self.reward[self._support()].max())

    def top_mass(self) -> np.ndarray:
        """:math:`P_t(r=r^*)`, shape (reps, len(t))."""
        return self.p[..., self.reward == self.top_reward].sum(axis=-1)

    def mean_reward(self) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}[r]`, shape (reps, len(t))."""
        return self.p @ self.reward

    def _support(self):
        """Atoms of the support (p_t never charges an atom outside the supports of p0 and p_ref:
        a zero-mass atom's reward, however large, must not enter e^{r − r*})."""
        sup = self.p0 > 0
        if self.p_ref is not None:
            sup = sup | (self.p_ref > 0)
        return sup

    def mean_exp_reward(self, *, log=False) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}[e^r]` (or its log, finite for any reward), shape (reps, len(t))."""
        top = self.top_reward
        sup = self._support()
        val = self.p[..., sup] @ np.exp(self.reward[sup] - top)
        with np.errstate(divide="ignore", over="ignore"):
            return top + np.log(val) if log else np.exp(top) * val

    def var_exp_reward(self, *, log=False) -> np.ndarray:
        """:math:`\\mathrm{Var}_{p_t}[e^r]` from centred terms (or its log, finite for any reward),
        shape (reps, len(t))."""
        top = self.top_reward
        sup = self._support()
        w = np.exp(self.reward[sup] - top)
        p = self.p[..., sup]
        mu = p @ w
        v = np.einsum("...m,...m->...", p, (w - mu[..., None]) ** 2)
        with np.errstate(divide="ignore", over="ignore"):
            return 2 * top + np.log(v) if log else np.exp(2 * top) * v

    def gini(self) -> np.ndarray:
        """Gini–Simpson diversity :math:`1-\\sum_xp_t(x)^2`, shape (reps, len(t))."""
        return 1.0 - np.einsum("...m,...m->...", self.p, self.p)

    def to_frame(self, per: str = "generation") -> pd.DataFrame:
        """Tidy long table.

        ``per="generation"``: one row per (rep, generation) with ``mean_reward``,
        ``log_mean_exp_reward``, ``top_mass``, ``gini``, ``support``; ``per="atom"``: one row
        per (rep, generation, atom) with ``reward`` and ``p``. Parameters are columns.
        """
        per = check_choice("per", per, ("generation", "atom"))
        R, T, m = self.p.shape
        if per == "generation":
            df = pd.DataFrame({
                "rep": np.repeat(np.arange(R), T),
                "generation": np.tile(self.t, R),
                "mean_reward": self.mean_reward().ravel(),
                "log_mean_exp_reward": self.mean_exp_reward(log=True).ravel(),
                "top_mass": self.top_mass().ravel(),
                "gini": self.gini().ravel(),
                "support": (self.p > 0).sum(axis=-1).ravel(),
            })
        else:
            df = pd.DataFrame({
                "rep": np.repeat(np.arange(R), T * m),
                "generation": np.tile(np.repeat(self.t, m), R),
                "atom": np.tile(np.arange(m), R * T),
                "reward": np.tile(self.reward, R * T),
                "p": self.p.ravel(),
            })
        for name in ("K", "lam", "n", "method"):
            df[name] = getattr(self, name)
        return df


def simulate_curation(p0, reward, K, generations, *, lam=None, p_ref=None, n=None, reps=1,
                      method="exact", record="all", rng=None, workers=None, progress=False) -> CurationChain:
    r"""Retrain a distribution on m atoms on its own Bradley–Terry-curated samples.

    Each curated sample is the Luce choice among K iid samples of the current model:
    candidate :math:`x_k` is kept with probability :math:`e^{r(x_k)}/\sum_je^{r(x_j)}`
    (Ferbach et al. 2024, Algorithm 1). The model is refit by maximum likelihood, i.e. to
    empirical frequencies (a perfect learner on a finite space).

    Parameters
    ----------
    p0 : array_like, shape (m,)
        Initial model :math:`p_0` (sums to 1 within 1e-9).
    reward : array_like, shape (m,)
        Finite rewards :math:`r(x)`; ties allowed.
    K : int or numpy.inf
        Candidates per curation, :math:`K\ge1`. K = 1 is the neutral Wright–Fisher loop;
        ``numpy.inf`` keeps a sample from the tilt :math:`pe^r/\mathbb E_pe^r` (not with ``luce``).
    generations : int
        Retraining steps :math:`T\ge0`.
    lam : float, optional
        Synthetic-to-real ratio :math:`\lambda\ge0`. ``None``: fully synthetic.
    p_ref : array_like, optional
        Real distribution (only with ``lam``; default ``p0``).
    n : int, optional
        ``None``: the population chain :math:`p_{t+1}=p_tH^K_{p_t}`, or
        :math:`(p_\text{ref}+\lambda p_tH^K_{p_t})/(1+\lambda)`, from :math:`p_0` = p0
        (deterministic; every replicate is the same path). An int :math:`n\ge1`: the
        finite-sample chain refit to n curated samples per generation; with ``lam``, n real
        samples are drawn once per replicate from ``p_ref``, generation 0 is their empirical
        law (Algorithm 1: :math:`p_0=\mathcal A(D_\text{real})`, the Gaussian simulator's
        convention), and each generation refits on them plus :math:`\lfloor\lambda n\rfloor`
        curated samples of the previous generation.
    reps : int
        Independent replicates.
    method : {"exact", "luce"}
        Finite-sample draw. ``"exact"`` draws the kept counts as
        :math:`\mathrm{Multinomial}(n, p_tH^K_{p_t})` (cost independent of K); ``"luce"``
        literally draws K candidates per kept sample and applies the Luce rule (the
        cross-check; cost ∝ nK). Same law. Runs that cannot finish are refused with a
        ``ValueError`` before anything is drawn: more than ``MAX_DRAWS`` = 10¹² Luce candidates
        in one generation (reps·n·K, or reps·⌊λn⌋·K with ``lam``), or, with ``lam`` (a chain that
        is never absorbed), more than 10¹² draws over all generations (reps·generations times
        ⌊λn⌋·K, or m with ``"exact"``). Outputs larger than the machine's memory are refused too.
    record : {"all", "last"}
        Keep every generation, or only the last (memory ``reps·m``; a fully synthetic
        finite chain then stops drawing once absorbed on one atom, so ``generations`` can be a
        large cap, e.g. to run Wright–Fisher paths until fixation).
    rng : None, int, SeedSequence or Generator
        Random state (normalised once with :func:`numpy.random.default_rng`).
    workers : int, optional
        Threads (default: all cores). Results do not depend on it.
    progress : bool
        Show a progress bar with ETA.

    Returns
    -------
    CurationChain
        ``p`` has shape (reps, generations+1, m) with ``record="all"``.

    Notes
    -----
    The kept sample has law :math:`p\,H^K_p` (:func:`selfconsume.theory.curated_distribution`),
    so the exact method draws the sufficient statistic (the counts) directly. K = 1 gives
    :math:`H\equiv1`: :math:`\mathbb E[1-\sum_xp_t(x)^2]=(1-\frac1n)^t(1-\sum_xp_0(x)^2)` and
    fixation probabilities equal to :math:`p_0` (Shumailov et al. 2024; theory.md §3.1).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.simulators import simulate_curation
    >>> p0, r = np.full(4, 0.25), np.array([0.0, 0.5, 1.0, 1.0])
    >>> pop = simulate_curation(p0, r, 4, 30)
    >>> pop.p.shape, round(float(pop.top_mass()[0, -1]), 6)
    ((1, 31, 4), 0.999996)
    >>> fin = simulate_curation(p0, r, 4, 5, n=1000, reps=3, rng=0)
    >>> fin.p.shape, bool(np.allclose(fin.p.sum(axis=-1), 1.0))
    ((3, 6, 4), True)
    """
    th = _theory()
    p0, r = th._check_p_reward(p0, reward, p_name="p0")
    K = th._check_K(K)
    generations = check_int("generations", generations, min_value=0)
    reps = check_int("reps", reps, min_value=1)
    method = check_choice("method", method, METHODS)
    record = check_choice("record", record, RECORDS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    if lam is not None:
        lam = check_lam(lam)
    if p_ref is not None:
        if lam is None:
            raise ValueError("p_ref is used only with real data: give lam (the synthetic-to-real ratio λ ≥ 0) too")
        p_ref, _ = th._check_p_reward(p_ref, r, p_name="p_ref")
    if n is not None:
        n = check_int("n", n, min_value=1)
        if lam is not None and p_ref is not None and not np.allclose(p_ref, p0, rtol=0, atol=1e-12):
            raise ValueError(
                "with n and lam, generation 0 is the empirical law of the n real samples drawn from p_ref, "
                "so p0 must be p_ref (or leave p_ref out); got different p0 and p_ref"
            )
    elif method == "luce":
        raise ValueError("method='luce' draws finite samples: give n (samples per generation)")
    if method == "luce" and K == math.inf:
        raise ValueError("K must be a finite integer >= 1 with method='luce' (no literal K = inf candidates)")
    if lam is not None and p_ref is None:
        p_ref = p0.copy()

    m = p0.size
    T1 = generations + 1
    Tout = T1 if record == "all" else 1
    if n is None:
        check_memory("the population path ((generations + 1) × m probabilities)", T1 * m, names="generations")
    else:
        check_memory("the output (reps × " + ("(generations + 1)" if record == "all" else "1") + " × m probabilities)",
                     reps * Tout * m, names="reps, generations" if record == "all" else "reps")
        if lam is not None and not lam * n < 2**62:  # ⌊λn⌋ is an int64 count in the kernels
            raise ValueError(f"lam, n too large: ⌊lam·n⌋ = {lam * n:.3g} curated samples per generation; "
                             f"at most 2**62")
        kept = int(math.floor(lam * n)) if lam is not None else n
        if method == "luce":
            check_memory("the K candidates of one Luce choice", K, names="K")
            per_gen = reps * kept * K
            if per_gen > MAX_DRAWS:
                raise ValueError(f"n, K, reps too large: one generation draws reps × {'⌊lam·n⌋' if lam is not None else 'n'}"
                                 f" × K = {per_gen:.3g} Luce candidates, more than the {MAX_DRAWS:.0e} this function "
                                 f"refuses (it would not finish; method='exact' draws the same law at a cost "
                                 f"independent of n and K)")
        if lam is not None:  # with real data the chain is never absorbed: every generation is drawn
            total = reps * generations * (kept * K if method == "luce" else m)
            if total > MAX_DRAWS:
                who = "generations, reps, n, K" if method == "luce" else "generations, reps"
                raise ValueError(f"{who} too large: the chain with real data draws {total:.3g} "
                                 f"values over its generations (reps × generations × "
                                 f"{'⌊lam·n⌋ × K' if method == 'luce' else 'm'}), more than the {MAX_DRAWS:.0e} "
                                 f"this function refuses (it would not finish)")

    gen = as_generator(rng)
    seed = seed_info(gen)
    lev = th._levels(p0 if p_ref is None else 0.5 * (p0 + p_ref), r)
    level, lv = lev.index, lev.values
    Kf = float(K)
    lam_k = -1.0 if lam is None else lam
    pref_k = p_ref if p_ref is not None else np.zeros(m)

    if n is None:
        path = np.empty((T1, m))
        _k.population_chain(p0, pref_k, lam_k, level, lv, Kf, path)
        out = path if record == "all" else path[-1:].copy()
        p = np.broadcast_to(out, (reps,) + out.shape)
        t = np.arange(T1) if record == "all" else np.array([generations])
        return CurationChain(K, lam, None, reps, generations, "population", record, seed, readonly(r),
                             readonly(p0), readonly(p_ref), readonly(p), readonly(t), None)

    mixed = lam is not None
    kept = int(math.floor(lam * n)) if mixed else n
    out = np.empty((reps, Tout, m))
    fix = np.empty(reps, dtype=np.int64)

    def work(b, g):
        sl = slice(b.start, b.stop)
        _k.finite_chain(g, p0, pref_k, mixed, n, kept, level, lv, r, Kf, method == "luce",
                        generations, record == "all", out[sl], fix[sl])

    run_blocks(work, replicate_blocks(reps), gen, workers=workers, progress=progress, desc="curation chain")
    t = np.arange(T1) if record == "all" else np.array([generations])
    return CurationChain(K, lam, n, reps, generations, method, record, seed, readonly(r), readonly(p0),
                         readonly(p_ref), readonly(out), readonly(t), readonly(fix))
