"""Thought-worlds mixed ANOVA: Type II (pingouin) and Type III against R's afex::aov_ez."""

from pathlib import Path

import pandas as pd
import pytest

from research.analysis import thoughtworlds

R = Path(__file__).parent / "r"
SOURCES = {
    "rater": "rater function",
    "target": "rated function",
    "rater:target": "rater × rated function",
}


@pytest.fixture(scope="module")
def ratings():
    # 9 marketing and 21 sales raters, each rating both functions once (tests/r/robustness.R,
    # section 3)
    d = pd.read_csv(R / "anova_mixed.csv")
    return d.assign(
        dimension="orientation",
        view=(d["rater"] == d["target"]).map({True: "self", False: "other"}),
    )


@pytest.mark.parametrize("ss_type", [2, 3])
def test_mixed_anova_equals_afex(ratings, ss_type):
    # Reference: afex::aov_ez("respondent_id", "rating", between = "rater", within = "target", type
    # = ss_type), partial eta squared, no sphericity correction (two levels), afex 1.2-1
    # (tests/r/robustness.R)
    ref = pd.read_csv(R / "anova_mixed_reference.csv")
    ref = (
        ref[ref["ss_type"] == ss_type]
        .assign(source=lambda r: r["term"].map(SOURCES))
        .set_index("source")
    )
    table = thoughtworlds.mixed_anova_by_dimension(ratings, ss_type=ss_type).set_index("source")
    assert (table["ss_type"] == ss_type).all()
    for source in SOURCES.values():
        for col in ["F", "df1", "df2", "p", "np2"]:
            assert table.loc[source, col] == pytest.approx(ref.loc[source, col], rel=1e-6), (
                source,
                col,
            )


def test_type_ii_and_iii_differ_for_the_within_main_effect_only_when_unbalanced(ratings):
    two = thoughtworlds.mixed_anova_by_dimension(ratings).set_index("source")
    three = thoughtworlds.mixed_anova_by_dimension(ratings, ss_type=3).set_index("source")
    assert two.loc["rated function", "F"] > 100 * three.loc["rated function", "F"]
    for source in ["rater function", "rater × rated function"]:
        assert two.loc[source, "F"] == pytest.approx(three.loc[source, "F"], rel=1e-9)
    # Balanced groups: Type II = Type III everywhere
    keep = ratings["respondent_id"].isin(
        sorted(ratings.loc[ratings["rater"] == "sales", "respondent_id"].unique())[:9]
    ) | (ratings["rater"] == "marketing")
    balanced = ratings[keep]
    a = thoughtworlds.mixed_anova_by_dimension(balanced).set_index("source")["F"]
    b = thoughtworlds.mixed_anova_by_dimension(balanced, ss_type=3).set_index("source")["F"]
    pd.testing.assert_series_equal(a, b, rtol=1e-9)


def test_ss_type_is_validated(ratings):
    with pytest.raises(ValueError):
        thoughtworlds.mixed_anova_by_dimension(ratings, ss_type=1)
