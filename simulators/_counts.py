"""Count models refit to their own samples: multinomial (vocabulary, Bernoulli) and Poisson chains."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, block_reps, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import (
    check_choice,
    check_int,
    check_int_array,
    check_memory,
    check_probability_vector,
    check_real,
)

from ._common import readonly
from . import _counts_kernels as _k

pd = lazy("pandas")

__all__ = ["simulate_multinomial", "MultinomialChain", "simulate_poisson", "PoissonChain"]

METHODS = ("exact", "samples")
#: Most random draws one call may ask for, refused up front beyond it (as in ``simulate_curation``):
#: reps × generations × (symbols, or n with ``method="samples"``).
MAX_DRAWS = 10**12
#: Largest n·λ₀ of the Poisson chain (its counts are int64 draws; a mean of 10¹⁵ already needs
#: generations of 10⁷-sized steps to die out).
MAX_POISSON_MEAN = 1e15


@dataclass(frozen=True)
class MultinomialChain:
    """Result of :func:`simulate_multinomial` (frozen; arrays are read-only).

    Attributes
    ----------
    n, generations, reps, method
        The parameters of the run.
    start : str
        ``"counts"`` (generation 0 = the empirical law of the given counts) or ``"law"``
        (generation 0 = the given law ``p``; generation 1 is the first sample).
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    p0 : ndarray, shape (k,)
        The generation-0 model (counts / n, or p).
    alive : ndarray of int, shape (reps, generations+1)
        Number of symbols with positive probability at each generation.
    freq : ndarray or None, shape (reps, generations+1, k)
        The model's probabilities (count / n for t ≥ 1) when ``return_freq=True``.
    """

    n: int
    generations: int
    reps: int
    method: str
    start: str
    seed: dict
    p0: np.ndarray = field(repr=False)
    alive: np.ndarray = field(repr=False)
    freq: np.ndarray | None = field(default=None, repr=False)

    @property
    def t(self) -> np.ndarray:
        """Generation index 0..generations."""
        return np.arange(self.generations + 1)

    @property
    def vocab_size(self) -> int:
        """k, the number of symbols (including those of probability 0)."""
        return int(self.p0.size)

    @property
    def fraction(self) -> np.ndarray:
        """Surviving fraction ``alive / alive[:, 0]`` (the peers' ``uniq_t / m``), shape (reps, generations+1)."""
        return self.alive / self.alive[:, :1]

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, generation) with ``alive`` and ``fraction``."""
        R, T1 = self.alive.shape
        df = pd.DataFrame({"rep": np.repeat(np.arange(R), T1), "generation": np.tile(np.arange(T1), R),
                           "alive": self.alive.ravel(), "fraction": self.fraction.ravel()})
        for name in ("n", "method", "start", "vocab_size"):
            df[name] = getattr(self, name)
        return df


def _check_common(generations, reps, method, workers):
    generations = check_int("generations", generations, min_value=0)
    reps = check_int("reps", reps, min_value=1)
    method = check_choice("method", method, METHODS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    return generations, reps, method


def simulate_multinomial(n, generations, *, counts=None, p=None, reps=1, method="exact", return_freq=False,
                         rng=None, workers=None, progress=False) -> MultinomialChain:
    r"""Refit a discrete model (a vocabulary) to n of its own samples, ``generations`` times, ``reps`` times.

    Generation 0 is the empirical law of ``counts`` (the corpus: the peers' Zipf and wikitext
    protocol, every trajectory restarting from the same corpus) or the law ``p`` (then
    generation 1 is a fresh corpus of n draws from it, per replicate); generation t + 1 is the
    empirical law of n draws from generation t (Suresh et al. 2025 §3.1; Shumailov et al. 2024;
    ``shared/theory.md`` §3.1). A Bernoulli model is the two-symbol case:
    ``p=[p0, 1 - p0]`` (the peer's :math:`P_0=p_0`) or ``counts=[c, n - c]``.

    Parameters
    ----------
    n : int
        Samples per generation, >= 1.
    generations : int
        Number of refits T >= 0.
    counts : 1-D array of int, optional
        Generation-0 counts (>= 0, summing to n; zeros are symbols never seen).
    p : 1-D array, optional
        Generation-0 law (give exactly one of ``counts`` and ``p``).
    reps : int
        Independent replicates, >= 1.
    method : {"exact", "samples"}
        ``"exact"`` draws the multinomial counts by conditional binomials (cost per generation
        independent of n: one draw per surviving symbol); ``"samples"`` draws the n samples one
        by one by inverse CDF and counts them. Both give the same law.
    return_freq : bool
        Also return every generation's probabilities, ``reps × (T+1) × k`` values.
    rng : None, int, SeedSequence or Generator
        Random state (normalised once with :func:`numpy.random.default_rng`).
    workers : int, optional
        Threads (default: all cores). Results do not depend on it.
    progress : bool
        Show a progress bar with ETA.

    Returns
    -------
    MultinomialChain

    Notes
    -----
    Each symbol's count is the Wright–Fisher chain :math:`c_{t+1}\mid c_t\sim\mathrm{Bin}(n,c_t/n)`,
    so :math:`P(c_t>0)` and the expected surviving fraction are exact
    (:func:`selfconsume.theory.symbol_survival`, :func:`selfconsume.theory.vocabulary_survival`).

    Examples
    --------
    >>> from selfconsume.simulators import simulate_multinomial
    >>> res = simulate_multinomial(10, 5, counts=[5, 3, 1, 1], reps=4, rng=0)
    >>> res.alive.shape, int(res.alive[0, 0])
    ((4, 6), 4)
    >>> bool((res.alive[:, 1:] <= res.alive[:, :-1]).all())    # a lost symbol never returns
    True
    """
    n = check_int("n", n, min_value=1)
    generations, reps, method = _check_common(generations, reps, method, workers)
    if (counts is None) == (p is None):
        raise ValueError("give exactly one of counts (the generation-0 corpus) and p (the generation-0 law); "
                         f"got counts={counts!r}, p={p!r}")
    if not isinstance(return_freq, (bool, np.bool_)):
        raise TypeError(f"return_freq must be True or False; got {return_freq!r}")
    if counts is not None:
        if np.ndim(counts) != 1:
            raise ValueError(f"counts must be a 1-D array of integer counts >= 0; got shape {np.shape(counts)}")
        c0 = check_int_array("counts", counts, min_value=0)
        if int(c0.sum()) != n:
            raise ValueError(f"counts must sum to n = {n} (the corpus is the generation-0 sample); "
                             f"got sum {int(c0.sum())}")
        p0 = c0 / n
        start = "counts"
    else:
        p0 = check_probability_vector("p", p)
        c0 = np.zeros(p0.size, dtype=np.int64)
        start = "law"
    k = p0.size
    check_memory("the output (reps × (generations + 1) counts" + (" × k probabilities)" if return_freq else ")"),
                 reps * (generations + 1) * (k if return_freq else 1), names="reps, generations")
    per = n if method == "samples" else min(k, n)
    draws = reps * generations * per
    if draws > MAX_DRAWS:
        raise ValueError(f"reps, generations, n too large: the chain would draw about {draws:.3g} values "
                         f"(reps × generations × {'n' if method == 'samples' else 'symbols'}), more than the "
                         f"{MAX_DRAWS:.0e} this function refuses (it would not finish)")
    gen = as_generator(rng)
    seed = seed_info(gen)
    T1 = generations + 1
    alive = np.empty((reps, T1), dtype=np.int64)
    freq = np.empty((reps, T1, k)) if return_freq else np.empty((1, 1, 1))
    samples = method == "samples"
    from_law = start == "law"
    # sized by the draws per replicate only: the same streams whether or not the frequencies are returned
    blocks = replicate_blocks(reps, block_reps(T1 * per + k))

    def work(b, g):
        sl = slice(b.start, b.stop)
        _k.multinomial_chain(g, n, p0, c0, from_law, samples, alive[sl], freq[sl] if return_freq else freq,
                             return_freq)

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="multinomial chain")
    return MultinomialChain(n, generations, reps, method, start, seed, readonly(p0), readonly(alive),
                            readonly(freq) if return_freq else None)


@dataclass(frozen=True)
class PoissonChain:
    """Result of :func:`simulate_poisson` (frozen; ``rate`` is read-only).

    Attributes
    ----------
    n, rate0, generations, reps, method
        The parameters of the run (``rate0`` = λ₀).
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    rate : ndarray, shape (reps, generations+1)
        Fitted rates :math:`\\Lambda_t` (``rate[:, 0] = rate0``); :math:`n\\Lambda_t` is an integer for t >= 1.
    """

    n: int
    rate0: float
    generations: int
    reps: int
    method: str
    seed: dict
    rate: np.ndarray = field(repr=False)

    @property
    def t(self) -> np.ndarray:
        """Generation index 0..generations."""
        return np.arange(self.generations + 1)

    @property
    def extinct(self) -> np.ndarray:
        """:math:`\\Lambda_t = 0`, shape (reps, generations+1) (absorbing)."""
        return self.rate == 0.0

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, generation) with ``rate`` and ``extinct``."""
        R, T1 = self.rate.shape
        df = pd.DataFrame({"rep": np.repeat(np.arange(R), T1), "generation": np.tile(np.arange(T1), R),
                           "rate": self.rate.ravel(), "extinct": self.extinct.ravel()})
        for name in ("n", "rate0", "method"):
            df[name] = getattr(self, name)
        return df


def simulate_poisson(n, rate, generations, *, reps=1, method="exact", rng=None, workers=None,
                     progress=False) -> PoissonChain:
    r"""Refit a Poisson model to the mean of n of its own draws, ``generations`` times, ``reps`` times.

    :math:`\Lambda_0` = ``rate``; :math:`\Lambda_{t+1}` is the mean of n Poisson(:math:`\Lambda_t`)
    draws (Suresh et al. 2025 §3.2, their ``plot_poisson_bounds``; ``shared/theory.md`` §3.1).

    Parameters
    ----------
    n : int
        Samples per generation, >= 1.
    rate : float
        λ₀ > 0 (n·λ₀ at most 1e15).
    generations : int
        Number of refits T >= 0.
    reps : int
        Independent replicates, >= 1.
    method : {"exact", "samples"}
        ``"exact"`` draws the sufficient statistic :math:`S_{t+1}=n\Lambda_{t+1}\sim\mathrm{Poisson}(n\Lambda_t)`
        (one draw per generation); ``"samples"`` draws the n values and averages them.
    rng : None, int, SeedSequence or Generator
        Random state.
    workers : int, optional
        Threads (default: all cores). Results do not depend on it.
    progress : bool
        Show a progress bar with ETA.

    Returns
    -------
    PoissonChain

    Notes
    -----
    :math:`S_t` is a critical Galton–Watson process with Poisson(1) offspring:
    :math:`P(\Lambda_t=0)=e^{-n\lambda_0q_{t-1}}` (:func:`selfconsume.theory.poisson_extinction`).

    Examples
    --------
    >>> from selfconsume.simulators import simulate_poisson
    >>> res = simulate_poisson(10, 1.0, 50, reps=3, rng=0)
    >>> res.rate.shape, float(res.rate[0, 0])
    ((3, 51), 1.0)
    """
    n = check_int("n", n, min_value=1)
    rate = check_real("rate", rate, min_value=0.0, min_inclusive=False)
    generations, reps, method = _check_common(generations, reps, method, workers)
    if not n * rate <= MAX_POISSON_MEAN:
        raise ValueError(f"n, rate too large: n·rate = {n * rate:.3g}, at most {MAX_POISSON_MEAN:.0e} "
                         "(the counts are int64 Poisson draws)")
    check_memory("the output (reps × (generations + 1) rates)", reps * (generations + 1), names="reps, generations")
    per = n if method == "samples" else 1
    draws = reps * generations * per
    if draws > MAX_DRAWS:
        raise ValueError(f"reps, generations, n too large: the chain would draw up to {draws:.3g} values "
                         f"(reps × generations{' × n' if method == 'samples' else ''}), more than the "
                         f"{MAX_DRAWS:.0e} this function refuses (it would not finish)")
    gen = as_generator(rng)
    seed = seed_info(gen)
    out = np.empty((reps, generations + 1))
    samples = method == "samples"
    blocks = replicate_blocks(reps, block_reps((generations + 1) * per))

    def work(b, g):
        _k.poisson_chain(g, n, rate, samples, out[b.start:b.stop])

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="poisson chain")
    return PoissonChain(n, rate, generations, reps, method, seed, readonly(out))
