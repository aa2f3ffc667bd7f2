"""Every figure of the reports, one function each, returning a matplotlib Figure.

Colours: marketing is blue, sales is orange, everywhere.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if not matplotlib.get_backend().lower().startswith(("module://", "inline")) else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

ROLE_COLORS = {"marketing": "#2b6cb0", "sales": "#dd6b20"}
BAND_COLORS = ["#fde2e1", "#fef3c7", "#dcfce7", "#dbeafe"]

sns.set_theme(style="whitegrid", context="notebook")


def score_distribution(scores: pd.DataFrame, instrument) -> plt.Figure:
    """Each respondent's total (or first scale) by role, over the instrument's bands."""
    scale = instrument.total["id"] if instrument.total else instrument.subscale_ids[0]
    part = scores[(scores["instrument"] == instrument.id) & scores[scale].notna()]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    if instrument.total:
        bands = instrument.total["bands"]
        top = instrument.scale_max * len(instrument.items)
        for i, band in enumerate(bands):
            upper = bands[i + 1]["min"] if i + 1 < len(bands) else top
            ax.axhspan(band["min"], upper, color=BAND_COLORS[i % len(BAND_COLORS)], zorder=0)
            ax.text(1.52, (band["min"] + upper) / 2, band["label"], va="center", fontsize=9, color="#4a5568")
    order = [r for r in ("marketing", "sales") if r in set(part["role"])]
    sns.boxplot(data=part, x="role", y=scale, order=order, hue="role", palette=ROLE_COLORS, width=0.45,
                fliersize=0, ax=ax, legend=False, boxprops={"alpha": 0.55})
    sns.stripplot(data=part, x="role", y=scale, order=order, hue="role", palette=ROLE_COLORS, size=4, jitter=0.18,
                  ax=ax, legend=False)
    ax.set_xlim(-0.6, 1.9)
    ax.set_xlabel("")
    ax.set_ylabel(instrument.total["label"] if instrument.total else scale)
    ax.set_title(f"{instrument.title}: each respondent's score by function")
    fig.tight_layout()
    return fig


def stage_bars(counts: pd.DataFrame) -> plt.Figure:
    """Respondents per stage (band), marketing and sales side by side."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.barplot(data=counts, x="band", y="n", hue="role", palette=ROLE_COLORS, ax=ax)
    ax.set_xlabel("stage")
    ax.set_ylabel("respondents")
    ax.set_title("Where respondents place the relationship")
    ax.legend(title="")
    fig.tight_layout()
    return fig
