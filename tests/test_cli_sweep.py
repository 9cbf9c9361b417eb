"""`selfconsume sweep CONFIG [--resume] [--scheduler ADDRESS] [--out DIR]`."""

import pandas as pd
import pytest

from selfconsume.analysis._sweep import EXAMPLES, load_config, plan_sweep
from selfconsume.cli import main

pytest.importorskip("pyarrow")

TOML = """
cell = "gaussian"
reps = 2
seed = 3

[grid]
n = [10, 20]
workflow = ["replace", "accumulate"]

[fixed]
iterations = 3
"""


def test_sweep_writes_refuses_to_overwrite_and_resumes(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TOML)
    out = tmp_path / "sw"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "4 cells (4 computed now), 24 rows" in printed
    (folder,) = out.iterdir()
    table = pd.read_parquet(folder / "table.parquet")
    assert len(table) == 24 and set(table["iterations"]) == {3}
    with pytest.raises(SystemExit) as e:
        main(["sweep", str(cfg), "--out", str(out), "--quiet"])
    assert e.value.code == 2
    assert "--resume" in capsys.readouterr().err
    next(iter((folder / "cells").glob("*.parquet"))).unlink()
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet", "--resume"]) == 0
    assert "(1 computed now)" in capsys.readouterr().out
    pd.testing.assert_frame_equal(table, pd.read_parquet(folder / "table.parquet"))


@pytest.mark.parametrize("text, match", [
    ("cell = 'nope'\nreps = 2\n[grid]\nn = [10]\n", "cell must be"),
    ("cell = 'gaussian'\nreps = 0\n[grid]\nn = [10]\niterations = [2]\n", "reps"),
    ("cell = 'gaussian'\nreps = 2\n[grid]\nn = [10]\nsigma = [2]\n", "unknown parameter"),
    ("cell = 'gaussian'\nreps = 2\nsed = 1\n[grid]\nn = [10]\n", "unknown key"),
    ("cell = 'gaussian'\nreps = 2\n", "missing key 'grid'"),
    ("cell = 'gaussian'\nreps = 2\n[grid]\nn = [10]\n[fixed]\nn = 3\n", "both"),
    ("cell = = 2", "not valid TOML"),
])
def test_bad_configs_are_usage_errors(tmp_path, capsys, text, match):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(SystemExit) as e:
        main(["sweep", str(cfg), "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unknown_config_name_lists_the_examples(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "no_such_sweep"])
    assert "cot_gaussian" in capsys.readouterr().err


@pytest.mark.parametrize("name", EXAMPLES)
def test_shipped_examples_load_and_validate(name):
    cfg = load_config(name)
    plan = plan_sweep(cfg["cell"], cfg["grid"], reps=cfg["reps"], rng=cfg["rng"])
    assert len(plan.cells) == {"cot_gaussian": 75, "cot_fixation": 9, "curation_k_lambda": 15}[name]


def test_unreachable_scheduler_is_a_clear_cli_error(tmp_path, capsys):
    pytest.importorskip("distributed")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TOML)
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--quiet", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "could not connect" in capsys.readouterr().err
