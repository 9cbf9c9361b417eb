"""Verification power: the minimal detectable effect of each row, the theory functions each claim
checks, and the mutation self-test (a few fast mutants here; all of them by `selfconsume selftest`)."""

import math

import numpy as np
import pytest

from selfconsume import cli
from selfconsume import theory as th
from selfconsume.analysis import get_claim, list_claims
from selfconsume.analysis._coverage import claim_checks, public_theory_functions, theory_coverage, theory_dependencies
from selfconsume.analysis._registry import Comparison, finish, minimal_detectable_effect
from selfconsume.analysis._selftest import (MUTANTS, SOURCE_MUTANTS, _package_copy, get_mutant, plant,
                                            run_selftest, run_source_mutant)


def test_mde_of_a_statistical_row():
    # prediction 1.0, measured 1.0, SE 0.01, z = 5: a shift beyond 5·0.01 + 1.28·0.01 is caught w.p. ≥ 0.9
    (row,) = finish([Comparison("q", 1.0, 1.0, se=0.01)])
    assert row.mde == pytest.approx(0.05 + 1.2815515655446004 * 0.01, rel=1e-9)
    # one-sided: only the direction the relation tests
    assert minimal_detectable_effect(2.0, 1.0, 0.5, 1.5, ">=", None) == pytest.approx(0.0)  # already past the end
    assert minimal_detectable_effect(1.0, 1.0, 0.9, 1.1, "<=", None) == pytest.approx(0.1)
    assert math.isinf(minimal_detectable_effect(0.0, 1e-17, -1e-9, 1e-9, "==", None))  # no relative scale


def test_checks_read_from_the_source():
    assert {"alpha", "expected_sigma"} <= set(claim_checks(get_claim("gauss.alpha_law")))
    assert "bound_thm24" in claim_checks(get_claim("curation.thm24_kl_bound"))
    pub = public_theory_functions()
    assert "alpha" in pub and "GaussianMixture" not in pub  # functions, not result classes
    assert "rho_F_expr" in pub  # cached derivations count


def test_every_public_theory_function_is_checked():
    cov = theory_coverage(list_claims())
    unchecked = sorted(k for k, v in cov.items() if not v)
    assert unchecked == [], f"public theory functions no claim checks: {unchecked}"


def test_coverage_follows_the_theory_dependencies():
    # a twin lambdified from its derivation carries the derivation; a closed form typed by hand does not
    assert "expected_mean_var_expr" in theory_dependencies("expected_mean_var")
    assert "bound_accumulate_mean_err_expr" in theory_dependencies("bound_accumulate_mean_err")
    assert "accumulate_cov_limit_expr" not in theory_dependencies("accumulate_cov_limit")
    assert "thm23_gain_sequence" not in theory_dependencies("bound_thm23")  # only its docstring names it
    # the claims that reach a derivation only through its twin list it among their checks
    assert "expected_mean_var_expr" in claim_checks(get_claim("mixing.replace_moments"))


def test_the_mutant_list():
    names = [m.name for m in MUTANTS + SOURCE_MUTANTS]
    assert len(MUTANTS) >= 30 and len(SOURCE_MUTANTS) >= 5 and len(set(names)) == len(names)
    for m in MUTANTS + SOURCE_MUTANTS:
        for c in m.claims:
            get_claim(c)  # every claim named exists
    with pytest.raises(ValueError, match="mutant must be one of"):
        get_mutant("nope")


def test_every_source_mutant_edits_exactly_one_place(tmp_path):
    # a kernel edited since the list was written must not turn a mutant into a silent no-op
    root = _package_copy(str(tmp_path))
    for m in SOURCE_MUTANTS:
        src = (tmp_path / root / "selfconsume" / m.path).read_text(encoding="utf-8")
        assert src.count(m.old) == 1, m.name
        assert m.new != m.old


def test_a_kernel_source_mutant_is_caught_and_its_control_passes():
    # the child imports the edited copy (not the installed package): the control must pass there
    m = get_mutant("kernel_chisquare_df_n")
    control = run_source_mutant(None, m.claims)
    assert control["error"] is None and not control["caught"], control
    row = run_source_mutant(m)
    assert row["error"] is None and row["caught"], row


def test_plant_replaces_everywhere_and_restores():
    orig = th.bound_thm24
    with plant(get_mutant("thm24_bound_div_4")) as holders:
        assert holders >= 2 and th.bound_thm24 is not orig
        assert th.bound_thm24(4, 0.3) == pytest.approx(0.25 * orig(4, 0.3))
    assert th.bound_thm24 is orig


FAST = ["thm24_bound_div_4", "thm24_bound_t_plus_1", "kl_to_top_t_plus_1", "fixed_point_inf_shares_swapped",
        "tilt_beta_plus_1pct", "mixed_moments_floor_for_ceil", "alpha_plus_1pct", "prob_collapsed_t_minus_1"]


def test_fast_mutants_are_caught():
    df = run_selftest(FAST)
    assert df["caught"].all(), df.loc[~df["caught"], ["mutant", "claims"]].to_string()


def test_selftest_cli(tmp_path, capsys):
    assert cli.main(["selftest", "--list"]) == 0
    assert "alpha_plus_1pct" in capsys.readouterr().out
    rc = cli.main(["selftest", "--mutant", "kl_to_top_t_plus_1", "--quiet", "--out", str(tmp_path)])
    assert rc == 0 and "score: 1/1" in capsys.readouterr().out and (tmp_path / "selftest.csv").exists()
    assert cli.main(["selftest", "--mutant", "no_such_mutant", "--quiet", "--out", str(tmp_path)]) == 2
    assert "mutant must be one of" in capsys.readouterr().err


def test_verify_json_has_checks_and_mde(tmp_path):
    from selfconsume.analysis import verify

    rep = verify(["gauss.alpha_law"], out_dir=tmp_path)
    js = rep.to_json()["claims"][0]
    assert "alpha" in js["checks"] and all("mde" in r for r in js["rows"])
    assert np.isfinite([r["mde"] for r in js["rows"]]).all()
    assert "## Power and coverage" in (tmp_path / "verify.md").read_text()


def test_theory_dependencies_refuses_unknown_names():
    with pytest.raises(ValueError, match="name must be a public function"):
        theory_dependencies("nope")
