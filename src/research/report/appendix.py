"""The manuscript appendix: every APA table of a study, numbered, from the analysis façades in
memory (memoised: within one ``research run`` the tables reports 02 to 06 computed are read
back)."""

from __future__ import annotations

from research.analysis import interviews, survey
from research.report import apa


def study_tables(study, seed: int = 2026) -> apa.TableRegistry:
    """Every APA table the study supports, numbered in report order (reliability, items, scales,
    dyads, agreement, themes, coders, companies); each keeps the CSV it comes from in ``source``."""
    registry = apa.TableRegistry()
    rel = survey.reliability_table(study)
    for inst in study.instruments:
        registry.add(apa.reliability_table(rel[rel["instrument"] == inst.id], inst))
    # the comparisons are computed only when both functions answered (they are shown only then)
    both = survey.both_functions_present(study)
    if both:
        items = survey.item_table(study, seed=seed)
        scales = survey.scale_table(study)
        dyads = survey.dyad_table(study)
        for inst in study.instruments:
            registry.add(apa.item_table(items[items["instrument"] == inst.id], inst))
            registry.add(apa.scale_table(scales[scales["instrument"] == inst.id], inst))
            if dyads.loc[dyads["instrument"] == inst.id, "statistic"].notna().any():
                registry.add(apa.dyad_table(dyads[dyads["instrument"] == inst.id], inst))
    if both and study.codebook is not None and len(study.interviews):
        coded = interviews.coded_segments(study)
        registry.add(apa.theme_table(interviews.theme_table(study, coded), study.codebook))
        pairs, kripp = interviews.agreement_tables(study)
        if len(pairs):
            registry.add(apa.intercoder_table(pairs, study.codebook, kripp))
    banded = [inst for inst in study.instruments if inst.total and inst.total.get("bands")]
    if banded:  # the company table needs the stages
        summary, _ = survey.company_summary(study)
        for inst in banded:
            if (summary["instrument"] == inst.id).any():
                registry.add(
                    apa.company_table(
                        summary[summary["instrument"] == inst.id], inst, study.decision_table
                    )
                )
    return registry
