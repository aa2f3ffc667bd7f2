"""Measurement invariance (multi-group CFA) against lavaan 0.6's own numbers.

The reference values come from tests/r/invariance.R (lavaan 0.6-14), committed with the data sets
it read, so these tests need no R.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis.invariance import (
    INVARIANCE_COLUMNS,
    LEVELS,
    fit_multigroup_cfa,
    measurement_invariance,
)

R_DIR = Path(__file__).resolve().parent / "r"
REFERENCE = pd.read_csv(
    R_DIR / "invariance_reference.csv", comment="#", keep_default_na=False, na_values=[""]
)
ESTIMATES = pd.read_csv(
    R_DIR / "invariance_reference_estimates.csv", comment="#", keep_default_na=False, na_values=[]
)
FILES = {
    "likert_invariant": "invariance_likert_invariant.csv",
    "likert_noninvariant": "invariance_likert_noninvariant.csv",
    "likert_onefactor": "invariance_likert_onefactor.csv",
    "heywood": "invariance_heywood.csv",
    "holzinger": "invariance_holzinger.csv",
}
STATISTICS = ["chi2", "df", "cfi", "rmsea", "srmr"]


def parse_model(model: str) -> dict[str, list[str]]:
    """lavaan syntax ``F =~ a + b; G =~ c + d`` -> {"F": ["a", "b"], "G": ["c", "d"]}."""
    factors = {}
    for part in model.split(";"):
        name, items = part.split("=~")
        factors[name.strip()] = [item.strip() for item in items.split("+")]
    return factors


def dataset(name: str) -> tuple[pd.DataFrame, dict, str, tuple[str, str]]:
    row = REFERENCE[REFERENCE["dataset"] == name].iloc[0]
    data = pd.read_csv(R_DIR / FILES[name])
    return data, parse_model(row["model"]), row["group"], tuple(row["group_labels"].split("|"))


def close(ours: float, lavaan: float, what: str) -> bool:
    tol = 1e-3 * max(1.0, abs(lavaan)) if what == "chi2" else 1e-3
    return abs(ours - lavaan) <= tol


@pytest.fixture(scope="module")
def fits() -> dict[tuple[str, str], dict]:
    out = {}
    for _, row in REFERENCE.iterrows():
        data, factors, group, groups = dataset(row["dataset"])
        out[row["dataset"], row["level"]] = fit_multigroup_cfa(
            data, factors, group, groups, row["level"]
        )
    return out


def test_reference_covers_every_data_set_and_level():
    assert set(REFERENCE["dataset"]) == set(FILES)
    assert (REFERENCE.groupby("dataset")["level"].apply(tuple) == LEVELS).all()
    assert REFERENCE["converged"].all()
    header = (R_DIR / "invariance_reference.csv").read_text().splitlines()[0]
    assert "lavaan 0.6" in header and "R version" in header


@pytest.mark.parametrize(
    "key", [tuple(r) for r in REFERENCE[["dataset", "level"]].to_numpy()], ids=lambda k: "-".join(k)
)
def test_fit_statistics_equal_lavaan(fits, key):
    row = REFERENCE.set_index(["dataset", "level"]).loc[key]
    fit = fits[key]
    assert fit["fitted"] and fit["converged"]
    assert fit["df"] == row["df"] and fit["npar"] == row["npar"]
    assert list(fit["n"].values()) == [row["n_1"], row["n_2"]]
    for what in STATISTICS:
        assert close(fit[what], row[what], what), (what, fit[what], row[what])
    # lavaan's baseline: independence model with means and variances free in each group
    assert close(fit["baseline_chi2"], row["baseline_chi2"], "chi2")
    assert fit["baseline_df"] == row["baseline_df"]


@pytest.mark.parametrize(
    "key", [tuple(r) for r in REFERENCE[["dataset", "level"]].to_numpy()], ids=lambda k: "-".join(k)
)
def test_parameter_estimates_equal_lavaan(fits, key):
    lavaan = ESTIMATES[(ESTIMATES["dataset"] == key[0]) & (ESTIMATES["level"] == key[1])]
    ours = fits[key]["estimates"]
    merged = lavaan.merge(ours, on=["group", "lhs", "op", "rhs"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert np.max(np.abs(merged["est_x"] - merged["est_y"])) < 1e-3


def test_improper_solution_is_flagged_like_lavaan(fits):
    for level in LEVELS:
        row = REFERENCE.set_index(["dataset", "level"]).loc[("heywood", level)]
        assert "ov variances are negative" in row["lavaan_warnings"]
        fit = fits["heywood", level]
        assert not fit["proper"]
        assert "Heywood" in fit["note"] and "h1" in fit["note"]
    proper = REFERENCE[REFERENCE["dataset"] != "heywood"]
    assert (proper["lavaan_warnings"].fillna("") == "").all()
    assert all(
        fits[k]["proper"] and fits[k]["note"] == ""
        for k in map(tuple, proper[["dataset", "level"]].to_numpy())
    )


@pytest.mark.parametrize("name", list(FILES))
def test_measurement_invariance_table(name):
    data, factors, group, groups = dataset(name)
    table = measurement_invariance(data, factors, name, group=group, groups=groups)
    assert list(table.columns) == INVARIANCE_COLUMNS
    assert table["level"].tolist() == list(LEVELS)
    assert (table["instrument"] == name).all()
    ref = REFERENCE[REFERENCE["dataset"] == name].set_index("level").loc[list(LEVELS)]
    assert (table["n_marketing"].to_numpy() == ref["n_1"].to_numpy()).all()
    assert (table["n_sales"].to_numpy() == ref["n_2"].to_numpy()).all()
    if name == "heywood":  # improper at every level: rows kept, numbers empty, reason in note
        assert (
            table[STATISTICS + ["delta_chi2", "delta_df", "delta_p", "delta_cfi"]]
            .isna()
            .all()
            .all()
        )
        assert table["note"].str.contains("improper solution").all()
        return
    for what in STATISTICS:
        for ours, lavaan in zip(table[what], ref[what], strict=True):
            assert close(float(ours), lavaan, what), (what, ours, lavaan)
    assert (table["note"] == "").all()
    # delta columns: empty for configural, each level against the one before
    assert table.loc[0, ["delta_chi2", "delta_df", "delta_p", "delta_cfi"]].isna().all()
    for i in (1, 2):
        d_chi2 = table.loc[i, "chi2"] - table.loc[i - 1, "chi2"]
        d_df = table.loc[i, "df"] - table.loc[i - 1, "df"]
        assert table.loc[i, "delta_chi2"] == pytest.approx(d_chi2)
        assert table.loc[i, "delta_df"] == d_df > 0
        assert table.loc[i, "delta_p"] == pytest.approx(stats.chi2.sf(d_chi2, d_df))
        assert table.loc[i, "delta_cfi"] == pytest.approx(
            table.loc[i, "cfi"] - table.loc[i - 1, "cfi"]
        )
        lavaan_delta = ref["chi2"].iloc[i] - ref["chi2"].iloc[i - 1]
        assert close(table.loc[i, "delta_chi2"], lavaan_delta, "chi2")


def test_planted_non_invariance_is_detected():
    data, factors, group, groups = dataset("likert_noninvariant")
    table = measurement_invariance(data, factors, "b", group=group, groups=groups).set_index(
        "level"
    )
    assert table.loc["metric", "delta_p"] < 0.05 and table.loc["scalar", "delta_p"] < 0.05
    assert table.loc["scalar", "delta_cfi"] < -0.01
    data, factors, group, groups = dataset("likert_invariant")
    table = measurement_invariance(data, factors, "a", group=group, groups=groups).set_index(
        "level"
    )
    assert table.loc["metric", "delta_p"] > 0.05 and table.loc["scalar", "delta_p"] > 0.05


def test_chi2_scales_with_n_and_ignores_group_order():
    """chi2 = sum_g n_g F_g: the same moments from twice the respondents double it; and the first
    group is only a reference for the factor means, so swapping the groups changes nothing."""
    data, factors, group, groups = dataset("holzinger")
    for level in LEVELS:
        once = fit_multigroup_cfa(data, factors, group, groups, level)
        twice = fit_multigroup_cfa(pd.concat([data, data]), factors, group, groups, level)
        swapped = fit_multigroup_cfa(data, factors, group, groups[::-1], level)
        assert twice["chi2"] == pytest.approx(2 * once["chi2"], rel=1e-7)
        assert swapped["chi2"] == pytest.approx(once["chi2"], rel=1e-7)
        assert swapped["srmr"] == pytest.approx(once["srmr"], rel=1e-7)


def likert(
    n_marketing: int, n_sales: int, items: list[str], seed: int = 1, correlation: float = 0.4
) -> pd.DataFrame:
    """5-point answers; the first half of the items measure one factor, the rest another."""
    rng = np.random.default_rng(seed)
    n, half = n_marketing + n_sales, len(items) // 2
    z = rng.normal(size=(n, 2))
    eta = np.c_[z[:, 0], correlation * z[:, 0] + np.sqrt(1 - correlation**2) * z[:, 1]]
    eta = np.repeat(eta, [half, len(items) - half], axis=1)
    y = np.clip(np.round(3 + 0.8 * eta + rng.normal(0, 0.7, (n, len(items)))), 1, 5)
    out = pd.DataFrame(y, columns=items)
    out.insert(0, "role", ["marketing"] * n_marketing + ["sales"] * n_sales)
    return out


def assert_all_levels_unusable(table: pd.DataFrame, fragment: str):
    assert list(table.columns) == INVARIANCE_COLUMNS
    assert table["level"].tolist() == list(LEVELS)
    assert table[STATISTICS + ["delta_chi2", "delta_df", "delta_p", "delta_cfi"]].isna().all().all()
    assert table["note"].str.contains(fragment, regex=False).all(), table["note"].tolist()


def test_too_few_respondents_give_a_note_not_a_crash():
    items = [f"i{j}" for j in range(7)]
    data = likert(40, 5, items)
    table = measurement_invariance(data, {"A": items[:3], "B": items[3:]}, "x")
    assert (table["n_sales"] == 5).all()
    assert_all_levels_unusable(table, "sales has 5 complete respondents for 7 items")
    empty = measurement_invariance(
        data[data["role"] == "marketing"], {"A": items[:3], "B": items[3:]}, "x"
    )
    assert_all_levels_unusable(empty, "sales has 0 complete respondents")


def test_small_groups_fit_but_carry_a_caution():
    items = [f"i{j}" for j in range(6)]
    table = measurement_invariance(
        likert(40, 17, items, seed=2), {"A": items[:3], "B": items[3:]}, "x"
    )
    # lavaan 0.6-14 on these data: chi2 20.353, 21.410, 24.396
    assert np.allclose(table["chi2"], [20.353, 21.410, 24.396], atol=1e-3)
    # 38 free parameters in the configural model, 19 per group; 34 (17) metric, 30 (15) scalar
    assert table["note"].tolist() == [
        "caution: fewer complete respondents (sales 17) than free parameters per group (19); "
        "the chi2-based statistics are unreliable",
        "",
        "",
    ]


def test_deltas_empty_after_an_unusable_level():
    """Configural is a Heywood case in sales (lavaan 0.6-14 agrees: chi2 26.773 with the warning
    "some estimated ov variances are negative"); metric and scalar are proper (chi2 31.450 and
    34.426)."""
    items = [f"i{j}" for j in range(6)]
    data = likert(30, 14, items)
    configural = fit_multigroup_cfa(
        data, {"A": items[:3], "B": items[3:]}, "role", ("marketing", "sales"), "configural"
    )
    assert configural["chi2"] == pytest.approx(26.773, abs=1e-3) and not configural["proper"]
    table = measurement_invariance(data, {"A": items[:3], "B": items[3:]}, "x").set_index("level")
    assert "Heywood case) of i4 in sales" in table.loc["configural", "note"]
    assert np.isnan(table.loc["configural", "chi2"])
    assert np.allclose(table.loc[["metric", "scalar"], "chi2"], [31.450, 34.426], atol=1e-3)
    assert table.loc["metric", ["delta_chi2", "delta_p", "delta_cfi"]].isna().all()
    assert pd.isna(table.loc["metric", "delta_df"])
    assert table.loc["scalar", "delta_chi2"] == pytest.approx(34.426 - 31.450, abs=1e-3)
    assert table.loc["scalar", "delta_df"] == 4


def test_factors_correlating_beyond_one_are_improper():
    """One factor measured as two: both groups' factor correlations exceed 1. lavaan 0.6-14 warns
    "covariance matrix of latent variables is not positive definite" in both groups for these
    data."""
    items = [f"i{j}" for j in range(6)]
    data = likert(30, 14, items, correlation=1.0)
    fit = fit_multigroup_cfa(
        data, {"A": items[:3], "B": items[3:]}, "role", ("marketing", "sales"), "configural"
    )
    assert fit["fitted"] and fit["converged"] and not fit["proper"]
    cov = fit["factor_covariances"]["sales"].to_numpy()
    assert cov[0, 1] ** 2 > cov[0, 0] * cov[1, 1]
    table = measurement_invariance(data, {"A": items[:3], "B": items[3:]}, "x")
    assert_all_levels_unusable(
        table, "factor covariance matrix of marketing is not positive definite"
    )


def test_listwise_deletion_and_other_groups():
    items = [f"i{j}" for j in range(6)]
    data = likert(60, 50, items)
    data.loc[[0, 1, 70], "i2"] = np.nan
    extra = likert(10, 0, items).assign(role="management")
    table = measurement_invariance(pd.concat([data, extra]), {"A": items[:3], "B": items[3:]}, "x")
    assert (table["n_marketing"] == 58).all() and (table["n_sales"] == 49).all()
    complete = data.dropna()
    again = measurement_invariance(complete, {"A": items[:3], "B": items[3:]}, "x")
    pd.testing.assert_frame_equal(table, again)


def test_one_item_factor_and_two_item_single_factor():
    items = [f"i{j}" for j in range(5)]
    data = likert(60, 50, items)
    table = measurement_invariance(data, {"A": items[:4], "B": items[4:]}, "x")
    assert_all_levels_unusable(table, "B with a single item")
    table = measurement_invariance(data, {"A": items[:2]}, "x")
    assert_all_levels_unusable(table, "single factor with 2 items is not identified")
    table = measurement_invariance(data, {"A": items}, "x")  # an instrument without subscales
    assert table["chi2"].notna().all() and (table["df"] == [10, 14, 18]).all()


def test_constant_item_and_missing_column():
    items = [f"i{j}" for j in range(6)]
    data = likert(60, 50, items)
    data.loc[data["role"] == "sales", "i4"] = 3.0
    table = measurement_invariance(data, {"A": items[:3], "B": items[3:]}, "x")
    assert_all_levels_unusable(table, "i4 do(es) not vary among sales")
    table = measurement_invariance(data.drop(columns="i5"), {"A": items[:3], "B": items[3:]}, "x")
    assert_all_levels_unusable(table, "columns missing from the data: i5")
    with pytest.raises(ValueError):
        fit_multigroup_cfa(data, {"A": items[:3]}, "role", ("marketing", "sales"), "strict")
    with pytest.raises(ValueError):
        measurement_invariance(data, {"A": items[:3], "B": items[2:]}, "x")


def test_speed_20_items_5_factors():
    rng = np.random.default_rng(5)
    factors = {f"F{f}": [f"F{f}_{j}" for j in range(4)] for f in range(5)}
    items = [i for its in factors.values() for i in its]

    def answers(n):
        eta = rng.normal(size=(n, 5)) @ np.linalg.cholesky(0.3 + 0.7 * np.eye(5)).T
        y = np.repeat(eta, 4, axis=1) * 0.8 + rng.normal(0, 0.7, (n, 20))
        return pd.DataFrame(np.clip(np.round(y + 3), 1, 5), columns=items)

    for n, limit in ((80, 3.0), (8000, 6.0)):  # generous bounds: shared CI machines are slow
        wide = pd.concat(
            [answers(n // 2).assign(role="marketing"), answers(n // 2).assign(role="sales")]
        )
        start = time.perf_counter()
        table = measurement_invariance(wide, factors, "big")
        assert time.perf_counter() - start < limit
        assert table["chi2"].notna().all(), table["note"].tolist()
