"""Study-level survey analyses: each function runs one analysis over every instrument of a study and
returns one tidy table (the notebooks' one call per section)."""

from __future__ import annotations

import pandas as pd

from research.analysis import agreement, assumptions, compare, models, reliability, thoughtworlds


def _concat(frames) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def main_instrument(study):
    """The instrument the single-figure displays use: the first with a banded total, else the first."""
    return next((i for i in study.instruments if i.total), study.instruments[0])


def main_scale(instrument) -> str:
    return instrument.total["id"] if instrument.total else instrument.subscale_ids[0]


def reliability_table(study) -> pd.DataFrame:
    """``reliability.csv`` over every instrument."""
    return _concat(reliability.reliability(study.responses, inst) for inst in study.instruments)


def item_statistics_table(study) -> pd.DataFrame:
    return _concat(reliability.item_statistics(study.responses, inst) for inst in study.instruments)


def item_table(study, seed: int = 2026) -> pd.DataFrame:
    """``item_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(compare.item_comparison(study.responses, inst, seed=seed) for inst in study.instruments)


def scale_table(study) -> pd.DataFrame:
    """``scale_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(compare.scale_comparison(study.scores, inst) for inst in study.instruments)


def dyad_table(study) -> pd.DataFrame:
    """``dyad_comparison.csv`` over every instrument (Holm within each instrument)."""
    return _concat(compare.dyad_comparison(study.scores, inst) for inst in study.instruments)


def assumption_table(study, alpha: float = 0.05) -> pd.DataFrame:
    return _concat(assumptions.assumption_checks(study.scores, inst, alpha) for inst in study.instruments)


def agreement_table(study) -> pd.DataFrame:
    return _concat(agreement.agreement_summary(study.scores, study.responses, inst) for inst in study.instruments)


def ordinal_table(study) -> pd.DataFrame:
    return _concat(models.ordinal_logit(study.responses, inst) for inst in study.instruments)


def mixed_table(study) -> pd.DataFrame:
    return _concat(models.mixed_model(study.scores, inst) for inst in study.instruments)


def thought_world_instruments(study) -> list:
    return [inst for inst in study.instruments if thoughtworlds.has_thought_worlds(inst)]


def thought_worlds_tables(study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mixed ANOVA per dimension, perception gaps) over every thought-worlds instrument."""
    anovas, gaps = [], []
    for inst in thought_world_instruments(study):
        ratings = thoughtworlds.perception_ratings(study.responses, inst)
        anovas.append(thoughtworlds.mixed_anova_by_dimension(ratings).assign(instrument=inst.id))
        gaps.append(thoughtworlds.perception_gaps(ratings).assign(instrument=inst.id))
    return _concat(anovas), _concat(gaps)


def sensitivity_table(study, alpha: float = 0.05) -> pd.DataFrame:
    """Smallest detectable g and d_z for the main instrument's main scale at the study's n."""
    inst = main_instrument(study)
    scale = main_scale(inst)
    part = study.scores[(study.scores["instrument"] == inst.id) & study.scores[scale].notna()]
    n = part["role"].value_counts()
    pairs = compare.dyads(study.scores, inst)
    n_pairs = int((pairs["scale"] == scale).sum())
    return compare.sensitivity(int(n.get("marketing", 0)), int(n.get("sales", 0)), n_pairs, alpha=alpha)
