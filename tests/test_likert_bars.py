"""The diverging Likert bars read back from the figure: per item and function one bar of the answer
shares, level after level without gap or overlap, the middle answer split across zero, every bar
inside the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from research.report import figures  # noqa: E402


@pytest.fixture(scope="module")
def drawn(demo_study):
    inst = demo_study.instruments[0]
    fig = figures.likert_bars(demo_study.responses, inst)
    yield fig.axes[0], figures.likert_shares(demo_study.responses, inst), inst
    plt.close(fig)


def _extents(collection) -> np.ndarray:
    """x0, x1, y0, y1 of each rectangle of a collection, in data coordinates."""
    return np.array(
        [
            [v[:, 0].min(), v[:, 0].max(), v[:, 1].min(), v[:, 1].max()]
            for v in (p.vertices for p in collection.get_paths())
        ]
    )


def test_one_bar_of_shares_per_item_and_function(drawn):
    ax, shares, inst = drawn
    levels = list(shares.columns)
    assert len(ax.collections) == len(levels)  # one collection per answer level
    boxes = np.stack([_extents(c) for c in ax.collections], axis=1)  # bar, level, extent
    assert boxes.shape[:2] == (len(shares), len(levels))
    # the bars in the order drawn: per item of the instrument, marketing then sales
    order = [
        (item, role)
        for item in inst.item_ids
        for role in ("marketing", "sales")
        if (item, role) in shares.index
    ]
    widths = boxes[:, :, 1] - boxes[:, :, 0]
    np.testing.assert_allclose(widths, shares.loc[order].to_numpy(float), atol=1e-12)
    # level after level without gap or overlap, one height per bar
    np.testing.assert_allclose(boxes[:, 1:, 0], boxes[:, :-1, 1], atol=1e-12)
    np.testing.assert_allclose(boxes[:, :, 3] - boxes[:, :, 2], 0.38, atol=1e-12)
    # the middle answer (odd scales) split evenly across zero
    mid = len(levels) // 2
    np.testing.assert_allclose(boxes[:, mid, 0] + boxes[:, mid, 1], 0, atol=1e-12)
    # one colour per level
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == len(levels)


def test_every_bar_is_inside_the_axes(drawn):
    ax, _, _ = drawn
    low, high = sorted(ax.get_ylim())
    for collection in ax.collections:
        box = _extents(collection)
        assert (box[:, 2] > low).all() and (box[:, 3] < high).all()
        assert (box[:, 0] >= -1).all() and (box[:, 1] <= 1).all()
    assert ax.yaxis_inverted()  # the first item at the top
