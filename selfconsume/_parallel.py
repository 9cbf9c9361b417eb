"""Thread-count-invariant parallel replicates.

Replicates are cut into fixed-size blocks; block ``b`` always gets the ``b``-th child of
one ``SeedSequence`` (spawned through the caller's Generator), and each block is run by a
``nogil`` Numba kernel from a thread pool. Which thread runs a block never changes what the
block draws, so the same seed gives bit-identical arrays on 1 or 64 threads.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from selfconsume._validation import check_int

__all__ = ["BLOCK_REPS", "block_reps", "as_generator", "seed_info", "replicate_blocks", "run_blocks",
           "default_workers", "resolve_workers"]

#: Replicates per block. A constant (never derived from the thread count), so the random
#: streams, and therefore the results, do not depend on how many threads run.
BLOCK_REPS = 64


def block_reps(work_per_rep: float, *, target: float = 2.0**16, lo: int = 8, hi: int = 4096) -> int:
    """Replicates per block for a workload: the power of two nearest ``target / work_per_rep``,
    clipped to [lo, hi].

    Blocks of about ``target`` units of work amortise the per-block Python overhead (calls
    made under the GIL) without starving threads. The size depends only on the call's own
    arguments (never on the thread count), so results stay thread-count invariant; and it
    does not depend on ``reps``, so the first replicates of a run do not change when more
    are asked for.
    """
    k = round(math.log2(max(target / max(work_per_rep, 1.0), 1.0)))
    return int(min(max(2**k, lo), hi))


_RNG_KINDS = "None, an int seed >= 0, a numpy SeedSequence, BitGenerator, Generator or RandomState"


def as_generator(rng) -> np.random.Generator:
    """Normalise ``rng`` (None, int seed ≥ 0, SeedSequence, BitGenerator, Generator or legacy
    RandomState) once (SPEC 7).

    Replicate blocks spawn child streams, which needs a ``SeedSequence`` behind the generator:
    a legacy ``RandomState`` (or a Generator built on a bit generator without one) is turned into
    a fresh Generator seeded by 128 bits drawn from it — deterministic given its state, and it
    advances that state, as drawing from it would.
    """
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"rng must be {_RNG_KINDS}; got {rng!r}")
    if isinstance(rng, numbers.Integral) and rng < 0:
        raise ValueError(f"rng must be {_RNG_KINDS}; a seed must be >= 0, got {rng!r}")
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(np.random.SeedSequence(rng.randint(0, 2**32, size=4, dtype=np.uint64)))
    try:
        gen = np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rng must be {_RNG_KINDS}; got {rng!r}") from exc
    if not isinstance(getattr(gen.bit_generator, "seed_seq", None), np.random.SeedSequence):
        gen = np.random.default_rng(np.random.SeedSequence(gen.integers(0, 2**32, size=4, dtype=np.uint64)))
    return gen


def seed_info(gen: np.random.Generator) -> dict:
    """The seed state that identifies a run (entropy and spawn key of the SeedSequence)."""
    ss = getattr(gen.bit_generator, "seed_seq", None)
    if ss is None or not hasattr(ss, "entropy"):
        return {"entropy": None, "spawn_key": ()}
    return {"entropy": ss.entropy, "spawn_key": tuple(ss.spawn_key), "n_children_spawned": ss.n_children_spawned}


def default_workers() -> int:
    """Threads used when ``workers=None``: ``SELFCONSUME_WORKERS`` or the CPU count."""
    env = os.environ.get("SELFCONSUME_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, os.cpu_count() or 1)


def resolve_workers(workers) -> int:
    """``workers`` as an int >= 1, or :func:`default_workers` when it is None."""
    return default_workers() if workers is None else check_int("workers", workers, min_value=1)


@dataclass(frozen=True)
class Block:
    index: int
    start: int
    stop: int


def replicate_blocks(reps: int, block: int = BLOCK_REPS) -> list[Block]:
    """Split ``reps`` replicates into consecutive blocks of ``block`` (the last may be short)."""
    return [Block(i, s, min(s + block, reps)) for i, s in enumerate(range(0, reps, block))]


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One long-lived pool per thread count: starting threads costs ~1 ms a call."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="selfconsume")
        return pool


def single_threaded_blas():
    """Context manager: BLAS (every loaded OpenBLAS/MKL) on one thread while it is open.

    Kernels that call BLAS from pool threads would otherwise run ``workers × BLAS threads``
    on the cores (measured 1.8× slower on 2 cores), and a multi-threaded product may split its
    work differently with the thread count. The libraries are listed afresh at each call
    (~3 ms): Numba loads SciPy's BLAS only when a kernel that uses it is first compiled or loaded."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().limit(limits=1, user_api="blas")


def run_blocks(fn, blocks, gen: np.random.Generator, *, workers=None, progress=False, desc=None, blas=False):
    """Run ``fn(block, child_generator)`` for every block, in parallel.

    ``fn`` writes its results into preallocated arrays (disjoint slices per block) and
    should release the GIL (a ``nogil`` kernel). Children generators are spawned in block
    order from ``gen`` before any work starts, so the streams are fixed by the seed alone,
    whichever thread runs which block. ``workers − 1`` pool threads and the calling thread
    pull blocks from a shared counter (one task per thread, not one per block: cheaper to
    schedule). ``progress`` shows a tqdm bar with an ETA. On ``KeyboardInterrupt`` (or an
    error in a block) no new block starts, running blocks finish, and the exception
    propagates.

    ``blas=True`` (kernels that call BLAS): BLAS runs single-threaded meanwhile
    (:func:`single_threaded_blas`); the replicate blocks are the parallelism.
    """
    if blas:
        with single_threaded_blas():
            return _run_blocks(fn, blocks, gen, workers=workers, progress=progress, desc=desc)
    return _run_blocks(fn, blocks, gen, workers=workers, progress=progress, desc=desc)


def _run_blocks(fn, blocks, gen: np.random.Generator, *, workers=None, progress=False, desc=None):
    """The body of :func:`run_blocks`."""
    blocks = list(blocks)
    children = gen.spawn(len(blocks))
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers}")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(blocks), desc=desc, unit="block", leave=False)
    try:
        if workers == 1 or len(blocks) == 1:
            for b, child in zip(blocks, children):
                fn(b, child)
                if bar is not None:
                    bar.update(1)
            return
        counter = itertools.count()  # next() on it is atomic under the GIL
        stop = threading.Event()
        errors: list[BaseException] = []

        def drain():
            while not stop.is_set():
                i = next(counter)
                if i >= len(blocks):
                    return
                try:
                    fn(blocks[i], children[i])
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller below
                    errors.append(exc)
                    stop.set()
                    return
                if bar is not None:
                    bar.update(1)

        helpers = [_pool(workers - 1).submit(drain) for _ in range(min(workers, len(blocks)) - 1)]
        try:
            drain()
        finally:
            stop.set()  # every block is claimed by now, or we are unwinding: start no more
            while True:
                try:
                    wait(helpers)  # blocks still running finish writing before the arrays go away
                    break
                except KeyboardInterrupt as exc:
                    stop.set()
                    errors.append(exc)
        if errors:
            raise errors[0]
    finally:
        if bar is not None:
            bar.close()
