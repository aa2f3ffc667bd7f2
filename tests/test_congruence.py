"""Response surface analysis: R's lm() as the reference, the bootstrap, the checklist, degenerate
data.

The reference values were computed by ``tests/r/dif_congruence.R`` (lm() and vcov(), the RSA
package's formulas written out in R) and committed; these tests never run R.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.analysis.congruence import (
    CONGRUENCE_COLUMNS,
    CONGRUENCE_EXTRA_COLUMNS,
    _axes,
    _stationary,
    congruence_table,
    response_surface,
)

R_DIR = Path(__file__).resolve().parent / "r"
OUTCOMES = ["trust", "revenue_growth", "satisfaction"]
MIDPOINT = 12.0  # 4 items scored 1..5: 4 * (1 + 5) / 2


@pytest.fixture(scope="module")
def companies():
    return pd.read_csv(R_DIR / "congruence_data.csv")


@pytest.fixture(scope="module")
def table(companies):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return congruence_table(companies, OUTCOMES, MIDPOINT, "inst", "total", n_boot=1000)


def test_columns_contract_first_in_order(table):
    assert list(table.columns[: len(CONGRUENCE_COLUMNS)]) == CONGRUENCE_COLUMNS
    assert list(table.columns) == CONGRUENCE_COLUMNS + CONGRUENCE_EXTRA_COLUMNS
    assert CONGRUENCE_COLUMNS[4:9] == ["b1", "b2", "b3", "b4", "b5"]


def test_matches_r_lm(table):
    ref = pd.read_csv(R_DIR / "congruence_reference.csv")
    merged = table.merge(ref, on="outcome", suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == 3
    assert (merged["n_companies"] == merged["n_companies_r"]).all()
    assert merged.set_index("outcome").loc["trust", "n_companies"] == 67  # three lack the outcome
    cols = [
        c for c in ref.columns if c not in ("outcome", "n_companies", "r_version", "stats_version")
    ]
    assert {"b0", "se_b3", "p_a4", "x0", "p11", "p21"} <= set(cols)
    for col in cols:  # agreement is ~1e-13; closed-form OLS leaves no optimiser tolerance
        np.testing.assert_allclose(
            merged[col], merged[f"{col}_r"], rtol=1e-9, atol=1e-12, err_msg=col
        )


def test_surface_parameters_are_the_stated_combinations(table):
    row = table.iloc[0]
    b = [row[f"b{i}"] for i in range(1, 6)]
    assert row["a1"] == pytest.approx(b[0] + b[1], rel=1e-12)
    assert row["a2"] == pytest.approx(b[2] + b[3] + b[4], rel=1e-12)
    assert row["a3"] == pytest.approx(b[0] - b[1], rel=1e-12)
    assert row["a4"] == pytest.approx(b[2] - b[3] + b[4], rel=1e-12)
    assert row["a5"] == pytest.approx(b[2] - b[4], rel=1e-12)
    den = 4 * b[2] * b[4] - b[3] ** 2
    assert row["x0"] == pytest.approx((b[1] * b[3] - 2 * b[0] * b[4]) / den, rel=1e-12)
    assert row["y0"] == pytest.approx((b[0] * b[3] - 2 * b[1] * b[2]) / den, rel=1e-12)
    # the stationary point lies on both principal axes
    assert row["y0"] == pytest.approx(row["p10"] + row["p11"] * row["x0"], abs=1e-12)
    assert row["y0"] == pytest.approx(row["p20"] + row["p21"] * row["x0"], abs=1e-12)
    assert row["p11"] * row["p21"] == pytest.approx(-1, rel=1e-12)  # perpendicular


def test_bootstrap_reproducible_and_contains_estimate(companies, table):
    interval_cols = [c for c in CONGRUENCE_EXTRA_COLUMNS if c.endswith(("_low", "_high"))]
    again = congruence_table(companies, OUTCOMES, MIDPOINT, "inst", "total", n_boot=1000)
    pd.testing.assert_frame_equal(table, again)
    other = congruence_table(companies, OUTCOMES, MIDPOINT, "inst", "total", n_boot=1000, seed=1)
    assert not np.allclose(table[interval_cols], other[interval_cols])
    trust = table.set_index("outcome").loc["trust"]  # a clear ridge: well-behaved axes
    assert trust["n_boot"] == 1000 and trust["n_boot_failed"] == 0
    for p in ["p10", "p11", "p20", "p21"]:
        assert trust[f"{p}_low"] < trust[p] < trust[f"{p}_high"], p
    narrow = response_surface(
        companies, "trust", MIDPOINT, "inst", "total", n_boot=1000, confidence=0.5
    )
    assert trust["p11_low"] < narrow["p11_low"] < narrow["p11_high"] < trust["p11_high"]
    none = response_surface(companies, "trust", MIDPOINT, "inst", "total", n_boot=0)
    assert (
        np.isnan(none["p11_low"])
        and none["congruence"] == ""
        and pd.isna(none["cond_axis_slope_ci_has_1"])
    )


def test_checklist(table):
    t = table.set_index("outcome")
    trust = t.loc["trust"]  # planted: 4 + 0.1 (X + Y) - 0.06 (X - Y)^2
    assert trust["direction"].startswith("maximum")
    assert trust[
        ["cond_axis_intercept_ci_has_0", "cond_axis_slope_ci_has_1", "cond_a3_ns", "cond_a4_sig"]
    ].tolist() == [True, True, True, True]
    assert not trust["cond_a1_ns"]  # a1 = 0.2 planted: the strict hypothesis fails
    assert trust["congruence"] == "supported" and trust["congruence_strict"] == "not supported"
    growth = t.loc["revenue_growth"]  # no congruence effect planted
    assert growth["congruence"] == "not supported"
    assert table["cond_a4_sig"].dtype == "boolean"


def test_minimum_direction_mirrors_maximum(companies):
    flipped = companies.assign(trust=-companies["trust"])
    up = response_surface(companies, "trust", MIDPOINT, "i", "t", n_boot=500)
    down = response_surface(flipped, "trust", MIDPOINT, "i", "t", n_boot=500, direction="minimum")
    assert down["direction"].startswith("minimum")
    assert down["p21"] == pytest.approx(up["p11"], rel=1e-12)
    for c in [c for c in CONGRUENCE_EXTRA_COLUMNS if c.startswith("cond_")] + [
        "congruence",
        "congruence_strict",
    ]:
        assert down[c] == up[c], c
    wrong = response_surface(
        flipped, "trust", MIDPOINT, "i", "t", n_boot=500
    )  # a valley is no maximum
    assert wrong["cond_a4_sig"] is False and wrong["congruence"] == "not supported"
    with pytest.raises(ValueError):
        response_surface(companies, "trust", MIDPOINT, "i", "t", direction="ridge")


def _assert_empty(row, fragment):
    assert fragment in row["note"], row["note"]
    for col in ["b1", "b5", "r2", "a1", "a4", "p_a1", "p_a4", "x0", "y0", "p11"]:
        assert pd.isna(row[col]), col
    assert row["congruence"] == ""


def test_fewer_than_ten_companies(companies):
    few = companies.iloc[:12].copy()
    few.loc[few.index[:3], "satisfaction"] = np.nan  # nine usable
    row = response_surface(few, "satisfaction", MIDPOINT, "i", "t")
    _assert_empty(row, "9 companies")
    assert row["n_companies"] == 9 and row["n_boot"] == 0
    ten = response_surface(companies.iloc[:10], "satisfaction", MIDPOINT, "i", "t", n_boot=200)
    assert ten["n_companies"] == 10 and np.isfinite(ten["b1"])
    out = congruence_table(companies.iloc[:5], OUTCOMES, MIDPOINT, "i", "t")
    assert list(out.columns[: len(CONGRUENCE_COLUMNS)]) == CONGRUENCE_COLUMNS
    assert out["note"].str.contains("at least 10").all() and out["b1"].isna().all()


def _grid(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(8, 16, n), rng.uniform(8, 16, n), rng


def test_constant_outcome():
    m, s, _ = _grid()
    row = response_surface(
        pd.DataFrame({"marketing": m, "sales": s, "z": 2.0}), "z", MIDPOINT, "i", "t"
    )
    _assert_empty(row, "outcome is constant")


def test_rank_deficient_designs():
    m, s, rng = _grid()
    z = rng.normal(size=len(m))
    same_x = response_surface(
        pd.DataFrame({"marketing": 12.0, "sales": s, "z": z}), "z", MIDPOINT, "i", "t"
    )
    _assert_empty(same_x, "every company has the same X")
    same_y = response_surface(
        pd.DataFrame({"marketing": m, "sales": 9.0, "z": z}), "z", MIDPOINT, "i", "t"
    )
    _assert_empty(same_y, "every company has the same Y")
    agree = response_surface(
        pd.DataFrame({"marketing": m, "sales": m, "z": z}), "z", MIDPOINT, "i", "t"
    )
    _assert_empty(agree, "rank-deficient design")


def test_no_stationary_point():
    assert _stationary(np.array([0.0, 1.0, 1.0, 1.0, -2.0, 1.0]))[2].startswith(
        "4 b3 b5 - b4^2 = 0"
    )
    assert np.isnan(_stationary(np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0]))[0])  # a plane
    m, s, _ = _grid()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = response_surface(
            pd.DataFrame({"marketing": m, "sales": s, "z": (m - s) ** 2}),
            "z",
            MIDPOINT,
            "i",
            "t",
            n_boot=200,
        )
    assert "no unique stationary point" in row["note"] and "perfect fit" in row["note"]
    assert (
        np.isnan(row["x0"])
        and np.isnan(row["y0"])
        and np.isnan(row["p10"])
        and np.isnan(row["p20"])
    )
    assert row["p11"] == pytest.approx(-1)  # the axes' slopes need no stationary point
    assert row["b4"] == pytest.approx(-2) and row["congruence"] == ""
    assert row["n_boot_failed"] == 200 and "no intervals" in row["note"]


def test_b4_zero_gives_no_axis_slope():
    axes = _axes(np.array([0.0, 0.3, 0.1, -1.0, 0.0, -2.0]), 0.5, 0.2)
    assert np.isnan(axes).all()
    m, s, rng = _grid()
    x, y = m - MIDPOINT, s - MIDPOINT
    row = response_surface(
        pd.DataFrame({"marketing": m, "sales": s, "z": 1 - x**2 - 2 * y**2}),
        "z",
        MIDPOINT,
        "i",
        "t",
        n_boot=100,
    )
    assert "b4 = 0" in row["note"] and np.isnan(row["p11"]) and np.isfinite(row["x0"])


def test_failed_resamples_are_counted():
    rng = np.random.default_rng(4)
    c = pd.DataFrame(
        {
            "marketing": rng.choice([11.0, 12.0, 13.0], 12),
            "sales": rng.choice([11.0, 12.0, 13.0], 12),
            "z": rng.normal(size=12),
        }
    )
    row = response_surface(c, "z", MIDPOINT, "i", "t", n_boot=300)
    assert np.isfinite(row["b1"])
    assert 0 < row["n_boot_failed"] <= 300 and "bootstrap resamples failed" in row["note"]
    if row["n_boot_failed"] > 30:
        assert pd.isna(row["cond_axis_slope_ci_has_1"]) and "not assessed" in row["note"]
