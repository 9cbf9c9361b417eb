"""Experiments of the torch adapter shared by its claims and its figure tables (torch imported lazily).

* :func:`pretrained_flow` — the reference flow pretrained on the ring's real data (one model shared
  by the replicates of a comparison: they differ by the loop's randomness, not by pretraining);
* :func:`digits_setup` — the digits miniature: real images, the reward classifier (trained once,
  with its held-out accuracy) and the pretrained generator;
* :func:`class_shares` — the classifier's predicted class proportions of every generation's samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["pretrained_flow", "digits_setup", "DigitsSetup", "class_shares", "kl_to_uniform", "RING_REAL_SEED"]

#: The ring's real sample of the adapter's claims and figures.
RING_REAL_SEED = 20241201


def pretrained_flow(real, *, seed=0, steps=200, first_steps=1500, hidden=(128, 128), ode_steps=32, device=None):
    """A :class:`~selfconsume.simulators.torch.FlowLearner` fitted to ``real`` (``first_steps`` Adam steps);
    handed to ``retrain`` it fine-tunes ``steps`` per generation from these weights."""
    from selfconsume.simulators.torch import FlowLearner

    f = FlowLearner(real.shape[1], steps=steps, first_steps=first_steps, hidden=hidden, ode_steps=ode_steps, seed=seed,
                    device=device)
    return f.fit(real, random_state=np.random.default_rng(seed))


@dataclass(frozen=True)
class DigitsSetup:
    """The digits miniature: images ``X`` (rows in [0, 1]), labels ``y``, the reward ``classifier`` and
    its held-out ``accuracy``, and the ``generator`` pretrained on ``X``."""

    X: np.ndarray
    y: np.ndarray
    classifier: object
    accuracy: float
    generator: object


def digits_setup(*, seed=0, steps=300, first_steps=1500, device=None) -> DigitsSetup:
    """Load the digits, train the classifier once, pretrain the :class:`~selfconsume.simulators.torch.DigitsVAE`."""
    from selfconsume.simulators.torch import DigitsVAE, load_digits_data, train_digits_classifier

    X, y = load_digits_data()
    clf, acc = train_digits_classifier(X, y, seed=seed, device=device)
    gen = DigitsVAE(X.shape[1], steps=steps, first_steps=first_steps, seed=seed, device=device)
    gen.fit(X, random_state=np.random.default_rng(seed))
    return DigitsSetup(X, y, clf, acc, gen)


def class_shares(classifier, samples, classes=10) -> np.ndarray:
    """Predicted class proportions of ``samples`` (..., m, d): shape (..., classes)."""
    from selfconsume.simulators.torch import classify

    x = np.asarray(samples, dtype=float)
    lead, (m, d) = x.shape[:-2], x.shape[-2:]
    pred = classify(classifier, x.reshape(-1, d)).reshape(*lead, m)
    return np.stack([(pred == c).mean(axis=-1) for c in range(classes)], axis=-1)


def kl_to_uniform(shares) -> np.ndarray:
    """KL(shares ‖ uniform) along the last axis (0 ⇔ balanced classes)."""
    s = np.asarray(shares, dtype=float)
    k = s.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, s * np.log(s * k), 0.0).sum(axis=-1)
