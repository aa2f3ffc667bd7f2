"""Identifiers are compared exactly; ids that match a respondent only after case or space folding
get a data-quality row with the hint, never a crash (the issue's KeyError: 'item' in notebook
03)."""

from __future__ import annotations

import pandas as pd

from research.analysis import survey
from research.inputs.study import read_study


def test_survey_ids_differing_only_in_case_are_hinted_and_nothing_crashes(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["r1", "r2", "r 3", "r4"],
            "company_id": ["A", "A", "B", "B"],
            "role": ["marketing", "sales", "marketing", "sales"],
        }
    )
    answers = pd.DataFrame(
        {
            "respondent_id": ["R1", "R2", "r3", "r4"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(respondents, answers))
    log = study.quality.frame()
    hinted = log[log["problem"] == "unknown_respondent"].set_index("record")["action"]
    assert "matches respondent 'r1' when case and spaces are ignored" in hinted["R1"]
    assert "matches respondent 'r 3' when case and spaces are ignored" in hinted["r3"]
    assert set(study.responses["respondent_id"]) == {"r4"}  # ids are still compared exactly
    for table in (
        survey.item_table(study),
        survey.ordinal_table(study),
        survey.scale_table(study),
        survey.dyad_table(study),
        survey.dif_table(study),
        survey.headline_table(study),
    ):
        assert len(table) > 0


def test_a_role_label_close_to_a_listed_one_gets_a_did_you_mean(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["1", "2", "3"],
            "company_id": ["A", "A", "B"],
            "role": ["marketing", "sales", "marketting"],
        }
    )
    study = read_study(
        small_study(
            respondents,
            pd.DataFrame(
                {
                    "respondent_id": ["1", "2", "3"],
                    "M1": [1, 2, 3],
                    "M2": [1, 2, 3],
                    "M3": [1, 2, 3],
                    "M4": [1, 2, 3],
                }
            ),
        )
    )
    row = study.quality.frame().query("problem == 'unknown_role'").iloc[0]
    assert (
        row["value"] == "marketting"
        and row["action"]
        == "respondent left out; did you mean 'marketing'? (a label listed under roles)"
    )
