"""Saving a figure: the PNG is the picture ``bbox_inches="tight"`` gives, though the figure is drawn
once, cropped to its ink with ``savefig.pad_inches`` around it (savefig's box also holds text boxes'
empty ascent and descent: a few pixels more); content outside the canvas is still found and shown;
figures with a layout engine of their own keep it; the caption and alt text travel in the file."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from research.report import figures  # noqa: E402
from research.report.tables import FIGURE_DPI, save_figure  # noqa: E402


def _tight_png(fig) -> Image.Image:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    return Image.open(buf)


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA"))


def _ink(pixels: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of what differs from the background (the corner's colour)."""
    ink = (pixels != pixels[0, 0]).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _framed(pixels: np.ndarray) -> np.ndarray:
    """The ink with the pad of background (14 px) around it."""
    pad = round(matplotlib.rcParams["savefig.pad_inches"] * FIGURE_DPI)
    ink = pixels[_ink(pixels)]
    out = np.empty((ink.shape[0] + 2 * pad, ink.shape[1] + 2 * pad, 4), int)
    out[...] = pixels[0, 0]
    out[pad:-pad, pad:-pad] = ink
    return out


def _assert_same_picture(saved: Image.Image, expected: Image.Image) -> None:
    """The same picture as savefig's tight crop, its ink (framed by the pad) the same size to a
    pixel or two: cropped from one drawing rather than drawn moved, the anti-aliased edges may
    differ by sub-pixel placement, nothing more (a shift of a whole pixel or a part cut off would
    change far more pixels)."""
    a, b = _framed(_pixels(saved).astype(int)), _framed(_pixels(expected).astype(int))
    assert abs(a.shape[0] - b.shape[0]) <= 2 and abs(a.shape[1] - b.shape[1]) <= 2
    height, width = min(a.shape[0], b.shape[0]) - 1, min(a.shape[1], b.shape[1]) - 1
    # a faint anti-aliased pixel may start one ink box a pixel early: the best of those alignments
    a, b = min(
        (
            (a[dy : dy + height, dx : dx + width], b[:height, :width])
            for dy in (0, 1)
            for dx in (0, 1)
        ),
        key=lambda pair: np.abs(pair[0] - pair[1]).mean(),
    )
    assert np.abs(a - b).mean() < 3
    assert (np.abs(a - b).max(axis=2) > 64).mean() < 0.02
    # the same ink along each axis, nothing moved by more than a pixel or two, nothing cut off
    ink_a, ink_b = (255 - a[..., :3]).sum(axis=2), (255 - b[..., :3]).sum(axis=2)
    for axis in (0, 1):
        profile_a, profile_b = ink_a.sum(axis=axis), ink_b.sum(axis=axis)
        drift = np.abs(np.cumsum(profile_a) - np.cumsum(profile_b)).max()
        assert drift <= 2 * profile_b.max() + 0.01 * profile_b.sum()


def _assert_padded(saved: Image.Image) -> None:
    """The pad (``savefig.pad_inches``, 14.4 px at 144 dpi) around the ink on every side: none of
    it cut, none of it more than the pad."""
    pixels = _pixels(saved)
    rows, cols = _ink(pixels)
    margins = (rows.start, pixels.shape[0] - rows.stop, cols.start, pixels.shape[1] - cols.stop)
    pad = matplotlib.rcParams["savefig.pad_inches"] * FIGURE_DPI
    assert all(np.floor(pad) <= m <= np.ceil(pad) for m in margins), margins


def _overflowing():
    """A title wider than the figure and a legend and text outside the axes, laid out by
    tight_layout: what the report's figures do."""
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot([0, 1, 2], [2, 0, 1], label="a line")
    ax.set_title("A title far wider than the figure it belongs to, on purpose " * 2)
    ax.text(1.05, 0.5, "beside", transform=ax.transAxes)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    return fig


def _forest():
    rows = pd.DataFrame(
        {
            "label": ["Joint planning", "Trust", "Shared metrics"],
            "effect_size": [0.4, -0.1, 0.25],
            "ci_low": [0.1, -0.5, -0.05],
            "ci_high": [0.7, 0.3, 0.55],
        }
    )
    return figures.forest(rows, "label", "Marketing minus sales, by subscale")


@pytest.mark.parametrize("make", [_overflowing, _forest])
def test_the_png_is_what_bbox_inches_tight_gives(make, tmp_path):
    expected = _tight_png(make())
    fig = make()
    path = save_figure(fig, tmp_path, "f", caption="A caption.", alt="What it shows.")
    saved = Image.open(path)
    saved.verify()  # a readable PNG
    saved = Image.open(path)
    _assert_same_picture(saved, expected)
    if make is _forest:  # drawn once (the other is moved by savefig to show its title whole)
        _assert_padded(saved)
    assert saved.info["Title"] == "A caption." and saved.info["Description"] == "What it shows."
    assert round(saved.info["dpi"][0]) == FIGURE_DPI
    # the figure keeps the placeholder tight_layout left, as after any savefig
    assert fig.get_layout_engine() is not None
    plt.close("all")


def test_nothing_is_cut_off_the_overflowing_title(tmp_path):
    fig = _overflowing()
    width_inches = fig.get_size_inches()[0]
    saved = Image.open(save_figure(fig, tmp_path, "wide"))
    assert saved.size[0] > width_inches * FIGURE_DPI  # the crop grew to hold the title
    plt.close(fig)


def test_a_figure_with_its_own_layout_engine_is_laid_out_and_keeps_it(tmp_path):
    def make():
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x label")
        fig.colorbar(ax.scatter([0, 1], [0, 1], c=[0, 1]), ax=ax)
        return fig

    expected = _tight_png(make())
    fig = make()
    saved = Image.open(save_figure(fig, tmp_path, "constrained"))
    _assert_same_picture(saved, expected)
    assert isinstance(fig.get_layout_engine(), matplotlib.layout_engine.ConstrainedLayoutEngine)
    plt.close("all")


def test_one_drawing_saved_twice_carries_each_caption(tmp_path):
    from research.report.tables import render_figure, show_figure

    fig = _forest()
    expected = _tight_png(fig)
    drawn = render_figure(fig)
    plt.close(fig)
    first = show_figure(drawn, tmp_path, "one", caption="First.", alt="One.")
    second = show_figure(drawn, tmp_path, "two", caption="Second.", alt="Two.")
    a, b = (
        Image.open(tmp_path / "figures" / "one.png"),
        Image.open(tmp_path / "figures" / "two.png"),
    )
    assert np.array_equal(_pixels(a), _pixels(b))
    _assert_same_picture(a, expected)
    assert (a.info["Title"], b.info["Title"]) == ("First.", "Second.")
    assert (first.alt, second.alt) == ("One.", "Two.")
    assert round(b.info["dpi"][0]) == FIGURE_DPI


def test_a_laid_out_figure_whose_legend_overflows_is_still_whole(tmp_path):
    """Not a title: the overflow is found after the drawing, and savefig shows it all."""
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot([0, 1], [0, 1], label="a line")
    fig.tight_layout()
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # placed after the layout
    expected = _tight_png(fig)
    saved = Image.open(save_figure(fig, tmp_path, "legend"))
    assert saved.size == expected.size
    assert saved.size[0] > 4 * FIGURE_DPI
    plt.close(fig)


def test_an_opaque_figure_is_written_without_alpha_and_a_transparent_one_keeps_it(tmp_path):
    fig = _forest()
    drawn = _tight_png(fig).convert("RGB")
    saved = Image.open(save_figure(fig, tmp_path, "opaque"))
    assert saved.mode == "RGB"  # every pixel opaque: the alpha channel would say nothing
    _assert_same_picture(saved, drawn)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(3, 2))
    fig.patch.set_alpha(0)
    ax.patch.set_alpha(0)
    ax.plot([0, 1], [0, 1])
    fig.tight_layout()
    clear = Image.open(save_figure(fig, tmp_path, "clear"))
    assert clear.mode == "RGBA" and np.asarray(clear)[..., 3].min() == 0
    plt.close(fig)


def test_a_report_figure_is_drawn_by_the_renderer_that_laid_it_out(tmp_path, monkeypatch):
    """Made at 144 dpi and drawn on its own canvas, its text is measured once: matplotlib keeps
    text measurements per renderer, and tight_layout's renderer is the one that draws."""
    fig = _forest()
    assert fig.dpi == FIGURE_DPI
    laid_out = fig.canvas.get_renderer()
    used = []
    draw = matplotlib.figure.Figure.draw

    def recording(self, renderer):
        used.append(renderer)
        return draw(self, renderer)

    monkeypatch.setattr(matplotlib.figure.Figure, "draw", recording)
    save_figure(fig, tmp_path, "forest")
    assert used == [laid_out]
    plt.close(fig)


def _wholly_outside_text():
    fig, ax = figures._subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    fig.tight_layout()
    fig.text(0.5, -0.15, "a note wholly below the figure", ha="center")
    return fig


def _tick_labels_wholly_outside():
    fig, ax = figures._subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    ax.set_position([0.02, 0.2, 0.9, 0.7])  # the y tick labels left of the canvas, whole
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(left=False)
    return fig


@pytest.mark.parametrize("make", [_wholly_outside_text, _tick_labels_wholly_outside])
def test_content_wholly_outside_the_canvas_is_found_and_shown(make, tmp_path):
    """It leaves no ink on the canvas (none reaching the edge), yet it is found, as
    ``fig.get_tightbbox`` finds it, and savefig shows it."""
    from research.report.tables import _ink_box

    expected = _tight_png(make())
    fig = make()
    fig.canvas.draw()
    assert _ink_box(fig, np.asarray(fig.canvas.buffer_rgba()), FIGURE_DPI) is not None
    saved = Image.open(save_figure(fig, tmp_path, "outside"))
    assert saved.size == expected.size
    width, height = fig.get_size_inches() * FIGURE_DPI
    assert saved.size[0] > width or saved.size[1] > height
    plt.close("all")


def test_a_face_that_is_not_opaque_is_cropped_as_savefig_crops_it(tmp_path):
    """Its ink cannot be told from its face by the face's colour: measured by get_tightbbox."""

    def make():
        fig, ax = figures._subplots(figsize=(3, 2))
        fig.patch.set_facecolor((0.2, 0.4, 0.6, 0.5))
        ax.plot([0, 1], [0, 1])
        fig.tight_layout()
        return fig

    expected = _tight_png(make())
    saved = Image.open(save_figure(make(), tmp_path, "face"))
    assert saved.size == expected.size and saved.mode == "RGBA"
    plt.close("all")


def test_the_demo_figures_keep_the_pad_around_their_ink(demo_study, tmp_path):
    """Report figures cropped to their ink, the pad whole on every side."""
    from research.analysis import companies

    main = next(i for i in demo_study.instruments if i.total and i.total.get("bands"))
    summary, _ = companies.company_summary(demo_study)
    for name, fig in (
        ("likert", figures.likert_bars(demo_study.responses, main)),
        ("map", figures.company_map(summary, main)),
        ("forest", _forest()),
    ):
        _assert_padded(Image.open(save_figure(fig, tmp_path, name)))
        plt.close(fig)
