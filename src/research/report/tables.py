"""Writing a report's pieces: tables (CSV, safe to open in a spreadsheet), figures (PNG) and text.

Numbers are never rounded here; rounding is a presentation choice made by :func:`show`.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-0.5"), neutralise("-call me")
    ('\\'=HYPERLINK("http://x")', '-0.5', "'-call me")
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise, na_action="ignore")
    return out


def save_table(frame: pd.DataFrame, out, name: str) -> Path:
    """Write ``frame`` to ``OUT/tables/NAME.csv`` (UTF-8, no index, formula-safe text); return the path."""
    folder = Path(out) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    safe_for_spreadsheet(frame).to_csv(path, index=False)
    return path


def save_figure(fig, out, name: str) -> Path:
    """Write a matplotlib figure to ``OUT/figures/NAME.png`` at 144 dpi; return the path."""
    folder = Path(out) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=144, bbox_inches="tight")
    return path


def show_figure(fig, out, name: str):
    """Save a figure to ``OUT/figures/NAME.png`` and show that same PNG (one rendering, not two); close it.

    Returns the IPython ``Image`` to display, so a notebook cell can end with this call.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image

    path = save_figure(fig, out, name)
    plt.close(fig)
    return Image(filename=str(path), width=min(900, int(fig.get_figwidth() * 110)))


def show(frame: pd.DataFrame, digits: int = 2, max_rows: int = 60):
    """Display a table rounded for reading, with every text cell HTML-escaped by pandas' Styler."""
    shown = frame.head(max_rows)
    return shown.style.format(precision=digits, na_rep="–", escape="html").hide(axis="index")


def escape(text) -> str:
    """HTML-escape any text that comes from the data."""
    return html.escape("" if text is None else str(text))
