"""Exact-in-law and literal (sample-level) simulators of self-consuming loops.

Each simulator is a cached Numba kernel plus a thin front function that validates,
normalises ``rng``, allocates, runs replicate blocks in parallel (thread-count invariant)
and wraps the result in a frozen dataclass with ``.to_frame()``.
"""

from . import _curation
from ._curation import *  # noqa: F401,F403
from ._counts import MultinomialChain, PoissonChain, simulate_multinomial, simulate_poisson
from ._density import DensityChain, curate_density
from ._discrete_workflows import DiscreteChain, simulate_discrete
from ._gaussian import GaussianChain, simulate_gaussian
from ._learners import GaussianLearner, KDELearner, MixtureLearner
from ._mixture_refit import MixtureRefitChain, simulate_mixture_refit
from ._retrain import RetrainResult, luce_select, luce_tournament, retrain
from ._regression import RegressionChain, simulate_regression
from selfconsume.theory._mixture import GaussianMixture, gaussian_mixture  # the one mixture law, re-exported

__all__ = ["simulate_gaussian", "GaussianChain", "simulate_regression", "RegressionChain",
           "gaussian_mixture", "GaussianMixture", "curate_density", "DensityChain",
           "simulate_multinomial", "MultinomialChain", "simulate_poisson", "PoissonChain",
           "simulate_mixture_refit", "MixtureRefitChain", "simulate_discrete", "DiscreteChain",
           "retrain", "RetrainResult", "luce_select", "luce_tournament", "GaussianLearner", "MixtureLearner", "KDELearner", *_curation.__all__]
