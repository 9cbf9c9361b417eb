"""verify's backends: the default runs no torch claim; ``--backend torch`` without torch says how to install it."""

import pytest

from selfconsume import cli
from selfconsume.analysis import list_claims


def _no_torch(monkeypatch):
    import selfconsume.simulators.torch as adapter

    def missing():
        raise ImportError(adapter._INSTALL)

    monkeypatch.setattr(adapter, "require_torch", missing)


def test_default_backend_has_no_torch_claim():
    assert list_claims() and not any("torch" in c.tags for c in list_claims())


def test_verify_torch_without_torch_says_how_to_install(monkeypatch, capsys, tmp_path):
    _no_torch(monkeypatch)
    rc = cli.main(["verify", "--backend", "torch", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "torch==2.13.0" in err and "selfconsume[torch]" in err
    assert not (tmp_path / "verify_torch.md").exists()


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="backend"):
        list_claims(backend="jax")
    with pytest.raises(SystemExit):
        cli.main(["verify", "--backend", "jax"])
