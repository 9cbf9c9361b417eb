"""The replicate-block runner: every block runs once, streams fixed by the seed, errors propagate."""

import threading

import numpy as np
import pytest

from selfconsume._parallel import replicate_blocks, run_blocks


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_block_runs_once_with_its_own_stream(workers):
    blocks = replicate_blocks(1000, 64)
    out = np.zeros(1000)
    seen = []
    lock = threading.Lock()

    def fn(b, g):
        out[b.start:b.stop] = g.random(b.stop - b.start)
        with lock:
            seen.append(b.index)

    run_blocks(fn, blocks, np.random.default_rng(7), workers=workers)
    assert sorted(seen) == list(range(len(blocks)))
    children = np.random.default_rng(7).spawn(len(blocks))
    expected = np.concatenate([c.random(b.stop - b.start) for b, c in zip(blocks, children)])
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_a_block_propagates_and_stops_new_blocks(workers):
    started = []

    def fn(b, g):
        started.append(b.index)
        if b.index == 2:
            raise RuntimeError("boom in block 2")

    with pytest.raises(RuntimeError, match="boom"):
        run_blocks(fn, replicate_blocks(64 * 200, 64), np.random.default_rng(0), workers=workers)
    assert len(started) < 200


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers"):
        run_blocks(lambda b, g: None, replicate_blocks(10), np.random.default_rng(0), workers=0)
