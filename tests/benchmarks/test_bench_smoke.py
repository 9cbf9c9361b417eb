"""Smoke tests of the benchmark suite: tiny workloads, well-formed rows, and the baselines
computing the same output statistics as the simulators on identical workloads.

Never asserts speed. White-box by nature: the benchmark functions and baselines are
private (``selfconsume.benchmarks`` exports only ``run_benchmarks`` and ``write_report``).
"""

import importlib
import json
import math
import sys

import numpy as np
import pandas as pd
import pytest

from selfconsume.benchmarks import run_benchmarks, write_report
from selfconsume.benchmarks import _baselines, _gaussian, _limits, _run
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
            # ≥ 0, not > 0: a difference of two timings (the allocation row) is floored at 0 on a loaded machine
            assert r["ours"] >= 0 and r["reference"] > 0 and math.isfinite(r["ratio"])
    return rows


# ---------------------------------------------------------------- each benchmark, tiny
def test_bench_limits_rows():
    rows = check_rows(_limits.bench_limits(count=20_000, reps=70, per_row=50, n_normal=100, workers=2, repeats=1))
    assert len(rows) == 8 and all(r["met"] is None for r in rows)  # diagnostics only
    assert sum("Numba's gen.chisquare" in r["workload"] for r in rows) == 1
    assert sum("pairs" in r["workload"] for r in rows) == 1


def test_bench_exact_vs_limit_rows():
    rows = check_rows(_gaussian.bench_exact_vs_limit(n=10, reps=70, generations=20, workers=2, repeats=1))
    assert len(rows) == 4  # end to end and kernel only, on 2 and 1 threads
    assert sum(r["met"] is not None for r in rows) == 2  # one target row per thread count


def test_bench_samples_vs_limit_rows():
    check_rows(_gaussian.bench_samples_vs_limit(n=20, reps=70, generations=5, workers=2, repeats=1))


def test_bench_exact_vs_refit_rows():
    rows = check_rows(_gaussian.bench_exact_vs_refit(workloads=((10, 30, 10, 10), (50, 10, 5, None)),
                                                     workers=2, repeats=2, baseline_chunks=3))
    assert [r["target"] for r in rows if r["met"] is not None] == ["≥ 1000×", "≥ 1000×, > ratio at n=10"]
    assert len(rows) == 6  # per workload: exact on 2 threads (target), on 1 thread, samples


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
    assert any("fresh process, loop of identical calls" in r["workload"] for r in rows)
    assert all(r["met"] is None for r in rows)


def test_kernel_runner_gives_the_simulators_outputs():
    # The benchmarks' block runner (μ0 = 0, σ0 = 1) returns simulate_gaussian's L and M bit for bit.
    res = simulate_gaussian(10, 30, reps=150, rng=4, workers=2)
    L, M = _gaussian._kernel_runner("exact", 10, 150, 30, 2, seed=4)()
    assert np.array_equal(L, res.log_sigma) and np.array_equal(M, res.mu)
    assert np.array_equal(np.exp(L), res.sigma)


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


# ------------------------------------------------------------ limits: the same streams
@pytest.mark.parametrize("k", [1.5, 2.0, 9.0, 999.0])
def test_limit_kernels_draw_numpys_stream(k):
    ref = math.fsum(np.random.default_rng(1).chisquare(k, 200))
    assert _limits.chisquare_sum(np.random.default_rng(1), k, 200) == pytest.approx(ref, rel=1e-13)
    assert _limits.numba_chisquare_sum(np.random.default_rng(1), k, 200) == pytest.approx(ref, rel=1e-13)
    assert _limits.normal_sum(np.random.default_rng(1), 200) == pytest.approx(
        math.fsum(np.random.default_rng(1).standard_normal(200)), rel=1e-12, abs=1e-12)


def test_pair_limit_draws_one_chain_steps_variates():
    # The (normal, χ²) pair limit consumes exactly the stream of the exact 1-D kernel: after
    # T pairs, both generators are in the same state.
    n, T = 10, 300
    g1, g2 = np.random.default_rng(8), np.random.default_rng(8)
    _limits.normal_chisquare_sum(g1, n - 1.0, T)
    _k.gauss1d_exact_draws(g2, n, n - 1.0, np.empty((1, T + 1)), np.empty((1, T + 1)))
    assert g1.bit_generator.state == g2.bit_generator.state


def test_pooled_chisquare_limit_is_thread_invariant():
    a = _limits.pooled_chisquare(9, 150, 20, workers=1, seed=3)().copy()
    b = _limits.pooled_chisquare(9, 150, 20, workers=2, seed=3)()
    assert np.array_equal(a, b)


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
    mod = _run._load_curation()  # None until benchmarks/_curation.py exists
    assert mod is None or callable(mod.run)


# ------------------------------------------------ the optional curation benchmarks
@pytest.fixture
def curation_dir(tmp_path, monkeypatch):
    """A directory searched before benchmarks/ for ``selfconsume.benchmarks._curation``:
    a test writes a ``_curation.py`` there (the real file, if any, is shadowed)."""
    import selfconsume.benchmarks as pkg

    monkeypatch.setattr(pkg, "__path__", [str(tmp_path), *pkg.__path__])
    monkeypatch.delitem(sys.modules, _run._CURATION, raising=False)
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop(_run._CURATION, None)
    importlib.invalidate_caches()


_GOOD_CURATION = """
def run(quick, workers=1):
    return [{"workload": f"curation quick={quick} workers={workers}", "metric": "s", "ours": 1.0,
             "reference": 3.0, "ratio": 3.0, "target": "≥ 1×", "met": True}]
"""


@pytest.mark.parametrize("source, error", [
    ("def run(quick):\n    raise RuntimeError('curation broke')\n", "RuntimeError: curation broke"),
    ("import no_such_module_here\n", "ModuleNotFoundError: No module named 'no_such_module_here'"),
    ("raise ImportError('bad import inside')\n", "ImportError: bad import inside"),
    ("def run(:\n", "SyntaxError"),
    ("RUN = 1\n", "has no callable run"),
    ("def run(quick):\n    return [{'workload': 'w'}]\n", "without ['metric', 'ours', 'reference', 'ratio']"),
])
def test_curation_failure_becomes_an_error_row(curation_dir, source, error):
    (curation_dir / "_curation.py").write_text(source, encoding="utf-8")
    with pytest.warns(RuntimeWarning, match="curation"):
        df = run_benchmarks(only="curation", workers=1, progress=False)
    assert df.benchmark.tolist() == ["curation"] and df.met.tolist() == [False]
    assert error in df.notes.iloc[0]


def test_curation_rows_are_picked_up(curation_dir):
    (curation_dir / "_curation.py").write_text(_GOOD_CURATION, encoding="utf-8")
    names = [e[0] for e in _run._entries(True, 2)]
    assert "curation" in names and names.count("curation") == 1 and names.index("curation") > names.index("continuous")
    df = run_benchmarks(only="curation", quick=False, workers=2, progress=False)
    assert df.benchmark.tolist() == ["curation"]
    assert df.workload.tolist() == ["curation quick=False workers=2"] and df.met.tolist() == [True]


def test_curation_absent_means_no_entry(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(_run.importlib, "import_module", missing)
    assert _run._load_curation() is None
    assert "curation" not in [e[0] for e in _run._entries(True, 1)]
