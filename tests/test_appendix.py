"""The manuscript appendix (report 07): every APA table of the study, numbered in report order, and
nothing computed that no table shows."""

from __future__ import annotations

import pytest
import yaml

from research.analysis import survey
from research.inputs.study import read_study
from research.report import appendix


@pytest.fixture(scope="module")
def demo_tables(demo_study):
    return list(appendix.study_tables(demo_study))


def test_demo_tables_come_in_report_order_numbered_from_one(demo_tables):
    assert [t.number for t in demo_tables] == list(range(1, len(demo_tables) + 1))
    assert [t.source for t in demo_tables] == [
        "tables/reliability.csv",
        "tables/reliability.csv",
        "tables/item_comparison.csv",
        "tables/scale_comparison.csv",
        "tables/dyad_comparison.csv",
        "tables/item_comparison.csv",
        "tables/scale_comparison.csv",
        "tables/dyad_comparison.csv",
        "tables/theme_by_role.csv",
        "tables/intercoder_agreement.csv",
        "tables/company_summary.csv",
    ]
    assert all(len(t.frame) and t.title for t in demo_tables)


def test_a_one_sided_study_gets_no_comparison_and_computes_none(demo_copy, monkeypatch):
    config = yaml.safe_load((demo_copy / "study.yaml").read_text("utf-8"))
    config["roles"]["sales"] = ["sales manger"]  # every sales respondent unknown
    (demo_copy / "study.yaml").write_text(yaml.safe_dump(config), "utf-8")
    study = read_study(demo_copy)

    def not_shown(*args, **kwargs):
        raise AssertionError("a comparison was computed that no table shows")

    for name in ("item_table", "scale_table", "dyad_table"):
        monkeypatch.setattr(survey, name, not_shown)
    tables = list(appendix.study_tables(study))
    assert [t.source for t in tables] == [
        "tables/reliability.csv",
        "tables/reliability.csv",
        "tables/company_summary.csv",
    ]
