"""The report's figures are drawn once: every title and x-axis label lies inside the figure, whole,
so save_figure crops its one drawing instead of saving the figure again moved (with savefig) to
show what reached outside it. The five demo figures that used to reach outside are checked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from research.report import figures, tables  # noqa: E402
from research.report.tables import FIGURE_DPI, save_figure  # noqa: E402


def _makers(study) -> dict:
    from research.analysis import companies, interviews, survey, themes

    main = next(i for i in study.instruments if i.total and i.total.get("bands"))
    rated = next(i for i in study.instruments if i.id == "perceptions")
    coded = interviews.coded_segments(study)
    summary, _ = companies.company_summary(study)
    _, gaps = survey.thought_worlds_tables(study)
    labels = survey.dimension_labels(study)
    bands = [b["label"] for b in main.total["bands"]]
    return {
        "score_distribution": lambda: figures.score_distribution(study.scores, main),
        "likert_perceptions": lambda: figures.likert_bars(study.responses, rated),
        "thought_worlds": lambda: figures.perception_plot(
            gaps.assign(dimension=gaps["dimension"].map(labels).fillna(gaps["dimension"]))
        ),
        "theme_heatmap": lambda: figures.theme_heatmap(themes.matrix_coding(coded, study.codebook)),
        "themes_by_stage": lambda: figures.stage_theme_heatmap(
            companies.themes_by_stage(coded, study.interviews, summary, study.codebook, main.id),
            bands,
        ),
    }


@pytest.fixture(scope="module")
def makers(demo_study):
    return _makers(demo_study)


def _texts(fig) -> list:
    return [t for ax in fig.axes for t in (ax.title, ax.xaxis.label) if t.get_text()]


def _assert_inside_sideways(fig) -> None:
    renderer = fig.canvas.get_renderer()
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, text.get_text()


@pytest.mark.parametrize(
    "name",
    [
        "score_distribution",
        "likert_perceptions",
        "thought_worlds",
        "theme_heatmap",
        "themes_by_stage",
    ],
)
def test_a_demo_figure_that_reached_outside_is_drawn_once_whole(
    name, makers, tmp_path, monkeypatch
):
    fig = makers[name]()
    said = [t.get_text() for t in _texts(fig)]

    def moved(*args, **kwargs):
        raise AssertionError("saved again by savefig: the figure reaches outside its canvas")

    monkeypatch.setattr(tables, "_savefig", moved)
    saved = Image.open(save_figure(fig, tmp_path, name))
    _assert_inside_sideways(fig)
    # one line each, word for word: moved sideways, not shortened or wrapped
    assert [t.get_text() for t in _texts(fig)] == said and not any("\n" in t for t in said)
    pad = matplotlib.rcParams["savefig.pad_inches"]
    assert saved.size[0] <= round((fig.get_size_inches()[0] + 2 * pad) * FIGURE_DPI)
    plt.close(fig)


def test_a_title_wider_than_the_figure_is_wrapped_whole_and_kept_inside(tmp_path, monkeypatch):
    fig, ax = figures._subplots(figsize=(3, 2))
    title = "A title that is far wider than the small figure it belongs to, on purpose"
    figures._title(ax, title)
    ax.set_xlabel("an x label too wide for so small a figure as this one, also on purpose")
    figures._lay_out(fig)
    assert ax.get_title().count("\n") >= 1 and ax.get_title().split() == title.split()
    assert "\n" in ax.get_xlabel()
    _assert_inside_sideways(fig)
    monkeypatch.setattr(tables, "_savefig", None)  # not called: drawn once
    save_figure(fig, tmp_path, "wrapped")
    plt.close(fig)


def test_a_text_that_fits_stays_where_matplotlib_puts_it():
    fig, ax = figures._subplots(figsize=(6, 3))
    figures._title(ax, "Short")
    ax.set_xlabel("short")
    figures._lay_out(fig)
    assert ax.title.get_position()[0] == 0.5 and ax.xaxis.label.get_position()[0] == 0.5
    assert fig.dpi == FIGURE_DPI
    plt.close(fig)


@pytest.mark.parametrize("rows", [3, 40])
def test_the_share_heatmap_is_what_seaborn_draws(rows):
    """Pixel for pixel seaborn's heatmap: missing cells left empty and unlabelled, annotation ink
    by the cell's lightness, tick labels turned when they would overlap, every k-th row labelled
    when there are too many to fit."""
    import io

    import numpy as np
    import pandas as pd
    import seaborn as sns

    values = np.linspace(0, 1, rows * 3).reshape(rows, 3)
    values[1, 2] = np.nan
    grid = pd.DataFrame(
        values,
        index=pd.Index([f"a theme of some length {i}" for i in range(rows)], name="theme"),
        columns=["marketing people", "sales people, long", "both functions together"],
    )

    def png(draw) -> np.ndarray:
        fig, ax = figures._subplots(figsize=(3, 2.5))
        draw(ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
        plt.close(fig)
        return np.asarray(Image.open(buffer))

    ours = png(lambda ax: figures._heatmap(ax, grid, "Blues"))
    theirs = png(
        lambda ax: sns.heatmap(
            grid, annot=True, fmt=".0%", cmap="Blues", cbar=False, ax=ax, linewidths=0.5
        )
    )
    assert np.array_equal(ours, theirs)
