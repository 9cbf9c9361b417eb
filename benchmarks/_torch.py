"""Benchmarks of the torch adapter (benchmarks.md: "one retraining generation of the reference flow on
the ring: time and samples/s on CPU; on GPU when one is lent").

Workload: :class:`~selfconsume.simulators.torch.FlowLearner` (MLP 2 → 128 → 128 → 2, 32 Heun steps)
pretrained on 1000 ring points, then one generation of ``retrain``'s loop: draw n = 1000 samples,
fine-tune 100 Adam steps (batch 256) on them, draw the 1000 evaluation samples. Rows per device
present (CPU always; CUDA when torch sees one): seconds per generation, and sampling throughput
(samples/s of the ODE sampler at n = 10⁵). Rows are diagnostics (no reference implementation to
compare with); without torch the module returns one row saying it was skipped.
"""

from __future__ import annotations

import time

import numpy as np

from ._timing import make_row

__all__ = ["run", "bench_flow_generation"]


def bench_flow_generation(device, *, n=1000, steps=100, repeats=3, n_throughput=100_000):
    """Rows for one retraining generation of the reference flow on ``device``."""
    from selfconsume import theory as th
    from selfconsume.simulators import retrain
    from selfconsume.simulators.torch import FlowLearner, require_torch

    torch = require_torch()

    ring = th.ring_of_gaussians()
    real = ring.rvs(n, random_state=0)
    flow = FlowLearner(steps=steps, first_steps=1500, device=device).fit(real, random_state=0)
    retrain(flow, real, 1, n=n, reps=1, rng=0)  # warm-up (allocator, kernels)

    def sync():
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()

    times = []
    for r in range(repeats):
        sync()
        t0 = time.perf_counter()
        retrain(flow, real, 1, n=n, reps=1, rng=r, n_eval=n)
        sync()
        times.append(time.perf_counter() - t0)
    # retrain's generation 1 includes generation 0's fine-tune on the real data: half is one generation
    gen = float(np.median(times)) / 2
    sync()
    t0 = time.perf_counter()
    flow.sample(n_throughput, random_state=1)
    sync()
    thr = n_throughput / (time.perf_counter() - t0)
    threads = torch.get_num_threads()
    where = f"{device} ({torch.cuda.get_device_name(0)})" if torch.device(device).type == "cuda" else \
        f"{device}, {threads} torch threads"
    return [
        make_row(f"torch adapter: one generation of the reference flow on the ring (n={n}, {steps} Adam steps), "
                 f"{where}", "seconds per generation", gen, None, None,
                 notes=f"median of {repeats} runs of retrain(FlowLearner, ring, 1 generation) / 2 (generation 0 "
                       f"fine-tunes on the real data with the same cost); each generation: sample {n}, {steps} Adam "
                       f"steps of batch 256, sample {n} evaluation points; torch {torch.__version__}"),
        make_row(f"torch adapter: reference flow sampling throughput, {where}", "samples/s", thr, None, None,
                 notes=f"{n_throughput} samples, 32 Heun steps (64 evaluations of the 2-128-128-2 MLP)"),
    ]


def run(quick: bool = True) -> list[dict]:
    from selfconsume.simulators.torch import require_torch

    try:
        torch = require_torch()
    except ImportError as exc:
        return [make_row("torch adapter", "seconds", None, None, None,
                         notes=f"skipped: torch is not installed ({exc}); pip install 'selfconsume[torch]'")]
    rows = bench_flow_generation("cpu", repeats=3 if quick else 7)
    if torch.cuda.is_available():
        rows += bench_flow_generation("cuda", repeats=3 if quick else 7)
    else:
        rows.append(make_row("torch adapter on GPU", "seconds per generation", None, None, None,
                             notes="not measured: torch sees no CUDA device on this machine"))
    return rows
