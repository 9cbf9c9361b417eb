"""The kernels' χ² draws are NumPy's stream, bit for bit (so seeds mean the same everywhere)."""

import numpy as np
import pytest
from numba import njit

from selfconsume.simulators._variates import chisquare, chisquare_consts


@njit(cache=True)
def _fill(gen, k, out):
    b, c = chisquare_consts(k)
    for i in range(out.size):
        out[i] = chisquare(gen, k, b, c)


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 2.5, 3.0, 9.0, 99.0, 1e6])
def test_chisquare_stream_is_numpys(k):
    a = np.empty(20_000)
    _fill(np.random.default_rng(42), k, a)
    b = np.random.default_rng(42).chisquare(k, a.size)
    assert np.array_equal(a, b)
