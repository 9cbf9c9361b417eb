"""selfconsume.analysis.sweep: per-cell seeds, Parquet storage and resume, Dask, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from selfconsume.analysis import sweep
from selfconsume.simulators import simulate_curation, simulate_gaussian

pytest.importorskip("pyarrow")

GRID = {"n": [10, 20], "d": [1, 3], "workflow": ["replace", "accumulate-subsample"], "iterations": [3]}


def _cell(df, **params):
    mask = np.ones(len(df), dtype=bool)
    for k, v in params.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask].drop(columns=list(params)).reset_index(drop=True)


def test_gaussian_cell_is_simulate_gaussian_at_kazdans_index():
    from selfconsume.analysis._sweep import cell_seed

    df = sweep("gaussian", GRID, reps=3, rng=5, progress=False)
    assert len(df) == 8 * 3 * 3
    assert list(df.columns[:4]) == ["n", "d", "workflow", "iterations"]
    root = np.random.SeedSequence(5)
    # replace (lam=None): iteration k = generation k; d = 1 uses sigma²
    p = {"n": 10, "d": 1, "workflow": "replace", "iterations": 3}
    res = simulate_gaussian(10, 3, reps=3, estimator="mle", rng=np.random.default_rng(cell_seed(root, p)))
    got = _cell(df, **p)
    assert got["iteration"].tolist() == [1, 2, 3] * 3 and got["generation"].tolist() == [1, 2, 3] * 3
    np.testing.assert_array_equal(got["tr_ratio"], (res.sigma[:, 1:] ** 2).ravel())
    np.testing.assert_array_equal(got["mean_sq_error"], (res.mu[:, 1:] ** 2).ravel())
    # accumulate-subsample (lam=1, samples): iteration k = generation k − 1; d = 3 uses trace/d, exp(logdet)
    p = {"n": 20, "d": 3, "workflow": "accumulate-subsample", "iterations": 3}
    res = simulate_gaussian(20, 2, reps=3, dim=3, estimator="mle", lam=1.0, workflow="accumulate-subsample",
                            method="samples", rng=np.random.default_rng(cell_seed(root, p)))
    got = _cell(df, **p)
    assert got["iteration"].tolist() == [1, 2, 3] * 3 and got["generation"].tolist() == [0, 1, 2] * 3
    np.testing.assert_array_equal(got["tr_ratio"], (res.trace / 3).ravel())
    np.testing.assert_array_equal(got["det_ratio"], np.exp(res.logdet).ravel())
    np.testing.assert_array_equal(got["mean_sq_error"], (res.mu**2).sum(-1).ravel())


def test_det_ratio_is_zero_for_n_at_most_d():
    df = sweep("gaussian", {"n": [3], "d": [5], "workflow": ["replace", "accumulate"], "generations": [2]},
               reps=2, rng=0, progress=False)
    fitted = ~((df["workflow"] == "replace") & (df["generation"] == 0)).to_numpy()  # replace's gen 0: the truth
    assert (df.loc[fitted, "det_ratio"] == 0).all() and (df.loc[~fitted, "det_ratio"] == 1).all()
    assert (df["tr_ratio"] > 0).all()


def test_fixation_and_curation_cells():
    fx = sweep("fixation", {"categories": [10], "n": [20], "generations": [5000]}, reps=4, rng=1, progress=False)
    assert fx["fixed"].all() and (fx["support"] == 1).all() and (fx["fixation_time"] >= 1).all()
    cu = sweep("curation", [{"K": 4, "generations": 3}, {"K": 4, "generations": 3, "n": 50, "lam": 1.0}],
               reps=2, rng=1, progress=False)
    assert len(cu) == 2 * 2 * 4
    pop = simulate_curation(np.full(5, 0.2), np.arange(5) / 4, 4, 3)
    np.testing.assert_allclose(cu["mean_reward"].to_numpy()[:4], pop.mean_reward()[0])


def test_seeds_depend_on_the_cell_not_the_grid():
    small = sweep("gaussian", {"n": [10, 20], "iterations": [2]}, reps=2, rng=3, progress=False)
    grown = sweep("gaussian", [{"iterations": 2, "n": 30}, {"n": 20, "iterations": 2}, {"n": 10, "iterations": 2}],
                  reps=2, rng=3, progress=False)
    for n in (10, 20):
        pd.testing.assert_frame_equal(_cell(small, n=n), _cell(grown, n=n))
    other = sweep("gaussian", {"n": [10], "iterations": [2]}, reps=2, rng=4, progress=False)
    assert not np.array_equal(other["tr_ratio"], _cell(small, n=10)["tr_ratio"])


def test_fresh_root_is_recorded_and_reproduces():
    a = sweep("gaussian", {"n": [10], "iterations": [2]}, reps=2, progress=False)
    entropy = a.attrs["sweep"]["config"]["seed"]["entropy"]
    b = sweep("gaussian", {"n": [10], "iterations": [2]}, reps=2, rng=np.random.SeedSequence(entropy), progress=False)
    np.testing.assert_array_equal(a["tr_ratio"], b["tr_ratio"])


def test_parquet_layout_provenance_and_resume_after_deleting_cells(tmp_path):
    import pyarrow.parquet as pq

    ref = sweep("gaussian", GRID, reps=2, rng=0, out=tmp_path / "a", progress=False)
    (folder,) = (tmp_path / "a").iterdir()
    cells = sorted((folder / "cells").glob("*.parquet"))
    assert len(cells) == 8 and (folder / "table.parquet").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"]["seed"]["entropy"] == 0 and len(manifest["cells"]) == 8
    meta = json.loads(pq.read_schema(cells[0]).metadata[b"selfconsume.sweep"])
    assert {"config", "versions", "git_commit", "params", "key"} <= set(meta)
    assert meta["versions"]["selfconsume"] and meta["versions"]["numpy"]
    pd.testing.assert_frame_equal(ref, pd.read_parquet(folder / "table.parquet"))
    for c in cells[::3]:
        c.unlink()
    again = sweep("gaussian", GRID, reps=2, rng=0, out=tmp_path / "a", progress=False)
    assert again.attrs["sweep"]["computed"] == 3
    pd.testing.assert_frame_equal(ref, again)
    # nothing left to do: everything is read back
    assert sweep("gaussian", GRID, reps=2, rng=0, out=tmp_path / "a", progress=False).attrs["sweep"]["computed"] == 0
    # a grown grid in the same folder computes only the new cells
    grown = sweep("gaussian", dict(GRID, n=[10, 20, 40]), reps=2, rng=0, out=tmp_path / "a", progress=False)
    assert grown.attrs["sweep"]["computed"] == 4
    # another reps (or seed) is another configuration: a new folder
    sweep("gaussian", {"n": [10], "iterations": [2]}, reps=3, rng=0, out=tmp_path / "a", progress=False)
    assert len(list((tmp_path / "a").iterdir())) == 2


_CALLS = {"n": 0, "limit": None}


def flaky_cell(params, reps, rng):
    """A cell that raises KeyboardInterrupt (a Ctrl-C) after ``_CALLS['limit']`` cells."""
    if _CALLS["limit"] is not None and _CALLS["n"] >= _CALLS["limit"]:
        raise KeyboardInterrupt
    _CALLS["n"] += 1
    return pd.DataFrame({"rep": np.arange(reps), "x": rng.standard_normal(reps) + params["a"],
                         "tag": [f"a={params['a']}"] * reps})


def test_interrupt_keeps_finished_cells_and_resume_equals_uninterrupted(tmp_path):
    grid = {"a": [0.0, 1.0, 2.0, 3.0, 4.0]}
    _CALLS.update(n=0, limit=None)
    full = sweep(flaky_cell, grid, reps=4, rng=7, out=tmp_path / "full", progress=False)
    _CALLS.update(n=0, limit=2)
    with pytest.raises(KeyboardInterrupt):
        sweep(flaky_cell, grid, reps=4, rng=7, out=tmp_path / "cut", progress=False)
    (folder,) = (tmp_path / "cut").iterdir()
    assert len(list((folder / "cells").glob("*.parquet"))) == 2
    assert not list((folder / "cells").glob("*.tmp"))
    _CALLS.update(n=0, limit=None)
    resumed = sweep(flaky_cell, grid, reps=4, rng=7, out=tmp_path / "cut", progress=True)
    assert _CALLS["n"] == 3
    pd.testing.assert_frame_equal(full, resumed)


def test_a_corrupt_cell_file_is_recomputed_with_a_warning(tmp_path):
    from selfconsume.analysis._cache import CacheWarning

    ref = sweep("gaussian", {"n": [10, 20], "iterations": [2]}, reps=2, rng=0, out=tmp_path, progress=False)
    (folder,) = tmp_path.iterdir()
    victim = sorted((folder / "cells").glob("*.parquet"))[0]
    victim.write_bytes(b"not parquet")
    with pytest.warns(CacheWarning, match="unusable"):
        again = sweep("gaussian", {"n": [10, 20], "iterations": [2]}, reps=2, rng=0, out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(ref, again)


def test_a_foreign_cell_file_is_an_error_naming_it(tmp_path):
    sweep("gaussian", {"n": [10, 20], "iterations": [2]}, reps=2, rng=0, out=tmp_path, progress=False)
    (folder,) = tmp_path.iterdir()
    a, b = sorted((folder / "cells").glob("*.parquet"))
    a.write_bytes(b.read_bytes())
    with pytest.raises(ValueError, match="another configuration or cell"):
        sweep("gaussian", {"n": [10, 20], "iterations": [2]}, reps=2, rng=0, out=tmp_path, progress=False)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(cell="nope", grid={"n": [10]}), ValueError, "cell must be"),
    (dict(cell=3, grid={"n": [10]}), TypeError, "cell must be"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2], "sigma": [1.0]}), ValueError, "unknown parameter.*sigma"),
    (dict(cell="gaussian", grid={}), ValueError, "grid is empty"),
    (dict(cell="gaussian", grid=[]), ValueError, "grid is empty"),
    (dict(cell="gaussian", grid={"n": [], "iterations": [2]}), ValueError, "grid is empty.*'n'"),
    (dict(cell="gaussian", grid={"n": [10, 1], "iterations": [2]}), ValueError, r"grid cell 1 .*n must be"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2], "workflow": ["bogus"]}), ValueError, "workflow"),
    (dict(cell="gaussian", grid={"n": [10]}), ValueError, "exactly one of iterations"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2], "d": [1.5]}), ValueError, "d must be"),
    (dict(cell="fixation", grid={"categories": [0], "n": [10], "generations": [5]}), ValueError, "categories"),
    (dict(cell="curation", grid={"K": [0], "generations": [5]}), ValueError, "grid cell 0.*K"),
    (dict(cell="curation", grid={"K": [2], "generations": [5], "lam": [-1.0]}), ValueError, "lam"),
    (dict(cell="gaussian", grid=[{"n": 10, "iterations": 2}, {"iterations": 2, "n": 10}]), ValueError, "same cell"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2]}, reps=0), ValueError, "reps"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2]}, rng=-1), ValueError, "rng"),
    (dict(cell="gaussian", grid={"n": [10], "iterations": [2]}, scheduler=3), TypeError, "scheduler"),
    (dict(cell="gaussian", grid={"n": [[1, 2]], "iterations": [2]}), TypeError, "'n'"),
])
def test_bad_input_is_refused_before_anything_runs(tmp_path, kwargs, exc, match):
    kwargs = dict({"reps": 2, "rng": 0, "progress": False, "out": tmp_path / "o"}, **kwargs)
    cell, grid = kwargs.pop("cell"), kwargs.pop("grid")
    with pytest.raises(exc, match=match):
        sweep(cell, grid, **kwargs)
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="scheduler: could not connect.*tcp://127.0.0.1:1"):
        sweep("gaussian", {"n": [10], "iterations": [2]}, reps=2, rng=0, out=tmp_path / "o",
              scheduler="tcp://127.0.0.1:1", progress=False)
    assert not (tmp_path / "o").exists()


def test_dask_local_cluster_is_bit_identical(tmp_path):
    pytest.importorskip("distributed")
    grid = {"n": [10, 20], "workflow": ["replace", "accumulate"], "iterations": [3]}
    ref = sweep("gaussian", grid, reps=3, rng=11, out=tmp_path / "local", progress=False)
    got = sweep("gaussian", grid, reps=3, rng=11, out=tmp_path / "dask", scheduler="local", progress=True)
    pd.testing.assert_frame_equal(ref, got)
