"""Every registered figure builds from its quick table, has a caption, and is listed in the README."""

from pathlib import Path

import pytest

from selfconsume.paper_figures import get_figure, list_figures

SLUGS = [f.slug for f in list_figures()]


def test_figures_are_registered():
    assert len(SLUGS) >= 9 and len(SLUGS) == len(set(SLUGS))


@pytest.mark.parametrize("slug", SLUGS)
def test_figure_table_and_plot(slug):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = get_figure(slug)
    if spec.missing():
        pytest.skip(f"{slug} needs {spec.missing()}")
    df = spec.table(quick=True)
    assert len(df) > 0 and not df.isna().all().any()  # no all-NaN column
    fig = spec.plot(df)
    assert len(fig.axes) >= 1 and spec.caption.strip()
    plt.close(fig)


def test_readme_lists_every_figure():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Figures", 1)[1].split("\n## ", 1)[0]
    missing = [s for s in SLUGS if f"`{s}`" not in section]
    assert not missing, f"README's Figures section lacks {missing}"


def test_unknown_figure_is_a_clear_error():
    with pytest.raises(ValueError, match="figure must be one of"):
        get_figure("no_such_figure")


def test_figures_needing_torch_are_skipped_without_it(tmp_path, monkeypatch, capsys):
    """`selfconsume figures` (the README's first command) needs no torch: such figures are skipped and said so."""
    from selfconsume import cli
    from selfconsume.paper_figures import _registry

    monkeypatch.setattr(_registry.FigureSpec, "missing", lambda self: list(self.requires))
    slugs = [s for s in SLUGS if get_figure(s).requires]
    assert {"torch_ring", "torch_digits"} <= set(slugs)
    rc = cli.main(["figures", "--figure", slugs[0], "--out", str(tmp_path), "--quiet"])
    assert rc == 2 and "pip install" in capsys.readouterr().err
