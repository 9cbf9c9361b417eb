"""The claim harness itself: verdict logic, Bonferroni, reports, CLI — checks that can fail do fail."""

import json

import pytest

from selfconsume.analysis import (
    Comparison,
    list_claims,
    run_claim,
    verify,
    z_bonferroni,
)
from selfconsume.analysis._registry import finish
from selfconsume.cli import main


def test_z_bonferroni():
    assert z_bonferroni(1) == pytest.approx(5.0, abs=1e-9)
    assert 5.0 < z_bonferroni(10) < z_bonferroni(100) < 7.0


def test_finish_verdicts():
    rows = finish([
        Comparison("in", 1.0, 1.1, se=0.05),       # |d| = 2 SE < z
        Comparison("out", 1.0, 2.0, se=0.05),      # 20 SE
        Comparison("tol ok", 3.0, 3.0 + 1e-12, tol=1e-10),
        Comparison("tol bad", 3.0, 3.0 + 1e-8, tol=1e-10),
        Comparison("lower bound ok", 0.5, 0.7, tol=0.0, relation=">="),
        Comparison("lower bound bad", 0.9, 0.7, tol=0.0, relation=">="),
        Comparison("upper bound ok", 0.9, 0.7, tol=0.0, relation="<="),
        Comparison("upper bound bad", 0.5, 0.7, tol=0.0, relation="<="),
        Comparison("interval", 0.0, 0.01, ci=(-0.02, 0.04)),
    ])
    got = {r.quantity: r.passed for r in rows}
    assert got == {"in": True, "out": False, "tol ok": True, "tol bad": False, "lower bound ok": True,
                   "lower bound bad": False, "upper bound ok": True, "upper bound bad": False,
                   "interval": True}
    # a NaN is refused where it is made, naming the field (the claim then reports an ERROR)
    for field in ("predicted", "measured"):
        args = {"predicted": 0.0, "measured": 0.0, field: float("nan")}
        with pytest.raises(ValueError, match=f"{field} must not be NaN"):
            Comparison("nan", args["predicted"], args["measured"], tol=1.0)
    with pytest.raises(ValueError, match="se must not be NaN"):
        Comparison("nan", 0.0, 0.0, se=float("nan"))
    z = z_bonferroni(2)
    assert rows[0].ci_high == pytest.approx(1.1 + z * 0.05)


def test_comparison_requires_exactly_one_uncertainty():
    with pytest.raises(ValueError):
        Comparison("x", 0.0, 0.0)
    with pytest.raises(ValueError):
        Comparison("x", 0.0, 0.0, se=1.0, tol=1.0)
    with pytest.raises(ValueError, match="relation"):
        Comparison("x", 0.0, 0.0, tol=1.0, relation="!=")




def test_failing_and_erroring_claims_are_reported(temp_claims, tmp_path):
    temp_claims("zz_test.fails", lambda ctx: [Comparison("wrong", 0.0, 1.0, se=0.01)])
    temp_claims("zz_test.errors", lambda ctx: 1 / 0)
    temp_claims("zz_test.passes", lambda ctx: [Comparison("right", ctx.rng.normal() * 0 + 1.0, 1.0, tol=0)])
    assert run_claim("zz_test.fails").verdict == "FAIL"
    r = run_claim("zz_test.errors")
    assert r.verdict == "ERROR" and "ZeroDivisionError" in r.error
    assert run_claim("zz_test.passes").verdict == "PASS"
    rep = verify(["zz_test.fails", "zz_test.passes"], out_dir=tmp_path)
    assert not rep.passed
    data = json.loads((tmp_path / "verify.json").read_text())
    assert [c["verdict"] for c in data["claims"]] == ["FAIL", "PASS"]
    assert "zz_test.fails" in (tmp_path / "verify.md").read_text()
    assert main(["verify", "--claim", "zz_test.fails", "--out", str(tmp_path), "--quiet"]) == 1
    assert main(["verify", "--claim", "zz_test.passes", "--out", str(tmp_path), "--quiet"]) == 0


def test_interrupt_keeps_finished_claims(temp_claims, tmp_path):
    def boom(ctx):
        raise KeyboardInterrupt

    temp_claims("zz_test.a_ok", lambda ctx: [Comparison("x", 1.0, 1.0, tol=0)])
    temp_claims("zz_test.b_interrupt", boom)
    rep = verify(["zz_test.a_ok", "zz_test.b_interrupt"], out_dir=tmp_path)
    assert rep.interrupted and not rep.passed and len(rep.results) == 1
    assert json.loads((tmp_path / "verify.json").read_text())["interrupted"] is True


def test_claim_streams_are_reproducible_and_distinct(temp_claims):
    seen = {}

    def draw(ctx):
        seen.setdefault(ctx.budget, []).append(ctx.rng.random())
        return [Comparison("x", 0.0, 0.0, tol=0)]

    temp_claims("zz_test.rng", draw)
    run_claim("zz_test.rng", seed=1)
    run_claim("zz_test.rng", seed=1)
    run_claim("zz_test.rng", seed=2)
    a, b, c = seen["quick"]
    assert a == b and a != c


def test_bad_budget_and_unknown_claim():
    with pytest.raises(ValueError, match="budget"):
        run_claim(list_claims()[0], budget="huge")
    with pytest.raises(ValueError, match="claim"):
        run_claim("no.such.claim")


def test_registry_metadata_is_complete():
    claims = list_claims()
    assert len(claims) >= 9
    for c in claims:
        assert c.id and c.title and c.source and c.statement
        assert "." in c.id


def test_readme_claims_table_is_current():
    """The README's table is the registry's (refresh: python -m selfconsume.analysis._verify)."""
    from pathlib import Path

    from selfconsume.analysis._verify import claims_table_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [c.id for c in list_claims() if f"`{c.id}`" not in readme]
    assert not missing, f"README claims table lacks {missing}"
    assert claims_table_markdown() in readme


def test_markdown_report_escapes_pipes(temp_claims, tmp_path):
    temp_claims("zz_test.pipes", lambda ctx: [Comparison("model a | truth b", 1.0, 1.0, tol=0, note="x | y")])
    verify(["zz_test.pipes"], out_dir=tmp_path)
    rows = [ln for ln in (tmp_path / "verify.md").read_text().splitlines() if ln.startswith("| model a")]
    assert len(rows) == 1 and rows[0].replace("\\|", "").count("|") == 11  # 10 cells (with mde)


def _catalogue_ids_in_source_order():
    """Claim ids as written in each area module, areas in AREAS order (read from the files)."""
    import re
    from pathlib import Path

    from selfconsume.analysis import claims

    here = Path(claims.__file__).parent

    def ids_in(name):
        # an area module may register its claims through private modules it imports, in import order
        text = (here / f"{name}.py").read_text()
        out = []
        for sub in re.findall(r"^from \. import ([^\n#]+)", text, re.M):
            for mod in (x.strip() for x in sub.split(",")):
                out += ids_in(mod)
        return out + re.findall(r'register_claim\(\s*id="([^"]+)"', text)

    return [i for area in claims.AREAS for i in ids_in(area)]


def test_registration_order_is_source_order_and_report_order(monkeypatch):
    import selfconsume.analysis._verify as verify_module
    from selfconsume.analysis import claims
    from selfconsume.analysis._registry import ClaimResult

    ids = [c.id for c in list_claims() if not c.id.startswith("zz_test.")]
    assert ids == _catalogue_ids_in_source_order() and len(ids) == len(set(ids)) >= 30
    areas = [c.check.__module__.rsplit(".", 1)[-1] for c in list_claims()]
    areas = [a.split("_")[1] if a.startswith("_") else a for a in areas]  # _peers_counts → peers
    assert areas == sorted(areas, key=claims.AREAS.index)  # grouped, in AREAS order

    ran = []

    def fake_run(c, **kw):
        ran.append(c.id)
        return ClaimResult(c, "quick", 0, (), 0.0)

    monkeypatch.setattr(verify_module, "run_claim", fake_run)
    rep = verify()
    assert ran == ids and [r.claim.id for r in rep.results] == ids


def test_registration_order_does_not_depend_on_what_is_imported_first():
    import subprocess
    import sys

    code = ("import selfconsume.analysis.claims.{first} as _; from selfconsume.analysis import list_claims; "
            "print(' '.join(c.id for c in list_claims()))")
    outs = {subprocess.run([sys.executable, "-c", code.format(first=f)], capture_output=True, text=True,
                           check=True).stdout for f in ("curation", "stability")}
    assert outs == {" ".join(_catalogue_ids_in_source_order()) + "\n"}


def test_verify_on_processes_gives_the_serial_numbers(tmp_path):
    # two areas on two spawned processes: same rows, same order, as one process (each claim has its own stream)
    ids = ["mixing.accumulate_pi2_6", "curation.thm24_kl_bound", "curation.thm23_reward_with_real"]
    serial = verify(ids, seed=3)
    lines = []
    par = verify(ids, seed=3, jobs=2, echo=lines.append)
    assert [r.claim.id for r in par.results] == ids and len(lines) == 3
    for a, b in zip(serial.results, par.results):
        assert a.claim is b.claim and a.error is None and b.error is None
        assert [(x.quantity, x.predicted, x.measured, x.passed) for x in a.rows] == \
               [(x.quantity, x.predicted, x.measured, x.passed) for x in b.rows]
    with pytest.raises(ValueError, match="jobs"):
        verify(ids, jobs=0)


def test_verify_cli_refuses_bad_jobs(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--jobs", "0"])
    assert exc.value.code == 2 and "--jobs" in capsys.readouterr().err
