"""Every figure of the reports, one function each, returning a matplotlib Figure.

Colours come from the Okabe–Ito palette, which readers with any common colour-vision deficiency can
tell apart: marketing is always blue (#0072B2) and sales always orange (#E69F00), on every page and
figure. Axis and tick labels are the instrument's and codebook's labels, never ids; item ticks carry
the item's wording beside its id (shortened and wrapped); legends sit outside the data.
"""

from __future__ import annotations

import matplotlib

if (
    not matplotlib.get_backend().lower().startswith(("module://", "inline"))
):  # no display outside a notebook
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from research.report.tables import FIGURE_DPI  # noqa: E402

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
ROLE_COLORS = {"marketing": OKABE_ITO["blue"], "sales": OKABE_ITO["orange"]}
ROLE_MARKERS = {"marketing": "o", "sales": "s"}
BAND_COLORS = [
    "#f4f4f4",
    "#e9e9e9",
    "#dedede",
    "#d3d3d3",
]  # light greys: the band's name says which it is
INK = "#1d2433"

sns.set_theme(style="whitegrid", context="notebook")


def _subplots(figsize: tuple[float, float]):
    """A figure and its axes at the resolution the report draws them at (144 dpi, not matplotlib's
    100): text is measured for the layout at the resolution it is drawn at, and matplotlib keeps
    those measurements for the drawing (per renderer and resolution) instead of measuring twice."""
    return plt.subplots(figsize=figsize, dpi=FIGURE_DPI)


def _title(ax, text: str, **kw) -> None:
    """``ax.set_title`` at the top of the axes, where matplotlib would place it: given its height,
    matplotlib does not search for tick labels above the axes (these figures have none there), a
    search that measures the whole y axis again at every layout and drawing."""
    ax.set_title(text, y=1.0, **kw)


def _lay_out(fig) -> None:
    """``fig.tight_layout()``; every axes title and x-axis label kept within the figure's width.

    tight_layout cannot keep a centred title (or label) that is wider than its axes inside the
    figure: shrinking the axes for it moves its centre only half as far. Such a text is moved
    sideways just enough to lie within the figure (wrapped first when wider than the figure), so
    the figure is drawn once as it is rather than saved moved to show what lies outside it.
    """
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    texts = [(ax, t) for ax in fig.axes for t in (ax.title, ax.xaxis.label) if t.get_text()]
    if any([_wrapped_to_fit(t, fig.bbox.width, renderer) for _, t in texts]):  # each, not the first
        fig.tight_layout()
    for ax, text in texts:
        box = text.get_window_extent(renderer)
        # a pixel's margin: the crop's own measurement of the text may round the other way
        shift = max(0.0, 1 - box.x0) - max(0.0, box.x1 - fig.bbox.width + 1)
        if shift:
            text.set_x(text.get_position()[0] + shift / ax.bbox.width)


def _wrapped_to_fit(text, width: float, renderer) -> bool:
    """Wrap ``text`` onto more lines when it is wider than ``width`` pixels; whether it was."""
    import textwrap

    box = text.get_window_extent(renderer)
    if box.width <= width - 2:
        return False
    words = text.get_text().replace("\n", " ")
    text.set_text(textwrap.fill(words, max(1, int(len(words) * (width - 2) / box.width) - 1)))
    return True


def _error_bars(estimate, low, high) -> list[np.ndarray]:
    """Error-bar lengths below and above each estimate, never negative (an interval that does not
    hold its estimate, such as a percentile bootstrap's, or a rounding hair below it, draws no bar
    on that side)."""
    estimate, low, high = (np.asarray(v, float) for v in (estimate, low, high))
    return [np.clip(estimate - low, 0, None), np.clip(high - estimate, 0, None)]


def _labels(instrument) -> dict[str, str]:
    labels = {s["id"]: s.get("label", s["id"]) for s in instrument.subscales}
    if instrument.total:
        labels[instrument.total["id"]] = instrument.total.get("label") or "total score"
    return labels


def item_tick(item, width: int = 44, lines: int = 2) -> str:
    """An item's tick label: its id, (R) when reverse-keyed, and its wording shortened and wrapped.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> print(item_tick(NS(id="SMR02", reverse=True,
    ...                    text="When the numbers disappoint, each side points at the other."), 30))
    SMR02 (R) When the numbers
    disappoint, each side points…
    """
    import textwrap

    head = item.id + (" (R)" if getattr(item, "reverse", False) else "")
    text = " ".join(str(getattr(item, "text", "") or "").split())
    if not text:
        return head
    wrapped = textwrap.wrap(f"{head} {text}", width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip(" ,;:.") + "…"
    return "\n".join(wrapped)


def _legend_below(ax, handles=None, ncol: int = 2, **kw):
    """A legend under the axes, outside the data."""
    return ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=ncol,
        frameon=False,
        fontsize=8.5,
        **kw,
    )


def _role_handles(marker: str = "o") -> list:
    return [
        matplotlib.lines.Line2D(
            [], [], color=ROLE_COLORS[r], marker=marker, linestyle="", markersize=7, label=r
        )
        for r in ("marketing", "sales")
    ]


def score_distribution(scores: pd.DataFrame, instrument) -> plt.Figure:
    """Each respondent's total (or first scale) by role, over the instrument's bands."""
    scale = instrument.total["id"] if instrument.total else instrument.subscale_ids[0]
    part = scores[(scores["instrument"] == instrument.id) & scores[scale].notna()]
    fig, ax = _subplots(figsize=(7, 3.8))
    if instrument.total:
        bands = instrument.total["bands"]
        top = instrument.scale_max * len(instrument.items)
        for i, band in enumerate(bands):
            upper = bands[i + 1]["min"] if i + 1 < len(bands) else top
            ax.axhspan(band["min"], upper, color=BAND_COLORS[i % len(BAND_COLORS)], zorder=0)
            ax.text(
                1.52,
                (band["min"] + upper) / 2,
                band["label"],
                va="center",
                fontsize=9,
                color="#4a5568",
            )
    order = [r for r in ("marketing", "sales") if r in set(part["role"])]
    by_role = {
        "data": part,
        "x": "role",
        "y": scale,
        "order": order,
        "hue": "role",
        "palette": ROLE_COLORS,
        "ax": ax,
        "legend": False,
    }
    sns.boxplot(**by_role, width=0.45, fliersize=0, boxprops={"alpha": 0.55})
    sns.stripplot(**by_role, size=4, jitter=0.18)
    ax.set_xlim(-0.6, 1.9)
    ax.set_xlabel("")
    ax.set_ylabel(_labels(instrument).get(scale, scale))
    _title(ax, f"{instrument.title}: each respondent's score by function")
    _lay_out(fig)
    return fig


def stage_bars(counts: pd.DataFrame) -> plt.Figure:
    """Respondents per stage (band), marketing and sales side by side."""
    fig, ax = _subplots(figsize=(7, 3.5))
    sns.barplot(data=counts, x="band", y="n", hue="role", palette=ROLE_COLORS, ax=ax)
    ax.set_xlabel("stage")
    ax.set_ylabel("respondents")
    _title(ax, "Where respondents place the relationship")
    ax.legend(title="", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _lay_out(fig)
    return fig


def likert_shares(responses: pd.DataFrame, instrument, column: str = "keyed") -> pd.DataFrame:
    """Share of each response level per item and role, every level of the scale present (empty
    levels as 0)."""
    levels = np.arange(instrument.scale_min, instrument.scale_max + 1)
    part = responses[(responses["instrument"] == instrument.id) & responses[column].notna()]
    counts = part.groupby(["item", "role"])[column].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=levels, fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    return shares


def _likert_rows(shares: pd.DataFrame, items: list) -> tuple[np.ndarray, list, list]:
    """The Likert bars' rows: (shares per level, y position, role), marketing above sales."""
    rows, ys, roles = [], [], []
    for y, item in enumerate(items):
        for role, dy in (("marketing", -0.2), ("sales", 0.2)):
            if (item, role) in shares.index:
                rows.append(shares.loc[(item, role)].to_numpy(float))
                ys.append(y + dy)
                roles.append(role)
    return np.array(rows).reshape(-1, shares.shape[1]), ys, roles


def _likert_stacks(ax, data: np.ndarray, ys: list, colors) -> None:
    """Stack the levels left to right, disagreement left of zero (the middle split across it)."""
    k = data.shape[1]
    mid = (k - 1) / 2
    left = -(data[:, : int(np.floor(mid))].sum(axis=1) + (data[:, int(mid)] / 2 if k % 2 else 0))
    for j in range(k):  # one collection per response level, all bars at once
        bars = [
            matplotlib.patches.Rectangle((x0, y - 0.19), width, 0.38)
            for x0, y, width in zip(left, ys, data[:, j], strict=True)
        ]
        ax.add_collection(
            matplotlib.collections.PatchCollection(bars, facecolor=colors[j], linewidth=0)
        )
        left = left + data[:, j]


def _likert_legend(ax, labels: list, colors, n_items: int) -> None:
    """The answer levels' legend under the axes."""
    k = len(labels)
    handles = [matplotlib.patches.Patch(color=colors[j], label=labels[j]) for j in range(k)]
    ax.legend(
        handles=handles,
        ncol=min(k, 4),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06 if n_items > 6 else -0.15),
        fontsize=8,
        frameon=False,
    )


def likert_bars(responses: pd.DataFrame, instrument) -> plt.Figure:
    """Diverging stacked bars: per item, marketing above sales, disagreement left of zero, agreement
    right.

    The middle level (odd scales) is split evenly across zero. Levels nobody chose take no room but
    keep their colour, so bars of different items line up level by level.
    """
    shares = likert_shares(responses, instrument)
    levels = list(shares.columns)
    # diverging, colour-blind safe, apart from the role colours
    colors = sns.color_palette("BrBG", len(levels))
    items = [i for i in instrument.item_ids if i in shares.index.get_level_values(0)]
    reverse = {it.id for it in instrument.items if it.reverse}
    data, ys, roles = _likert_rows(shares, items)
    fig, ax = _subplots(figsize=(9.5, 0.72 * len(items) + 1.8))
    _likert_stacks(ax, data, ys, colors)
    for y, role in zip(ys, roles, strict=True):
        ax.text(
            1.02,
            y,
            role[0].upper(),
            va="center",
            fontsize=7,
            color=ROLE_COLORS[role],
            transform=ax.get_yaxis_transform(),
        )
    ax.axvline(0, color="#333", linewidth=0.8)
    by_id = {it.id: it for it in instrument.items}
    ax.set_yticks(
        range(len(items)),
        [
            item_tick(by_id[i]) if i in by_id else i + (" (R)" if i in reverse else "")
            for i in items
        ],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_xlim(-1, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
    _likert_legend(ax, list(instrument.labels) or [f"{v:g}" for v in levels], colors, len(items))
    _title(ax, f"{instrument.title}: answers by item (M marketing, S sales)", fontsize=11)
    ax.grid(axis="y", visible=False)
    _lay_out(fig)
    return fig


def dumbbell(pairs: pd.DataFrame, scale_label: str) -> plt.Figure:
    """One line per matched company from sales' score to marketing's, companies ordered by their
    mean."""
    p = pairs.assign(mid=(pairs["marketing"] + pairs["sales"]) / 2).sort_values("mid")
    fig, ax = _subplots(figsize=(7, 0.22 * len(p) + 1.4))
    y = np.arange(len(p))
    ax.hlines(y, p["sales"], p["marketing"], color="#a0aec0", linewidth=1.5)
    ax.scatter(
        p["marketing"],
        y,
        color=ROLE_COLORS["marketing"],
        marker=ROLE_MARKERS["marketing"],
        label="marketing",
        zorder=3,
        s=24,
    )
    ax.scatter(
        p["sales"],
        y,
        color=ROLE_COLORS["sales"],
        marker=ROLE_MARKERS["sales"],
        label="sales",
        zorder=3,
        s=24,
    )
    ax.set_yticks(y, p["company_id"], fontsize=7)
    ax.set_ylim(-0.8, len(p) - 0.2)
    ax.set_xlabel(scale_label)
    _title(ax, "Matched companies: how each function rates the same relationship")
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=8.5,
        borderaxespad=1.6,
    )
    _lay_out(fig)
    return fig


def bland_altman_plot(points: pd.DataFrame, limits: dict, scale_label: str) -> plt.Figure:
    """Difference (marketing minus sales) against the pair's mean, with the bias and 95% limits of
    agreement."""
    fig, ax = _subplots(figsize=(7, 4))
    ax.scatter(points["mean"], points["diff"], color="#4a5568", s=22)
    for value, style, text in (
        (limits["bias"], "-", "bias"),
        (limits["loa_low"], "--", "−1.96 SD"),
        (limits["loa_high"], "--", "+1.96 SD"),
    ):
        if np.isfinite(value):
            ax.axhline(
                value,
                linestyle=style,
                color="#c53030" if text == "bias" else "#718096",
                linewidth=1,
            )
            ax.text(
                1.01,
                value,
                f"{text} {value:.1f}",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=8,
            )
    ax.axhline(0, color="#cbd5e0", linewidth=0.8)
    ax.set_xlabel(f"mean of the two functions ({scale_label})")
    ax.set_ylabel("marketing minus sales")
    _title(ax, "Gap between the functions within each company (Bland–Altman)")
    _lay_out(fig)
    return fig


def forest(rows: pd.DataFrame, label_col: str, title: str) -> plt.Figure:
    """Effect sizes with their intervals: one row per comparison, ``effect_size``, ``ci_low``,
    ``ci_high``, ``effect``."""
    r = rows.dropna(subset=["effect_size"]).reset_index(drop=True)
    fig, ax = _subplots(figsize=(7, 0.34 * len(r) + 1.4))
    y = np.arange(len(r))
    ax.errorbar(
        r["effect_size"],
        y,
        xerr=_error_bars(r["effect_size"], r["ci_low"], r["ci_high"]),
        fmt="o",
        color="#2d3748",
        ecolor="#a0aec0",
        capsize=2,
        markersize=4,
    )
    ax.axvline(0, color="#c53030", linewidth=0.8)
    ax.set_yticks(y, r[label_col], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("effect size and 95% interval (positive: marketing higher)")
    _title(ax, title)
    _lay_out(fig)
    return fig


def perception_plot(gaps: pd.DataFrame) -> plt.Figure:
    """For each dimension and function rated: its own people's view and the other function's
    view."""
    import textwrap

    g = gaps.reset_index(drop=True)
    other = {"marketing": "sales", "sales": "marketing"}
    g["row"] = [
        textwrap.fill(f"{d.replace('_', ' ')}: {r} rated", 38)
        for d, r in zip(g["dimension"], g["rated_function"], strict=True)
    ]
    fig, ax = _subplots(figsize=(7.5, 0.42 * len(g) + 1.9))
    y = np.arange(len(g))
    ax.hlines(y, g["other_view"], g["self_view"], color="#a0aec0")
    for rated in ("marketing", "sales"):
        rows = g["rated_function"] == rated
        ax.scatter(
            g.loc[rows, "self_view"],
            y[rows],
            marker=ROLE_MARKERS[rated],
            color=ROLE_COLORS[rated],
            zorder=3,
            s=34,
            label=f"{rated} rating itself",
        )
        ax.scatter(
            g.loc[rows, "other_view"],
            y[rows],
            marker=ROLE_MARKERS[other[rated]],
            facecolor="white",
            edgecolor=ROLE_COLORS[other[rated]],
            linewidth=1.6,
            zorder=3,
            s=34,
            label=f"{other[rated]} rating {rated}",
        )
    ax.set_yticks(y, g["row"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mean rating (colour and shape: who rates; filled: the function rates itself)")
    _title(ax, "Thought worlds: self-view against the other function's view")
    _legend_below(ax, ncol=2)
    _lay_out(fig)
    return fig


def theme_prevalence(table: pd.DataFrame, unit: str = "interviews") -> plt.Figure:
    """Share of interviews (or answers) with each theme, by role, with Wilson 95% intervals."""
    t = table.iloc[::-1].reset_index(drop=True)
    fig, ax = _subplots(figsize=(7.5, 0.36 * len(t) + 1.6))
    y = np.arange(len(t))
    for role, dy in (("marketing", 0.17), ("sales", -0.17)):
        share = t[f"share_{role}"]
        if share.isna().all():
            continue
        ax.errorbar(
            share,
            y + dy,
            xerr=_error_bars(share, t[f"share_{role}_ci_low"], t[f"share_{role}_ci_high"]),
            fmt=ROLE_MARKERS[role],
            color=ROLE_COLORS[role],
            ecolor=ROLE_COLORS[role],
            alpha=0.9,
            capsize=2,
            markersize=5,
            label=role,
        )
    ax.set_yticks(y, t["label"], fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(f"share of {unit} raising the theme (95% Wilson interval)")
    _title(ax, "What each function talks about")
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=8.5,
        borderaxespad=1.6,
    )
    _lay_out(fig)
    return fig


def theme_heatmap(matrix: pd.DataFrame) -> plt.Figure:
    """Theme × role heatmap of the share of segments coded with each theme (NVivo's matrix
    coding)."""
    grid = matrix.pivot(index="label", columns="role", values="segment_share")
    order = matrix.drop_duplicates("label")["label"]
    return _share_heatmap(
        grid.reindex(order), "Blues", "Share of segments coded with each theme", "", width=5
    )


def _heatmap(ax, grid: pd.DataFrame, cmap: str) -> None:
    """What ``sns.heatmap(grid, annot=True, fmt=".0%", cmap=cmap, cbar=False, linewidths=0.5)``
    draws, step by step as seaborn 0.13 does it, without its drawing of the whole figure to learn
    whether tick labels overlap: they are measured instead (a tenth of the drawing's cost)."""
    from seaborn.utils import axis_ticklabels_overlap, relative_luminance

    values = np.ma.masked_where(grid.isna().to_numpy(), grid.to_numpy(float))
    rows, cols = values.shape
    sns.despine(ax=ax, left=True, bottom=True)
    mesh = ax.pcolormesh(
        values,
        cmap=matplotlib.colormaps[cmap],
        vmin=np.nanmin(values.filled(np.nan)),
        vmax=np.nanmax(values.filled(np.nan)),
        linewidths=0.5,
        edgecolor="white",
    )
    ax.set(xlim=(0, cols), ylim=(0, rows))
    ax.invert_yaxis()
    xticks, xlabels = _auto_ticks(ax, list(grid.columns), ax.xaxis)
    yticks, ylabels = _auto_ticks(ax, list(grid.index), ax.yaxis)
    ax.set(xticks=xticks, yticks=yticks)
    xtl = ax.set_xticklabels(xlabels)
    ytl = ax.set_yticklabels(ylabels, rotation="vertical", va="center")
    ax.get_tightbbox(ax.figure.canvas.get_renderer())  # places the tick labels, as drawing does
    if axis_ticklabels_overlap(xtl):
        plt.setp(xtl, rotation="vertical")
    if axis_ticklabels_overlap(ytl):
        plt.setp(ytl, rotation="horizontal")
    ax.set(xlabel=grid.columns.name or "", ylabel=grid.index.name or "")
    mesh.update_scalarmappable()
    cells = zip(np.ndindex(rows, cols), values.flat, mesh.get_facecolors(), strict=True)
    for (y, x), value, colour in cells:
        if value is not np.ma.masked:
            ink = ".15" if relative_luminance(colour) > 0.408 else "w"
            ax.text(x + 0.5, y + 0.5, f"{value:.0%}", color=ink, ha="center", va="center")


def _auto_ticks(ax, labels: list, axis) -> tuple[list, list]:
    """seaborn's ticks of a heatmap's side: every label, or every k-th when one font size apart
    they would not all fit the axes."""
    size = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
    size = size.width if axis is ax.xaxis else size.height
    (tick,) = axis.set_ticks([0])
    most = int(size // (tick.label1.get_size() / 72))
    if most < 1:
        return [], []
    every = len(labels) // most + 1
    return list(np.arange(0, len(labels), every) + 0.5), labels[::every]


def _share_heatmap(
    grid: pd.DataFrame, cmap: str, title: str, xlabel: str, width: float
) -> plt.Figure:
    """A heatmap of shares, one row per theme, annotated in percent."""
    fig, ax = _subplots(figsize=(width, 0.34 * len(grid) + 1.5))
    _heatmap(ax, grid, cmap)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    _title(ax, title)
    _lay_out(fig)
    return fig


def company_map(summary: pd.DataFrame, instrument) -> plt.Figure:
    """Each company's total (x) against the gap between its functions (y), over the instrument's
    bands."""
    s = summary[summary["instrument"] == instrument.id]
    fig, ax = _subplots(figsize=(7.5, 4.2))
    bands = instrument.total["bands"]
    top = instrument.scale_max * len(instrument.items)
    for i, band in enumerate(bands):
        upper = bands[i + 1]["min"] if i + 1 < len(bands) else top
        ax.axvspan(band["min"], upper, color=BAND_COLORS[i % len(BAND_COLORS)], zorder=0)
        ax.text(
            (band["min"] + upper) / 2,
            1.01,
            band["label"],
            transform=ax.get_xaxis_transform(),
            ha="center",
            fontsize=9,
        )
    both = s.dropna(subset=["gap"])
    ax.scatter(both["total"], both["gap"], color="#2d3748", s=26, zorder=3)
    ax.axhline(0, color="#718096", linewidth=0.8)
    ax.axhspan(-10, 10, color="#a0aec0", alpha=0.15, zorder=1)
    ax.set_xlim(instrument.scale_min * len(instrument.items), top)
    ax.set_xlabel("company total (mean of the two functions)")
    ax.set_ylabel("gap: marketing minus sales")
    _title(ax, "Companies by stage and by how differently their two functions see it", pad=18)
    _lay_out(fig)
    named = both[both["gap"].abs() >= 20]
    place_labels(
        ax,
        named["total"].to_numpy(float),
        named["gap"].to_numpy(float),
        list(named["company_id"]),
        both["total"].to_numpy(float),
        both["gap"].to_numpy(float),
    )
    return fig


_CANDIDATES = [
    (4, 4, "left", "bottom"),
    (4, -4, "left", "top"),
    (-4, 4, "right", "bottom"),
    (-4, -4, "right", "top"),
    (0, 7, "center", "bottom"),
    (0, -7, "center", "top"),
    (9, 0, "left", "center"),
    (-9, 0, "right", "center"),
]


def place_labels(ax, xs, ys, texts, all_x=None, all_y=None, fontsize: float = 7) -> list:
    """Label points so that no label overlaps another label, a point or the axes' edge: for each
    point the first free spot of eight around it, then the same spots farther out with a leader
    line. Returns the annotations (a label with no free spot is left out rather than drawn over
    another)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    points = ax.transData.transform(
        np.column_stack([all_x if all_x is not None else xs, all_y if all_y is not None else ys])
    )
    frame = ax.get_window_extent(renderer)
    taken = [
        matplotlib.transforms.Bbox.from_extents(px - 3, py - 3, px + 3, py + 3) for px, py in points
    ]
    placed = []
    for x, y, text in sorted(zip(xs, ys, texts, strict=True), key=lambda t: -abs(t[1])):
        for scale in (1, 2.5, 4, 6, 8):
            done = False
            for dx, dy, ha, va in _CANDIDATES:
                ann = ax.annotate(
                    str(text),
                    (x, y),
                    xytext=(dx * scale, dy * scale),
                    textcoords="offset points",
                    fontsize=fontsize,
                    ha=ha,
                    va=va,
                    zorder=4,
                    arrowprops={"arrowstyle": "-", "color": "#718096", "lw": 0.6}
                    if scale > 1
                    else None,
                )
                ann.update_positions(renderer)
                box = matplotlib.text.Text.get_window_extent(ann, renderer).expanded(
                    1.04, 1.15
                )  # not the leader
                inside = (
                    frame.x0 <= box.x0
                    and box.x1 <= frame.x1
                    and frame.y0 <= box.y0
                    and box.y1 <= frame.y1
                )
                if inside and not any(box.overlaps(t) for t in taken):
                    taken.append(box)
                    placed.append(ann)
                    done = True
                    break
                ann.remove()
            if done:
                break
    return placed


def stage_theme_heatmap(table: pd.DataFrame, band_order: list[str]) -> plt.Figure:
    """Joint display: share of interviews raising each theme (rows) by the company's stage
    (columns)."""
    grid = table.pivot(index="label", columns="band", values="share")
    grid = grid.reindex(
        index=table.drop_duplicates("label")["label"],
        columns=[b for b in band_order if b in grid.columns],
    )
    counts = table.drop_duplicates("band").set_index("band")["interviews"]
    grid.columns = [f"{b}\n(n = {counts[b]})" for b in grid.columns]
    return _share_heatmap(
        grid,
        "Purples",
        "What interviewees raise, by their company's stage",
        "company stage",
        width=6.5,
    )


def response_surface_plot(
    row: dict, pairs: pd.DataFrame, midpoint: float, scale_label: str
) -> plt.Figure:
    """Contour map of the fitted response surface of one outcome over the two functions' totals,
    with the matched companies, the line of congruence (marketing = sales) and the line of
    incongruence."""
    x = pairs["marketing"].to_numpy(float) - midpoint
    y = pairs["sales"].to_numpy(float) - midpoint
    lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    pad = 0.05 * (hi - lo or 1)
    grid = np.linspace(lo - pad, hi + pad, 80)
    gx, gy = np.meshgrid(grid, grid)
    z = (
        row["b0"]
        + row["b1"] * gx
        + row["b2"] * gy
        + row["b3"] * gx**2
        + row["b4"] * gx * gy
        + row["b5"] * gy**2
    )
    fig, ax = _subplots(figsize=(6.2, 5.2))
    filled = ax.contourf(gx + midpoint, gy + midpoint, z, levels=12, cmap="viridis", alpha=0.85)
    fig.colorbar(filled, ax=ax, label=f"predicted {str(row['outcome']).replace('_', ' ')}")
    ax.scatter(
        x + midpoint,
        y + midpoint,
        color="white",
        edgecolor="#1a202c",
        s=26,
        zorder=3,
        label="companies",
    )
    ends = np.array([lo - pad, hi + pad]) + midpoint
    ax.plot(ends, ends, color="#1a202c", linewidth=1, linestyle="-", label="marketing = sales")
    ax.plot(
        ends,
        2 * midpoint - ends,
        color="#1a202c",
        linewidth=1,
        linestyle="--",
        label="marketing = −sales (centred)",
    )
    ax.set_xlim(ends)
    ax.set_ylim(ends)
    ax.set_xlabel(f"marketing's {scale_label}")
    ax.set_ylabel(f"sales' {scale_label}")
    _title(ax, f"Response surface: {str(row['outcome']).replace('_', ' ')}")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncol=3, fontsize=8, frameon=False)
    _lay_out(fig)
    return fig


def item_labels(instrument, ids, width: int | None = None) -> list[str]:
    """``SMR02 (R) When the numbers disappoint, …`` for each item id: the id, (R) when reverse-keyed
    and the wording (shortened to ``width`` characters when given); an id the instrument does not
    hold stays as it is."""
    by_id = {it.id: it for it in instrument.items}
    out = []
    for i in ids:
        item = by_id.get(i)
        if item is None:
            out.append(str(i))
            continue
        text = " ".join(str(item.text or "").split())
        if width and len(text) > width:
            text = text[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
        out.append(f"{item.id}{' (R)' if item.reverse else ''} {text}".strip())
    return out
