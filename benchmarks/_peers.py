"""Cold start, second process and warm: the toolkit against the public peers' own loops.

A user who reaches for the toolkit instead of a peer's script pays, once, the imports
(numba, scipy, pandas) and the compilation of the Numba kernels; the peers' NumPy loops pay
nothing up front but Python's cost per step. These benchmarks time both on the same small
workloads, each side in fresh interpreters (``sys.executable -c``), so that every row is a
whole user experience rather than a warmed-up kernel:

* **cold**: a fresh process with an *empty* Numba cache (``NUMBA_CACHE_DIR`` = a new
  temporary folder): ``import selfconsume.simulators`` + the workload, compilation
  included (what the first run after installing, or after editing a kernel, costs);
* **second process**: another fresh process on that now warm cache: the import + the
  workload, the kernels loaded from the cache (every later run of a script);
* **warm**: the workload again in that process (best of a few): a sweep's steady state.

The peer side is a fresh process running ``import numpy`` + the peer's loop (its first run,
used for both the cold and the second-process rows: NumPy has no compile cache), and the
loop again in that process (warm). Ratios are ``peer / toolkit`` (above 1: the toolkit wins).
The interpreter's own start-up (≈ 20 ms, the same on both sides) is not counted.

The peers, re-implemented in plain NumPy below from their released code (their protocol,
not their files; no wandb):

* Kazdan et al., *Collapse or Thrive?* (2025), ``src/fit_gaussians/fit_gaussians.py``: per
  seed (``RandomState(seed)``), draw n real points from N(0, I_d); per iteration fit the MLE
  mean and covariance (``np.cov(bias=True)``) to the data — the last n points (Replace), the
  whole pool (Accumulate) or n points subsampled without replacement from the pool
  (Accumulate-Subsample) — log ‖μ̂‖², det Σ̂/det Σ₀ and tr Σ̂/tr Σ₀, draw n points from
  N(μ̂, Σ̂) with ``multivariate_normal`` and replace or grow the pool. Iteration k is the
  toolkit's generation k (Replace, ``lam=None``: generation 0 is the truth) or k − 1
  (Accumulate*, ``lam=1``: generation 0 is the fit to the real sample); ``theory.md`` §3.5.
* Suresh et al., *Rate of model collapse in recursive training* (2025), the notebook
  ``simulations.ipynb``: Bernoulli (``plot_bernoulli_bounds``: p₀ = 0.01, n = 100, 50
  generations, 5000 trajectories; p ← mean of ``binomial(1, p, n)``), Poisson
  (``plot_poisson_bounds``: λ₀ = 1, n = 10, 500 generations, 5000 trajectories; λ ← mean of
  ``poisson(λ, n)``) and the Zipf–Mandelbrot vocabulary (``zipf_recursive_training``: m = n =
  1000, 10 generations, 200 trajectories from one initial corpus, (a, b) ∈ {(1, 2.7),
  (2, 5)}; the next corpus is n draws from the empirical law of the current one). The
  notebook draws each of the n symbols by its own ``np.random.choice`` call; the baseline
  draws them in one call (generous to the peer; the note gives the per-symbol cost).

Each row's notes say what ran and record that both sides produce the same statistic (the
mean trace ratio at the last iteration per Kazdan cell; P(P_T ≠ 0), P(Λ_T ≠ 0) and the
surviving vocabulary fraction for Suresh) within Monte-Carlo error (two-sample z).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from selfconsume._parallel import resolve_workers
from selfconsume.simulators import simulate_gaussian, simulate_multinomial, simulate_poisson

from ._timing import make_row, mean_z

__all__ = [
    "kazdan_run",
    "kazdan_cells",
    "suresh_bernoulli",
    "suresh_poisson",
    "zipf_corpus",
    "suresh_zipf",
    "suresh_run",
    "toolkit_cells",
    "toolkit_rate",
    "bench_collapse_or_thrive",
    "bench_rate_of_collapse",
    "import_profile",
    "run",
    "suite",
]

_SEED = 20241016

#: The Collapse-or-Thrive cells of the quick run: (setting, d, n) for d ∈ {1, 10}, n ∈ {10, 100}.
CELLS = tuple((s, d, n) for d in (1, 10) for n in (10, 100) for s in ("Replace", "Accumulate", "Accumulate-Subsample"))
#: The rate-of-collapse run at the notebook's sizes: (p₀, n, T, trajectories), (λ₀, n, T, trajectories),
#: and (m, n, T, trajectories, ((a, b), ...)).
BERNOULLI = (0.01, 100, 50, 5000)
POISSON = (1.0, 10, 500, 5000)
ZIPF = (1000, 1000, 10, 200, ((1.0, 2.7), (2.0, 5.0)))


# ------------------------------------------------------------------------------ the peers
# Plain NumPy (the only name they use is ``np``), so that their source runs unchanged in a
# bare interpreter that imports nothing but numpy (see ``_script``).
def kazdan_fit(data):
    """MLE mean and covariance of the rows of ``data`` (``np.cov(bias=True)``, kept 2-D for d = 1)."""
    mu = np.mean(data, axis=0)
    cov = np.cov(data, rowvar=False, bias=True)
    if data.shape[1] == 1:
        cov = np.reshape(cov, (1, 1))
    return mu, cov


def kazdan_run(setting, dim, n, iterations, seed, sigma_squared=1.0):
    """One Collapse-or-Thrive Gaussian run; rows ``(tr Σ̂/tr Σ₀, ‖μ̂ − μ₀‖², det Σ̂/det Σ₀)`` per iteration."""
    rs = np.random.RandomState(seed)
    mean0 = np.zeros(dim)
    cov0 = sigma_squared * np.eye(dim)
    det0, tr0 = np.linalg.det(cov0), np.trace(cov0)
    pool = rs.multivariate_normal(mean=mean0, cov=cov0, size=n)
    logs = np.empty((iterations, 3))
    for k in range(iterations):
        if setting == "Accumulate-Subsample":
            idx = rs.choice(np.arange(pool.shape[0]), size=n, replace=False)
            mu, cov = kazdan_fit(pool[idx])
        else:
            mu, cov = kazdan_fit(pool)
        logs[k] = (np.trace(cov) / tr0, np.sum(np.square(mu - mean0)), np.linalg.det(cov) / det0)
        new = rs.multivariate_normal(mean=mu, cov=cov, size=n)
        pool = new if setting == "Replace" else np.concatenate((pool, new))
    return logs


def kazdan_cells(cells, seeds, iterations, seed=0):
    """Every cell ``(setting, d, n)`` for ``seeds`` seeds; the trace ratio at the last iteration per seed."""
    stats, parts = {}, {}
    for setting, dim, n in cells:
        t0 = time.perf_counter()
        last = [float(kazdan_run(setting, dim, n, iterations, seed + s)[-1, 0]) for s in range(seeds)]
        key = f"{setting} d={dim} n={n}"
        stats[key], parts[key] = last, time.perf_counter() - t0
    return {"stats": stats, "parts": parts}


def suresh_bernoulli(p0, n, generations, trajectories, seed):
    """Bernoulli trajectories ``(trajectories, generations + 1)``: p ← mean of ``binomial(1, p, n)``."""
    rs = np.random.RandomState(seed)
    final = np.empty((trajectories, generations + 1))
    for j in range(trajectories):
        p = p0
        final[j, 0] = p
        for k in range(1, generations + 1):
            p = np.mean(rs.binomial(1, p, n))
            final[j, k] = p
    return final


def suresh_poisson(lam0, n, generations, trajectories, seed):
    """Poisson trajectories ``(trajectories, generations + 1)``: λ ← mean of ``poisson(λ, n)``."""
    rs = np.random.RandomState(seed)
    final = np.empty((trajectories, generations + 1))
    for j in range(trajectories):
        lam = lam0
        final[j, 0] = lam
        for k in range(1, generations + 1):
            lam = np.mean(rs.poisson(lam, n))
            final[j, k] = lam
    return final


def zipf_corpus(m, n, a, b, seed):
    """The initial corpus: n draws from the Zipf–Mandelbrot law ∝ (rank + b)^(−a) on m ranks."""
    rs = np.random.RandomState(seed)
    ranks = np.arange(1, m + 1)
    prob = 1.0 / (ranks + b) ** a
    prob /= prob.sum()
    return rs.choice(ranks, size=n, p=prob)


def suresh_zipf(corpus, generations, trajectories, seed):
    """Surviving vocabulary fraction ``(trajectories, generations + 1)``, every trajectory from ``corpus``."""
    rs = np.random.RandomState(seed)
    n = corpus.size
    m0 = np.unique(corpus).size
    out = np.empty((trajectories, generations + 1))
    for j in range(trajectories):
        samples = corpus
        for k in range(generations + 1):
            values, counts = np.unique(samples, return_counts=True)
            out[j, k] = values.size / m0
            if k < generations:
                samples = rs.choice(values, size=n, p=counts / n)
    return out


def suresh_run(bernoulli=None, poisson=None, zipf=None, seed=0, fraction=1.0):
    """The rate-of-collapse run: each part on ``ceil(fraction · trajectories)`` trajectories.

    ``parts`` holds each part's seconds and ``scale`` the factor to the full trajectory
    count; ``zipf_per_symbol_s`` the notebook's own sampler (one ``choice`` call per symbol)
    for one generation, for the note.
    """
    stats, parts, scale = {}, {}, {}

    def sub(total):
        return max(1, min(total, math.ceil(fraction * total)))

    if bernoulli is not None:
        p0, n, T, R = bernoulli
        r = sub(R)
        t0 = time.perf_counter()
        final = suresh_bernoulli(p0, n, T, r, seed)
        parts["bernoulli"], scale["bernoulli"] = time.perf_counter() - t0, R / r
        stats["bernoulli"] = (final[:, -1] != 0).astype(float).tolist()
    if poisson is not None:
        lam0, n, T, R = poisson
        r = sub(R)
        t0 = time.perf_counter()
        final = suresh_poisson(lam0, n, T, r, seed + 1)
        parts["poisson"], scale["poisson"] = time.perf_counter() - t0, R / r
        stats["poisson"] = (final[:, -1] != 0).astype(float).tolist()
    if zipf is not None:
        m, n, T, R, ab = zipf
        r = sub(R)
        for i, (a, b) in enumerate(ab):
            key = f"zipf a={a:g} b={b:g}"
            t0 = time.perf_counter()
            corpus = zipf_corpus(m, n, a, b, seed + 2 + i)
            out = suresh_zipf(corpus, T, r, seed + 10 + i)
            parts[key], scale[key] = time.perf_counter() - t0, R / r
            stats[key] = out[:, -1].tolist()
        # the notebook's sampler, one np.random.choice per symbol, for one generation
        rs = np.random.RandomState(seed)
        values, counts = np.unique(corpus, return_counts=True)
        t0 = time.perf_counter()
        for _ in range(n):
            rs.choice(values, p=counts / n)
        stats["zipf_per_symbol_s"] = time.perf_counter() - t0
    return {"stats": stats, "parts": parts, "scale": scale}


# ------------------------------------------------------------------------- the toolkit
def toolkit_cells(cells, seeds, iterations, seed=0):
    """The same cells through :func:`simulate_gaussian` (``reps = seeds``); trace ratio at the last iteration."""
    stats, parts = {}, {}
    for setting, dim, n in cells:
        t0 = time.perf_counter()
        if setting == "Replace":  # lam=None: generation 0 is the truth, generation k = iteration k
            res = simulate_gaussian(n, iterations, reps=seeds, dim=dim, estimator="mle", method="exact", rng=seed)
        else:  # lam=1: generation 0 is the fit to the real sample, generation k − 1 = iteration k
            res = simulate_gaussian(n, iterations - 1, reps=seeds, dim=dim, estimator="mle", lam=1.0,
                                    workflow=setting.lower(),
                                    method="exact" if setting == "Accumulate" else "samples", rng=seed)
        last = res.sigma[:, -1] ** 2 if dim == 1 else res.trace[:, -1] / dim
        key = f"{setting} d={dim} n={n}"
        stats[key], parts[key] = [float(v) for v in last], time.perf_counter() - t0
    return {"stats": stats, "parts": parts}


def toolkit_rate(bernoulli=None, poisson=None, zipf=None, seed=0):
    """The rate-of-collapse run through :func:`simulate_multinomial` and :func:`simulate_poisson`."""
    stats, parts = {}, {}
    if bernoulli is not None:
        p0, n, T, R = bernoulli
        t0 = time.perf_counter()
        res = simulate_multinomial(n, T, p=[p0, 1.0 - p0], reps=R, return_freq=True, rng=seed)
        parts["bernoulli"] = time.perf_counter() - t0
        stats["bernoulli"] = (res.freq[:, -1, 0] != 0).astype(float).tolist()
    if poisson is not None:
        lam0, n, T, R = poisson
        t0 = time.perf_counter()
        res = simulate_poisson(n, lam0, T, reps=R, rng=seed + 1)
        parts["poisson"] = time.perf_counter() - t0
        stats["poisson"] = (res.rate[:, -1] != 0).astype(float).tolist()
    if zipf is not None:
        m, n, T, R, ab = zipf
        for i, (a, b) in enumerate(ab):
            key = f"zipf a={a:g} b={b:g}"
            t0 = time.perf_counter()
            corpus = zipf_corpus(m, n, a, b, seed + 2 + i)  # the peer's corpus (same seed), as counts
            res = simulate_multinomial(n, T, counts=np.unique(corpus, return_counts=True)[1], reps=R,
                                       rng=seed + 10 + i)
            parts[key] = time.perf_counter() - t0
            stats[key] = res.fraction[:, -1].tolist()
    return {"stats": stats, "parts": parts}


# ---------------------------------------------------------------------- fresh processes
_PEER_HEADER = "import numpy as np"
_TOOLKIT_HEADER = ("import numpy as np\n"
                   "from selfconsume.simulators import simulate_gaussian, simulate_multinomial, simulate_poisson")

_SCRIPT = """
import json, math, time
_t0 = time.perf_counter()
{header}
_t1 = time.perf_counter()
{compile_events}
{sources}
_args = json.loads({args!r})
_ta = time.perf_counter()
_first = {driver}(**_args)
_t_first = time.perf_counter() - _ta
{compile_report}
_warm, _warm_parts = [], None
for _ in range({repeats}):
    _ta = time.perf_counter()
    _w = {driver}(**_args)
    _warm.append(time.perf_counter() - _ta)
    if _warm[-1] == min(_warm):
        _warm_parts = _w["parts"]
print(json.dumps({{"import": _t1 - _t0, "first": _t_first, "warm": _warm, "out": _first,
                  "warm_parts": _warm_parts, "compile": _compile}}))
"""

# Numba's compile events fire on a cache miss only (a cache load is not a compilation).
_COMPILE_EVENTS = """
from numba.core import event as _ev
_rec = _ev.RecordingListener()
_ev.register("numba:compile", _rec)
"""

_COMPILE_REPORT = """
_ev.unregister("numba:compile", _rec)
_stack, _incl, _child = [], {}, {}
for _ts, _e in _rec.buffer:
    _f = getattr(_e.data.get("dispatcher"), "py_func", None)
    _name = "?" if _f is None else (getattr(_f, "__module__", "") or "").rsplit(".", 1)[-1] + "." + _f.__qualname__
    if _e.is_start:
        _stack.append((_name, _ts, 0.0))
    elif _stack:
        _n, _s, _c = _stack.pop()
        _d = _ts - _s
        _incl[_n] = _incl.get(_n, 0.0) + _d
        _child[_n] = _child.get(_n, 0.0) + _c
        if _stack:
            _p = _stack.pop()
            _stack.append((_p[0], _p[1], _p[2] + _d))
_compile = {"count": sum(1 for _ts, _e in _rec.buffer if _e.is_start),
            "total": sum(_incl[_n] - _child[_n] for _n in _incl),
            "self": sorted(((_n, _incl[_n] - _child[_n]) for _n in _incl), key=lambda x: -x[1])}
"""


def _script(header, functions, driver, args, repeats, compile_events=False) -> str:
    """A ``python -c`` program: time ``header`` (the imports), run ``driver(**args)``, then repeat it."""
    sources = "\n\n".join(inspect.getsource(f) for f in functions)
    return _SCRIPT.format(header=header, sources=sources, driver=driver.__name__, args=json.dumps(args),
                          repeats=int(repeats), compile_events=_COMPILE_EVENTS if compile_events else "",
                          compile_report=_COMPILE_REPORT if compile_events else "_compile = None")


def _fresh(code: str, env: dict, timeout: float = 900) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout,
                         check=False, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(f"fresh process failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _scaled(parts: dict, scale: dict | None) -> float:
    """Seconds of the whole workload from its parts (each part times its trajectory scale)."""
    scale = scale or {}
    return float(sum(t * scale.get(k, 1.0) for k, t in parts.items()))


def _contest(toolkit_fns, toolkit_driver, peer_fns, peer_driver, toolkit_args, peer_args, *, workers,
             toolkit_repeats, peer_repeats, processes):
    """Cold toolkit process, then ``processes`` alternating (peer, toolkit second-process) pairs.

    Returns the parsed outputs: ``cold`` (one), ``second`` and ``peer`` (lists).
    """
    base = dict(os.environ, SELFCONSUME_WORKERS=str(workers))
    cache = tempfile.mkdtemp(prefix="selfconsume-numba-cache-")
    try:
        env = dict(base, NUMBA_CACHE_DIR=cache)
        cold = _fresh(_script(_TOOLKIT_HEADER, toolkit_fns, toolkit_driver, toolkit_args, 0, compile_events=True),
                      env)
        second, peer = [], []
        tk = _script(_TOOLKIT_HEADER, toolkit_fns, toolkit_driver, toolkit_args, toolkit_repeats)
        pe = _script(_PEER_HEADER, peer_fns, peer_driver, peer_args, peer_repeats)
        for i in range(int(processes)):
            order = [("peer", pe, base), ("second", tk, env)]
            for name, code, e in (order if i % 2 == 0 else order[::-1]):
                (peer if name == "peer" else second).append(_fresh(code, e))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"cold": cold, "second": second, "peer": peer}


def _prop_z(a, b) -> float:
    """z of the difference of two proportions (0/1 lists), pooled SE (0 when both are 0 or 1 everywhere)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    p = (a.sum() + b.sum()) / (a.size + b.size)
    se = math.sqrt(p * (1 - p) * (1 / a.size + 1 / b.size))
    d = a.mean() - b.mean()
    return float(d / se) if se > 0 else (0.0 if d == 0 else math.inf)


def _same_statistics(ours: dict, peer: dict, proportions=()) -> tuple[str, float]:
    """``"key: toolkit m ± , peer m (z)"`` for every shared statistic, and the largest |z|."""
    parts, zmax = [], 0.0
    for key in ours:
        if key not in peer or not isinstance(ours[key], list):
            continue
        a, b = ours[key], peer[key]
        if key in proportions:
            ma, mb, z = float(np.mean(a)), float(np.mean(b)), _prop_z(a, b)
        else:
            ma, mb, z = mean_z(a, b) if len(a) > 1 and len(b) > 1 else (float(np.mean(a)), float(np.mean(b)), 0.0)
        if not math.isfinite(z) and ma == mb:
            z = 0.0
        zmax = max(zmax, abs(z))
        parts.append(f"{key}: {ma:.4g} vs {mb:.4g} (z {z:+.2f})")
    return "; ".join(parts), zmax


def _rows(wl, res, *, peer_scale_note, stat_note, toolkit_what, peer_what, workers, compile_top=6):
    """The three rows (cold, second process, warm) of one workload from :func:`_contest`'s outputs."""
    cold, seconds, peers = res["cold"], res["second"], res["peer"]

    def total(o, first=True):
        return o["import"] + (o["first"] if first else 0.0)

    def peer_first(o):
        return o["import"] + _scaled(o["out"]["parts"], o["out"].get("scale"))

    def peer_warm(o):  # NumPy has nothing to warm up: its first run counts as a repeat too
        first = _scaled(o["out"]["parts"], o["out"].get("scale"))
        return min(first, _scaled(o["warm_parts"], o["out"].get("scale")) if o["warm_parts"] is not None else first)

    t_cold = total(cold)
    t_second = min(total(o) for o in seconds)
    t_warm = min(min(o["warm"]) for o in seconds if o["warm"])
    p_first = min(peer_first(o) for o in peers)
    p_warm = min(peer_warm(o) for o in peers)
    comp = cold.get("compile") or {}
    top = ", ".join(f"{n} {s:.2g} s" for n, s in comp.get("self", [])[:compile_top])
    cold_parts = ", ".join(f"{k} {v:.2g} s" for k, v in cold["out"]["parts"].items())
    best_second = min(seconds, key=total)
    second_parts = ", ".join(f"{k} {v:.2g} s" for k, v in best_second["out"]["parts"].items())
    p_imp = min(o["import"] for o in peers)
    metric = "seconds, ratio = peer / toolkit"
    proc = f"best of {len(peers)} fresh peer process(es)"
    common = f"toolkit: {toolkit_what}, {workers} thread(s); peer: {peer_what}{peer_scale_note}"
    return [
        make_row(f"{wl}: cold (first process, empty numba cache)", metric, t_cold, p_first, p_first / t_cold,
                 notes=f"fresh process, NUMBA_CACHE_DIR = a new empty folder: import selfconsume.simulators "
                       f"{cold['import']:.2f} s + the workload {cold['first']:.2f} s, of which numba compiled "
                       f"{comp.get('count', 0)} function(s) in {comp.get('total', float('nan')):.1f} s "
                       f"(self time, largest: {top}); per part: {cold_parts}. Peer: fresh process, import numpy "
                       f"{p_imp:.2f} s + its loop ({proc}; NumPy has no compile cache, so its first process is "
                       f"also its second). {common}. Python bytecode and the OS file cache are warm on both sides"),
        make_row(f"{wl}: second process (numba cache warm)", metric, t_second, p_first, p_first / t_second,
                 notes=f"another fresh process on the cache the cold one filled: import "
                       f"{best_second['import']:.2f} s + the workload {best_second['first']:.2f} s (kernels "
                       f"loaded from the cache: per part {second_parts}); best of {len(seconds)} process(es), "
                       f"alternating with the peer's. {common}"),
        make_row(f"{wl}: warm (same process, repeated)", metric, t_warm, p_warm, p_warm / t_warm,
                 notes=f"the workload again in the second process (best of {len(seconds[0]['warm'])} per "
                       f"process) and in the peer's (best of its first run and {len(peers[0]['warm'])} more per "
                       f"process). Same statistics (toolkit vs peer, "
                       f"two-sample z): {stat_note}"),
    ]


# ---------------------------------------------------------------------------- benchmarks
def bench_collapse_or_thrive(*, cells=CELLS, seeds=10, iterations=100, workers=None, toolkit_repeats=3,
                             peer_repeats=1, processes=1) -> list[dict]:
    """Kazdan et al.'s Gaussian cells: the toolkit's cold, second-process and warm times vs their loop.

    Toolkit: one :func:`simulate_gaussian` call per cell with ``reps = seeds``, MLE fits
    (Replace: ``lam=None``, ``method="exact"``; Accumulate: ``lam=1``, ``method="exact"``;
    Accumulate-Subsample: ``lam=1``, ``method="samples"``, subsample n). Peer:
    :func:`kazdan_run` per seed. Same statistic: the trace ratio at the last iteration.
    """
    w = resolve_workers(workers)
    cells = [tuple(c) for c in cells]
    args = dict(cells=cells, seeds=int(seeds), iterations=int(iterations), seed=_SEED)
    res = _contest([toolkit_cells], toolkit_cells, [kazdan_fit, kazdan_run, kazdan_cells], kazdan_cells, args, args,
                   workers=w, toolkit_repeats=toolkit_repeats, peer_repeats=peer_repeats, processes=processes)
    stat_note, zmax = _same_statistics(res["cold"]["out"]["stats"], res["peer"][0]["out"]["stats"])
    dims = sorted({c[1] for c in cells})
    ns = sorted({c[2] for c in cells})
    settings = list(dict.fromkeys(c[0] for c in cells))
    wl = (f"Collapse-or-Thrive Gaussian cells ({len(cells)}: d ∈ {dims}, n ∈ {ns}, {'/'.join(settings)}), "
          f"{seeds} seeds × {iterations} iterations")
    return _rows(wl, res, peer_scale_note="", workers=w,
                 stat_note=f"mean tr Σ̂/tr Σ₀ at iteration {iterations} per cell, {stat_note}; max |z| {zmax:.2f}",
                 toolkit_what="one simulate_gaussian call per cell (reps = seeds, estimator='mle'; Replace "
                              "lam=None method='exact', Accumulate lam=1 method='exact', Accumulate-Subsample "
                              "lam=1 method='samples' subsample n)",
                 peer_what="per seed RandomState(seed), multivariate_normal draws, np.mean/np.cov(bias=True) fits, "
                           "the three logged metrics per iteration (Kazdan et al.'s fit_gaussians loop without "
                           "wandb)")


def bench_rate_of_collapse(*, bernoulli=BERNOULLI, poisson=POISSON, zipf=ZIPF, peer_fraction=1.0, workers=None,
                           toolkit_repeats=3, peer_repeats=1, processes=1) -> list[dict]:
    """Suresh et al.'s notebook run (Bernoulli, Poisson, Zipf vocabulary): cold, second process, warm.

    Toolkit: :func:`simulate_multinomial` (Bernoulli as ``p=[p₀, 1 − p₀]`` with
    ``return_freq``; Zipf from the corpus counts) and :func:`simulate_poisson`, exact
    methods. Peer: :func:`suresh_run`; with ``peer_fraction < 1`` it runs that fraction of
    each part's trajectories and its seconds are scaled to the full count (the note says so).
    """
    w = resolve_workers(workers)
    t_args = dict(bernoulli=bernoulli, poisson=poisson, zipf=zipf, seed=_SEED)
    p_args = dict(t_args, fraction=float(peer_fraction))
    res = _contest([zipf_corpus, toolkit_rate], toolkit_rate,
                   [suresh_bernoulli, suresh_poisson, zipf_corpus, suresh_zipf, suresh_run], suresh_run, t_args,
                   p_args, workers=w, toolkit_repeats=toolkit_repeats, peer_repeats=peer_repeats,
                   processes=processes)
    peer_out = res["peer"][0]["out"]
    stat_note, zmax = _same_statistics(res["cold"]["out"]["stats"], peer_out["stats"],
                                       proportions=("bernoulli", "poisson"))
    what, tk = [], []
    if bernoulli is not None:
        p0, n, T, R = bernoulli
        what.append(f"Bernoulli p₀={p0:g} n={n} {T} gens × {R}")
        tk.append("simulate_multinomial(p=[p₀, 1−p₀], return_freq=True)")
    if poisson is not None:
        lam0, n, T, R = poisson
        what.append(f"Poisson λ₀={lam0:g} n={n} {T} gens × {R}")
        tk.append("simulate_poisson")
    if zipf is not None:
        m, n, T, R, ab = zipf
        what.append(f"Zipf m={m} n={n} {T} gens × {R} for (a, b) ∈ {{{', '.join(f'({a:g}, {b:g})' for a, b in ab)}}}")
        tk.append("simulate_multinomial(counts=corpus counts)")
    scale = peer_out.get("scale", {})
    scale_note = ""
    if any(s != 1 for s in scale.values()):
        scale_note = ("; the peer ran " + ", ".join(f"{k} 1/{s:.3g}" for k, s in scale.items() if s != 1)
                      + " of the trajectories, its seconds scaled up by the same factor (cost ∝ trajectories)")
    per_symbol = peer_out["stats"].get("zipf_per_symbol_s")
    peer_what = ("RandomState loops of the notebook: p ← mean(binomial(1, p, n)), λ ← mean(poisson(λ, n)), "
                 "Zipf corpus ← choice(np.unique(corpus), n, p = counts / n) in one call")
    if per_symbol is not None and zipf is not None:
        gens = zipf[2] * zipf[3] * len(zipf[4])
        peer_what += (f" (the notebook draws each symbol by its own choice call: {per_symbol:.2g} s per "
                      f"generation here, ≈ {per_symbol * gens:.3g} s for its Zipf run)")
    return _rows("Rate-of-collapse notebook run (" + "; ".join(what) + ")", res, peer_scale_note=scale_note,
                 workers=w, stat_note=f"final-generation statistics, P(P_T ≠ 0), P(Λ_T ≠ 0), surviving vocabulary "
                                      f"fraction: {stat_note}; max |z| {zmax:.2f}",
                 toolkit_what=", ".join(tk) + ", method='exact'", peer_what=peer_what)


_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")


def import_profile(module="selfconsume.simulators", top=8) -> list[dict]:
    """One diagnostic row: ``python -X importtime -c "import <module>"``, self time summed by top-level package.

    ``ours`` = the module's cumulative import time, ``reference`` = numpy's (imported within
    it), ``ratio = ours / reference``.
    """
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                         text=True, timeout=300, check=True, cwd=tempfile.gettempdir())
    by_pkg, cumulative, entries = {}, {}, []
    for line in out.stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if not m:
            continue
        self_us, cum_us, depth, name = int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2, m.group(4)
        root = name.split(".")[0]
        by_pkg[root] = by_pkg.get(root, 0) + self_us
        cumulative[name] = max(cumulative.get(name, 0), cum_us)
        entries.append((depth, name, cum_us))
    # the module's own imports (one level below it; importtime lists children before their parent)
    children, level = [], None
    for depth, name, cum_us in reversed(entries):
        if name == module:
            level = depth
        elif level is not None:
            if depth <= level:
                break
            if depth == level + 1:
                children.append((name, cum_us))
    children.sort(key=lambda kv: -kv[1])
    total = cumulative.get(module, sum(by_pkg.values())) / 1e6
    numpy_s = cumulative.get("numpy", 0) / 1e6
    ranked = sorted(by_pkg.items(), key=lambda kv: -kv[1])[:top]
    share = ", ".join(f"{k} {v / 1e6:.3f} s" for k, v in ranked)
    return [make_row(f"import {module} (python -X importtime)", "seconds, ratio = vs import numpy", total, numpy_s,
                     total / numpy_s if numpy_s > 0 else None,
                     notes=f"self time summed by top-level package, largest first: {share}; cumulative time of "
                           f"its largest own imports (the first to import a package pays for it): "
                           + ", ".join(f"{k} {v / 1e6:.3f} s" for k, v in children[:4])
                           + "; one fresh process, "
                           "bytecode cached (not counted in the cold rows, which time the import themselves)")]


def run(quick: bool = True, *, workers=None) -> list[dict]:
    """All rows: the import profile, the Collapse-or-Thrive cells, the rate-of-collapse run."""
    rows = import_profile()
    if quick:
        rows += bench_collapse_or_thrive(seeds=10, workers=workers, toolkit_repeats=3, peer_repeats=1)
        rows += bench_rate_of_collapse(peer_fraction=0.1, workers=workers, toolkit_repeats=3, peer_repeats=1)
    else:
        rows += bench_collapse_or_thrive(seeds=100, workers=workers, toolkit_repeats=5, peer_repeats=2, processes=2)
        rows += bench_rate_of_collapse(peer_fraction=1.0, workers=workers, toolkit_repeats=5, peer_repeats=2,
                                       processes=2)
    return rows


def suite(quick: bool = True):
    """``[(name, function, kwargs, estimated_seconds)]`` as :func:`._gaussian.suite`; ``workers`` added by the runner."""
    return [("peers_cold_warm", run, dict(quick=bool(quick)), 55.0 if quick else 240.0)]
