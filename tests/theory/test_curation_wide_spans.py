"""H^K on reward spans far wider than the lattice could cover: the gap split of
``theory._curation_kernels.log_h_levels_gapped`` against exact enumeration and the unsplit lattice."""

import math
import time

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.simulators import simulate_curation
from selfconsume.theory._curation_kernels import GAP_FACTOR, log_h_levels, log_h_levels_gapped


def _both(lw, q, tg, K):
    a, b = np.empty(tg.size), np.empty(tg.size)
    log_h_levels(lw, q, tg, float(K), a)
    log_h_levels_gapped(lw, q, tg, float(K), b)
    return a, b


@pytest.mark.parametrize("K", [2, 4, 7, 50])
def test_split_equals_enumeration(K):
    # a gap of 299 ≥ GAP_FACTOR (log K + 47) for every K here: the split path, against mpmath
    assert 299 > GAP_FACTOR * (math.log(K) + 47)
    p = np.array([0.3, 0.3, 0.2, 0.2])
    r = np.array([0.0, -1.0, -300.0, -301.5])
    a = th.curation_H(p, r, K, log=True)
    b = th.curation_H_enumerated(p, r, K, log=True, dps=80)
    assert np.max(np.abs(a - b)) < 1e-13


@pytest.mark.parametrize("K", [4, 10**6])
def test_split_equals_the_unsplit_lattice_where_both_apply(K):
    # three groups, targets inside them, near them and deep inside the gaps (zero-mass atoms)
    G = GAP_FACTOR * (math.log(K) + 47)
    lw = np.array([0.0, -0.7, -(G + 5), -(G + 6.3), -(2 * G + 20)])
    q = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    tg = np.concatenate([lw, [3.0, -20.0, -G / 2, -(G + 5) + 20, -(G + 5) - 30, -(1.5 * G), -(2 * G + 60)]])
    a, b = _both(lw, q, tg, K)
    assert np.all(np.isfinite(b))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    assert abs(float(np.exp(a[:5]) @ q) - 1.0) < 1e-12


def test_spans_that_used_to_fail_or_hang():
    # an atom 1e20 below the other is kept only when all K candidates are it: H = q^{K−1}
    for span in (1e6, 1e8, 1e20, 1e300):
        t0 = time.perf_counter()
        H = th.curation_H([0.5, 0.5], [0.0, -span], 4)
        assert time.perf_counter() - t0 < 2.0  # not a lattice across the span
        np.testing.assert_allclose(H, [1.875, 0.125], rtol=1e-14)
    H = th.curation_H([0.2, 0.3, 0.5], [700.0, 0.0, -700.0], 10**6, log=True)
    assert np.all(np.isfinite(H))
    # the population chain goes through the same kernel: three groups 1e12 apart, K = 4; each atom
    # is kept only against candidates of its own group or below (H_top = 1.875 as above,
    # H_mid = 0.5³ · 1.875, H_low = 0.25³)
    res = simulate_curation([0.5, 0.25, 0.25], [0.0, -1e12, -2e12], 4, 3)
    np.testing.assert_allclose(res.p[0, 1], [0.5 * 1.875, 0.25 * 0.125 * 1.875, 0.25 * 0.25**3], rtol=1e-14)
