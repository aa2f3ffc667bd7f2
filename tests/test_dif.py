"""Differential item functioning screen: R's ordinal::clm as the reference, Holm, degenerate items.

The reference values were computed by ``tests/r/dif_congruence.R`` (ordinal::clm with gradTol 1e-10,
and MASS::polr) and committed; these tests never run R.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.analysis.dif import (
    DIF_COLUMNS,
    DIF_EXTRA_COLUMNS,
    dif_screen,
    fit_cumulative_logit,
)

R_DIR = Path(__file__).resolve().parent / "r"
NUMBERS = [
    "uniform_chi2",
    "uniform_p",
    "nonuniform_chi2",
    "nonuniform_p",
    "omnibus_p",
    "p_holm",
    "uniform_coef",
    "uniform_se",
    "nonuniform_coef",
    "nonuniform_se",
    "ll1",
    "ll2",
    "ll3",
]


@pytest.fixture(scope="module")
def reference_run():
    data = pd.read_csv(R_DIR / "dif_data.csv")
    items = pd.read_csv(R_DIR / "dif_items.csv", keep_default_na=False)
    ref = pd.read_csv(R_DIR / "dif_reference.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # well-behaved fits raise no warning at all
        out = pd.concat(
            [
                dif_screen(data, dict(zip(g["item"], g["subscale"], strict=True)), inst)
                for inst, g in items.groupby("instrument", sort=False)
            ],
            ignore_index=True,
        )
    return out, ref


def test_columns_contract_first_in_order(reference_run):
    out, _ = reference_run
    assert list(out.columns[: len(DIF_COLUMNS)]) == DIF_COLUMNS
    assert list(out.columns) == DIF_COLUMNS + DIF_EXTRA_COLUMNS


def test_matches_r_clm(reference_run):
    out, ref = reference_run
    merged = out.merge(ref, on=["instrument", "item"], suffixes=("", "_r"), validate="one_to_one")
    assert len(merged) == len(ref) == 11
    assert (merged["n"] == merged["n_r"]).all() and (
        merged["n_levels"] == merged["n_levels_r"]
    ).all()
    assert (merged["note"] == "").all()
    # clm's optimum and ours agree to ~1e-12; 1e-7 leaves room for other BLAS / optimiser builds
    for col in ["ll1", "ll2", "ll3", "uniform_chi2", "nonuniform_chi2"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=0, atol=1e-7, err_msg=col)
    for col in ["uniform_p", "nonuniform_p", "omnibus_p", "p_holm"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=0, atol=1e-8, err_msg=col)
    for col in ["uniform_coef", "uniform_se", "nonuniform_coef", "nonuniform_se"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=0, atol=1e-6, err_msg=col)
    # MASS::polr stops earlier (reltol ~1e-8): its log-likelihoods lie within 1e-4 below clm's
    for k in (1, 2, 3):
        diff = merged[f"ll{k}"] - merged[f"ll{k}_polr"]
        assert (diff > -1e-9).all() and (diff < 1e-4).all()


def test_planted_dif_found_with_its_sign(reference_run):
    out, _ = reference_run
    row = out.set_index("item")
    assert row.loc["A2", "dif"] and row.loc["A2", "uniform_coef"] > 0  # marketing higher
    assert row.loc["C3", "dif"] and row.loc["C3", "uniform_coef"] < 0  # sales higher
    assert row.loc["B1", "dif"] and row.loc["B1", "nonuniform_p"] < 1e-4  # slopes differ
    assert row.loc["B1", "nonuniform_coef"] < 0  # marketing's answers follow the trait less
    assert row.loc["C4", "n_levels"] == 4 and row.loc["B3", "n_levels"] == 3


def test_holm_within_instrument(reference_run):
    out, _ = reference_run
    for _, part in out.groupby("instrument"):
        p = part["omnibus_p"].to_numpy()
        m = len(p)
        order = np.argsort(p)
        holm = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[order]))
        expected = np.empty(m)
        expected[order] = holm
        np.testing.assert_allclose(part["p_holm"], expected, rtol=1e-12)
        assert (part["dif"] == (part["p_holm"] < 0.05)).all()


def test_alpha_changes_dif_only(reference_run):
    data = pd.read_csv(R_DIR / "dif_data.csv")
    items = {"C1": "", "C2": "", "C3": "", "C4": ""}
    strict = dif_screen(data, items, "inst2", alpha=1e-12)
    assert not strict["dif"].any()
    loose = dif_screen(data, items, "inst2", alpha=1.0)
    assert loose["dif"].all()
    pd.testing.assert_series_equal(strict["p_holm"], loose["p_holm"])


def test_groups_other_than_the_two_are_ignored():
    data = pd.read_csv(R_DIR / "dif_data.csv")
    items = {"C1": "", "C2": "", "C3": "", "C4": ""}
    base = dif_screen(data, items, "inst2")
    renamed = data.assign(role=data["role"].replace({"other": "finance"}))
    again = dif_screen(renamed, items, "inst2")
    pd.testing.assert_frame_equal(base, again)
    assert (base["n_focal"] + base["n_reference"] == base["n"]).all()


def _toy(n=120, seed=3):
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=n)
    role = np.where(np.arange(n) % 2 == 0, "marketing", "sales")
    wide = pd.DataFrame(
        {
            q: np.clip(np.round(3 + trait + rng.normal(scale=0.8, size=n)), 1, 5)
            for q in ["a1", "a2", "a3"]
        }
    )
    wide["role"] = role
    return wide, trait


def _assert_empty(row, fragment):
    assert fragment in row["note"], row["note"]
    for col in [
        "uniform_chi2",
        "uniform_p",
        "nonuniform_chi2",
        "nonuniform_p",
        "omnibus_p",
        "p_holm",
        "uniform_coef",
    ]:
        assert pd.isna(row[col]), col
    assert pd.isna(row["dif"])


def test_item_alone_in_its_subscale():
    wide, _ = _toy()
    wide["b1"] = wide["a1"]
    out = dif_screen(wide, {"a1": "A", "a2": "A", "a3": "A", "b1": "B"}, "x").set_index("item")
    _assert_empty(out.loc["b1"], "no other item in subscale 'B'")
    assert out.loc[["a1", "a2", "a3"], "note"].eq("").all()
    single = dif_screen(wide[["a1", "role"]], {"a1": None}, "x").iloc[0]
    _assert_empty(single, "no other item in the instrument")


def test_single_level_and_constant_matching():
    wide, _ = _toy()
    wide["flat"] = 3.0
    out = dif_screen(wide, {"a1": "A", "a2": "A", "flat": "A"}, "x").set_index("item")
    _assert_empty(out.loc["flat"], "single level")
    assert out.loc["flat", "n_levels"] == 1
    # a1's matching score (the mean of a2 and flat) still varies: a1 is fitted
    assert out.loc["a1", "note"] == ""
    const = dif_screen(wide, {"a1": "A", "flat": "A"}, "x").set_index("item")
    _assert_empty(const.loc["a1"], "matching score is constant")


def test_one_group_absent():
    wide, _ = _toy()
    wide.loc[wide["role"] == "sales", "a2"] = np.nan
    out = dif_screen(wide, {"a1": "A", "a2": "A", "a3": "A"}, "x").set_index("item")
    _assert_empty(out.loc["a2"], "no sales respondents")
    only_marketing = wide[wide["role"] == "marketing"]
    out2 = dif_screen(only_marketing, {"a1": "A", "a2": "A", "a3": "A"}, "x")
    assert out2["note"].str.contains("no sales respondents").all()
    assert out2["p_holm"].isna().all() and out2["dif"].isna().all()
    none = dif_screen(wide.assign(role="finance"), {"a1": "A", "a3": "A"}, "x")
    assert none["note"].str.contains("no respondents").all()


def test_quasi_complete_separation_by_role():
    wide, trait = _toy()
    marketing = wide["role"] == "marketing"
    wide["sep"] = np.where(
        marketing, 5.0, np.clip(np.round(3 + trait), 1, 4)
    )  # only marketing says 5
    out = dif_screen(wide, {"a1": "A", "a2": "A", "a3": "A", "sep": "A"}, "x").set_index("item")
    _assert_empty(out.loc["sep"], "M2:")
    assert "separation" in out.loc["sep", "note"]


def test_complete_separation_by_matching_score():
    wide, _ = _toy()
    match = wide[["a1", "a2"]].mean(axis=1)
    wide["step"] = np.where(
        match > match.median(), 4.0, 2.0
    )  # answer determined by the matching score
    out = dif_screen(wide, {"a1": "A", "a2": "A", "step": "A"}, "x").set_index("item")
    _assert_empty(out.loc["step"], "M1:")


def test_missing_item_and_missing_group_column():
    wide, _ = _toy()
    out = dif_screen(wide, {"a1": "A", "a2": "A", "zz": "A"}, "x").set_index("item")
    _assert_empty(out.loc["zz"], "item not in the data")
    assert "matching items not in the data: zz" in out.loc["a1", "note"]
    with pytest.raises(KeyError):
        dif_screen(wide.drop(columns="role"), {"a1": "A", "a2": "A"}, "x")


def test_matching_score_uses_available_other_items():
    """A respondent missing some other items is matched on the mean of those answered."""
    wide, _ = _toy()
    wide.loc[:9, "a2"] = np.nan  # a1's matching score falls back to a3 for these ten
    wide.loc[:4, "a3"] = np.nan  # and to nothing for five: they drop out of a1's model
    out = dif_screen(wide, {"a1": "A", "a2": "A", "a3": "A"}, "x").set_index("item")
    assert out.loc["a1", "n"] == 115
    assert out.loc["a2", "n"] == 110 and out.loc["a3", "n"] == 115


def test_empty_items_dict():
    wide, _ = _toy()
    out = dif_screen(wide, {}, "x")
    assert out.empty and list(out.columns) == DIF_COLUMNS + DIF_EXTRA_COLUMNS


def _item_design(item="A2", others=("A1", "A3", "A4")):
    """The R reference data of one item: answers and the M3 design (matching score, role, their
    product), complete cases."""
    data = pd.read_csv(R_DIR / "dif_data.csv")
    data = data[data["role"].isin(["marketing", "sales"])]
    match = data[list(others)].mean(axis=1).to_numpy()
    focal = (data["role"] == "marketing").to_numpy(float)
    y = data[item].to_numpy(float)
    keep = np.isfinite(y) & np.isfinite(match)
    y, match, focal = y[keep], match[keep], focal[keep]
    return y, np.column_stack([match, focal, match * focal])


def test_frequency_weights_equal_repeated_rows():
    y, exog = _item_design()
    rows = fit_cumulative_logit(y, exog)
    # the distinct rows and how often each occurs
    distinct, counts = np.unique(np.column_stack([y, exog]), axis=0, return_counts=True)
    assert len(distinct) < len(y)  # some rows repeat, so the weights matter
    table = fit_cumulative_logit(distinct[:, 0], distinct[:, 1:], weights=counts)
    assert table.mle_retvals["converged"]
    assert table.llf == pytest.approx(rows.llf, abs=1e-9)
    np.testing.assert_allclose(table.params, rows.params, atol=1e-8)
    np.testing.assert_allclose(table.bse, rows.bse, rtol=1e-8)
    np.testing.assert_allclose(
        table.model.hessian(table.params), rows.model.hessian(rows.params), rtol=1e-8, atol=1e-8
    )
    # and the same start: the thresholds of the answers' frequencies
    np.testing.assert_allclose(table.model.start_params, rows.model.start_params, atol=1e-12)


def test_weighted_score_and_hessian_equal_numerical_derivatives():
    from statsmodels.tools.numdiff import approx_fprime, approx_hess3

    y, exog = _item_design("B1", ("B2", "B3"))
    weights = np.random.default_rng(4).uniform(0.5, 3.0, size=len(y))
    model = fit_cumulative_logit(y, exog, weights=weights).model
    params = model.start_params + 0.1  # away from the optimum, where the score is not zero
    np.testing.assert_allclose(
        model.score(params), approx_fprime(params, model.loglike, centered=True), rtol=1e-6
    )
    np.testing.assert_allclose(
        model.hessian(params), approx_hess3(params, model.loglike), rtol=1e-5, atol=1e-6
    )


def test_weights_of_one_change_nothing_and_bad_weights_are_refused():
    y, exog = _item_design()
    plain, ones = fit_cumulative_logit(y, exog), fit_cumulative_logit(y, exog, np.ones(len(y)))
    np.testing.assert_array_equal(plain.params, ones.params)
    assert plain.llf == ones.llf
    for bad in (np.zeros(len(y)), np.full(len(y), np.nan), np.ones(len(y) - 1)):
        with pytest.raises(ValueError, match="weights"):
            fit_cumulative_logit(y, exog, weights=bad)


def test_log_likelihood_and_start_equal_statsmodels_ordered_model():
    """The closed-form start values and the log-likelihood are statsmodels' OrderedModel's."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y, exog = _item_design("B1", ("B2", "B3"))
    fit = fit_cumulative_logit(y, exog)
    reference = OrderedModel(y, exog, distr="logit")
    np.testing.assert_allclose(fit.model.start_params, reference.start_params, rtol=0, atol=1e-12)
    for params in (fit.params, fit.model.start_params + 0.1):
        assert fit.model.loglike(params) == pytest.approx(reference.loglike(params), abs=1e-9)
    np.testing.assert_allclose(
        fit.thresholds, reference.transform_threshold_params(fit.params)[1:-1], rtol=1e-14
    )


def test_newton_agrees_with_statsmodels_bfgs_fit_and_its_standard_errors():
    """Same optimum, standard errors and p-values as OrderedModel's own BFGS fit (numerical
    derivatives), and the results' Hessian is the numerical Hessian of OrderedModel's
    log-likelihood at the estimate."""
    from scipy import stats
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_hess

    y, exog = _item_design()
    fit = fit_cumulative_logit(y, exog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = OrderedModel(y, exog, distr="logit").fit(method="bfgs", disp=False, maxiter=2000)
    assert fit.mle_retvals["converged"] and fit.llf >= ref.llf - 1e-9
    assert fit.llf == pytest.approx(ref.llf, abs=1e-6)
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-4)
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-3)
    numerical = approx_hess(fit.params, OrderedModel(y, exog, distr="logit").loglike)
    np.testing.assert_allclose(fit.hessian, numerical, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fit.cov_params(), np.linalg.inv(-fit.hessian), rtol=1e-10)
    np.testing.assert_allclose(fit.bse, np.sqrt(np.diag(np.linalg.inv(-fit.hessian))), rtol=1e-10)
    np.testing.assert_allclose(fit.pvalues, 2 * stats.norm.sf(np.abs(fit.params / fit.bse)))
    assert np.abs(fit.model.score(fit.params)).max() < 1e-8


def test_one_evaluation_of_the_derivatives_per_newton_iteration(monkeypatch):
    from research.analysis import dif

    calls = []
    original = dif._CumulativeLogit.derivatives

    def counted(self, params):
        calls.append(np.array(params))
        return original(self, params)

    monkeypatch.setattr(dif._CumulativeLogit, "derivatives", counted)
    y, exog = _item_design()
    fit = fit_cumulative_logit(y, exog)
    # one per iteration, and one at the estimate for the log-likelihood and standard errors
    assert len(calls) == fit.mle_retvals["iterations"] + 1
    np.testing.assert_array_equal(calls[-1], fit.params)


def test_larger_models_start_from_the_smaller_models_estimates(monkeypatch):
    from research.analysis import dif

    starts = []
    original = dif._newton

    def recorded(model, start):
        result = original(model, start)
        starts.append((start, result.params))
        return result

    monkeypatch.setattr(dif, "_newton", recorded)
    wide, _ = _toy()
    out = dif_screen(wide[["a1", "a2", "role"]], {"a1": "A", "a2": "A"}, "x")
    assert (out["note"] == "").all() and len(starts) == 6  # three models for each of two items
    for (s1, p1), (s2, p2), (s3, _) in zip(starts[::3], starts[1::3], starts[2::3], strict=True):
        assert s1 is None  # M1: zero slope and the thresholds of the answer shares
        np.testing.assert_array_equal(s2, np.r_[p1[:1], 0.0, p1[1:]])
        np.testing.assert_array_equal(s3, np.r_[p2[:2], 0.0, p2[2:]])


def test_a_constant_predictor_is_refused_as_by_ordered_model():
    y, exog = _item_design()
    for bad in (np.column_stack([exog, np.ones(len(y))]), np.column_stack([exog, 1 - exog[:, 1]])):
        with pytest.raises(ValueError, match="constant"):
            fit_cumulative_logit(y, bad)
    with pytest.raises(ValueError, match="NaN"):
        fit_cumulative_logit(np.r_[y[:-1], np.nan], exog)


def test_each_warning_is_noted_once(monkeypatch):
    from research.analysis import dif

    original = dif._CumulativeLogit.derivatives

    def warns(self, params):  # a warning at every evaluation: several per fit
        warnings.warn("something odd", RuntimeWarning, stacklevel=1)
        return original(self, params)

    monkeypatch.setattr(dif._CumulativeLogit, "derivatives", warns)
    wide, _ = _toy()
    out = dif_screen(wide, {"a1": "A", "a2": "A", "a3": "A"}, "x")
    assert (out["note"] == "M1: RuntimeWarning: something odd").all()
    assert out["p_holm"].isna().all()


def test_a_fit_that_runs_off_to_nan_is_not_called_converged():
    # Completely separated: every answer of the x = 1 rows is above every answer of the x = 0 rows,
    # so the coefficient has no finite maximum and Newton's steps end in NaN.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    from research.analysis.dif import fit_cumulative_logit

    with pytest.warns(ConvergenceWarning):
        fit = fit_cumulative_logit([1, 1, 2, 2, 3, 3], [[0], [0], [1], [1], [1], [1]])
    assert not fit.mle_retvals["converged"] and fit.mle_retvals["warnflag"] == 1
