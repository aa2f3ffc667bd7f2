"""Saving a figure: the PNG is cropped to what the figure shows as ``bbox_inches="tight"`` crops it
(the same size, the same picture but for sub-pixel placement), though the figure is drawn once;
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


def _assert_same_picture(saved: Image.Image, expected: Image.Image) -> None:
    """The size savefig's tight crop gives, and the same picture: cropped from one drawing rather
    than drawn moved, the anti-aliased edges may differ by sub-pixel placement, nothing more (a
    shift of a whole pixel or a part cut off would change far more pixels)."""
    assert saved.size == expected.size
    a, b = _pixels(saved).astype(int), _pixels(expected).astype(int)
    assert np.abs(a - b).mean() < 3
    assert (np.abs(a - b).max(axis=2) > 64).mean() < 0.02
    # the same ink along each axis, nothing moved by more than a pixel or two, nothing cut off
    ink_a, ink_b = (255 - a[..., :3]).sum(axis=2), (255 - b[..., :3]).sum(axis=2)
    for axis in (0, 1):
        profile_a, profile_b = ink_a.sum(axis=axis), ink_b.sum(axis=axis)
        drift = np.abs(np.cumsum(profile_a) - np.cumsum(profile_b)).max()
        assert drift <= 2 * profile_b.max() + 0.01 * profile_b.sum()


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
    drawn = np.asarray(_tight_png(fig).convert("RGB"))
    saved = Image.open(save_figure(fig, tmp_path, "opaque"))
    assert saved.mode == "RGB"  # every pixel opaque: the alpha channel would say nothing
    assert saved.size == drawn.shape[1::-1]
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
