"""The report's pages without a browser: nothing fetched from another host, numbered figures with
alt text and captions, tables formatted for reading, the index page, the print style, readable
report folders, and figures with the same two role colours and labels that do not collide."""

from __future__ import annotations

import base64
import os
import re
import stat
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from research.report import figures, pages  # noqa: E402
from research.report.tables import FigureHTML, Page, show, show_figure  # noqa: E402


def small_figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    return fig


def test_external_requests_finds_what_a_browser_would_fetch_and_ignores_links():
    html = (
        '<script src="https://cdnjs.cloudflare.com/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.x/c.css">'
        '<a href="https://doi.org/10.1/x">doi</a><img src="data:image/png;base64,AAAA">'
        '<style>@import url("http://evil.example/a.css"); .a{background:url(https://x.y/i.png)}</style>'
        '<script type="module">await import("https://cdn.example/m.mjs")</script>'
        '<script src="http://localhost:8888/ok.js"></script><img src="figures/a.png">'
    )
    assert pages.external_requests(html) == [
        "https://cdnjs.cloudflare.com/x.js",
        "//fonts.x/c.css",
        "http://evil.example/a.css",
        "https://x.y/i.png",
        "https://cdn.example/m.mjs",
    ]


def test_exported_page_fetches_nothing_has_the_style_and_the_table_script(tmp_path):
    page = Page(tmp_path)
    shown = show_figure(
        small_figure(), tmp_path, "f", caption="A line.", alt="A rising line.", page=page
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nSome $x$ text."),
        nbformat.v4.new_code_cell("x = 1"),
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data", {"text/html": shown.to_html(), "text/plain": repr(shown)}
        )
    ]
    body, _ = pages.html_exporter().from_notebook_node(
        nb, resources=pages.export_resources("Title")
    )
    assert pages.external_requests(body) == []
    assert "cdnjs" not in body and "mathjax" not in body.lower() and "require.js" not in body
    assert "@page{size:A4" in body and "@media print" in body and "table.sortable" in body
    assert body.count("function setup(table)") == 1
    assert "x = 1" not in body  # code hidden
    assert 'alt="A rising line."' in body and "<b>Figure 1.</b> A line." in body


def _accessible_notebook(tmp_path):
    """A notebook with every kind of cell and output the accessibility attributes concern: a
    markdown cell, a report figure, a bare PNG output (no alt), HTML with an image without alt
    and ``<img>`` in a script, and text."""
    page = Page(tmp_path)
    shown = show_figure(small_figure(), tmp_path, "f", caption="A line.", alt="A line.", page=page)
    png = (tmp_path / "figures" / "f.png").read_bytes()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nText & <b>bold</b>."),
        *[nbformat.v4.new_code_cell(str(k)) for k in range(3)],
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output("display_data", {"text/html": shown.to_html()}),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
    ]
    nb.cells[2].outputs = [
        nbformat.v4.new_output("display_data", {"image/png": base64.b64encode(png).decode()})
    ]
    nb.cells[3].outputs = [
        nbformat.v4.new_output(
            "display_data",
            {
                "text/html": "<p>x</p>\n<IMG title='a > b' SRC=\"figures/f.png\">"
                '<script>var s = "<img src=x>";</script>'
            },
        )
    ]
    plt.close("all")
    return nb


def _nbconvert_soup(html: str) -> str:
    """What nbconvert 7.16's ``HTMLExporter.from_notebook_node`` does to the rendered page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, features="html.parser")
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = "No description has been provided for this image"
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup)


def test_exported_page_has_alt_on_every_image_and_focusable_inputs_and_outputs(tmp_path):
    from bs4 import BeautifulSoup

    body, _ = pages.html_exporter().from_notebook_node(
        _accessible_notebook(tmp_path), resources=pages.export_resources("Title")
    )
    soup = BeautifulSoup(body, features="html.parser")
    images = soup.find_all("img")
    assert len(images) == 3 and all(img.has_attr("alt") for img in images)
    assert [img["alt"] for img in images] == ["A line.", pages.NO_ALT, pages.NO_ALT]
    focusable = soup.select("div.jp-Cell-inputWrapper, div.jp-OutputArea-output")
    assert len(focusable) == 5 and all(div.get("tabindex") == "0" for div in focusable)
    assert len(soup.select("[tabindex]")) == 5
    assert 'var s = "<img src=x>";' in body  # a script's text is no markup


def test_exported_page_is_what_nbconverts_html_exporter_gives_up_to_its_reserialization(tmp_path):
    """nbconvert's ``HTMLExporter`` parses the page with BeautifulSoup, adds the attributes and
    writes the page out again; the exporter's page, written out by BeautifulSoup, is the same."""
    from nbconvert import HTMLExporter

    nb = _accessible_notebook(tmp_path)
    exporter = pages.html_exporter()
    ours, _ = exporter.from_notebook_node(nb, resources=pages.export_resources("Title"))
    theirs, _ = HTMLExporter.from_notebook_node(
        exporter, nb, resources=pages.export_resources("Title")
    )
    assert ours != theirs and _nbconvert_soup(ours) == theirs


def test_exporter_validates_the_notebook_once_and_still_refuses_an_invalid_one():
    exporter = pages.html_exporter()
    assert exporter.optimistic_validation  # once after the preprocessors, not after each
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1")]
    nb.cells[0].outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout"})]
    with pytest.raises(nbformat.ValidationError, match="'text' is a required property"):
        exporter.from_notebook_node(nb, resources=pages.export_resources("Title"))


@pytest.mark.parametrize(
    "html",
    [
        '<img src="a.png">',
        "<IMG SRC=a.png />",
        '<img title="x > y" src="a.png"><img alt src="b.png"><img alt="" src="c.png">',
        "<!-- <img src=a.png> --><style>div>img{}</style><script>'<img src=x>'</script>",
        "<body class=\"jp-Notebook\">\n\n  <div class='jp-OutputArea-output a'>x</div>\n"
        '<div class="jp-Cell-inputWrapper" tabindex=\'0\'><div class="jp-Cell">'
        '<img\nsrc="a.png"></div></div><p>\n<div class=jp-Cell-inputWrapper></div></body>',
        '<body class="other"><div class="jp-OutputArea-output"></div></body>',
        '<body class="jp-Notebook"></body><div class="jp-OutputArea-output"></div>',
    ],
)
def test_accessible_adds_what_nbconvert_adds_and_leaves_the_rest(html):
    from bs4 import BeautifulSoup

    page, missing = pages.accessible(html)
    assert _nbconvert_soup(page) == _nbconvert_soup(html)
    assert missing == len(BeautifulSoup(html, features="html.parser").select("img:not([alt])"))
    for inserted in (f' alt="{pages.NO_ALT}"', ' tabindex="0"'):
        page = page.replace(inserted, "")
    assert page == html


def test_figure_text_is_read_without_decoding_the_pixels(tmp_path, monkeypatch):
    from PIL import Image, ImageFile
    from PIL.PngImagePlugin import PngInfo

    show_figure(small_figure(), tmp_path, "saved", caption="Saved.", alt="What it shows.")
    info = PngInfo()
    info.add_text("Title", "No description.")
    Image.new("RGB", (4, 4)).save(tmp_path / "figures" / "title.png", pnginfo=info)
    (tmp_path / "figures" / "broken.png").write_bytes(b"not a png")
    decoded = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decoded.append(1) or load(im))
    items = pages._figure_items(sorted((tmp_path / "figures").glob("*.png")))
    assert "alt='broken'></a>broken: broken</li>" in items
    assert "alt='No description.'></a>title: No description.</li>" in items
    assert "alt='What it shows.'></a>saved: Saved.</li>" in items
    # only title.png's pixels: a Description could follow them, which Image.text would read
    assert len(decoded) == 1
    plt.close("all")


def test_show_figure_numbers_embeds_and_describes(tmp_path):
    page = Page(tmp_path)
    first = page.figure(small_figure(), "one", caption="First.", alt="What one shows.")
    second = page.figure(small_figure(), "two", caption="Second.")
    assert isinstance(first, FigureHTML) and (first.number, second.number) == (1, 2)
    html = second.to_html()
    assert re.search(
        r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}" alt="Second." width="\d+">', html
    )
    assert "<figcaption><b>Figure 2.</b> Second.</figcaption>" in html and html.startswith(
        '<figure class="report-figure"'
    )
    assert pages.figure_caption(tmp_path / "figures" / "one.png") == "First."
    with pytest.raises(ValueError, match="alt text"):
        show_figure(small_figure(), tmp_path, "three")
    unnumbered = show_figure(small_figure(), tmp_path, "four", alt="<b>x</b> & y")
    assert (
        unnumbered.number is None and 'alt="&lt;b&gt;x&lt;/b&gt; &amp; y"' in unnumbered.to_html()
    )
    plt.close("all")


def test_show_formats_for_reading_and_escapes():
    frame = pd.DataFrame(
        {
            "theme": ["<script>x</script>", "b"],
            "p_holm": [0.0213, 0.0002],
            "diff": [-0.5, np.nan],
            "n_marketing": [3, 4],
        }
    )
    html = show(frame, title="Tab", note="A note.", number=4).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert (
        ">.021<" in html and ">&lt; .001<" in html and "\u22120.50" in html and ">\u2013<" in html
    )
    assert "<th>p (Holm)</th>" in html and "<th>n marketing</th>" in html
    assert (
        "<strong>Table 4</strong>" in html
        and "<em>Tab</em>" in html
        and "<em>Note.</em> A note." in html
    )
    assert "sortable" not in html
    long = show(pd.DataFrame({"a": range(30)}), max_rows=20).to_html()
    assert "sortable" in long and "The first 20 of 30 rows" in long


def test_apa_tables_of_many_rows_are_sortable():
    from research.report.apa import ApaTable

    assert "sortable" in ApaTable("T", pd.DataFrame({"A": list("abcdefghijklmn")})).to_html()
    assert "sortable" not in ApaTable("T", pd.DataFrame({"A": list("abc")})).to_html()


def test_index_page_links_everything_a_reader_needs(tmp_path):
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "tables" / "scores.csv", index=False)
    show_figure(small_figure(), tmp_path, "01_fig", caption="Scores by function.", alt="Dots.")
    (tmp_path / "tables.docx").write_bytes(b"x")
    (tmp_path / "coded_study.qdpx").write_bytes(b"x")
    study = SimpleNamespace(
        name="Pilot <1>",
        respondents=pd.DataFrame({"company_id": ["A", "B"]}),
        interviews=pd.DataFrame(),
    )
    checksums = {"survey.csv": "ab" * 32}
    path = pages.index_page(
        [{"file": "01-overview.html", "title": "01 · Overview", "question": "Who?"}],
        tmp_path,
        study,
        checksums,
        "2026-01-01 00:00 UTC",
    )
    html = path.read_text("utf-8")
    for needle in (
        "href='01-overview.html'",
        "href='tables.docx'",
        "href='coded_study.qdpx'",
        "href='tables/scores.csv'",
        "src='figures/01_fig.png'",
        "Scores by function.",
        "alt='Dots.'",
        "@misc{research",
        "How to cite",
        "ab" * 32,
        "Pilot &lt;1&gt;",
        "@media print",
    ):
        assert needle in html, needle
    assert pages.external_requests(html) == []
    (tmp_path / "tables.docx").unlink()
    (tmp_path / "coded_study.qdpx").unlink()
    html = pages.index_page([], tmp_path, study, checksums, "now").read_text("utf-8")
    assert "tables.docx" not in html and "coded_study.qdpx" not in html


def test_report_folder_gets_the_mode_mkdir_would_give(tmp_path):
    import tempfile

    from research.run.pipeline import _readable

    old = os.umask(0o027)
    try:
        folder = tempfile.mkdtemp(dir=tmp_path)
        _readable(type(tmp_path)(folder))
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o750
    finally:
        os.umask(old)
    folder = tempfile.mkdtemp(dir=tmp_path)
    _readable(type(tmp_path)(folder))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o777 & ~old


def test_role_colours_are_okabe_ito_and_the_same_everywhere():
    assert figures.ROLE_COLORS == {"marketing": "#0072B2", "sales": "#E69F00"}
    assert set(figures.ROLE_COLORS.values()) <= set(figures.OKABE_ITO.values())


def test_item_ticks_carry_the_wording_and_reverse_key():
    item = SimpleNamespace(
        id="SMR02", reverse=True, text="When the numbers disappoint, each side points at the other."
    )
    tick = figures.item_tick(item, 30)
    assert tick.startswith("SMR02 (R) When") and tick.count("\n") == 1 and tick.endswith("…")
    inst = SimpleNamespace(items=[item])
    assert figures.item_labels(inst, ["SMR02", "X9"]) == [f"SMR02 (R) {item.text}", "X9"]


def test_company_labels_do_not_collide():
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(40, 45, 12), rng.uniform(20, 24, 12)  # a tight cluster
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(xs, ys)
    ax.set_xlim(20, 100)
    ax.set_ylim(-20, 50)
    placed = figures.place_labels(ax, xs, ys, [f"C-{k:03d}" for k in range(12)])
    renderer = fig.canvas.get_renderer()
    for a in placed:
        a.update_positions(renderer)
    boxes = [matplotlib.text.Text.get_window_extent(a, renderer) for a in placed]
    assert len(placed) >= 8
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plt.close(fig)
