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
