"""Pseudonyms and redaction."""

import pandas as pd

from research.analysis.companies import company_attributes
from research.inputs.privacy import Redactor, personal_columns, respondent_pseudonyms, speaker_map


def test_redactor_removes_full_names_parts_possessives_and_emails():
    r = Redactor(["Dana Whitfield", "Jean-Luc Picard", "Sørensen"])
    text = "Dana Whitfield said Dana's team and Whitfield (dana.w@corp.example.org) met Jean-Luc Picard and Mr Sørensen."
    out = r.redact(text)
    for gone in ("Dana", "Whitfield", "Jean-Luc", "Picard", "Sørensen", "@"):
        assert gone not in out
    assert out.startswith("[name] said [name]'s team")


def test_redactor_leaves_ordinary_words_alone():
    r = Redactor(["Mark Price"])
    assert r.redact("the price is right, mark my words") == "the price is right, mark my words"


def test_pseudonyms_are_role_and_company_numbered_within_company():
    r = pd.DataFrame({"respondent_id": ["1", "2", "3", "4"], "company_id": ["C-1", "C-1", "C-1", "C-2"],
                      "role": ["sales", "sales", "marketing", "marketing"]})
    assert respondent_pseudonyms(r).to_dict() == {"1": "Sales VP, C-1", "2": "Sales VP 2, C-1",
                                                  "3": "Marketing manager, C-1", "4": "Marketing manager, C-2"}


def test_speaker_map_on_the_demo_covers_every_speaker(demo_study):
    names = speaker_map(demo_study.turns, demo_study.respondents)
    pairs = set(zip(demo_study.turns["interview_id"], demo_study.turns["speaker"], strict=True))
    assert set(zip(names["interview_id"], names["speaker"], strict=True)) == pairs
    assert (names.loc[names["speaker"].isin(["Interviewer", "Morgan Ellis"]), "pseudonym"] == "Interviewer").all()


def test_personal_columns_never_become_company_attributes(demo_study):
    assert set(personal_columns(demo_study.respondents)) == {"name", "email"}
    attrs = company_attributes(demo_study.respondents)
    assert "name" not in attrs and "email" not in attrs
    # the most common value among a company's respondents, first in file order on ties
    r = pd.DataFrame({"respondent_id": list("abcd"), "company_id": ["K"] * 4, "role": ["sales"] * 4,
                      "size": ["10", "20", "20", "10"], "conflict": [None, "yes", "no", "no"]})
    assert company_attributes(r).to_dict("records") == [{"company_id": "K", "size": "10", "conflict": "no"}]
