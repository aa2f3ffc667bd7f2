"""Company diagnosis (SPEC §3, companies) recomputed independently, and the decision table's
semantics."""

import numpy as np
import pandas as pd
import pytest

from research.analysis import companies
from research.errors import StudyError
from research.spec.decisions import decision_table_from_dict, load_decision_table


def band(total):
    if pd.isna(total):
        return None
    labels = [(80, "Integrated"), (60, "Aligned"), (40, "Defined"), (20, "Undefined")]
    return next((name for cut, name in labels if total >= cut), None)


def test_company_summary_totals_gaps_and_bands_recomputed(demo_study):
    summary, _ = companies.company_summary(demo_study)
    assert list(summary.columns[:12]) == companies.SUMMARY_COLUMNS
    s = demo_study.scores[demo_study.scores["instrument"] == "smr"]
    checked = 0
    for company, part in s.groupby("company_id"):
        row = summary[(summary["company_id"] == company) & (summary["instrument"] == "smr")].iloc[0]
        m = part.loc[part["role"] == "marketing", "smr_total"].dropna()
        v = part.loc[part["role"] == "sales", "smr_total"].dropna()
        tm = m.mean() if len(m) else np.nan
        ts = v.mean() if len(v) else np.nan
        total = np.nanmean([tm, ts])  # each function counts once
        assert row["n_marketing"] == len(m) and row["n_sales"] == len(v)
        assert row["total_marketing"] == pytest.approx(tm, nan_ok=True)
        assert row["total_sales"] == pytest.approx(ts, nan_ok=True)
        assert row["total"] == pytest.approx(total)
        assert row["gap"] == pytest.approx(tm - ts, nan_ok=True)
        for col, value in (("band_marketing", tm), ("band_sales", ts), ("band", total)):
            assert (row[col] if not pd.isna(row[col]) else None) == band(value)
        checked += 1
    assert checked == demo_study.scores["company_id"].nunique()
    several = s.groupby(["company_id", "role"]).size()
    assert (
        several > 1
    ).any()  # the demo has companies with extra staff on one side: averaged first


def test_recommendations_are_the_fired_rules(demo_study):
    summary, rules = companies.company_summary(demo_study)
    fired = rules[rules["status"] == "fires"].groupby("company_id")["rule"].agg(";".join)
    for row in summary.itertuples():
        assert row.recommendations == fired.get(row.company_id, "")


TABLE = decision_table_from_dict(
    {
        "rules": [
            {
                "id": "big-and-undefined",
                "action": "move",
                "circumstance": "c",
                "moves": ["m"],
                "when": {
                    "all": [
                        {"field": "band", "eq": "Undefined"},
                        {"field": "attr:company_size", "ge": 100},
                    ]
                },
            },
            {
                "id": "gap",
                "action": "attend",
                "circumstance": "c",
                "when": {"all": [{"field": "abs_gap", "ge": 10}]},
            },
            {
                "id": "either",
                "action": "stay",
                "circumstance": "c",
                "when": {
                    "any": [
                        {"field": "attr:offering", "eq": "standard"},
                        {"field": "attr:conflict", "eq": "no"},
                    ]
                },
            },
        ]
    }
)


@pytest.mark.parametrize(
    "facts, expected",
    [
        ({"band": "Undefined", "attr:company_size": "250"}, ("fires", [])),
        ({"band": "undefined ", "attr:company_size": 99}, ("does not fire", [])),
        ({"band": "Undefined"}, ("not assessable", ["attr:company_size"])),  # the study lacks it
        (
            {"band": "Undefined", "attr:company_size": None},
            ("not assessable", ["attr:company_size"]),
        ),  # left blank
        ({"band": "Aligned"}, ("does not fire", [])),  # ruled out anyway
        (
            {"band": "Undefined", "attr:company_size": "many"},
            ("not assessable", ["attr:company_size"]),
        ),
    ],
)
def test_rule_conditions_and_not_assessable(facts, expected):
    assert TABLE.rules[0].evaluate(facts) == expected


def test_any_conditions_fire_on_one_and_are_not_assessable_only_when_none_holds():
    rule = TABLE.rules[2]
    assert rule.evaluate({"attr:offering": "standard"}) == ("fires", [])
    assert rule.evaluate({"attr:offering": "customised", "attr:conflict": "yes"}) == (
        "does not fire",
        [],
    )
    assert rule.evaluate({"attr:offering": "customised"}) == ("not assessable", ["attr:conflict"])


def test_builtin_decision_table_has_stay_and_move_rules_for_every_stage():
    table = load_decision_table("builtin:default")
    for stage in ("Undefined", "Defined", "Aligned"):
        actions = {r.action for r in table.rules if r.stage == stage}
        assert {"stay", "move"} <= actions, stage
    assert all(r.circumstance and r.moves for r in table.rules)


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"rules": []}, "rules"),
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "action": "stay",
                        "circumstance": "c",
                        "when": {"all": [{"field": "nope", "eq": 1}]},
                    }
                ]
            },
            "rules[0].when.all[0].field",
        ),
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "action": "stay",
                        "circumstance": "c",
                        "when": {"all": [{"field": "gap", "lt": "x"}]},
                    }
                ]
            },
            "rules[0].when.all[0].lt",
        ),
        (
            {"rules": [{"id": "a", "action": "stay", "circumstance": "c", "when": {}}]},
            "rules[0].when",
        ),
    ],
)
def test_invalid_decision_tables_name_the_key(bad, key):
    with pytest.raises(StudyError) as err:
        decision_table_from_dict(bad, "dt.yaml")
    assert f"key '{key}'" in str(err.value)


def test_company_with_one_function_has_no_gap_and_is_told_to_hear_both_sides(demo_study):
    summary, _ = companies.company_summary(demo_study)
    one_side = summary[(summary["n_marketing"] == 0) | (summary["n_sales"] == 0)]
    assert len(one_side) >= 1
    assert one_side["gap"].isna().all()
    assert one_side["recommendations"].str.contains("hear-both-sides").all()
