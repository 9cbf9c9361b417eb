"""Figures and rate summaries drawn from a sweep's table: a tiny gaussian and fixation sweep give
PNG, PDF (no Type 3 fonts) and caption files; the rate summary carries the theory and ratio
columns; the exact fixation time agrees with the simulator and its diffusion limit;
``selfconsume sweep`` draws the figures and writes rates.csv/rates.md unless --no-figures."""

import math
import re

import numpy as np
import pytest

from selfconsume.analysis import sweep
from selfconsume.theory import expected_fixation_time
from selfconsume.paper_figures.sweep_figures import (draw_sweep_figures, rate_summary,
                                                     rates_markdown)

GRID = {"n": [10, 20], "d": [1, 2], "workflow": ["replace", "accumulate", "accumulate-subsample"],
        "iterations": [10]}


@pytest.fixture(scope="module")
def gaussian_table():
    return sweep("gaussian", GRID, reps=20, rng=0, progress=False)


def _check_files(paths, slugs):
    assert sorted({p.name.split(".")[0] for p in paths}) == sorted(slugs)
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
        if p.suffix == ".pdf":
            pdf = p.read_bytes()
            assert pdf.startswith(b"%PDF")
            assert not re.search(rb"/Subtype\s*/Type3", pdf), f"{p.name} embeds Type 3 fonts"
        if p.suffix == ".md":
            text = p.read_text(encoding="utf-8")
            assert text.startswith(f"**Figure `{p.name.split('.')[0]}`.**") and "*Data:*" in text


def test_gaussian_sweep_figures_and_rates(gaussian_table, tmp_path):
    rates = rate_summary(gaussian_table, "gaussian")
    for col in ("theory_rate", "ratio", "ratio_ci_low", "ratio_ci_high", "consistent", "rate", "n", "d"):
        assert col in rates.columns
    assert set(rates["statistic"]) == {"tr_ratio", "det_ratio"}
    tr = rates[rates["statistic"] == "tr_ratio"]
    assert len(tr) == 4  # replace only, every (n, d)
    np.testing.assert_allclose(tr["theory_rate"], (tr["n"] - 1) / tr["n"])
    assert np.all(tr["ratio_ci_low"] <= tr["ratio"]) and np.all(tr["ratio"] <= tr["ratio_ci_high"])
    assert rates["consistent"].mean() >= 0.5
    md = rates_markdown(rates)
    assert md.count("\n| ") == len(rates) + 1 and "consistent with theory" in md
    paths = draw_sweep_figures(gaussian_table, {"cell": "gaussian", "source": "test", "reps": 20}, tmp_path,
                               rates=rates)
    _check_files(paths, ["sweep_gaussian_d1", "sweep_gaussian_d2", "sweep_rates"])
    assert "20 replicates per cell" in (tmp_path / "sweep_rates.caption.md").read_text(encoding="utf-8")


def test_fixation_figure_and_exact_time(tmp_path):
    df = sweep("fixation", {"categories": [2, 5], "n": [10, 30], "generations": [3000]}, reps=400, rng=3,
               progress=False)
    for (K, n), g in df.groupby(["categories", "n"]):
        t = g["fixation_time"].to_numpy(float)
        assert np.isfinite(t).all()
        assert abs(t.mean() - expected_fixation_time(K, n)) < 4 * t.std(ddof=1) / math.sqrt(t.size)
    assert expected_fixation_time(1, 10) == 0.0
    # the diffusion limit -2n K (1 - 1/K) ln(1 - 1/K), approached from below
    for K in (2, 10):
        lim = -2 * K * (1 - 1 / K) * math.log(1 - 1 / K)
        assert 0.99 * lim < expected_fixation_time(K, 500) / 500 < lim
    assert rate_summary(df, "fixation").empty
    _check_files(draw_sweep_figures(df, "fixation", tmp_path), ["sweep_fixation"])


def test_other_cells_draw_nothing(tmp_path):
    df = sweep("curation", {"K": [2], "generations": [2]}, reps=2, rng=0, progress=False)
    assert draw_sweep_figures(df, "curation", tmp_path) == []
    with pytest.raises(TypeError, match="config"):
        draw_sweep_figures(df, 3, tmp_path)


def test_cli_sweep_draws_figures_and_rates(tmp_path, capsys):
    from selfconsume.cli import main

    cfg = tmp_path / "tiny.toml"
    cfg.write_text('cell = "gaussian"\nreps = 10\nseed = 1\n[grid]\nn = [10, 20]\nworkflow = ["replace", '
                   '"accumulate"]\n[fixed]\niterations = 6\n')
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert "fitted rates consistent with theory" in text and (folder / "rates.csv").exists()
    header = (folder / "rates.csv").read_text().splitlines()[0].split(",")
    assert {"theory_rate", "ratio", "ratio_ci_low", "ratio_ci_high", "consistent"} <= set(header)
    assert (folder / "rates.md").exists()
    figs = sorted(p.name for p in (folder / "figures").iterdir())
    assert figs == sorted(f"{s}.{e}" for s in ("sweep_gaussian_d1", "sweep_rates")
                          for e in ("png", "pdf", "caption.md"))
    # --no-figures: rates only
    out2 = tmp_path / "out2"
    assert main(["sweep", str(cfg), "--out", str(out2), "--quiet", "--no-figures"]) == 0
    (folder2,) = [p for p in out2.iterdir() if p.is_dir()]
    assert (folder2 / "rates.csv").exists() and not (folder2 / "figures").exists()
