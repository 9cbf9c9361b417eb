"""Exact moments of the discrete workflows: the sympy factors, the closed forms, and every expectation against a
brute-force enumeration of the full count-vector chain on tiny cases."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy import special

from selfconsume.theory import (accumulate_cov_limit, discrete_gini_factor_expr, expected_accumulate_cov,
                                expected_discrete_entropy, expected_discrete_gini, expected_discrete_zeros)

WF = ("replace", "accumulate", "accumulate-subsample")


def test_factor_exprs():
    N, n = sp.symbols("N n", integer=True, positive=True)
    assert sp.simplify(discrete_gini_factor_expr("replace") - (1 - 1 / n)) == 0
    assert sp.simplify(discrete_gini_factor_expr("accumulate") - (1 - n / (N + n) ** 2)) == 0
    pool = ((N + n) ** 2 - n - (n - 1) * (N - n) / (N - 1)) / (N + n) ** 2
    r = lambda M: M * (n - 1) / (n * (M - 1))  # noqa: E731
    assert sp.simplify(discrete_gini_factor_expr("accumulate-subsample") - pool * r(N + n) / r(N)) == 0


@pytest.mark.parametrize("n", [2, 7, 10])
def test_gini_closed_forms(n):
    p0 = np.array([0.5, 0.3, 0.2])
    d0 = 1 - np.sum(p0**2)
    t = np.arange(0, 25)
    np.testing.assert_allclose(expected_discrete_gini(p0, n, 24, "replace"), d0 * (1 - 1 / n) ** (t + 1), rtol=1e-13)
    np.testing.assert_allclose(expected_discrete_gini(p0, n, 24, "accumulate"), d0 * expected_accumulate_cov(n, t + 1),
                               rtol=1e-12)
    far = expected_discrete_gini(p0, n, 20_000, "accumulate")[-1] / d0
    assert far == pytest.approx(accumulate_cov_limit(n), abs=2 / (n * 20_000))
    sub = expected_discrete_gini(p0, n, 24, "accumulate-subsample")
    acc = expected_discrete_gini(p0, n, 24, "accumulate")
    rep = expected_discrete_gini(p0, n, 24, "replace")
    assert sub[0] == acc[0] == rep[0]
    assert np.all(rep[1:] < sub[1:]) and np.all(sub[1:] < acc[1:])  # fixed compute sits between the two


def test_one_point_per_generation_is_a_point_mass():
    for wf in WF:
        assert np.array_equal(expected_discrete_gini([0.3, 0.7], 1, 5, wf), np.zeros(6))
        np.testing.assert_allclose(expected_discrete_entropy([0.3, 0.7], 1, 5, wf), 0.0, atol=1e-15)
        np.testing.assert_allclose(expected_discrete_zeros([0.3, 0.7], 1, 5, wf), 1.0, rtol=1e-13)


# --------------------------------------------------------------------------- brute force on count vectors


def _compositions(total, K):
    for cut in itertools.combinations(range(total + K - 1), K - 1):
        parts, prev = [], -1
        for c in cut:
            parts.append(c - prev - 1)
            prev = c
        parts.append(total + K - 1 - prev - 1)
        yield tuple(parts)


def _multinomial(counts, probs):
    n = sum(counts)
    logp = special.gammaln(n + 1) - sum(special.gammaln(c + 1) for c in counts)
    for c, p in zip(counts, probs):
        if c:
            if p == 0:
                return 0.0
            logp += c * math.log(p)
    return math.exp(logp)


def _mv_hypergeometric(h, C):
    return math.prod(math.comb(c, x) for c, x in zip(C, h)) / math.comb(sum(C), sum(h))


def _metrics(q):
    q = np.asarray(q, dtype=float)
    nz = q[q > 0]
    return 1 - np.sum(q * q), float(-np.sum(nz * np.log(nz))), int(np.sum(q == 0))


def brute_force(p0, n, G, wf):
    """E (gini, entropy, zeros) of models 0..G by propagating the law of the whole count vector."""
    K = len(p0)
    law = {c: _multinomial(c, p0) for c in _compositions(n, K)}  # pool counts of model 0
    N = n
    out = np.zeros((3, G + 1))
    for t in range(G + 1):
        models = {}  # law of the fitted counts (total m)
        for C, pr in law.items():
            if wf == "accumulate-subsample" and N > n:
                for h in _compositions(n, K):
                    if all(x <= c for x, c in zip(h, C)):
                        models[(C, h)] = models.get((C, h), 0.0) + pr * _mv_hypergeometric(h, C)
            else:
                models[(C, C)] = models.get((C, C), 0.0) + pr
        m = N if wf == "accumulate" else n
        for (_, fit), pr in models.items():
            out[:, t] += pr * np.array(_metrics(np.array(fit) / m))
        new = {}
        for (C, fit), pr in models.items():
            for b in _compositions(n, K):
                pb = _multinomial(b, np.array(fit) / m)
                if pb == 0:
                    continue
                key = b if wf == "replace" else tuple(c + x for c, x in zip(C, b))
                new[key] = new.get(key, 0.0) + pr * pb
        law = new
        N = N + n if wf != "replace" else n
    return out


@pytest.mark.parametrize("wf", WF)
@pytest.mark.parametrize("p0, n, G", [([0.5, 0.3, 0.2], 2, 3), ([0.6, 0.4], 3, 4), ([0.7, 0.0, 0.2, 0.1], 2, 2)])
def test_against_brute_force(wf, p0, n, G):
    p0 = np.array(p0)
    gini, ent, zer = brute_force(p0, n, G, wf)
    np.testing.assert_allclose(expected_discrete_gini(p0, n, G, wf), gini, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(expected_discrete_entropy(p0, n, G, wf), ent, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(expected_discrete_zeros(p0, n, G, wf), zer, rtol=1e-12, atol=1e-14)


def test_zeros_under_accumulate_are_those_of_the_real_sample():
    p0 = np.array([0.5, 0.25, 0.15, 0.1])
    z = expected_discrete_zeros(p0, 9, 30, "accumulate")
    np.testing.assert_allclose(z, np.sum((1 - p0) ** 9), rtol=1e-12)
    zr = expected_discrete_zeros(p0, 9, 30, "replace")
    assert np.all(np.diff(zr) >= -1e-12) and zr[-1] < 3  # absorbing: grows towards K − 1 = 3


def test_uniform_cell_of_kazdan_et_al():
    p0 = np.full(10, 0.1)
    h = expected_discrete_entropy(p0, 10, 40, "replace")
    assert h[0] < math.log(10) and h[-1] < h[0]
    np.testing.assert_allclose(expected_discrete_gini(p0, 10, 0, "replace"), [0.9 * 0.9], rtol=1e-14)


@pytest.mark.parametrize("fn", [expected_discrete_gini, expected_discrete_entropy, expected_discrete_zeros])
@pytest.mark.parametrize("args, match", [
    (([0.5, 0.6], 3, 2), "p0 must sum to 1"),
    (([1.0], 3, 2), "K >= 2"),
    (([0.5, -0.5, 1.0], 3, 2), "non-negative"),
    (([0.5, 0.5], 0, 2), "n must be an integer >= 1"),
    (([0.5, 0.5], 3, -1), "generations"),
    (([0.5, 0.5], 3, 2, "pool"), "workflow"),
])
def test_bad_input(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_bad_workflow_for_the_expr():
    with pytest.raises(ValueError, match="workflow"):
        discrete_gini_factor_expr("pool")
