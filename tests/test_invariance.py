"""Measurement invariance (multi-group CFA) against lavaan 0.6's own numbers.

The reference values come from tests/r/invariance.R (lavaan 0.6-14), committed with the data sets
it read, so these tests need no R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis import invariance
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


def test_fits_take_few_evaluations(monkeypatch):
    """20 items in 5 factors, 80 and 8,000 respondents: each level takes a few dozen evaluations of
    the discrepancy at most (counted, not timed: Newton's method converges in a handful of steps
    once scoring has brought it near the minimum)."""
    rng = np.random.default_rng(5)
    factors = {f"F{f}": [f"F{f}_{j}" for j in range(4)] for f in range(5)}
    items = [i for its in factors.values() for i in its]

    def answers(n):
        eta = rng.normal(size=(n, 5)) @ np.linalg.cholesky(0.3 + 0.7 * np.eye(5)).T
        y = np.repeat(eta, 4, axis=1) * 0.8 + rng.normal(0, 0.7, (n, 20))
        return pd.DataFrame(np.clip(np.round(y + 3), 1, 5), columns=items)

    calls = []
    value_and_grad = invariance._Discrepancy.value_and_grad

    def counted(self, x):
        calls.append(1)
        return value_and_grad(self, x)

    monkeypatch.setattr(invariance._Discrepancy, "value_and_grad", counted)
    for n in (80, 8000):
        wide = pd.concat(
            [answers(n // 2).assign(role="marketing"), answers(n // 2).assign(role="sales")]
        )
        calls.clear()
        table = measurement_invariance(wide, factors, "big")
        assert table["chi2"].notna().all(), table["note"].tolist()
        assert len(calls) <= 3 * 40, len(calls)


def test_no_convergence_is_reported_where_lavaan_does_not_converge():
    """Two factors of 2 and 3 items, 25 and 20 respondents. lavaan 0.6-14 converges at the
    configural and metric levels of the first data set (chi2 13.787211 and 22.054605, both with
    "some estimated ov variances are negative") but not at the scalar level, and at no level of the
    second ("the optimizer warns that a solution has NOT been found!"): the discrepancy keeps
    falling along a ridge towards a Heywood case at infinity."""
    items = [f"i{j}" for j in range(5)]
    factors = {"A": items[:2], "B": items[2:]}
    data = likert(25, 20, items, seed=1, correlation=0.2)
    fits = {
        level: fit_multigroup_cfa(data, factors, "role", ("marketing", "sales"), level)
        for level in LEVELS
    }
    for level, chi2 in (("configural", 13.787211), ("metric", 22.054605)):
        assert fits[level]["converged"] and not fits[level]["proper"]
        assert fits[level]["chi2"] == pytest.approx(chi2, abs=1e-5)
        assert "no convergence" not in fits[level]["note"]
    assert not fits["scalar"]["converged"]
    assert "no convergence (largest gradient" in fits["scalar"]["note"]
    table = measurement_invariance(likert(25, 20, items, seed=3, correlation=0.2), factors, "x")
    assert_all_levels_unusable(table, "no convergence (largest gradient")


def discrepancy(name: str, level: str):
    """The discrepancy of one reference data set and level, and a point away from its minimum."""
    data, factors, group, groups = dataset(name)
    items = [i for its in factors.values() for i in its]
    moments = invariance._group_moments(data, group, groups, items)
    sizes = [len(its) for its in factors.values()]
    lay = invariance._layout(sizes, 2, level)
    disc = invariance._Discrepancy(moments.means, moments.covs, list(moments.ns.values()), lay)
    x = invariance._start(moments.means, moments.covs, lay, sizes)
    x = x + np.random.default_rng(3).normal(0, 0.05, len(x))
    x[lay.alpha[lay.alpha >= 0]] = 0.2  # non-zero factor means
    return disc, x, lay


def central_differences(fun, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d fun / d x by central differences, one column per element of x."""
    cols = [(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(len(x))]
    return np.array(cols).T


@pytest.mark.parametrize("level", LEVELS)
def test_gradient_and_hessian_equal_finite_differences(level):
    """The analytic gradient against central differences of the discrepancy, and the analytic
    Hessian against central differences of the gradient, at a point where the model does not fit
    (so the terms in ``S - Sigma`` and ``m - mu`` count)."""
    disc, x, _ = discrepancy("likert_noninvariant", level)
    f, grad = disc.value_and_grad(x)
    assert np.isfinite(f)
    numeric = central_differences(lambda z: np.array([disc.value_and_grad(z)[0]]), x)[0]
    assert np.allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    numeric = central_differences(lambda z: disc.value_and_grad(z)[1], x)
    assert np.allclose(disc.hessian(x), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("level", LEVELS)
def test_information_is_the_hessian_where_the_model_fits_exactly(level):
    """Where the data moments equal the implied ones the discrepancy is 0, its gradient vanishes
    and its Hessian equals the expected information."""
    disc, x, lay = discrepancy("holzinger", level)
    implied = [invariance._implied(x, lay, g) for g in range(2)]
    exact = invariance._Discrepancy([m for _, m in implied], [s for s, _ in implied], [3, 2], lay)
    f, grad = exact.value_and_grad(x)
    assert abs(f) < 1e-12 and np.max(np.abs(grad)) < 1e-12
    info = exact.information(x)
    assert np.allclose(exact.hessian(x), info, rtol=1e-9, atol=1e-12 * np.max(np.abs(info)))


def test_item_columns_of_other_types_give_the_same_table():
    """Nullable integers (with pd.NA) and numbers stored as text are read as the same numbers, and
    their missing answers dropped listwise, as float columns with NaN."""
    items = [f"i{j}" for j in range(6)]
    data = likert(60, 50, items)
    data.loc[[0, 1, 70], "i2"] = np.nan
    factors = {"A": items[:3], "B": items[3:]}
    expected = measurement_invariance(data, factors, "x")
    other = data.copy()
    other["i2"] = other["i2"].astype("Int64")
    other["i4"] = other["i4"].astype(int).astype(str)
    other.loc[5, "i4"] = "not answered"
    expected_without_5 = measurement_invariance(data.drop(index=5), factors, "x")
    pd.testing.assert_frame_equal(measurement_invariance(other, factors, "x"), expected_without_5)
    assert (expected["n_marketing"] == expected_without_5["n_marketing"] + 1).all()
