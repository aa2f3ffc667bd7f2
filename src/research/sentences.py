"""Plain-language and APA-style sentences built from result rows, for readers who never open Python."""

from __future__ import annotations

import math

import pandas as pd

from .report import escape


def fmt_p(p) -> str:
    """APA p-value: ``p = .032``, ``p < .001``; no leading zero.

    Examples
    --------
    >>> fmt_p(0.0321), fmt_p(0.00001), fmt_p(float("nan"))
    ('p = .032', 'p < .001', 'p not computed')
    """
    if p is None or pd.isna(p):
        return "p not computed"
    if p < 0.001:
        return "p < .001"
    return f"p = {p:.3f}".replace("0.", ".", 1)


def fmt_num(x, digits: int = 2) -> str:
    """A number for prose (``–`` when missing); drops the leading zero for values bounded by 1 is *not* done here."""
    if x is None or pd.isna(x):
        return "–"
    return f"{x:.{digits}f}"


def share(x) -> str:
    """A share as a whole percentage."""
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def study_intro(study) -> str:
    r = study.respondents
    return (f"**{escape(study.name)}**: {plural(len(r), 'respondent')} from {plural(r['company_id'].nunique(), 'company', 'companies')}, "
            f"{plural(len(study.instruments), 'instrument')} ({', '.join(escape(i.title) for i in study.instruments)}), "
            f"{plural(len(study.interviews), 'interview')} read.")


def sample_sentence(sample: pd.DataFrame) -> str:
    get = sample.set_index("role")
    parts = []
    for role in ("marketing", "sales"):
        if role in get.index:
            row = get.loc[role]
            parts.append(f"{plural(int(row['respondents']), role + ' respondent')} ({int(row['with_survey'])} with survey answers, "
                         f"{plural(int(row['interviews']), 'interview')})")
    return "The study holds " + " and ".join(parts) + "."


def coverage_sentence(coverage: pd.DataFrame) -> str:
    by = coverage.groupby("coverage")["companies"].sum()
    both = int(by.get("both functions", 0))
    one = int(by.get("marketing only", 0) + by.get("sales only", 0))
    total = both + one
    return (f"{both} of {total} companies have answers from both functions and can be compared as matched pairs; "
            f"{plural(one, 'company', 'companies')} only one side answered, so they count in the role comparisons but not in the paired ones.")


def quality_sentence(quality: pd.DataFrame) -> str:
    if quality.empty:
        return "No data-quality problems were found."
    counts = quality["problem"].value_counts()
    listed = ", ".join(f"{v} × `{k}`" for k, v in counts.items())
    return (f"{plural(len(quality), 'problem')} were found and handled as the table says ({listed}). "
            "The full list, one row per problem with the file, record and column, is in `tables/data_quality.csv`.")


def stage_sentence(counts: pd.DataFrame, instrument) -> str:
    if counts.empty:
        return ""
    parts = []
    for role, grp in counts.groupby("role"):
        top = grp.sort_values("n", ascending=False).iloc[0]
        parts.append(f"{role} respondents most often place the relationship at **{escape(top['band'])}** ({share(top['share'])})")
    return "; ".join(parts) + f" ({escape(instrument.title)})."


def effect_words(effect: str, size) -> str:
    """Conventional size words (Cohen) for an effect, e.g. ``small``."""
    if size is None or pd.isna(size):
        return "not computed"
    a = abs(size)
    cuts = {"hedges-g": (0.2, 0.5, 0.8), "cohen-dz": (0.2, 0.5, 0.8), "cohen-h": (0.2, 0.5, 0.8),
            "rank-biserial": (0.1, 0.3, 0.5)}.get(effect, (0.2, 0.5, 0.8))
    return "negligible" if a < cuts[0] else "small" if a < cuts[1] else "medium" if a < cuts[2] else "large"


def apa_t(row, effect_symbol: str = "g") -> str:
    """``t(58.3) = -3.21, p = .002, g = -0.82`` from a comparison row."""
    if pd.isna(row.get("statistic")):
        return "not computed"
    df = row["df"]
    df_text = f"{df:.0f}" if float(df).is_integer() else f"{df:.1f}"
    return f"t({df_text}) = {row['statistic']:.2f}, {fmt_p(row['p'])}, {effect_symbol} = {row['effect_size']:.2f}"


def direction(diff, higher: str = "marketing", lower: str = "sales") -> str:
    if diff is None or pd.isna(diff) or math.isclose(diff, 0.0, abs_tol=1e-12):
        return "the same"
    return f"{higher} higher" if diff > 0 else f"{lower} higher"
