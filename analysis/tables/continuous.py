"""Tables behind the 2-D continuous figures: retraining on the 8-Gaussian ring and two moons,
with and without real data and curation (simulated here; cached by the CLI, plotted by paper_figures).

Learned loops use :func:`selfconsume.simulators.retrain`; population curves come from the exact
chain on the law of the reward (:func:`selfconsume.theory.curate_reward_law`) or, where the reward
law has no closed form, from the grid chain (:func:`selfconsume.simulators.curate_density`).
Every function takes ``quick`` and a fixed seed and returns a tidy DataFrame with a ``kind``
column naming the block each row belongs to.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume.analysis import mode_coverage, sliced_wasserstein
from selfconsume.simulators import MixtureLearner, curate_density, retrain

__all__ = ["continuous_grid_table", "curation_2d_table", "curation_heatmaps_table"]

#: γ of the clipped-distance rewards (theory.md §6 item 7: γ ≈ 5).
GAMMA = 5.0


def _learner(n_init=8):
    """An 8-component mixture, EM warm-started from the previous generation and stopped at a change
    of mean log-likelihood below 1e-4 (at most 50 iterations): a fine-tuning step, as in Bertrand et
    al.'s loop, and it bounds the cost (the default tol = 1e-6 often runs to 100 iterations). The
    first fit keeps the best of ``n_init`` k-means++ starts."""
    return MixtureLearner(8, tol=1e-4, max_iter=50, n_init=n_init)


def _ring():
    ring = th.ring_of_gaussians()
    centres = np.asarray(ring.locs, dtype=float)
    scale = math.sqrt(float(np.asarray(ring.covs)[0, 0, 0]))
    return ring, centres, scale


def _mean_band(v):
    """Mean and mean ± 2 SE over the first axis (SE with ddof 1; zero width for one replicate)."""
    v = np.asarray(v, dtype=float)
    m = v.mean(axis=0)
    se = v.std(axis=0, ddof=1) / math.sqrt(v.shape[0]) if v.shape[0] > 1 else np.zeros_like(m)
    return m, m - 2 * se, m + 2 * se


def _sample_rows(samples, gens, **cols):
    """Rows ``kind="sample"`` with the evaluation sample of replicate 0 at generations ``gens``."""
    frames = []
    for g in gens:
        x = samples[0, g]
        frames.append(pd.DataFrame({"kind": "sample", **cols, "generation": int(g), "x": x[:, 0], "y": x[:, 1]}))
    return frames


def continuous_grid_table(quick: bool = True, *, n=1000, generations=20, K=4, lam=0.5, reps=None,
                          seed=20240711, workers=None) -> pd.DataFrame:
    r"""Retraining a Gaussian-mixture learner on the 8-Gaussian ring (Bertrand et al. 2024-style grid).

    Real data: ``n`` points of :func:`selfconsume.theory.ring_of_gaussians`; learner: an
    8-component mixture (:func:`_learner`: EM warm-started from the previous generation, first fit
    the best of 8 starts). Four regimes, run with the same seed (common random numbers: generation
    0 is the same fit in every regime): fully synthetic (``n`` own samples per generation),
    ``λ = lam`` (the real data plus :math:`\lfloor\lambda n\rfloor` own samples), ``λ = 0`` (real
    data only, the reference), and curated fully synthetic (one of ``K`` candidates kept by Luce
    choice on the clipped-distance reward :math:`r=-5\max(0,\min_k\|x-c_k\|-\rho)`,
    :math:`\rho=0.5`, around two opposite modes).

    Columns: ``kind`` — ``"sample"`` (replicate 0's evaluation sample at generations 0, 5, …:
    ``x``, ``y``), ``"metric"`` (per generation, over ``reps`` replicates: ``quantity`` =
    ``"mode_coverage"`` (radius 3σ around each mode) or ``"sliced_wasserstein"`` (SW₂ to a held-out
    real sample of the same size) with ``mean``, ``lo``, ``hi`` = mean ∓ 2 SE),
    ``"floor"`` (SW₂ between two independent real samples: the sampling floor, in ``mean``),
    ``"mode"`` (the true centres, ``x``, ``y``), ``"reward_centre"`` (``x``, ``y``, ``radius``);
    ``regime``, ``generation``, ``reps``.
    """
    reps = (5 if quick else 20) if reps is None else reps
    return ring_grid_rows(lambda real: _learner(), n=n, generations=generations, K=K, lam=lam, reps=reps, seed=seed,
                          workers=workers)


def ring_grid_rows(make_learner, *, n, generations, K, lam, reps, seed, workers=None) -> pd.DataFrame:
    """The rows of :func:`continuous_grid_table` for any learner: ``make_learner(real)`` builds it from
    the real sample (the torch adapter's flow is pretrained on it; see ``tables.torch_ring_table``)."""
    ring, centres, scale = _ring()
    gens_shown = list(range(0, generations + 1, max(1, generations // 4)))
    real = ring.rvs(n, random_state=seed)
    learner = make_learner(real)
    test = ring.rvs(n, random_state=seed + 1)
    test2 = ring.rvs(n, random_state=seed + 2)
    top = centres[[1, 5]]
    reward = th.clipped_distance_reward(top, radius=0.5, gamma=GAMMA)
    regimes = [
        ("fully synthetic", {"n": n}),
        (f"λ = {lam:g} (real + synthetic)", {"n": math.floor(lam * n + 1e-9), "lam": lam}),
        ("λ = 0 (real data only)", {"n": 1, "lam": 0.0}),
        (f"curated, K = {K}", {"n": n, "K": K, "reward": reward}),
    ]
    frames = []
    for regime, kw in regimes:
        res = retrain(learner, real, generations, reps=reps, rng=seed, n_eval=n, workers=workers, **kw)
        frames += _sample_rows(res.samples, gens_shown, regime=regime)
        cov = np.array([[mode_coverage(res.samples[r, t], centres, radius=3 * scale) for t in res.t]
                        for r in range(reps)])
        sw = np.array([[sliced_wasserstein(res.samples[r, t], test, n_projections=128, rng=seed) for t in res.t]
                       for r in range(reps)])
        for q, v in (("mode_coverage", cov), ("sliced_wasserstein", sw)):
            m, lo, hi = _mean_band(v)
            frames.append(pd.DataFrame({"kind": "metric", "regime": regime, "generation": res.t, "quantity": q,
                                        "mean": m, "lo": lo, "hi": hi, "reps": reps}))
    floor = sliced_wasserstein(test2, test, n_projections=128, rng=seed)
    frames.append(pd.DataFrame({"kind": "floor", "quantity": "sliced_wasserstein", "mean": [floor]}))
    frames.append(pd.DataFrame({"kind": "mode", "x": centres[:, 0], "y": centres[:, 1]}))
    frames.append(pd.DataFrame({"kind": "reward_centre", "regime": regimes[-1][0], "x": top[:, 0], "y": top[:, 1],
                                "radius": 0.5}))
    return pd.concat(frames, ignore_index=True)


def _moons_grid(noise):
    """Cell centres covering two moons with noise ``noise`` (h = 0.05)."""
    pad = 5 * noise
    return np.arange(-1 - pad, 2 + pad + 1e-9, 0.05), np.arange(-0.5 - pad, 1 + pad + 1e-9, 0.05)


def curation_2d_table(quick: bool = True, *, K=4, lam=0.5, n=1000, generations=10, reps=None,
                      seed=20240712, workers=None) -> pd.DataFrame:
    r"""Curated retraining in 2-D, with and without real data (Ferbach et al. 2024, appendix figures).

    Two data sets with ``n`` real points each: the 8-Gaussian ring, reward
    :math:`r=-5\max(0,\|x-c\|-0.5)` around one mode :math:`c`; two moons (noise 0.1), the same reward
    around the tip :math:`(-1, 0)` of the outer moon. Learner: an 8-component mixture
    (:func:`_learner`; first fit: best of 8 starts on the ring, of 2 on two moons), ``K``
    candidates per kept point. Two regimes: curated only (``n`` curated points per generation) and curated + real
    (:math:`\lambda=` ``lam``: the real data and :math:`\lfloor\lambda n\rfloor` curated points).
    Population curves (perfect learner, :math:`p_\text{ref}=p_0`): the exact chain on the law of the
    reward for the ring (:func:`~selfconsume.theory.curate_reward_law`), a 2-D grid chain
    (h = 0.05, :func:`~selfconsume.simulators.curate_density`) for two moons.

    Columns: ``kind`` — ``"sample"`` (replicate 0's evaluation sample, ``x``, ``y``),
    ``"learned"`` (mean reward of the evaluation samples over ``reps`` replicates: ``mean``,
    ``lo``, ``hi`` = ∓ 2 SE), ``"population"`` (``mean`` = :math:`\mathbb E_{p_t}r`, ``method``),
    ``"reward_centre"`` (``x``, ``y``, ``radius``); ``dataset``, ``regime``, ``generation``.
    """
    reps = (4 if quick else 16) if reps is None else reps
    ring, centres, _ = _ring()
    moons = th.two_moons(0.1)
    shown = sorted({0, 2, 5, generations} & set(range(generations + 1)))
    datasets = [
        ("8-Gaussian ring", ring, centres[1], _learner()),
        ("two moons", moons, np.array([-1.0, 0.0]), _learner(n_init=2)),
    ]
    regimes = [("curated only", None), (f"curated + real (λ = {lam:g})", lam)]
    frames = []
    for i, (name, law, c, learner) in enumerate(datasets):
        reward = th.clipped_distance_reward([c], radius=0.5, gamma=GAMMA)
        real = law.rvs(n, random_state=seed + i)
        for regime, lam_r in regimes:
            m_syn = n if lam_r is None else math.floor(lam_r * n + 1e-9)
            res = retrain(learner, real, generations, n=m_syn, lam=lam_r, K=K, reward=reward, reps=reps,
                          rng=seed + 10 * i, n_eval=n, workers=workers)
            frames += _sample_rows(res.samples, shown, dataset=name, regime=regime)
            m, lo, hi = _mean_band(res.rewards.mean(axis=2))
            frames.append(pd.DataFrame({"kind": "learned", "dataset": name, "regime": regime, "generation": res.t,
                                        "mean": m, "lo": lo, "hi": hi, "reps": reps}))
            if name == "8-Gaussian ring":
                pop = th.curate_reward_law(th.reward_law(law, reward), K, generations, lam=lam_r)
                method = "exact chain on the law of the reward"
            else:
                pop = curate_density(law, reward, K, generations, lam=lam_r, grid=_moons_grid(0.1))
                method = "2-D grid chain (h = 0.05)"
            frames.append(pd.DataFrame({"kind": "population", "dataset": name, "regime": regime,
                                        "generation": pop.t, "mean": pop.mean_reward(), "method": method}))
        frames.append(pd.DataFrame({"kind": "reward_centre", "dataset": name, "x": [c[0]], "y": [c[1]],
                                    "radius": 0.5}))
    return pd.concat(frames, ignore_index=True)


def curation_heatmaps_table(quick: bool = True, *, K=4, n=1000, generations=30, reps=None, horizon=None,
                            cells=181, seed=20240713, workers=None) -> pd.DataFrame:
    r"""Theorem 2.1 of Ferbach et al. 2024 on the 8-Gaussian ring: level sets, p₀, the limit, a learned loop.

    Reward :math:`r=-5\max(0,\|x-c\|-1.2)` with :math:`c` on the ring half-way between two modes, so
    the top set (a disc of radius 1.2) cuts both modes (55 % of each lies inside): the predicted
    limit :math:`p^*=p_0\mathbf 1\{r=r^*\}/P_0(r=r^*)` is two truncated modes, not a mode.
    Fully synthetic curation with ``K`` candidates.

    Columns: ``kind`` —

    * ``"grid"``: ``cells``² points ``x``, ``y`` with ``reward``, ``p0`` (density), ``limit``
      (:math:`p^*`) and ``p_T`` (the exact population density at the learned loop's last
      generation T, from :meth:`~selfconsume.theory.RewardLawChain.log_density`);
    * ``"sample"``: replicate 0's evaluation sample of the 8-component mixture
      (:func:`_learner`; ``n`` curated points per generation) at generation T;
    * ``"kl_exact"``: ``generation`` t = 1 … ``horizon``, ``kl`` = :math:`\mathrm{KL}(p^*\|p_t)`
      of the exact chain, ``asymptote`` = C/t (:func:`~selfconsume.theory.top_set_kl_constant`);
    * ``"kl_learned"``: ``generation`` 1 … T, ``mean``, ``lo``, ``hi`` (∓ 2 SE over ``reps``) of
      :math:`-\log\hat P_t(r=r^*)`, the share of evaluation samples in the top set (for the
      population chain this is exactly the KL);
    * ``"reward_centre"``: ``x``, ``y``, ``radius``;

    plus ``K``, ``atom`` (:math:`P_0(r=r^*)`) and ``C`` on every row.
    """
    reps = (4 if quick else 16) if reps is None else reps
    horizon = (1000 if quick else 10000) if horizon is None else horizon
    ring, centres, _ = _ring()
    R = float(np.linalg.norm(centres[0]))
    ang = math.pi / len(centres)
    c = R * np.array([math.cos(ang), math.sin(ang)])
    rho = 1.2
    reward = th.clipped_distance_reward([c], radius=rho, gamma=GAMMA)
    law = th.reward_law(ring, reward)
    atom = law.atom
    C = th.top_set_kl_constant(law, K)
    chain = th.curate_reward_law(law, K, max(horizon, generations))

    ax = np.linspace(-4.5, 4.5, cells)
    X, Y = np.meshgrid(ax, ax, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    r = reward(pts)
    p0 = np.exp(ring.logpdf(pts))
    limit = np.where(r >= law.top, p0 / atom, 0.0)
    p_T = np.exp(chain.log_density(ring, reward, pts, generations))
    frames = [pd.DataFrame({"kind": "grid", "x": pts[:, 0], "y": pts[:, 1], "reward": r, "p0": p0,
                            "limit": limit, "p_T": p_T, "generation": generations})]

    real = ring.rvs(n, random_state=seed)
    res = retrain(_learner(), real, generations, n=n, K=K, reward=reward, reps=reps, rng=seed, n_eval=n,
                  workers=workers)
    frames += _sample_rows(res.samples, [generations])
    top_share = (res.rewards[:, 1:] >= law.top).mean(axis=2)
    with np.errstate(divide="ignore"):
        m, lo, hi = _mean_band(-np.log(top_share))
    frames.append(pd.DataFrame({"kind": "kl_learned", "generation": res.t[1:], "mean": m, "lo": lo, "hi": hi,
                                "reps": reps}))
    t = np.arange(1, horizon + 1)
    frames.append(pd.DataFrame({"kind": "kl_exact", "generation": t, "kl": chain.kl_to_top()[1:horizon + 1],
                                "asymptote": C / t}))
    frames.append(pd.DataFrame({"kind": "reward_centre", "x": [c[0]], "y": [c[1]], "radius": rho}))
    df = pd.concat(frames, ignore_index=True)
    df["K"], df["atom"], df["C"] = K, atom, C
    return df
