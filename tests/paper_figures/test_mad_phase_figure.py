"""The MAD phase figure's table (analysis/tables/mad.py) at a reduced size: its panels and columns, the
exact columns equal to the theory functions, cells whose verdict is certain, thresholds from the grid;
and the figure drawn once from it (PNG, PDF without Type 3 fonts, caption naming its claims)."""

import math
import re

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.analysis.tables import mad_phase_table
from selfconsume.analysis.tables.mad import COLUMNS

SMALL = dict(biases_collapse=(1.0, 0.7), collapse_n=20, collapse_generations=6, n_r_values=(20, 100),
             biases=(0.7, 1.0), n_r_fixed=(100,), bias_grid=(0.7, 1.0), ns_ratios=(0.1, 1.0, 20.0), reps=64,
             collapse_reps=4000, seed=7)


@pytest.fixture(scope="module")
def table():
    return mad_phase_table(**SMALL)


def test_panels_and_columns(table):
    assert tuple(table.columns) == COLUMNS
    assert set(table["panel"]) == {"collapse", "phase_nr", "phase_bias", "threshold"}
    col = table[table["panel"] == "collapse"]
    assert set(col["metric"]) == {"var", "mean_drift"} and len(col) == 2 * 2 * 7
    assert len(table[table["panel"] == "phase_nr"]) == 2 * 2 * 3
    assert len(table[table["panel"] == "phase_bias"]) == 2 * 3
    thr = table[table["panel"] == "threshold"]
    assert set(zip(thr["source"], thr["n_r"], thr["bias"])) == {("phase_nr", 20, 0.7), ("phase_nr", 100, 0.7),
                                                                ("phase_bias", 100, 0.7)}
    assert not table.isna().all().any()


def test_exact_columns_are_the_theory(table):
    col = table[table["panel"] == "collapse"]
    for metric, fn in (("var", th.biased_cov_factor), ("mean_drift", th.biased_mean_cov_factor)):
        g = col[col["metric"] == metric]
        np.testing.assert_allclose(g["exact"], fn(20, g["generation"].to_numpy(), g["bias"].to_numpy()), rtol=1e-12)
        z = (g["sim"] - g["exact"]) / g["sim_se"].where(g["sim_se"] > 0)
        assert (z.abs().fillna(0) < 5).all()
    ph = table[table["panel"].isin(["phase_nr", "phase_bias"])]
    np.testing.assert_allclose(ph["real_distance"], th.real_fit_w2(ph["n_r"].to_numpy(float)), rtol=1e-12)
    np.testing.assert_allclose(th.real_fit_w2(ph["n_e"].to_numpy(float)), ph["distance"], rtol=1e-9)
    np.testing.assert_allclose(ph["log2_ne_nr"], np.log2(ph["n_e"] / ph["n_r"]))
    assert (ph["n_s"] == np.maximum(1, np.round(ph["ratio"] * ph["n_r"]))).all()
    assert ((ph["n_e_lo"] <= ph["n_e"]) & (ph["n_e"] <= ph["n_e_hi"])).all()


def test_certain_verdicts_and_thresholds(table):
    ph = table[table["panel"].isin(["phase_nr", "phase_bias"])]
    assert (ph.loc[ph["bias"] == 1.0, "admissible"] == 1.0).all()  # unbiased synthetic data never hurt here
    heavy = ph[(ph["bias"] == 0.7) & (ph["ratio"] == 20.0)]
    assert len(heavy) and (heavy["admissible"] == 0.0).all() and (heavy["n_e"] < 0.5 * heavy["n_r"]).all()
    # the same cell in both diagrams: the same numbers (one seed per cell)
    a = ph[(ph["panel"] == "phase_nr") & (ph["n_r"] == 100) & (ph["bias"] == 0.7)].sort_values("n_s")
    b = ph[(ph["panel"] == "phase_bias") & (ph["bias"] == 0.7)].sort_values("n_s")
    np.testing.assert_array_equal(a["distance"].to_numpy(), b["distance"].to_numpy())
    thr = table[table["panel"] == "threshold"]
    assert ((thr["threshold_lo"] <= thr["threshold"]) & (thr["threshold"] <= thr["threshold_hi"])).all()
    assert (thr["threshold"] > 0.1 * thr["n_r"]).all() and (thr["threshold"] < 20 * thr["n_r"]).all()


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="ns_ratios"):
        mad_phase_table(ns_ratios=(1.0,))
    with pytest.raises(ValueError, match="biases"):
        mad_phase_table(biases=(1.5,))


def test_figure_renders(table, tmp_path):
    import matplotlib.text

    from selfconsume.paper_figures import PAGE_WIDTH, get_figure, save_figure, set_style

    spec = get_figure("mad_phase")
    assert spec.table is mad_phase_table and "n_e" in spec.caption
    set_style()
    fig = spec.plot(table)
    assert float(fig.get_size_inches()[0]) == pytest.approx(PAGE_WIDTH)
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    assert min(sizes) >= 7.0
    png, pdf, cap = save_figure(spec, fig, tmp_path, table, verify={})
    assert png.stat().st_size > 0 and not re.search(rb"/Subtype\s*/Type3", pdf.read_bytes())
    text = cap.read_text(encoding="utf-8")
    for cid in spec.claims:
        assert f"`{cid}`" in text
    assert math.isfinite(table["distance"].max())
