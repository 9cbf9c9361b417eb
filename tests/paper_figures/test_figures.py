"""Every registered figure builds from its quick table in the one style, at paper width, with
fonts of at least 7 pt, a PDF without Type 3 fonts and a caption file naming its claims; the
figure runner writes an index page; the README lists every figure."""

import re
from pathlib import Path

import pytest

from selfconsume.paper_figures import COLUMN_WIDTH, PAGE_WIDTH, get_figure, list_figures

SLUGS = [f.slug for f in list_figures()]
MIN_FONT_PT = 7.0
#: ``savefig.bbox = "tight"`` may add its padding (0.02 in a side) to a figure that fills its width
WIDTH_SLACK_IN = 0.05

_RENDERED: dict = {}  # slug -> (paths, figure width, smallest font), each figure drawn once per session


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


def _render(slug, out_dir):
    """Table (quick budget), plot in the one style, write PNG, PDF and caption: once per figure."""
    if slug in _RENDERED:
        return _RENDERED[slug]
    import matplotlib.text

    from selfconsume.paper_figures import load_verify, save_figure, set_style

    spec = get_figure(slug)
    if spec.missing():
        pytest.skip(f"{slug} needs {spec.missing()}")
    df = spec.table(quick=True)
    assert len(df) > 0 and not df.isna().all().any()  # no all-NaN column
    set_style()
    fig = spec.plot(df)
    assert len(fig.axes) >= 1
    width = float(fig.get_size_inches()[0])
    sizes = [(t.get_fontsize(), t.get_text()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    paths = save_figure(spec, fig, out_dir, df, verify=load_verify())
    _RENDERED[slug] = (paths, width, min(sizes))
    return _RENDERED[slug]


def test_figures_are_registered():
    assert len(SLUGS) >= 9 and len(SLUGS) == len(set(SLUGS))


@pytest.mark.parametrize("slug", SLUGS)
def test_figure_renders_at_paper_width(slug, out_dir):
    """Headless, from the quick table: PNG, PDF and caption written; one of the two widths; fonts >= 7 pt."""
    paths, width, (smallest, text) = _render(slug, out_dir)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert width in (pytest.approx(COLUMN_WIDTH), pytest.approx(PAGE_WIDTH)), f"{slug}: {width} in wide"
    assert smallest >= MIN_FONT_PT, f"{slug}: {text!r} at {smallest} pt"


@pytest.mark.parametrize("slug", SLUGS)
def test_pdf_has_no_type3_fonts_and_fits_the_page(slug, out_dir):
    paths, width, _ = _render(slug, out_dir)
    pdf = paths[1].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert not re.search(rb"/Subtype\s*/Type3", pdf), f"{slug}.pdf embeds Type 3 fonts"
    box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", pdf)
    assert box, "no MediaBox"
    pdf_width = (float(box.group(3)) - float(box.group(1))) / 72.0
    assert pdf_width <= width + WIDTH_SLACK_IN, f"{slug}.pdf is {pdf_width:.2f} in wide, drawn for {width} in"


@pytest.mark.parametrize("slug", SLUGS)
def test_caption_file_names_its_claims(slug, out_dir):
    paths, _, _ = _render(slug, out_dir)
    spec = get_figure(slug)
    cap = paths[2].read_text(encoding="utf-8")
    assert paths[2].name == f"{slug}.caption.md"
    assert f"`{slug}`" in cap and "*Data:*" in cap and "*Claims:*" in cap
    assert spec.claims, f"{slug} names no claim"
    for cid in spec.claims:
        assert re.search(rf"`{re.escape(cid)}` \((?:[A-Z]+|not run)", cap), f"{cid} not in caption"


def test_figure_claims_are_registered_claims():
    from selfconsume.analysis.claims import list_claims

    known = {c.id for c in list_claims()}
    try:
        known |= {c.id for c in list_claims(backend="torch")}
        torch_known = True
    except ImportError:
        torch_known = False
    for spec in list_figures():
        for cid in spec.claims:
            if cid.startswith("torch.") and not torch_known:
                continue
            assert cid in known, f"figure {spec.slug} names unknown claim {cid}"


def test_caption_says_not_run_without_a_report():
    from selfconsume.paper_figures import caption_markdown

    spec = get_figure("curation_kl")
    cap = caption_markdown(spec, None, verify={})
    assert "`curation.kl_to_top` (not run)" in cap
    cap = caption_markdown(spec, None, verify={"curation.kl_to_top": {
        "verdict": "FAIL", "failed": 2, "comparisons": 9, "budget": "quick", "seed": 0, "report": "r.json", "date": "d"}})
    assert "`curation.kl_to_top` (FAIL, 2 of 9 comparisons failed" in cap


def test_cli_writes_captions_and_an_index(tmp_path):
    """`selfconsume figures` writes NAME.png/.pdf/.caption.md and index.md listing every figure."""
    from selfconsume import cli

    drawn = ["curation_kl", "curation_reward"]
    argv = ["figures", "--out", str(tmp_path), "--cache", str(tmp_path / "cache"), "--quiet"]
    for s in drawn:
        argv += ["--figure", s]
    assert cli.main(argv) == 0
    for s in drawn:
        for ext in ("png", "pdf", "caption.md"):
            assert (tmp_path / f"{s}.{ext}").exists()
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    for s in drawn:
        assert f"![{s}]({s}.png)" in index
        assert (tmp_path / f"{s}.caption.md").read_text(encoding="utf-8").strip() in index
    missing = [s for s in SLUGS if f"`{s}`" not in index]
    assert not missing, f"index.md does not list {missing}"


def test_index_shows_every_rendered_figure(out_dir):
    from selfconsume.paper_figures import write_index

    for slug in SLUGS:
        if not get_figure(slug).missing():
            _render(slug, out_dir)
    index = write_index(out_dir).read_text(encoding="utf-8")
    for slug in SLUGS:
        if get_figure(slug).missing():
            assert f"`{slug}`: needs" in index
        else:
            assert f"## {slug}" in index and f"![{slug}]({slug}.png)" in index


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


def test_new_figure_tables_refuse_bad_parameters():
    import pytest as _pt

    from selfconsume.analysis.tables import stability_rates_table, thm23_24_table

    with _pt.raises(ValueError, match="generations"):
        stability_rates_table(generations=-1)
    with _pt.raises(ValueError, match="offset"):
        stability_rates_table(offset=float("nan"))
    with _pt.raises(ValueError, match="K must be"):
        thm23_24_table(Ks=(0,))


def test_readme_images_are_drawn_by_the_current_code():
    """Every image the README shows from ``docs/`` is a figure drawn by the code as it is now (its
    PNG carries the fingerprint of its script, the style module and its table's module), and the
    text under it is that figure's caption."""
    from selfconsume.paper_figures import fingerprint, png_fingerprint

    root = Path(__file__).resolve().parents[2]
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\((docs/([a-z0-9_]+)\.png)\)\n\n(.*?)(?:\n\n|\Z)", text, re.S)
    assert images, "the README shows no figure from docs/"
    for path, slug, under in images:
        spec = get_figure(slug)
        fix = f"regenerate it: selfconsume figures --figure {slug} --out docs"
        assert png_fingerprint(root / path) == fingerprint(spec), f"{path} was not drawn by the current code; {fix}"
        norm = " ".join(under.replace("*", "").split())
        assert " ".join(spec.caption.split()) in norm, f"the README's text under {path} is not its caption"
