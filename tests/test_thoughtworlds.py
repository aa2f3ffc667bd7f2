"""Thought-worlds mixed ANOVA: Type II (pingouin) and Type III against R's afex::aov_ez."""

import warnings
from pathlib import Path

import numpy as np
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


def _random_ratings(seed, n_marketing, n_sales, targets=("marketing", "sales"), fractional=False):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_marketing + n_sales):
        rater = "marketing" if i < n_marketing else "sales"
        for dim in ["d1", "d2"]:
            for target in targets:
                for _ in range(rng.integers(1, 4)):  # several items per dimension and target
                    if rng.random() < 0.05:
                        continue  # a skipped item; some respondents then rate one function only
                    value = rng.normal(4, 1) if fractional else float(rng.integers(1, 8))
                    rows.append(
                        {
                            "respondent_id": f"R{i:03d}",
                            "rater": rater,
                            "target": target,
                            "dimension": dim,
                            "rating": value,
                        }
                    )
    return pd.DataFrame(rows)


def _pingouin_rows(ratings) -> tuple[np.ndarray, list[str]]:
    """pingouin's mixed_anova per dimension: F, df1, df2, p, np2, and each row's warnings (but
    pingouin's own deprecation notices from pandas)."""
    import pingouin as pg

    out, notes = [], []
    for _, d in ratings.groupby("dimension", sort=False):
        d = d[d.groupby("respondent_id")["target"].transform("nunique") == 2]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            aov = pg.mixed_anova(
                data=d, dv="rating", within="target", between="rater", subject="respondent_id"
            )
        said = [
            f"{c.category.__name__}: {c.message}"
            for c in caught
            if issubclass(c.category, RuntimeWarning)
        ]
        out.append(aov[["F", "DF1", "DF2", "p_unc", "np2"]].to_numpy(float))
        notes += ["; ".join(dict.fromkeys(said))] * len(aov)
    return np.vstack(out), notes


@pytest.mark.parametrize(
    "seed, n_marketing, n_sales, fractional",
    [(0, 9, 21, False), (1, 30, 4, False), (2, 12, 12, True), (3, 3, 40, True)],
)
def test_type_ii_equals_pingouins_mixed_anova(seed, n_marketing, n_sales, fractional):
    ratings = _random_ratings(seed, n_marketing, n_sales, fractional=fractional)
    table = thoughtworlds.mixed_anova_by_dimension(ratings)
    got = table[["F", "df1", "df2", "p", "np2"]].to_numpy(float)
    rows, notes = _pingouin_rows(ratings)
    np.testing.assert_allclose(got, rows, rtol=1e-12, atol=1e-15)
    assert (table["note"] == "").all() and set(notes) == {""}
    assert table["df1"].dtype.kind == "i" and table["df2"].dtype.kind == "i"


def test_a_respondent_under_two_rater_labels_is_left_out_as_pingouin_does():
    ratings = _random_ratings(4, 10, 10)
    moved = (ratings["respondent_id"] == "R001") & (ratings["target"] == "sales")
    ratings.loc[moved, "rater"] = "sales"
    table = thoughtworlds.mixed_anova_by_dimension(ratings)
    without = thoughtworlds.mixed_anova_by_dimension(ratings[ratings["respondent_id"] != "R001"])
    pd.testing.assert_frame_equal(table, without)
    got = table[["F", "df1", "df2", "p", "np2"]].to_numpy(float)
    np.testing.assert_allclose(got, _pingouin_rows(ratings)[0], rtol=1e-12)


def test_no_error_variance_gives_the_numbers_and_warnings_pingouin_gives():
    # every rating is fixed by who rates and who is rated: no error in either stratum
    ratings = _random_ratings(5, 6, 6)
    ratings["rating"] = 3.0 + (ratings["rater"] == "sales") + 2.0 * (ratings["target"] == "sales")
    table = thoughtworlds.mixed_anova_by_dimension(ratings)
    rows, notes = _pingouin_rows(ratings)
    got = table[["F", "df1", "df2", "p", "np2"]].to_numpy(float)
    np.testing.assert_allclose(got, rows, rtol=1e-12)
    assert table["note"].tolist() == notes
    assert table["note"].str.contains("RuntimeWarning: divide by zero encountered in divide").any()
    # all ratings equal: nothing to test, the coefficients are missing (where pingouin's own table
    # drops its all-missing F column)
    ratings["rating"] = 4.0
    flat = thoughtworlds.mixed_anova_by_dimension(ratings)
    assert len(flat) == 6 and flat["F"].isna().all() and flat["np2"].isna().all()
    assert flat["note"].str.contains("invalid value encountered").all()


def test_too_few_respondents_or_one_rater_group_leave_the_dimension_out():
    ratings = _random_ratings(6, 2, 1)
    assert thoughtworlds.mixed_anova_by_dimension(ratings).empty
    one_group = _random_ratings(7, 10, 0)
    assert thoughtworlds.mixed_anova_by_dimension(one_group).empty
    assert list(thoughtworlds.mixed_anova_by_dimension(one_group).columns) == (
        thoughtworlds.ANOVA_COLUMNS + ["note"]
    )


@pytest.mark.parametrize("sort", [True, False])
def test_group_means_sum_as_pandas_does(sort):
    rng = np.random.default_rng(8)
    for _ in range(50):
        labels = rng.integers(0, 3, 120)
        labels = np.sort(labels) if sort else labels
        values = rng.integers(1, 8, 120) / rng.integers(1, 4, 120)
        expected = pd.Series(values).groupby(labels).mean().to_numpy()
        assert (thoughtworlds._group_means(values, labels, 3) == expected).all()


@pytest.mark.parametrize("seed, n_marketing, n_sales", [(10, 9, 21), (11, 25, 6)])
def test_type_iii_between_and_interaction_equal_pingouins_type_ii(seed, n_marketing, n_sales):
    # Type II and III differ only for the within main effect (two rated functions); the within
    # main effect itself is checked against afex above
    ratings = _random_ratings(seed, n_marketing, n_sales, fractional=True)
    table = thoughtworlds.mixed_anova_by_dimension(ratings, ss_type=3)
    rows, _ = _pingouin_rows(ratings)
    keep = table["source"] != "rated function"
    got = table.loc[keep, ["F", "df1", "df2", "p", "np2"]].to_numpy(float)
    np.testing.assert_allclose(got, rows[keep.to_numpy()], rtol=1e-9)
    assert (table["ss_type"] == 3).all()


def test_perception_gaps_are_welch_tests_of_self_against_other_view():
    from scipy import stats

    ratings = _random_ratings(12, 8, 14, fractional=True)
    ratings["view"] = np.where(ratings["rater"] == ratings["target"], "self", "other")
    ratings = ratings[~((ratings["dimension"] == "d2") & (ratings["view"] == "self"))]
    gaps = thoughtworlds.perception_gaps(ratings).set_index(["dimension", "rated_function"])
    assert len(gaps) == 4
    for (dim, target), row in gaps.iterrows():
        part = ratings[(ratings["dimension"] == dim) & (ratings["target"] == target)]
        own = part.loc[part["view"] == "self", "rating"].to_numpy()
        other = part.loc[part["view"] == "other", "rating"].to_numpy()
        assert (row["n_self"], row["n_other"]) == (len(own), len(other))
        if dim == "d2":  # nobody rated their own function here
            assert np.isnan(row["self_view"]) and np.isnan(row["p"]) and np.isnan(row["gap"])
            continue
        res = stats.ttest_ind(own, other, equal_var=False)
        assert row["gap"] == pytest.approx(own.mean() - other.mean(), rel=1e-12)
        assert (row["statistic"], row["p"]) == pytest.approx((res.statistic, res.pvalue), rel=1e-12)
        pooled = np.sqrt(
            ((len(own) - 1) * own.var(ddof=1) + (len(other) - 1) * other.var(ddof=1))
            / (len(own) + len(other) - 2)
        )
        g = (own.mean() - other.mean()) / pooled * (1 - 3 / (4 * (len(own) + len(other)) - 9))
        assert row["effect_size"] == pytest.approx(g, rel=1e-12)
