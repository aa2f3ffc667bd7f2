"""Study-level interview analyses: coded, pseudonymised segments and every table of notebook 04.

Everything returned here is safe for reports: speakers are pseudonyms ("Sales VP, C-014") and known
names and e-mail addresses in the text are redacted. The functions several notebooks call
(:func:`coded_segments`, :func:`theme_table`, :func:`agreement_tables`) are
:func:`~research.analysis.memo.memoised` within one ``research run``.
"""

from __future__ import annotations

import pandas as pd

from research.analysis import intercoder, themes
from research.analysis.memo import memoised
from research.analysis.themes import SEGMENT_COLUMNS
from research.inputs.privacy import Redactor, known_names, speaker_map


def redactor(study) -> Redactor:
    return Redactor(known_names(study.turns, study.respondents))


@memoised
def coded_segments(study) -> pd.DataFrame:
    """Respondent segments coded with the study's codebook, speakers pseudonymised and names
    redacted.

    Columns: SPEC's ``segments.csv`` columns, then one boolean column per theme.
    """
    segments = study.segments
    if segments.empty or study.codebook is None:
        cols = (
            SEGMENT_COLUMNS + ["company_id"] + (study.codebook.theme_ids if study.codebook else [])
        )
        return pd.DataFrame(columns=cols)
    names = speaker_map(study.turns, study.respondents)
    segs = segments.merge(names, on=["interview_id", "speaker"], how="left")
    segs["speaker"] = segs["pseudonym"].fillna("Respondent")
    segs["text"] = redactor(study).redact_series(segs["text"])
    coded = themes.code_segments(segs.drop(columns="pseudonym"), study.codebook)
    return coded[SEGMENT_COLUMNS + ["company_id"] + study.codebook.theme_ids]


@memoised
def theme_table(study, coded: pd.DataFrame) -> pd.DataFrame:
    """``theme_by_role.csv``."""
    return themes.theme_by_role(coded, study.interviews, study.codebook)


@memoised
def agreement_tables(study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``intercoder_agreement.csv``, Krippendorff's alpha per theme); empty without manual
    codes."""
    if study.manual_codes.empty or study.codebook is None:
        return pd.DataFrame(columns=intercoder.AGREEMENT_COLUMNS), pd.DataFrame(
            columns=["theme", "coders", "units", "alpha"]
        )
    ids = study.codebook.theme_ids
    return (
        intercoder.intercoder_agreement(study.manual_codes, study.segments, ids),
        intercoder.krippendorff_by_theme(study.manual_codes, study.segments, ids),
    )


def codebook_table(codebook) -> pd.DataFrame:
    """The codebook as a table for the report: id, label, description, patterns."""
    return pd.DataFrame(
        [
            {
                "theme": t.id,
                "label": t.label,
                "description": t.description,
                "patterns": "; ".join(t.patterns),
            }
            for t in codebook.themes
        ]
    )


def open_answer_table(study) -> pd.DataFrame:
    """Open-ended survey answers coded with the codebook: answers with each theme by role (Fisher,
    Holm).

    One unit per respondent and open column; empty when the study names no ``open_ended`` columns.
    """
    answers = study.open_answers
    if answers.empty or study.codebook is None:
        return pd.DataFrame()
    flags = themes.theme_matrix(answers["text"], study.codebook)
    units = pd.concat(
        [
            answers[["respondent_id", "role", "column"]].reset_index(drop=True),
            flags.reset_index(drop=True),
        ],
        axis=1,
    )
    return themes.prevalence_by_role(units, study.codebook, unit="answers")
