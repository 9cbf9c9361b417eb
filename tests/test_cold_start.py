"""Cold start: the light entry points do not load sympy (about 1–2 s of a fresh process)."""

import subprocess
import sys

import pytest

CASES = {
    "import selfconsume": "import selfconsume",
    "import the simulators": "import selfconsume.simulators",
    "verify --list": ("import io, contextlib\nfrom selfconsume.cli import main\n"
                      "with contextlib.redirect_stdout(io.StringIO()):\n    main(['verify', '--list'])"),
    "a numeric theory name": "import selfconsume.theory as th; th.symbol_survival(10, 1, 3); th.gaussian_mixture([1.0], [0.0], [1.0])",
}


@pytest.mark.parametrize("name", list(CASES))
def test_no_sympy(name):
    code = CASES[name] + "\nimport sys; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", f"{name} imports sympy"


def test_theory_index_matches_the_modules():
    """The name → module index read from the sources is what importing every module binds."""
    import importlib

    import selfconsume.theory as th

    idx = th._index()
    for m in th._MODULES:
        mod = importlib.import_module(f"selfconsume.theory.{m}")
        for name in mod.__all__:
            assert idx[name] == m
    assert sorted(idx) == sorted(th._load())


def test_simulators_import_without_pandas_or_scipy_learners():
    """pandas and scipy.linalg are imported on first use (a table, a learner), not by the import."""
    code = ("import sys, selfconsume.simulators as s\n"
            "print('pandas' in sys.modules, 'scipy.linalg' in sys.modules)\n"
            "r = s.simulate_gaussian(10, 3, reps=2, rng=0)\n"
            "print(type(r.to_frame()).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "DataFrame"]
