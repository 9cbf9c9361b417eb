"""Every chain result shares one layout: a frozen dataclass whose fields start with the run's parameters
(sizes, ``generations``, ``reps``, …, ``method``, then ``seed``) followed by read-only arrays (not in the
repr), a generation index ``t``, and ``to_frame()`` — a tidy long table whose first columns are ``rep``
and ``generation`` and whose other columns are the metrics, then the parameters."""

import dataclasses

import numpy as np
import pytest

from selfconsume.simulators import (simulate_curation, simulate_discrete, simulate_gaussian, simulate_mixture_refit,
                                    simulate_multinomial, simulate_poisson)

RUNS = {
    "GaussianChain": lambda: simulate_gaussian(5, 3, reps=2, rng=0),
    "GaussianChain d": lambda: simulate_gaussian(5, 3, reps=2, dim=2, lam=1.0, workflow="fresh", rng=0),
    "CurationChain": lambda: simulate_curation(np.full(3, 1 / 3), np.array([0.0, 0.5, 1.0]), 2, 3, n=10, reps=2, rng=0),
    "MultinomialChain": lambda: simulate_multinomial(10, 3, counts=[2, 3, 5], reps=2, rng=0),
    "PoissonChain": lambda: simulate_poisson(10, 1.0, 3, reps=2, rng=0),
    "MixtureRefitChain": lambda: simulate_mixture_refit(20, 3, reps=2, rng=0),
    "DiscreteChain": lambda: simulate_discrete(np.full(4, 0.25), 10, 3, reps=2, rng=0),
}


@pytest.mark.parametrize("name", RUNS)
def test_result_layout(name):
    res = RUNS[name]()
    assert dataclasses.is_dataclass(res) and type(res).__dataclass_params__.frozen
    fields = dataclasses.fields(res)
    names = [f.name for f in fields]
    assert {"generations", "reps", "method", "seed"} <= set(names)
    first_array = min(i for i, f in enumerate(fields) if isinstance(getattr(res, f.name), np.ndarray))
    seed = names.index("seed")
    assert max(names.index("generations"), names.index("reps"), names.index("method")) < seed < first_array
    for f in fields:
        v = getattr(res, f.name)
        if isinstance(v, np.ndarray) and v.ndim >= 1 and f.name not in ("t",):
            assert not f.repr, f"{name}.{f.name}: arrays stay out of the repr"
            assert not v.flags.writeable, f"{name}.{f.name} must be read-only"
    assert np.array_equal(res.t, np.arange(res.generations + 1))
    df = res.to_frame()
    assert list(df.columns[:2]) == ["rep", "generation"]
    assert len(df) == res.reps * (res.generations + 1)
    assert "method" in df.columns
