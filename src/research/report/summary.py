"""The manager's summary: the most important findings, in plain words, each with its base and its
figure.

Every finding is computed here from the study in memory (through the analysis façades), never read
back from files another notebook wrote, so the summary runs beside the other notebooks (within one
``research run`` the memoised façades hand it the tables another notebook already computed). A
finding's figure is drawn by the function that shows that finding (``Finding.draw``), not found by
a file name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.analysis import interviews, survey
from research.report import figures, prose
from research.report.tables import escape, render_figure


@dataclass
class Finding:
    """One finding: a plain-language ``title`` and ``text``, the statistics behind it for the
    analyst (``evidence``), and ``draw``, which returns the figure that shows it (or ``None``)."""

    title: str
    text: str
    evidence: str = ""
    draw: Callable | None = None
    caption: str = ""


def _drawn_once(draw: Callable) -> Callable:
    """``draw`` as a function that draws on its first call (the figure rendered, then closed) and
    returns that same drawing after, for a figure that shows two findings."""

    @functools.cache
    def drawn():
        import matplotlib.pyplot as plt

        fig = draw()
        image = render_figure(fig)
        plt.close(fig)
        return image

    return drawn


def _stages(summary: pd.DataFrame, instrument, company_map: Callable) -> Finding | None:
    s = summary[summary["instrument"] == instrument.id].dropna(subset=["band"])
    if s.empty:
        return None
    labels = [b["label"] for b in instrument.total["bands"]]
    counts = s["band"].value_counts().reindex(labels, fill_value=0)
    title, text = prose.stage_distribution(counts, len(s), "companies")
    top = labels[-1]
    text += " " + _at_top(int(counts[top]), len(s), escape(top))
    return Finding(
        title,
        text,
        "Stage = the band of the company total (each function's mean total, averaged)",
        company_map,
        "Each company's total against the gap between its two functions, over the stages.",
    )


def _at_top(k: int, n: int, top: str) -> str:
    """How many of the ``n`` companies are at the highest stage: ``None of the 7 companies is``,
    ``All 7 companies are``, ``1 of 7 companies is``."""
    if k == 0:
        return (
            f"None of the {n} companies is at the highest stage, {top}."
            if n > 1
            else f"The company is not at the highest stage, {top}."
        )
    if k == n:
        return (
            f"All {n} companies are at the highest stage, {top}."
            if n > 1
            else f"The company is at the highest stage, {top}."
        )
    return (
        f"{prose.count_of(k, n, 'company', 'companies')} {'is' if k == 1 else 'are'} at the "
        f"highest stage, {top}."
    )


def _dyad_gap(study, instrument, alpha: float) -> Finding | None:
    """The headline: the design-respecting comparison of the main scale (paired companies or the
    company random-intercept model), with how many matched companies each side rated higher."""
    scale = survey.main_scale(instrument)
    headline = survey.headline_table(study, alpha)
    rows = headline[(headline["instrument"] == instrument.id) & (headline["scale"] == scale)]
    if rows.empty or pd.isna(rows.iloc[0]["estimate"]):
        return None
    row = rows.iloc[0]
    pairs = survey.matched_pairs(study, instrument, scale)
    title, text = prose.headline_plain(row, alpha, prose.scale_label(scale, instrument), len(pairs))
    if len(pairs):
        text += " " + prose.who_higher_count(
            int((pairs["diff"] > 0).sum()), int((pairs["diff"] < 0).sum()), len(pairs)
        )
    return Finding(
        title,
        text,
        f"{row['design']}: t({prose.fmt_df(row['df'])}) = {prose.fmt_num(row['t'])}, "
        f"{prose.fmt_p(row['p_holm'], 'Holm-adjusted p')}; {row['design_reason']}",
        lambda: figures.dumbbell(pairs, prose.scale_label(scale, instrument)),
        "Each matched company: the marketing and the sales score on one line.",
    )


def _largest_scale(study, instrument, alpha: float) -> Finding | None:
    scales = survey.scale_table(study)
    sub = scales[(scales["instrument"] == instrument.id) & (scales["kind"] == "subscale")].dropna(
        subset=["effect_size"]
    )
    if sub.empty:
        return None
    row = sub.loc[sub["effect_size"].abs().idxmax()]
    title, text = prose.largest_scale_plain(row, alpha, prose.scale_label(row["scale"], instrument))
    return Finding(
        title,
        text,
        prose.apa_t(row, fractional=True) + f"; Holm-adjusted {prose.fmt_p(row['p_holm'])}",
        lambda: figures.forest(
            sub.assign(label=[prose.scale_label(s, instrument) for s in sub["scale"]]),
            "label",
            "Marketing minus sales, by subscale",
        ),
        "Difference between the functions on each subscale, with its 95% interval.",
    )


def _themes(study, alpha: float) -> Finding | None:
    if study.codebook is None or study.interviews.empty:
        return None
    coded = interviews.coded_segments(study)
    table = interviews.theme_table(study, coded).dropna(subset=["effect_size"])
    if table.empty:
        return None
    size = table["effect_size"].abs()
    if size.max() == 0:
        return None
    tied = table[np.isclose(size, size.max(), rtol=0, atol=1e-9)]
    if len(tied) > 1:  # no theme is singled out of a tie
        title, text = prose.themes_tied_plain(tied, alpha)
        evidence = (
            f"{len(tied)} themes tie at |h| = {prose.fmt_num(size.max())}; Holm-adjusted "
            f"{prose.fmt_p(tied['p_holm'].min())} at the smallest"
        )
        shown = table[table["theme"].isin(tied["theme"])]
        caption = (
            "Share of each function's interviews that raise the tied themes, with 95% intervals."
        )
    else:
        row = tied.iloc[0]
        title, text = prose.theme_plain(row, alpha)
        evidence = (
            f"Fisher's exact {prose.fmt_p(row['p'])}, Holm-adjusted "
            f"{prose.fmt_p(row['p_holm'])}, h = {prose.fmt_num(row['effect_size'])}"
        )
        shown = table[table["theme"] == row["theme"]]
        caption = "Share of each function's interviews that raise the theme, with 95% intervals."
    return Finding(title, text, evidence, lambda: figures.theme_prevalence(shown), caption)


def _advice(
    summary: pd.DataFrame, evaluation: pd.DataFrame, instrument, company_map: Callable
) -> Finding | None:
    if evaluation.empty:
        return None
    ev = evaluation[evaluation["instrument"] == instrument.id]
    title, text = prose.advice_plain(ev, summary[summary["instrument"] == instrument.id])
    return Finding(
        title,
        text,
        "Decision table: " + ", ".join(sorted(ev["rule"].unique())),
        company_map,
        "Companies by stage and gap; the advice for each is in report 05.",
    )


def _thought_worlds(study, alpha: float) -> Finding | None:
    gaps = survey.perception_gaps_table(study)
    if gaps.empty or gaps["effect_size"].dropna().empty:
        return None
    row = gaps.loc[gaps["effect_size"].abs().idxmax()]
    labels = survey.dimension_labels(study)
    title, text = prose.thought_world_plain(
        row, alpha, labels.get(row["dimension"], row["dimension"])
    )
    return Finding(
        title,
        text,
        f"t({prose.fmt_df(row['df'], fractional=True)}) = {prose.fmt_num(row['statistic'])}, "
        f"Holm-adjusted {prose.fmt_p(row['p_holm'])}, "
        f"g = {prose.fmt_num(row['effect_size'])}",
        lambda: figures.perception_plot(
            gaps.assign(dimension=gaps["dimension"].map(labels).fillna(gaps["dimension"]))
        ),
        "How each function rates itself and how the other function rates it, per trait.",
    )


def key_findings(study, alpha: float = 0.05, seed: int = 2026, n: int = 5) -> list[Finding]:
    """The ``n`` most important findings the study supports, in order of importance for a manager.

    When one function has no respondents, no finding compares marketing with sales; only the stages
    are reported (from the side that answered).
    """
    banded = [inst for inst in study.instruments if inst.total and inst.total.get("bands")]
    main = survey.main_instrument(study)
    summary, evaluation = survey.company_summary(study)  # memoised: 07 needs it too
    both = survey.both_functions_present(study)
    # the stages and the advice show the same company map: drawn once, shown twice
    company_map = _drawn_once(lambda: figures.company_map(summary, banded[0]))
    candidates = []  # each computed only when the findings before it leave room
    if banded:
        candidates.append(lambda: _stages(summary, banded[0], company_map))
    if both:
        candidates += [
            lambda: _dyad_gap(study, main, alpha),
            lambda: _largest_scale(study, main, alpha),
            lambda: _themes(study, alpha),
        ]
    if banded:
        candidates.append(lambda: _advice(summary, evaluation, banded[0], company_map))
    if both:
        candidates.append(lambda: _thought_worlds(study, alpha))
    findings = []
    for candidate in candidates:
        if len(findings) == n:
            break
        finding = candidate()
        if finding is not None:
            findings.append(finding)
    return findings
