"""Bad input to the statistics helpers, the claim registry, ``verify`` and the command line.

Each is refused up front with a ``ValueError``/``TypeError`` (or, on the command line, a usage
error: exit status 2, one line on stderr) that names the parameter and its valid range — never
a silent NaN, a traceback after a long run, or a report lost to a second Ctrl-C.
"""

import json
import math
import os
import signal

import numpy as np
import pytest

from selfconsume.analysis import (
    Comparison,
    ks_critical,
    mean_se,
    proportion_se,
    register_claim,
    variance_se,
    verify,
    z_bonferroni,
)
from selfconsume.analysis import _verify as verify_module
from selfconsume.analysis._registry import _REGISTRY, Claim
from selfconsume.analysis._verify import VerifyReport
from selfconsume.cli import main




def _ok(ctx):
    return [Comparison("x", 1.0, 1.0, tol=0)]


# ---------------------------------------------------------------------------------------------
# statistics helpers

@pytest.mark.parametrize("call, name", [
    (lambda: ks_critical(0, 10, 0.05), "n1"),
    (lambda: ks_critical(10, -3, 0.05), "n2"),
    (lambda: ks_critical(10.5, 10, 0.05), "n1"),
    (lambda: ks_critical(10, 10, 0.0), "level"),
    (lambda: ks_critical(10, 10, 1.5), "level"),
    (lambda: ks_critical(10, 10, float("nan")), "level"),
    (lambda: z_bonferroni(0), "m"),
    (lambda: z_bonferroni(-4), "m"),
    (lambda: z_bonferroni(2.5), "m"),
    (lambda: z_bonferroni(10, level=100.0), "level"),
    (lambda: z_bonferroni(10, level=0.0), "level"),
    (lambda: z_bonferroni(10, level="0.05"), "level"),
    (lambda: proportion_se(20, 10), "k"),
    (lambda: proportion_se([1, 20], 10), "k"),
    (lambda: proportion_se(-1, 10), "k"),
    (lambda: proportion_se(1.5, 10), "k"),
    (lambda: proportion_se(1, 0), "r"),
    (lambda: proportion_se(3, 10, p=1.5), "p"),
    (lambda: proportion_se(3, 10, p=float("nan")), "p"),
    (lambda: mean_se([]), "x"),
    (lambda: mean_se([1.0]), "x"),
    (lambda: mean_se(3.0), "x"),
    (lambda: mean_se([1.0, float("nan"), 2.0]), "x"),
    (lambda: mean_se([1.0, float("inf"), 2.0]), "x"),
    (lambda: mean_se(["a", "b"]), "x"),
    (lambda: mean_se(np.ones((3, 4)), axis=2), "axis"),
    (lambda: variance_se([2.0]), "x"),
    (lambda: variance_se(np.ones((1, 4))), "x"),
    (lambda: variance_se([1.0, float("nan")]), "x"),
])
def test_stats_helpers_refuse_bad_input(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} must"):
        call()


def test_stats_helpers_still_compute():
    assert z_bonferroni(1) == pytest.approx(5.0, abs=1e-9)
    assert z_bonferroni(np.int64(3), level=np.float64(1e-3)) > 3.0
    assert ks_critical(np.int64(100), 50, 0.05) == pytest.approx(1.358 * math.sqrt(150 / 5000), rel=1e-3)
    m, se = mean_se([1.0, 2.0, 3.0])
    assert m == 2.0 and se == pytest.approx(1 / math.sqrt(3))
    v, vse = variance_se(np.ones((5, 3)), axis=-1)
    assert v.shape == (5,) and np.all(vse == 0)
    phat, se = proportion_se(np.array([0, 5, 10]), 10, p=np.array([0.0, 0.5, 1.0]))
    assert np.allclose(phat, [0, 0.5, 1]) and np.allclose(se, [0, math.sqrt(0.025), 0])


# ---------------------------------------------------------------------------------------------
# registry and report

@pytest.mark.parametrize("kw, name, exc", [
    (dict(id=None), "id", TypeError),
    (dict(id=""), "id", ValueError),
    (dict(id="nodot"), "id", ValueError),
    (dict(id="a.b.c"), "id", ValueError),
    (dict(id="zz_test.ok", title=""), "title", ValueError),
    (dict(id="zz_test.ok", source=None), "source", TypeError),
    (dict(id="zz_test.ok", statement="  "), "statement", ValueError),
    (dict(id="zz_test.ok", assumptions="one string"), "assumptions", TypeError),
    (dict(id="zz_test.ok", tags=(1,)), "tags", TypeError),
    (dict(id="gauss.alpha_law"), "already registered", ValueError),
])
def test_register_claim_refuses_bad_metadata(kw, name, exc):
    full = dict(id="zz_test.ok", title="t", source="s", statement="x")
    full.update(kw)
    n = len(_REGISTRY)
    with pytest.raises(exc, match=name):
        register_claim(**full)
    assert len(_REGISTRY) == n


def test_register_claim_refuses_a_check_that_is_not_callable():
    with pytest.raises(TypeError, match="check must be callable"):
        register_claim(id="zz_test.not_callable", title="t", source="s", statement="x")(42)
    assert "zz_test.not_callable" not in _REGISTRY
    with pytest.raises(TypeError, match="id"):
        Claim(id=None, title="t", source="s", statement="x", assumptions=(), check=_ok)


def test_list_claims_survives_a_refused_registration():
    from selfconsume.analysis import list_claims

    with pytest.raises(TypeError):
        register_claim(id=None, title="t", source="s", statement="x")(_ok)
    assert all(isinstance(c.id, str) for c in list_claims())


@pytest.mark.parametrize("kw, name", [
    (dict(se=-1.0), "se"),
    (dict(tol=-0.1), "tol"),
    (dict(ci=(1.0,)), "ci"),
    (dict(ci=(2.0, 1.0)), "ci"),
    (dict(ci=("a", "b")), "ci"),
])
def test_comparison_refuses_bad_uncertainty(kw, name):
    with pytest.raises((ValueError, TypeError), match=name):
        Comparison("q", 1.0, 1.0, **kw)
    with pytest.raises(TypeError, match="quantity"):
        Comparison(3, 1.0, 1.0, tol=1.0)


def test_verify_refuses_an_empty_or_bad_selection(temp_claims, tmp_path):
    ran = []
    temp_claims("zz_test.records", lambda ctx: ran.append(1) or _ok(ctx))
    with pytest.raises(ValueError, match="claims"):
        verify([])
    with pytest.raises(ValueError, match="claims"):
        verify(["zz_test.records", "zz_test.records"])
    with pytest.raises(TypeError, match="claims"):
        verify([3])
    for kw, name in ((dict(seed=-1), "seed"), (dict(workers=0), "workers"), (dict(budget="huge"), "budget"),
                     (dict(jobs=0), "jobs")):
        with pytest.raises(ValueError, match=name):
            verify(["zz_test.records"], **kw)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="out_dir"):
        verify(["zz_test.records"], out_dir=afile)
    assert ran == []  # refused before any claim ran
    assert verify("zz_test.records").passed and ran == [1]  # a single id is one claim


def test_an_empty_report_does_not_pass():
    rep = VerifyReport((), "quick", 0, 0.0)
    assert not rep.passed and rep.to_json()["passed"] is False


# ---------------------------------------------------------------------------------------------
# command line

def _usage_error(capsys, argv, option):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("selfconsume ") and ": error: " in last and option in last
    return last


@pytest.mark.parametrize("argv, option", [
    (["verify", "--workers", "0"], "--workers"),
    (["verify", "--workers", "two"], "--workers"),
    (["verify", "--seed", "-1"], "--seed"),
    (["verify", "--claim", "no_such.claim"], "--claim"),
    (["figures", "--figure", "no_such_figure"], "--figure"),
    (["selftest", "--seed", "-1"], "--seed"),
    (["bench", "--workers", "0"], "--workers"),
    (["bench", "--only", "no_such_benchmark"], "--only"),
])
def test_cli_refuses_bad_arguments(capsys, argv, option):
    _usage_error(capsys, argv, option)


def test_cli_unknown_names_list_the_valid_ones(capsys):
    last = _usage_error(capsys, ["verify", "--claim", "gauss.alpha_law", "--claim", "nope.nope"], "--claim")
    assert "'nope.nope'" in last and "gauss.alpha_law" in last and "mixing.replace_moments" in last
    last = _usage_error(capsys, ["bench", "--only", "nope"], "--only")
    assert "limits" in last


@pytest.mark.parametrize("cmd, option", [
    (["verify", "--jobs", "1"], "--out"),
    (["figures"], "--out"),
    (["figures"], "--cache"),
    (["selftest"], "--out"),
    (["bench"], "--out"),
])
def test_cli_refuses_an_output_folder_it_cannot_write_before_any_work(capsys, tmp_path, monkeypatch, cmd, option):
    def no_work(*a, **k):
        raise AssertionError("work started before the output folder was checked")

    monkeypatch.setattr(verify_module, "run_claim", no_work)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    last = _usage_error(capsys, cmd + [option, str(afile), "--quiet"], option)
    assert "a_file" in last and "existing file" in last
    assert afile.read_text() == "x"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write a read-only folder")
def test_cli_refuses_a_read_only_output_folder(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _usage_error(capsys, ["verify", "--out", str(ro / "sub")], "--out")
        _usage_error(capsys, ["verify", "--out", str(ro)], "--out")
    finally:
        ro.chmod(0o700)


# ---------------------------------------------------------------------------------------------
# a second Ctrl-C while the partial report is written; atomic report files

def _interrupt(ctx):
    raise KeyboardInterrupt  # the first Ctrl-C, during a claim


def _second_ctrl_c(monkeypatch, method):
    """Make ``VerifyReport.<method>`` deliver a real SIGINT (the second Ctrl-C) before it runs."""
    original = getattr(VerifyReport, method)

    def with_sigint(self, *a, **k):
        signal.raise_signal(signal.SIGINT)
        return original(self, *a, **k)

    monkeypatch.setattr(VerifyReport, method, with_sigint)


def test_second_ctrl_c_during_the_report_write_keeps_the_report(temp_claims, tmp_path, monkeypatch):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    temp_claims("zz_test.a_ok", _ok)
    temp_claims("zz_test.b_interrupt", _interrupt)
    _second_ctrl_c(monkeypatch, "to_markdown")
    try:
        rep = verify(["zz_test.a_ok", "zz_test.b_interrupt"], out_dir=tmp_path)
    except KeyboardInterrupt:
        pytest.fail("a second Ctrl-C while the partial report was written lost the report")
    assert rep.interrupted and len(rep.results) == 1
    assert json.loads((tmp_path / "verify.json").read_text())["interrupted"] is True
    assert "zz_test.a_ok" in (tmp_path / "verify.md").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored afterwards


def test_second_ctrl_c_during_the_cli_summary(temp_claims, tmp_path, monkeypatch, capsys):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    temp_claims("zz_test.a_ok", _ok)
    temp_claims("zz_test.b_interrupt", _interrupt)
    _second_ctrl_c(monkeypatch, "to_markdown")
    _second_ctrl_c(monkeypatch, "table")
    try:
        code = main(["verify", "--claim", "zz_test.a_ok", "--claim", "zz_test.b_interrupt", "--out", str(tmp_path),
                     "--quiet"])
    except KeyboardInterrupt:
        pytest.fail("a second Ctrl-C lost the summary")
    out = capsys.readouterr().out
    assert code == 130 and "INTERRUPTED" in out and "reports:" in out
    assert json.loads((tmp_path / "verify.json").read_text())["interrupted"] is True
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_report_files_are_written_atomically(temp_claims, tmp_path, monkeypatch):
    temp_claims("zz_test.a_ok", _ok)
    rep = verify(["zz_test.a_ok"])
    (tmp_path / "verify.md").write_text("old md")
    (tmp_path / "verify.json").write_text("old json")

    def broken_replace(src, dst):
        raise KeyboardInterrupt  # killed between writing the temporary file and renaming it

    with monkeypatch.context() as m:
        m.setattr(os, "replace", broken_replace)
        with pytest.raises(KeyboardInterrupt):
            rep.write(tmp_path)
    assert (tmp_path / "verify.md").read_text() == "old md"  # the old report, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verify.json", "verify.md"]  # no temporary left
    rep.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verify.json", "verify.md"]
    assert json.loads((tmp_path / "verify.json").read_text())["passed"] is True
