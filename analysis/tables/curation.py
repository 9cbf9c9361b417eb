"""Tables behind the curation figures (simulated here; cached by the CLI, plotted by paper_figures).

Each function takes ``quick`` and returns a tidy DataFrame in a few seconds at most.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from selfconsume import theory as th
from selfconsume.simulators import simulate_curation

__all__ = ["curation_reward_table", "curation_kl_table", "curation_large_k_table", "curation_cifar_table",
           "thm23_24_table"]

P0 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
R0 = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])


def _example(m=200, levels=8, seed=20240701):
    """m atoms on ``levels`` reward levels in [0, 2] (ties), p_0 ~ Dirichlet(1), fixed seed."""
    rng = np.random.default_rng(seed)
    r = rng.integers(0, levels, m) * (2.0 / (levels - 1))
    return rng.dirichlet(np.ones(m)), r


def curation_reward_table(quick: bool = True, *, Ks=(2, 4, 16), seed=20240701) -> pd.DataFrame:
    r"""E_{p_t}[e^r] and Var_{p_t}[e^r] of the population chain with the Lemma 2.2 floor.

    Columns: ``K``, ``generation``, ``mean_exp_reward``, ``var_exp_reward``, ``lemma22_floor``
    (:math:`\mathbb E_{p_{t-1}}e^r+\frac{K-1}{K}\mathrm{Var}_{p_{t-1}}e^r/e^{r^*}`, NaN at t = 0),
    ``e_rstar`` (:math:`e^{r^*}`, the limit).
    """
    p0, r = _example(seed=seed)
    T = 30 if quick else 60
    frames = []
    for K in Ks:
        res = simulate_curation(p0, r, K, T)
        mean = res.mean_exp_reward()[0]
        var = res.var_exp_reward()[0]
        floor = np.full(T + 1, np.nan)
        floor[1:] = [mean[t] + th.bound_lemma22_gain(res.p[0, t], r, K) for t in range(T)]
        frames.append(pd.DataFrame({"K": K, "generation": res.t, "mean_exp_reward": mean, "var_exp_reward": var,
                                    "lemma22_floor": floor, "e_rstar": math.exp(r[p0 > 0].max())}))
    return pd.concat(frames, ignore_index=True)


def curation_kl_table(quick: bool = True, *, Ks=(2, 4, 16, np.inf)) -> pd.DataFrame:
    r"""KL(p*‖p_t), −log P_t(r = r*) and the geometric rate :math:`\rho_2` (theory.md §1.5 example).

    Columns: ``K``, ``generation``, ``kl`` (from the definition), ``neg_log_top`` (the identity),
    ``rho2``, ``geometric`` (:math:`\mathrm{KL}_T\rho_2^{t-T}`, anchored at the last generation T).
    """
    T = 120 if quick else 200
    frames = []
    for K in Ks:
        res = simulate_curation(P0, R0, K, T)
        kl = np.array([th.kl_to_top(P0, res.p[0, t], R0) for t in range(T + 1)])
        _, rho = th.level_rates(P0, R0, K)
        frames.append(pd.DataFrame({"K": K, "generation": res.t, "kl": kl,
                                    "neg_log_top": -np.log(res.top_mass()[0]), "rho2": rho[1],
                                    "geometric": kl[-1] * rho[1] ** (res.t - T)}))
    return pd.concat(frames, ignore_index=True)


def curation_large_k_table(quick: bool = True) -> pd.DataFrame:
    r""":math:`\max_x|pH^K_p-pe^r/\mathbb E_pe^r|` against K with the first-order term :math:`\max|pc_1|/K`.

    Columns: ``example``, ``K``, ``max_abs``, ``first_order``, ``second_order_residual``
    (:math:`\max|pH^K-\text{tilt}-pc_1/K|`, :math:`O(K^{-2})`).
    """
    Ks = np.unique(np.round(np.logspace(0.3, 6, 20 if quick else 49)).astype(int))
    rng = np.random.default_rng(20240702)
    examples = [("6 atoms, 4 reward levels", P0, R0),
                ("50 atoms, r ~ N(0, 1)", rng.dirichlet(np.ones(50)), rng.normal(size=50))]
    rows = []
    for name, p, r in examples:
        tilt = th.curated_distribution(p, r, np.inf)
        c0 = th.curation_H_large_K(p, r, np.inf, order=0)
        c1 = th.curation_H_large_K(p, r, 1, order=1) - c0
        for K in Ks:
            diff = th.curated_distribution(p, r, int(K)) - tilt
            rows.append({"example": name, "K": int(K), "max_abs": float(np.max(np.abs(diff))),
                         "first_order": float(np.max(np.abs(p * c1))) / K,
                         "second_order_residual": float(np.max(np.abs(diff - p * c1 / K)))})
    return pd.DataFrame(rows)


def curation_cifar_table(quick: bool = True, *, K=4, gamma=5.0, lam=0.5, generations=20, runs=10,
                         seed=20240703) -> pd.DataFrame:
    r"""CIFAR-10 curation in miniature: 10 classes, a "classifier confidence" reward.

    Atoms stand for images: ``per_class`` atoms in each of 10 classes, real data uniform over
    atoms (balanced classes). Each atom has a confidence :math:`c\sim\mathrm{Beta}` whose mean
    depends on its class (some classes are "easier" for the classifier), and the reward is
    :math:`r=\gamma c` with :math:`\gamma=5` (Ferbach et al. 2024 §4, confidence reward). Two
    regimes with K = 4: only curated synthetic data (2 500 kept samples per generation), and
    real + curated synthetic (5 000 real samples reused, λ = 1/2: 2 500 curated per generation).
    Population chain (perfect learner) and ``runs`` finite-sample runs (exact method).

    Columns: ``regime``, ``source`` (``"population"`` or ``"run"``), ``rep``, ``generation``,
    ``quantity`` (``"proportion"``, ``"mean_reward"``), ``cls`` (class for proportions, −1
    otherwise), ``value``, ``class_mean_confidence``.
    """
    per_class = 40 if quick else 200
    rng = np.random.default_rng(seed)
    C = 10
    mu = np.linspace(0.55, 0.9, C)[rng.permutation(C)]
    conc = 8.0
    conf = np.concatenate([rng.beta(mu[c] * conc, (1 - mu[c]) * conc, per_class) for c in range(C)])
    cls = np.repeat(np.arange(C), per_class)
    r = gamma * conf
    p_ref = np.full(conf.size, 1.0 / conf.size)
    onehot = (cls[:, None] == np.arange(C)[None, :]).astype(float)
    rows = []
    for regime, lam_r, n in (("curated synthetic only", None, 2500), (f"real + curated (λ = {lam:g})", lam, 5000)):
        pop = simulate_curation(p_ref, r, K, generations, lam=lam_r)
        fin = simulate_curation(p_ref, r, K, generations, lam=lam_r, n=n, reps=runs, rng=rng)
        for source, res in (("population", pop), ("run", fin)):
            R = 1 if source == "population" else runs
            props = res.p[:R] @ onehot  # (R, T+1, C)
            reward = res.mean_reward()[:R] / gamma  # mean confidence, in [0, 1]
            for rep in range(R):
                for c in range(C):
                    rows.append(pd.DataFrame({"regime": regime, "source": source, "rep": rep, "generation": res.t,
                                              "quantity": "proportion", "cls": c, "value": props[rep, :, c],
                                              "class_mean_confidence": mu[c]}))
                rows.append(pd.DataFrame({"regime": regime, "source": source, "rep": rep, "generation": res.t,
                                          "quantity": "mean_reward", "cls": -1, "value": reward[rep],
                                          "class_mean_confidence": np.nan}))
    return pd.concat(rows, ignore_index=True)


def thm23_24_table(quick: bool = True, *, Ks=(2, 4, 8), generations=200) -> pd.DataFrame:
    """Theorems 2.3 and 2.4 (curation with real data) as functions of λ, on the 6-atom example.

    One row per (K, λ): the exact population chain p_{t+1} = (p_ref + λ p_t H^K)/(1+λ), p_0 = p_ref,
    run for ``generations``; ``gain`` = min_{t≥1} E_{p_t}e^r − E_ref e^r and ``kl`` = max_t KL(p_t‖p_ref)
    (measured), against ``gain_paper`` (the paper's factor λ/(1+λ)³), ``gain_sharp`` (λ/(1+λ), derived
    by :func:`theory.thm23_gain_sequence`) and ``kl_bound`` = −log(1 − λ(K−1)) (NaN where λ(K−1) ≥ 1:
    no uniform bound). Exact: no sampling.
    """
    lams = np.geomspace(0.01, 3.0, 14 if quick else 40)
    e_ref = th.expected_exp_reward(P0, R0)
    rows = []
    for K in Ks:
        for lam in lams:
            res = simulate_curation(P0, R0, K, generations, lam=float(lam))
            m = res.mean_exp_reward()[0]
            kl = max(float(np.sum(np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log(P0)), 0.0)))
                     for q in res.p[0])
            kb = float(th.bound_thm24(K, float(lam)))
            rows.append({"K": K, "lam": float(lam), "gain": float(np.min(m[1:]) - e_ref),
                         "gain_paper": th.bound_thm23(P0, R0, K, float(lam)) - e_ref,
                         "gain_sharp": th.bound_thm23(P0, R0, K, float(lam), sharp=True) - e_ref,
                         "kl": kl, "kl_bound": kb if math.isfinite(kb) else np.nan, "generations": generations})
    return pd.DataFrame(rows)
