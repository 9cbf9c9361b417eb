"""Tables behind the torch adapter's figures (torch imported lazily: only when a table is computed).

* :func:`torch_ring_table` — the ring grid of ``continuous_grid`` with the reference flow
  (:class:`~selfconsume.simulators.torch.FlowLearner`) in place of the Gaussian mixture;
* :func:`torch_digits_table` — the digits miniature: class proportions, mean reward and sample
  images over generations, curated only vs curated + real data, for the single-class and the
  confidence rewards.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .continuous import _mean_band, ring_grid_rows

__all__ = ["torch_ring_table", "torch_digits_table"]


def torch_ring_table(quick: bool = True, *, n=1000, generations=None, K=4, lam=0.5, reps=None, seed=20240711,
                     steps=100, device=None) -> pd.DataFrame:
    """:func:`~selfconsume.analysis.tables.continuous_grid_table`'s regimes and columns with the reference
    flow: pretrained on the real sample (1500 Adam steps), fine-tuned ``steps`` per generation."""
    from selfconsume.analysis._torch import pretrained_flow

    generations = (8 if quick else 20) if generations is None else generations
    reps = (2 if quick else 6) if reps is None else reps
    return ring_grid_rows(lambda real: pretrained_flow(real, seed=0, steps=steps, device=device), n=n,
                          generations=generations, K=K, lam=lam, reps=reps, seed=seed)


def torch_digits_table(quick: bool = True, *, K=16, gamma=10.0, lam=1.0, c=3, n=1000, generations=6, reps=None,
                       images=8, seed=20240713, device=None) -> pd.DataFrame:
    r"""The digits miniature of Ferbach et al.'s CIFAR-10 experiment, on scikit-learn's 8 × 8 digits.

    A :class:`~selfconsume.simulators.torch.DigitsVAE` pretrained on the 1797 digits is retrained
    ``generations`` times on ``n`` samples, each the Luce choice among ``K`` by the reward
    :math:`\gamma q_c(x)` (single class ``c``) or :math:`\gamma\max_iq_i(x)` (confidence), of a
    classifier trained once (:func:`~selfconsume.analysis._torch.digits_setup`); "curated + real"
    adds the real digits (``lam`` synthetic per real).

    Columns: ``kind`` — ``"share"`` (predicted class proportions of the evaluation samples:
    ``class``, ``mean``, ``lo``, ``hi`` = ∓ 2 SE over ``reps``), ``"reward"`` (mean reward of the
    evaluation samples, ``mean``, ``lo``, ``hi``), ``"image"`` (replicate 0's first ``images``
    evaluation samples at the first and last generation: ``index`` and pixels ``p0`` … ``p63``),
    ``"meta"`` (``accuracy`` of the classifier on held-out digits); ``reward``, ``regime``,
    ``generation``, ``reps``.
    """
    from selfconsume.analysis._torch import class_shares, digits_setup
    from selfconsume.simulators import retrain
    from selfconsume.simulators.torch import class_probability_reward, confidence_reward

    reps = (2 if quick else 6) if reps is None else reps
    setup = digits_setup(steps=150, device=device)
    N = setup.X.shape[0]
    rewards = [(f"single class ({c})", class_probability_reward(setup.classifier, c, gamma=gamma, device=device)),
               ("confidence", confidence_reward(setup.classifier, gamma=gamma, device=device))]
    regimes = [("curated only", None, n), (f"curated + real (λ = {lam:g})", lam, math.floor(lam * N + 1e-9))]
    frames = [pd.DataFrame({"kind": ["meta"], "accuracy": [setup.accuracy]})]
    for i, (rname, rw) in enumerate(rewards):
        for j, (regime, lam_r, m) in enumerate(regimes):
            res = retrain(setup.generator, setup.X, generations, n=m, lam=lam_r, K=K, reward=rw, reps=reps,
                          rng=seed + 10 * i + j)
            sh = class_shares(setup.classifier, res.samples)  # (reps, T + 1, 10)
            for k in range(sh.shape[-1]):
                mu, lo, hi = _mean_band(sh[:, :, k])
                frames.append(pd.DataFrame({"kind": "share", "reward": rname, "regime": regime, "generation": res.t,
                                            "class": k, "mean": mu, "lo": lo, "hi": hi, "reps": reps}))
            mu, lo, hi = _mean_band(res.rewards.mean(axis=2))
            frames.append(pd.DataFrame({"kind": "reward", "reward": rname, "regime": regime, "generation": res.t,
                                        "mean": mu, "lo": lo, "hi": hi, "reps": reps}))
            for g in (0, generations):
                img = np.clip(res.samples[0, g, :images], 0.0, 1.0)
                pix = pd.DataFrame(img, columns=[f"p{q}" for q in range(img.shape[1])])
                pix.insert(0, "index", np.arange(len(img)))
                frames.append(pix.assign(kind="image", reward=rname, regime=regime, generation=g))
    return pd.concat(frames, ignore_index=True)
