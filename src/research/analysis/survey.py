"""Study-level survey analyses: each function runs one analysis over every instrument of a study and
returns one tidy table (the notebooks' one call per section).

The tables that several notebooks compute are :func:`~research.analysis.memo.memoised`: within one
``research run`` the first notebook to ask computes a table and the others read it back.
"""

from __future__ import annotations

import pandas as pd

from research.analysis import (
    agreement,
    assumptions,
    companies,
    compare,
    models,
    reliability,
    thoughtworlds,
)
from research.analysis.memo import memoised
from research.inputs.study import missing_functions  # noqa: F401  (the façades' vocabulary)


def _concat(frames) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def main_instrument(study):
    """The instrument the single-figure displays use: the first with a banded total, else the
    first."""
    return next((i for i in study.instruments if i.total), study.instruments[0])


def main_scale(instrument) -> str:
    return instrument.total["id"] if instrument.total else instrument.subscale_ids[0]


@memoised
def reliability_table(study) -> pd.DataFrame:
    """``reliability.csv`` over every instrument."""
    return _concat(reliability.reliability(study.responses, inst) for inst in study.instruments)


def item_statistics_table(study) -> pd.DataFrame:
    return _concat(reliability.item_statistics(study.responses, inst) for inst in study.instruments)


@memoised
def item_table(study, seed: int = 2026) -> pd.DataFrame:
    """``item_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(
        compare.item_comparison(study.responses, inst, seed=seed) for inst in study.instruments
    )


@memoised
def scale_table(study) -> pd.DataFrame:
    """``scale_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(compare.scale_comparison(study.scores, inst) for inst in study.instruments)


@memoised
def dyad_table(study) -> pd.DataFrame:
    """``dyad_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(compare.dyad_comparison(study.scores, inst) for inst in study.instruments)


def assumption_table(study, alpha: float = 0.05) -> pd.DataFrame:
    return _concat(
        assumptions.assumption_checks(study.scores, inst, alpha) for inst in study.instruments
    )


def agreement_table(study) -> pd.DataFrame:
    return _concat(
        agreement.agreement_summary(study.scores, study.responses, inst)
        for inst in study.instruments
    )


def ordinal_table(study) -> pd.DataFrame:
    return _concat(models.ordinal_logit(study.responses, inst) for inst in study.instruments)


def mixed_table(study) -> pd.DataFrame:
    return _concat(models.mixed_model(study.scores, inst) for inst in study.instruments)


def thought_world_instruments(study) -> list:
    return [inst for inst in study.instruments if thoughtworlds.has_thought_worlds(inst)]


def thought_worlds_tables(study, ss_type: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mixed ANOVA per dimension, perception gaps) over every thought-worlds instrument;
    ``ss_type`` 2 (pingouin's sums of squares) or 3 (as SPSS and afex report them)."""
    anovas, gaps = [], []
    for inst in thought_world_instruments(study):
        ratings = thoughtworlds.perception_ratings(study.responses, inst)
        anova = thoughtworlds.mixed_anova_by_dimension(ratings, ss_type=ss_type)
        anovas.append(anova.assign(instrument=inst.id))
        gaps.append(thoughtworlds.perception_gaps(ratings).assign(instrument=inst.id))
    return _concat(anovas), _concat(gaps)


def perception_gaps_table(study) -> pd.DataFrame:
    """The perception gaps of every thought-worlds instrument (the second table of
    :func:`thought_worlds_tables`), without fitting the mixed ANOVA."""
    return _concat(
        thoughtworlds.perception_gaps(
            thoughtworlds.perception_ratings(study.responses, inst)
        ).assign(instrument=inst.id)
        for inst in thought_world_instruments(study)
    )


def sensitivity_table(study, alpha: float = 0.05) -> pd.DataFrame:
    """Smallest detectable g and d_z for the main instrument's main scale at the study's n."""
    inst = main_instrument(study)
    scale = main_scale(inst)
    part = study.scores[(study.scores["instrument"] == inst.id) & study.scores[scale].notna()]
    n = part["role"].value_counts()
    pairs = compare.dyads(study.scores, inst)
    n_pairs = int((pairs["scale"] == scale).sum())
    return compare.sensitivity(
        int(n.get("marketing", 0)), int(n.get("sales", 0)), n_pairs, alpha=alpha
    )


def both_functions_present(study) -> bool:
    """Whether the study has respondents of both functions: without both, nothing compares them
    (SPEC §4)."""
    return set(study.respondents["role"].dropna().unique()) >= {"marketing", "sales"}


def matched_pairs(study, instrument=None, scale: str | None = None) -> pd.DataFrame:
    """The matched companies of one scale: companies with a score from both functions (the one
    definition used on every page), with each function's mean score and the difference (see
    :func:`compare.dyads`)."""
    instrument = instrument or main_instrument(study)
    scale = scale or main_scale(instrument)
    pairs = compare.dyads(study.scores, instrument)
    return pairs[pairs["scale"] == scale].reset_index(drop=True)


def dimension_labels(study) -> dict[str, str]:
    """Thought-worlds dimension ids mapped to their labels, from every instrument that defines
    them."""
    return {
        str(d["id"]): str(d.get("label", d["id"]))
        for inst in study.instruments
        for d in inst.dimensions
        if isinstance(d, dict) and "id" in d
    }


def scored_companies(study, instrument=None, scale: str | None = None) -> pd.Index:
    """Companies with a score on the main scale from at least one function."""
    instrument = instrument or main_instrument(study)
    scale = scale or main_scale(instrument)
    part = study.scores[(study.scores["instrument"] == instrument.id) & study.scores[scale].notna()]
    return pd.Index(part["company_id"].dropna().unique())


def failed_fits(table: pd.DataFrame) -> int:
    """How many rows of a robustness table have no estimate (the model could not be fitted; see
    ``note``)."""
    return int(table["coef"].isna().sum()) if "coef" in table else 0


@memoised
def dif_table(study, alpha: float = 0.05) -> pd.DataFrame:
    """``dif.csv``: the ordinal-logit DIF screen of every item of every instrument (Holm within an
    instrument)."""
    from research.analysis.dif import DIF_COLUMNS, dif_screen

    frames = [
        dif_screen(
            study.wide(inst.id),
            {it.id: it.subscale or None for it in inst.items},
            inst.id,
            alpha=alpha,
        )
        for inst in study.instruments
    ]
    return _concat(frames) if any(len(f) for f in frames) else pd.DataFrame(columns=DIF_COLUMNS)


@memoised
def invariance_table(study) -> pd.DataFrame:
    """``invariance.csv``: configural, metric and scalar invariance of every instrument with
    subscales."""
    from research.analysis.invariance import INVARIANCE_COLUMNS, measurement_invariance

    frames = [
        measurement_invariance(
            study.wide(inst.id), {s: inst.items_of(s) for s in inst.subscale_ids}, inst.id
        )
        for inst in study.instruments
        if inst.subscale_ids
    ]
    return _concat(frames) if frames else pd.DataFrame(columns=INVARIANCE_COLUMNS)


def company_outcomes(study) -> pd.DataFrame:
    """One row per company: the mean of each ``outcomes`` column over its respondents with a known
    role."""
    outcomes = list(study.config.get("outcomes") or [])
    r = study.respondents.dropna(subset=["company_id"])
    return (
        r.groupby("company_id")[outcomes].mean().reset_index()
        if outcomes
        else pd.DataFrame(columns=["company_id"])
    )


def congruence_table(study, seed: int = 2026, alpha: float = 0.05) -> pd.DataFrame:
    """``congruence.csv``: response-surface analysis of each banded instrument's total on each
    outcome, over the matched companies (marketing's and sales' mean totals, centred on the total's
    scale midpoint)."""
    from research.analysis.congruence import CONGRUENCE_COLUMNS
    from research.analysis.congruence import congruence_table as surface

    outcomes = list(study.config.get("outcomes") or [])
    frames = []
    for inst in study.instruments:
        if not (inst.total and inst.total.get("bands")) or not outcomes:
            continue
        scale = inst.total["id"]
        pairs = matched_pairs(study, inst, scale).merge(
            company_outcomes(study), on="company_id", how="left"
        )
        midpoint = len(inst.items) * (inst.scale_min + inst.scale_max) / 2
        frames.append(surface(pairs, outcomes, midpoint, inst.id, scale, seed=seed, alpha=alpha))
    return _concat(frames) if frames else pd.DataFrame(columns=CONGRUENCE_COLUMNS)


@memoised
def headline_table(study, alpha: float = 0.05) -> pd.DataFrame:
    """The comparison of marketing with sales that respects the design, per scale of every
    instrument (:func:`research.analysis.models.dyad_headline`), with Holm's adjustment over the
    scales of an instrument."""
    from research.analysis.effects import adjust

    frames = []
    for inst in study.instruments:
        table = models.dyad_headline(study.scores, inst, alpha=alpha)
        table["p_holm"] = adjust(table["p"], "holm")
        frames.append(table)
    return _concat(frames)


#: ``companies.company_summary``, memoised for the report pages that repeat it (06's key findings,
#: 07's appendix); notebook 05 calls it directly.
company_summary = memoised(companies.company_summary)
