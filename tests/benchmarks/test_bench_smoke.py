"""Smoke tests of the benchmark suite: tiny workloads, well-formed rows, and the baselines
computing the same output statistics as the simulators on identical workloads.

Never asserts speed. White-box by nature: the benchmark functions and baselines are
private (``selfconsume.benchmarks`` exports only ``run_benchmarks`` and ``write_report``).
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from selfconsume.benchmarks import run_benchmarks, write_report
from selfconsume.benchmarks import _baselines, _gaussian, _limits, _run, _variants
from selfconsume.benchmarks._timing import ROW_KEYS, mean_z
from selfconsume.simulators import simulate_gaussian
from selfconsume.simulators import _gaussian_kernels as _k

Z_MAX = 5.0  # ~5 SE, one comparison per test (fixed seeds)


def check_rows(rows):
    assert isinstance(rows, list) and rows
    for r in rows:
        assert tuple(r) == ROW_KEYS
        assert isinstance(r["workload"], str) and r["workload"]
        assert isinstance(r["metric"], str) and r["metric"]
        for k in ("ours", "reference", "ratio"):
            assert isinstance(r[k], float)
        assert isinstance(r["target"], str) and isinstance(r["notes"], str)
        if r["met"] is None:
            assert r["target"] == "—"
        else:
            assert isinstance(r["met"], bool) and r["target"] != "—"
            assert math.isfinite(r["ratio"]) and r["ratio"] > 0
        if math.isfinite(r["ours"]) and math.isfinite(r["reference"]):
            assert r["ours"] > 0 and r["reference"] > 0 and math.isfinite(r["ratio"])
    return rows


# ---------------------------------------------------------------- each benchmark, tiny
def test_bench_limits_rows():
    rows = check_rows(_limits.bench_limits(count=20_000, reps=70, per_row=50, n_normal=100, workers=2, repeats=1))
    assert len(rows) == 7


def test_bench_exact_vs_limit_rows():
    rows = check_rows(_gaussian.bench_exact_vs_limit(n=10, reps=70, generations=20, workers=2, repeats=1))
    assert sum(r["met"] is not None for r in rows) == 2  # one target row per thread count


def test_bench_samples_vs_limit_rows():
    check_rows(_gaussian.bench_samples_vs_limit(n=20, reps=70, generations=5, workers=2, repeats=1))


def test_bench_exact_vs_refit_rows():
    rows = check_rows(_gaussian.bench_exact_vs_refit(workloads=((10, 30, 10, 10), (50, 10, 5, None)),
                                                     workers=2, repeats=2, baseline_chunks=3))
    assert [r["target"] for r in rows if r["met"] is not None] == ["≥ 1000×", "≥ 1000×, > ratio at n=10"]


def test_bench_wishart_vs_refit_rows():
    check_rows(_gaussian.bench_wishart_vs_refit(n=20, dim=3, paths=10, generations=10, baseline_paths=3,
                                                baseline_generations=5, workers=2, repeats=1))


def test_bench_accumulate_rows_baseline_only_and_compared():
    (row,) = check_rows(_gaussian.bench_accumulate(n=10, paths=3, generations=5, workers=1, baseline_chunks=2))
    assert math.isnan(row["ours"]) and math.isnan(row["ratio"]) and row["reference"] > 0
    assert "2 chunk(s)" in row["notes"]

    def ours(n, paths, generations, *, rng, workers):  # stand-in for the future workflow
        return _baselines.gaussian_accumulate_loop(n, paths, generations, rng=rng)

    (row,) = check_rows(_gaussian.bench_accumulate(n=10, paths=3, generations=5, ours=ours, workers=1, repeats=1,
                                                   baseline_chunks=1))
    assert row["ours"] > 0 and "z = +0.00" in row["notes"]  # same function, same seed (one chunk)

    rows = check_rows(_gaussian.bench_accumulate(n=10, paths=70, generations=5, baseline_paths=5, workers=2,
                                                 ours={"exact": _gaussian.toolkit_accumulate("exact")}))
    assert len(rows) == 1 and "5 of 70 paths" in rows[0]["notes"]


def test_bench_overheads_rows():
    rows = check_rows(_gaussian.bench_overheads(reps=70, generations=10, workers=2, repeats=1, cold_start=True))
    assert any("cold process, first call" in r["workload"] for r in rows)


def test_bench_exact_variants_rows():
    rows = check_rows(_gaussian.bench_exact_variants(n=10, reps=4, generations=50, repeats=1))
    notes = {r["workload"].split(": variant ")[-1]: r["notes"] for r in rows}
    assert "bit-identical" in notes["'hoisted χ² constants'"]
    assert "bit-identical to NumPy" in rows[-1]["notes"]


# --------------------------------------- the same output statistic on identical workloads
@pytest.mark.parametrize("method", ["exact", "samples"])
def test_refit_baseline_matches_simulator(method):
    n, paths, T = 10, 400, 20
    _, sig_b = _baselines.gaussian_refit_loop(n, paths, T, rng=1)
    res = simulate_gaussian(n, T, reps=paths, method=method, rng=2)
    assert sig_b.shape == res.sigma.shape
    _, _, z = mean_z(res.log_sigma[:, -1], np.log(sig_b[:, -1]))
    assert abs(z) < Z_MAX
    _, _, z = mean_z(res.sigma[:, -1], sig_b[:, -1])
    assert abs(z) < Z_MAX


def test_wishart_baseline_matches_simulator():
    n, d, paths, T = 10, 3, 300, 8
    mu_b, ld_b, tr_b = _baselines.wishart_refit_loop(n, paths, T, d, rng=1)
    res = simulate_gaussian(n, T, reps=paths, dim=d, rng=2)
    assert mu_b.shape == res.mu.shape and ld_b.shape == res.logdet.shape
    assert np.allclose(ld_b[:, 0], 0.0) and np.allclose(tr_b[:, 0], d)
    for a, b in ((res.logdet[:, -1], ld_b[:, -1]), (np.log(res.trace[:, -1]), np.log(tr_b[:, -1])),
                 (res.mu[:, -1, 0], mu_b[:, -1, 0])):
        _, _, z = mean_z(a, b)
        assert abs(z) < Z_MAX


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_accumulate_baseline_matches_toolkit_workflow(method):
    n, paths, T = 10, 400, 12
    mu_b, sig_b = _baselines.gaussian_accumulate_loop(n, paths, T, rng=1)
    mu_o, sig_o = _gaussian.toolkit_accumulate(method)(n, paths, T, rng=2, workers=2)
    assert mu_o.shape == mu_b.shape == (paths, T + 1)
    assert (mu_o[:, 0] == 0.0).all() and (sig_o[:, 0] == 1.0).all()
    for t in (1, T):  # the fit to the n real points, and the last generation
        for a, b in ((np.log(sig_o[:, t]), np.log(sig_b[:, t])), (mu_o[:, t], mu_b[:, t])):
            _, _, z = mean_z(a, b)
            assert abs(z) < Z_MAX


def test_chunks_cover_the_paths():
    assert _gaussian._chunks(10, 3) == [4, 3, 3]
    assert _gaussian._chunks(2, 5) == [1, 1]
    assert sum(_gaussian._chunks(1000, 7)) == 1000


def test_accumulate_first_generation_is_the_refit_loop():
    # Generation 1 of both loops fits the same n draws from N(μ0, σ0²): exact oracle.
    mu_a, sig_a = _baselines.gaussian_accumulate_loop(7, 1, 3, mu0=1.5, sigma0=2.0, rng=4)
    mu_r, sig_r = _baselines.gaussian_refit_loop(7, 1, 1, mu0=1.5, sigma0=2.0, rng=4)
    assert mu_a[0, 1] == mu_r[0, 1] and sig_a[0, 1] == sig_r[0, 1]
    assert mu_a[0, 0] == 1.5 and sig_a[0, 0] == 2.0


def test_accumulate_refits_on_the_whole_pool():
    n, T = 5, 4
    mu, sig = _baselines.gaussian_accumulate_loop(n, 1, T, rng=9)
    rng = np.random.default_rng(9)
    pool, m, s = [], 0.0, 1.0
    for t in range(1, T + 1):
        pool.extend(rng.normal(m, s, n))
        m, s = np.mean(pool), np.std(pool, ddof=1)
        assert mu[0, t] == pytest.approx(m, rel=1e-14) and sig[0, t] == pytest.approx(s, rel=1e-14)


# ------------------------------------------------------ limits and variants: same streams
def test_limit_kernels_draw_numpys_stream():
    k = 9.0
    assert _limits.chisquare_sum(np.random.default_rng(1), k, 200) == pytest.approx(
        math.fsum(np.random.default_rng(1).chisquare(k, 200)), rel=1e-13)
    assert _limits.normal_sum(np.random.default_rng(1), 200) == pytest.approx(
        math.fsum(np.random.default_rng(1).standard_normal(200)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("k", [2.5, 3.0, 9.0, 999.0])
def test_hoisted_chisquare_is_numpys_stream(k):
    out = np.empty(500)
    _variants.chisquare_mt_fill(np.random.default_rng(5), k, out)
    assert np.array_equal(out, np.random.default_rng(5).chisquare(k, 500))


@pytest.mark.parametrize("n", [2, 3, 4, 10, 1000])
def test_variant_kernels_match_shipped(n):
    shape = (5, 300)
    ref = [np.empty(shape), np.empty(shape)]
    _k.gauss1d_exact(np.random.default_rng(11), n, n - 1.0, *ref)
    out = [np.empty(shape), np.empty(shape)]
    _variants.exact1d_hoisted(np.random.default_rng(11), n, n - 1.0, *out)
    assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    for kern in (_variants.exact1d_sqrt, _variants.exact1d_hoisted_sqrt):
        kern(np.random.default_rng(11), n, n - 1.0, *out)
        assert np.array_equal(out[0], ref[0])
        np.testing.assert_allclose(out[1], ref[1], rtol=0, atol=1e-11)


def test_sqrt_variant_flushes_tiny_sigma_without_nan():
    # n = 3: log σ drifts fast; after 3000 steps σ underflows. M must stay finite and frozen.
    L, M = np.empty((2, 3001)), np.empty((2, 3001))
    _variants.exact1d_hoisted_sqrt(np.random.default_rng(0), 3, 2.0, L, M)
    assert np.isfinite(L).all() and np.isfinite(M).all() and (L[:, -1] < -800).all()
    assert (M[:, -1] == M[:, -100]).all()


# ------------------------------------------------------------- runner and report
def _fake_suite(quick):
    def ok(**kw):
        return [{"workload": "w", "metric": "m", "ours": 1.0, "reference": 2.0, "ratio": 2.0,
                 "target": "≥ 1×", "met": True, "notes": "n | pipe"}]

    def broken(**kw):
        raise ValueError("boom")

    def interrupted(**kw):
        raise KeyboardInterrupt

    return [("ok", ok, {}, 1.0), ("broken", broken, {}, 1.0), ("stop", interrupted, {}, 1.0),
            ("never", ok, {}, 1.0)]


def test_run_benchmarks_failure_row_and_interrupt(monkeypatch, tmp_path):
    monkeypatch.setattr(_gaussian, "suite", _fake_suite)
    with pytest.warns(RuntimeWarning, match="boom"):
        df = run_benchmarks(only=["ok", "broken", "stop", "nev"], progress=True)  # substrings select
    assert list(df.columns) == ["benchmark", *ROW_KEYS]
    assert list(df.benchmark) == ["ok", "broken"]
    assert df.attrs["interrupted"] and df.attrs["completed"] == ["ok", "broken"]
    assert df.met.tolist() == [True, False]
    md, js = write_report(df, tmp_path / "out")
    text = md.read_text(encoding="utf-8")
    assert "| # | workload | metric | ours | reference | ratio | target | met |" in text
    assert "n \\| pipe" in text and "(interrupted)" in text
    payload = json.loads(js.read_text(encoding="utf-8"))
    assert payload["rows"][1]["ours"] is None and payload["machine"]["workers"] >= 1


def test_run_benchmarks_only_validates_names():
    with pytest.raises(ValueError, match="no benchmark name contains"):
        run_benchmarks(only="no-such-benchmark", progress=False)
    with pytest.raises(ValueError, match="workers"):
        run_benchmarks(workers=0, progress=False)


def test_run_benchmarks_real_entry_and_report(tmp_path):
    df = run_benchmarks(only="accumulate", workers=1, progress=False)
    assert isinstance(df, pd.DataFrame) and len(df) == 2 and not df.attrs["interrupted"]
    md, js = write_report(df, tmp_path)
    assert md.exists() and js.exists()
    payload = json.loads(js.read_text(encoding="utf-8"))
    assert payload["quick"] is True and payload["rows"][0]["benchmark"] == "accumulate"
    assert {"cores", "workers", "numpy", "numba"} <= set(payload["machine"])


def test_suite_entries_are_callable_with_their_kwargs():
    import inspect

    for quick in (True, False):
        for name, fn, kwargs, est in _gaussian.suite(quick):
            params = inspect.signature(fn).parameters
            inspect.signature(fn).bind(**kwargs, **({"workers": 1} if "workers" in params else {}))
            assert est > 0
    assert _run._curation is None or callable(_run._curation.run)


@pytest.mark.parametrize("n", [2, 10])
def test_projection_a_is_bit_identical_to_simulate_gaussian(n):
    res = simulate_gaussian(n, 40, reps=150, mu0=1.5, sigma0=2.0, rng=3, workers=2)
    for kern in (_k.gauss1d_exact, _variants.exact1d_hoisted):
        for fused in (False, True):
            mu, sigma, log_sigma = _gaussian._simulate_1d_with(kern, n, 40, 150, 2, fused_front=fused, rng=3,
                                                               mu0=1.5, sigma0=2.0)
            assert np.array_equal(mu, res.mu) and np.array_equal(sigma, res.sigma)
            assert np.array_equal(log_sigma, res.log_sigma)
