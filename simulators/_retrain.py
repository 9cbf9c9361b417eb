r"""The retraining loop for any learner: fully synthetic, with real data, accumulating, optionally curated.

Generation 0 fits the learner to the real data. Generation :math:`t\ge1` draws ``n`` synthetic
points from generation :math:`t-1`'s model — each the literal Bradley–Terry (Luce) choice among
``K`` candidates, kept with probability :math:`e^{r(x_k)}/\sum_je^{r(x_j)}` (Ferbach et al. 2024,
Algorithm 1), when ``K > 1`` — and refits on

* ``workflow="replace"``, ``lam=None``: the ``n`` synthetic points (fully synthetic);
* ``workflow="replace"``, ``lam=λ``: the real data and a random subset of :math:`\lfloor\lambda N\rfloor`
  of them, :math:`N` real points (Bertrand et al. 2024's loop: λ synthetic per real);
* ``workflow="accumulate"``: the real data and every synthetic point so far (``n`` per
  generation, or :math:`\lfloor\lambda N\rfloor` with ``lam``) (Gerstgrasser et al. 2024).

Each replicate clones the learner and draws from its own generator, spawned from one seed,
so results do not depend on the number of threads. Every generation's model is evaluated on
a fresh, uncurated sample of ``n_eval`` points, kept in the result for metrics and figures.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import check_choice, check_int, check_lam, check_memory, check_points

from ._common import readonly
from ._learners import GaussianLearner, MixtureLearner, _points, check_learner

pd = lazy("pandas")

__all__ = ["retrain", "RetrainResult", "luce_select", "luce_tournament"]

WORKFLOWS = ("replace", "accumulate")
#: Fitted attributes recorded per generation when the learner has them.
_RECORDED = ("mean_", "cov_", "weights_", "means_", "covariances_")


@dataclass(frozen=True)
class RetrainResult:
    """Result of :func:`retrain` (frozen; arrays are read-only).

    Attributes
    ----------
    learner : str
    generations, n, lam, workflow, K, reps, n_eval
        The run's parameters.
    seed : dict
    samples : ndarray, shape (reps, generations + 1, n_eval, d)
        A fresh sample of every generation's model (uncurated).
    rewards : ndarray or None, shape (reps, generations + 1, n_eval)
        The reward of those samples (when a reward was given).
    params : dict of ndarray
        Fitted attributes per replicate and generation (``mean_``, ``cov_`` for
        :class:`GaussianLearner`; ``weights_``, ``means_``, ``covariances_`` for
        :class:`MixtureLearner`).
    """

    learner: str
    generations: int
    n: int
    lam: float | None
    workflow: str
    K: int
    reps: int
    n_eval: int
    seed: dict = field(repr=False)
    samples: np.ndarray = field(repr=False)
    rewards: np.ndarray | None = field(repr=False)
    params: dict = field(repr=False)

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per replicate and generation: sample means, trace of the sample
        covariance, and the mean and variance of the reward when there is one."""
        R, T1, m, d = self.samples.shape
        x = self.samples
        mean = x.mean(axis=2)
        c = x - mean[:, :, None, :]
        tr = (c**2).sum(axis=(2, 3)) / max(m - 1, 1)
        cols = {"rep": np.repeat(np.arange(R), T1), "generation": np.tile(self.t, R), "trace_cov": tr.ravel()}
        for j in range(d):
            cols[f"mean_{j}"] = mean[:, :, j].ravel()
        if self.rewards is not None:
            cols["mean_reward"] = self.rewards.mean(axis=2).ravel()
            cols["var_reward"] = self.rewards.var(axis=2, ddof=1).ravel()
        df = pd.DataFrame(cols)
        for name in ("learner", "n", "workflow", "K"):
            df[name] = getattr(self, name)
        df["lam"] = np.nan if self.lam is None else self.lam
        return df


def _param_values(learner, d):
    """Values of the fitted attributes :func:`retrain` records per generation (0 when unknown)."""
    if isinstance(learner, GaussianLearner):
        return d + d * d  # mean_, cov_
    if isinstance(learner, MixtureLearner):
        return learner.components * (1 + d + d * d)  # weights_, means_, covariances_
    return 0


def _clone(learner):
    """An unfitted copy per replicate: ``learner.clone()`` when it has one, else a deep copy."""
    return learner.clone() if hasattr(learner, "clone") else copy.deepcopy(learner)


def _check_reward_fn(reward, d):
    """``reward`` as a checked :class:`selfconsume.theory.Reward` on ``d``-dimensional points."""
    from selfconsume.theory import as_reward

    if not callable(reward):
        raise TypeError(f"reward must be callable on an (N, d) array of points (e.g. a "
                        f"selfconsume.theory.Reward); got {reward!r}")
    rew = as_reward(reward)
    if rew.dim is not None and rew.dim != d:
        raise ValueError(f"reward is defined on points of dimension {rew.dim}, but the points have d = {d} "
                         f"coordinates")
    return rew


def _points_arg(name, value):
    """``value`` as finite points ``(N, d)`` (1-D: points on the line); errors name ``name``."""
    if value is None:
        raise TypeError(f"{name} must be an array of points of shape (N, d); got None")
    return check_points(name, value)


def _rng(rng) -> np.random.Generator:
    """``rng`` for the Luce draws: a Generator is used as is (its stream advances), anything else
    goes through :func:`selfconsume._parallel.as_generator` (errors name ``rng``)."""
    return rng if isinstance(rng, np.random.Generator) else as_generator(rng)


def _luce_pick(x, rew, K, g):
    """The Luce choice of one of every K consecutive rows of ``x`` (validated: ``len(x)`` a multiple of K)."""
    if K == 1:
        return x
    n = x.shape[0] // K
    r = np.asarray(rew(x), dtype=float).reshape(n, K)
    w = np.exp(r - r.max(axis=1, keepdims=True))
    u = g.random(n)[:, None] * w.sum(axis=1, keepdims=True)
    pick = np.minimum((np.cumsum(w, axis=1) < u).sum(axis=1), K - 1)
    return x.reshape(n, K, -1)[np.arange(n), pick]


def luce_select(candidates, reward, K, rng):
    r"""Keep one of every K consecutive candidates with probability e^{r}/Σ e^{r} (in log space).

    Parameters
    ----------
    candidates : array_like, shape (n·K, d) (or (n·K,): points on the line)
        Finite points, ``n·K`` rows (a multiple of K).
    reward : callable
        :math:`r` on ``(N, d)`` points (a :class:`selfconsume.theory.Reward` or any callable;
        its output is checked for shape and finiteness).
    K : int
        Candidates per kept point, :math:`K\ge1`; ``K = 1`` returns the candidates (as ``(N, d)``).
    rng : None, int, SeedSequence, BitGenerator, Generator or RandomState
        Random state (a Generator is used as is, so its stream advances).

    Returns
    -------
    ndarray, shape (n, d)
        The kept rows.
    """
    x = _points_arg("candidates", candidates)
    rew = _check_reward_fn(reward, x.shape[1])
    K = check_int("K", K, min_value=1)
    if x.shape[0] % K:
        raise ValueError(f"candidates must hold a multiple of K = {K} rows (n·K: K candidates per kept point); "
                         f"got {x.shape[0]} rows")
    return _luce_pick(x, rew, K, _rng(rng))


def luce_tournament(points, reward, K, rounds, rng, *, hard=False):
    r"""``rounds`` rounds of :func:`luce_select` (or of keeping the best of K, ``hard=True``).

    ``points`` holds :math:`nK^{\text{rounds}}` iid draws of :math:`p_0`; the ``n`` rows returned
    are exact draws of :math:`p_{\text{rounds}}` of the population curated chain (a draw of
    :math:`p_{t+1}` is the choice among K draws of :math:`p_t`).

    Parameters
    ----------
    points : array_like, shape (n·K**rounds, d) (or (n·K**rounds,): points on the line)
        Finite points; the row count must be a multiple of :math:`K^{\text{rounds}}`, so with
        :math:`K\ge2`, ``rounds`` is at most :math:`\log_K` of the row count (``K = 1`` keeps every
        point whatever ``rounds``, and returns them at once).
    reward : callable
        :math:`r` on ``(N, d)`` points (checked for shape and finiteness).
    K : int
        Candidates per round, :math:`K\ge1`.
    rounds : int
        Rounds, :math:`\ge0`.
    rng : None, int, SeedSequence, BitGenerator, Generator or RandomState
        Random state (a Generator is used as is, so its stream advances).
    hard : bool
        Keep the best of K (ties: the first) instead of the Luce choice.

    Returns
    -------
    ndarray, shape (n, d)
    """
    x = _points_arg("points", points)
    rew = _check_reward_fn(reward, x.shape[1])
    K = check_int("K", K, min_value=1)
    rounds = check_int("rounds", rounds, min_value=0)
    N = x.shape[0]
    if K > 1:
        # K**rounds must divide N, so K**rounds <= N: refuse larger `rounds` without computing a huge power
        size, r_max = 1, 0
        while size * K <= N:
            size, r_max = size * K, r_max + 1
        if rounds > r_max:
            raise ValueError(f"rounds must be an integer in [0, {r_max}] for K = {K} and {N} points (points must hold "
                             f"a multiple of K**rounds rows); got {rounds}")
        if N % K**rounds:
            raise ValueError(f"points must hold a multiple of K**rounds = {K**rounds} rows; got {N}")
    g = _rng(rng)
    if K == 1:
        return x  # every round keeps every point
    for _ in range(rounds):
        if hard:
            m = x.shape[0] // K
            r = np.asarray(rew(x), dtype=float).reshape(m, K)
            x = x.reshape(m, K, -1)[np.arange(m), r.argmax(axis=1)]
        else:
            x = _luce_pick(x, rew, K, g)
    return x


def retrain(learner, real, generations, *, n, lam=None, workflow="replace", K=1, reward=None, reps=1, rng=None,
            n_eval=None, workers=None, progress=False) -> RetrainResult:
    r"""Retrain a learner on its own (optionally curated) samples, with or without real data.

    Parameters
    ----------
    learner : object
        ``fit(X, random_state)`` / ``sample(n, random_state)`` (see
        :mod:`selfconsume.simulators` learners); cloned per replicate.
    real : array_like, shape (N, d)
        The real data; generation 0 is fitted to it.
    generations : int
    n : int
        Synthetic points drawn per generation (curated ones, when ``K > 1``); with ``lam``,
        at least :math:`\lfloor\lambda N\rfloor`.
    lam : float, optional
        Synthetic-to-real ratio :math:`\lambda\ge0` (None: no real data after generation 0,
        unless ``workflow="accumulate"``).
    workflow : {"replace", "accumulate"}
    K : int
        Candidates per kept synthetic point (1: no curation).
    reward : callable, optional
        :math:`r` on ``(N, d)`` points (required when ``K > 1``; also recorded on the
        evaluation samples when given).
    reps : int
    rng : None, int, SeedSequence or Generator
    n_eval : int, optional
        Size of each generation's evaluation sample (default ``min(n, 2000)``).
    workers : int, optional
        Threads (default: all cores); results do not depend on it. A learner with
        ``thread_safe = False`` (the torch adapter) runs its replicates one after another.
    progress : bool

    Returns
    -------
    RetrainResult

    Examples
    --------
    >>> from selfconsume.simulators import GaussianLearner
    >>> real = np.random.default_rng(0).normal(size=(200, 2))
    >>> res = retrain(GaussianLearner(), real, 5, n=50, reps=3, rng=1)
    >>> res.samples.shape, res.params["cov_"].shape
    ((3, 6, 50, 2), (3, 6, 2, 2))
    """
    from selfconsume.theory import as_reward

    check_learner(learner)
    real = _points(real, "real", min_rows=2)
    N, d = real.shape
    generations = check_int("generations", generations, min_value=0)
    n = check_int("n", n, min_value=1)
    lam = None if lam is None else check_lam(lam)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    K = check_int("K", K, min_value=1)
    reps = check_int("reps", reps, min_value=1)
    n_eval = min(n, 2000) if n_eval is None else check_int("n_eval", n_eval, min_value=2)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    if K > 1 and reward is None:
        raise ValueError(f"reward must be given when K = {K} > 1 (curation keeps one of K candidates by their reward)")
    rew = None if reward is None else as_reward(reward, dim=d)
    m = n if lam is None else int(math.floor(lam * N + 1e-9))
    if lam is not None and m > n:
        raise ValueError(f"n must be >= floor(lam * len(real)) = {m} (the synthetic points used per generation); "
                         f"got n={n}")
    # Sizes, before anything is allocated: the results (evaluation samples, their rewards and the
    # recorded fitted parameters of every generation), one generation's candidates (n·K points
    # and their rewards, about twice over while the learner samples them) and, accumulating, the
    # pool of every point so far (copied as it grows).
    T1 = generations + 1
    per_gen = n_eval * (d + (rew is not None)) + _param_values(learner, d)
    check_memory("the results (reps × (generations + 1) evaluation samples of n_eval points, and fitted parameters)",
                 reps * T1 * per_gen, names="reps, generations, n_eval")
    check_memory("one generation's n × K candidates", 2 * n * K * (d + 1), names="n, K")
    if workflow == "accumulate":
        check_memory("the accumulated training pool (len(real) + generations × n points)",
                     2 * (N + generations * m) * d, names="n, lam, generations")
    gen = as_generator(rng)
    seed = seed_info(gen)
    samples = np.empty((reps, generations + 1, n_eval, d))
    rewards = None if rew is None else np.empty((reps, generations + 1, n_eval))
    params: dict = {}

    def record(r, t, model, g):
        ev = np.asarray(model.sample(n_eval, random_state=g), dtype=float).reshape(n_eval, d)
        samples[r, t] = ev
        if rewards is not None:
            rewards[r, t] = rew(ev)
        if not allocated:  # the parameter arrays get their shapes from the first fitted model
            with lock:
                if not allocated:
                    for name in _RECORDED:
                        if hasattr(model, name):
                            params[name] = np.full((reps, generations + 1, *np.shape(getattr(model, name))), np.nan)
                    allocated.append(True)
        for name, arr in params.items():
            v = np.asarray(getattr(model, name, np.nan), dtype=float)
            if arr.shape[2:] == v.shape:
                arr[r, t] = v

    lock, allocated = threading.Lock(), []

    def work(b, g):
        for r in range(b.start, b.stop):
            model = _clone(learner)
            model.fit(real, random_state=g)
            record(r, 0, model, g)
            pool = real
            for t in range(1, generations + 1):
                cand = np.asarray(model.sample(n * K, random_state=g), dtype=float).reshape(n * K, d)
                syn = _luce_pick(cand, rew, K, g)
                if workflow == "accumulate":
                    pool = np.concatenate([pool, syn[:m]])
                    train = pool
                elif lam is None:
                    train = syn
                else:
                    train = np.concatenate([real, syn[g.permutation(n)[:m]]]) if m > 0 else real
                model.fit(train, random_state=g)
                record(r, t, model, g)

    if not getattr(learner, "thread_safe", True):
        workers = 1  # e.g. torch learners: torch's global stream is shared between threads
    run_blocks(work, replicate_blocks(reps, 1), gen, workers=workers, progress=progress, desc="retrain")
    return RetrainResult(type(learner).__name__, generations, n, lam, workflow, K, reps, n_eval, seed,
                         readonly(samples), readonly(rewards), {k: readonly(v) for k, v in params.items()})
