"""Within-company agreement: r_wg(j), ICC(1), Bland-Altman limits and weighted kappa, from their
formulas."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis import agreement
from research.spec.instruments import instrument_from_dict

INST = instrument_from_dict(
    {
        "id": "t",
        "response_scale": {"min": 1, "max": 5},
        "subscales": [{"id": "a"}],
        "items": [{"id": f"A{i}", "subscale": "a"} for i in range(1, 5)],
        "total": {
            "id": "tot",
            "bands": [
                {"label": "L", "min": 4},
                {"label": "M", "min": 10},
                {"label": "H", "min": 16},
            ],
        },
    }
)


def test_rwg_j_formula_with_uniform_null_variance():
    ratings = np.array([[4, 4, 5, 3], [5, 4, 4, 3], [4, 3, 5, 4.0]])
    s2 = ratings.var(axis=0, ddof=1).mean()
    j, sigma = 4, (5**2 - 1) / 12
    expected = j * (1 - s2 / sigma) / (j * (1 - s2 / sigma) + s2 / sigma)
    assert agreement.rwg_j(ratings, 5) == pytest.approx(expected)
    assert agreement.uniform_null_variance(7) == 4.0
    assert (
        agreement.rwg_j(np.array([[1, 5], [5, 1], [1, 5.0]]), 5) == 0.0
    )  # worse than random: truncated
    assert np.isnan(agreement.rwg_j(np.array([[1, 2.0]]), 5))


@pytest.fixture
def scores():
    rng = np.random.default_rng(9)
    rows = []
    for c in range(25):
        level = rng.uniform(5, 19)
        for role, shift in (("marketing", 1.5), ("sales", -1.0)):
            rows.append(
                {
                    "respondent_id": f"{c}{role}",
                    "company_id": f"C{c:02d}",
                    "role": role,
                    "instrument": "t",
                    "a": (level + shift) / 4,
                    "tot": level + shift + rng.normal(0, 2),
                }
            )
    return pd.DataFrame(rows)


def test_icc1_and_partner_correlation_from_the_one_way_anova(scores):
    table = agreement.partner_agreement(scores, INST).set_index("scale")
    wide = scores.pivot(index="company_id", columns="role", values="tot")
    x = wide.to_numpy()
    n, k = x.shape
    msb = k * ((x.mean(axis=1) - x.mean()) ** 2).sum() / (n - 1)
    msw = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    assert table.loc["tot", "icc1"] == pytest.approx((msb - msw) / (msb + (k - 1) * msw))
    assert table.loc["tot", "r"] == pytest.approx(np.corrcoef(x[:, 0], x[:, 1])[0, 1])
    assert (
        table.loc["tot", "icc1_ci_low"]
        < table.loc["tot", "icc1"]
        < table.loc["tot", "icc1_ci_high"]
    )


def test_bland_altman_limits(scores):
    points, limits = agreement.bland_altman(scores, INST)
    wide = scores.pivot(index="company_id", columns="role", values="tot")
    d = (wide["marketing"] - wide["sales"]).to_numpy()
    assert limits["bias"] == pytest.approx(d.mean())
    assert limits["loa_high"] == pytest.approx(d.mean() + 1.96 * d.std(ddof=1))
    assert limits["loa_low"] == pytest.approx(d.mean() - 1.96 * d.std(ddof=1))
    assert len(points) == 25


def test_weighted_kappa_with_linear_weights_written_out(scores):
    table, result = agreement.stage_agreement(scores, INST)
    p = table.to_numpy(float) / table.to_numpy().sum()
    k = p.shape[0]
    w = 1 - np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    po = (w * p).sum()
    pe = (w * np.outer(p.sum(axis=1), p.sum(axis=0))).sum()
    assert result["kappa_linear"] == pytest.approx((po - pe) / (1 - pe))
    assert list(table.index) == ["L", "M", "H"]  # every stage shown, even an empty one


def test_bland_altman_intervals_equal_r(monkeypatch):
    # Reference: tests/r/robustness.R section 4 (17 differences, set.seed(3)): Bland & Altman (1986)
    # bias ± t SD/√n and limit ± t √(3 SD²/n); Carkeet (2015) exact interval from R's qt(p, n - 1,
    # ncp = 1.96 √n).
    from pathlib import Path

    r = Path(__file__).parent / "r"
    diffs = pd.read_csv(r / "bland_altman_data.csv")["diff"].to_numpy()
    ref = pd.read_csv(r / "bland_altman_reference.csv").iloc[0]
    scores = pd.DataFrame(
        [
            {
                "respondent_id": f"{c}{role}",
                "company_id": f"C{c:02d}",
                "role": role,
                "instrument": "t",
                "a": 0.0,
                "tot": 10 + (d if role == "marketing" else 0.0),
            }
            for c, d in enumerate(diffs)
            for role in ("marketing", "sales")
        ]
    )
    _, limits = agreement.bland_altman(scores, INST)
    assert limits["n_pairs"] == ref["n"]
    for key in [
        "bias",
        "sd",
        "loa_low",
        "loa_high",
        "bias_ci_low",
        "bias_ci_high",
        "loa_low_ci_low",
        "loa_low_ci_high",
        "loa_high_ci_low",
        "loa_high_ci_high",
        "loa_low_exact_ci_low",
        "loa_low_exact_ci_high",
        "loa_high_exact_ci_low",
        "loa_high_exact_ci_high",
    ]:
        assert limits[key] == pytest.approx(ref[key], rel=1e-6), key


def test_bland_altman_intervals_missing_below_three_pairs(scores):
    _, limits = agreement.bland_altman(scores[scores["company_id"].isin(["C00", "C01"])], INST)
    assert (
        limits["n_pairs"] == 2
        and np.isnan(limits["bias_ci_low"])
        and np.isnan(limits["loa_high_exact_ci_high"])
    )


def test_rwg_companies_counts_companies_with_two_complete_raters():
    rows = []
    layout = {"K1": 3, "K2": 2, "K3": 1, "K4": 2}  # K4: one of its two raters skips an item
    for company, n in layout.items():
        for r in range(n):
            for i, item in enumerate(INST.item_ids):
                value = (
                    np.nan if (company == "K4" and r == 1 and i == 0) else float(1 + (r + i) % 5)
                )
                rows.append(
                    {
                        "respondent_id": f"{company}{r}",
                        "company_id": company,
                        "role": "marketing" if r % 2 == 0 else "sales",
                        "instrument": "t",
                        "item": item,
                        "keyed": value,
                    }
                )
    responses = pd.DataFrame(rows)
    by_company = agreement.rwg_by_company(responses, INST).set_index(["company_id", "scale"])
    assert by_company["rwg_j"].xs("a", level="scale").notna().tolist() == [True, True, False, False]
    wide = responses.pivot(index="respondent_id", columns="item", values="keyed")
    k1 = wide.loc[["K10", "K11", "K12"]].to_numpy()
    assert by_company.loc[("K1", "a"), "rwg_star_j"] == pytest.approx(
        1 - k1.var(axis=0, ddof=1).mean() / 2.0
    )
    scores = pd.DataFrame(
        {
            "respondent_id": wide.index,
            "company_id": [i[:2] for i in wide.index],
            "role": ["marketing", "sales"] * 3 + ["marketing", "sales"],
            "instrument": "t",
            "a": 3.0 + np.arange(len(wide)) % 3,
            "tot": 12.0 + np.arange(len(wide)) % 4,
        }
    )
    summary = agreement.agreement_summary(scores, responses, INST).set_index("scale")
    assert summary.loc["a", "rwg_companies"] == 2
    assert (
        summary.loc["a", "rwg_n_items"] == 4
        and "overstates agreement" in summary.loc["a", "rwg_caution"]
    )
    assert summary.loc["a", "rwg_star_median"] == pytest.approx(
        by_company["rwg_star_j"].xs("a", level="scale").median()
    )


def _pingouin_icc1(x: np.ndarray) -> tuple[float, float, float]:
    """ICC(1,1) from pingouin's intraclass_corr, its interval recomputed unrounded from its F."""
    import pingouin as pg

    long = pd.DataFrame(x, columns=["marketing", "sales"]).rename_axis("t").reset_index()
    long = long.melt(id_vars="t", var_name="role", value_name="score")
    icc = pg.intraclass_corr(data=long, targets="t", raters="role", ratings="score").iloc[0]
    f_low = icc["F"] / stats.f.ppf(0.975, icc["df1"], icc["df2"])
    f_high = icc["F"] * stats.f.ppf(0.975, icc["df2"], icc["df1"])
    return icc["ICC"], (f_low - 1) / (f_low + 1), (f_high - 1) / (f_high + 1)


@pytest.mark.parametrize("n", [3, 4, 25, 200])
def test_icc1_with_ci_equals_pingouin(n):
    rng = np.random.default_rng(n)
    level = rng.normal(0, 1, n)
    x = np.column_stack([level + rng.normal(0, 0.7, n), level + 0.4 + rng.normal(0, 0.7, n)])
    np.testing.assert_allclose(agreement.icc1_with_ci(x), _pingouin_icc1(x), rtol=1e-12)
    # the Shrout & Fleiss interval narrows towards the estimate as n grows
    icc, low, high = agreement.icc1_with_ci(x)
    assert low < icc < high


def test_partner_agreement_icc_equals_pingouin_on_every_scale(scores):
    table = agreement.partner_agreement(scores, INST).set_index("scale")
    for scale in ["a", "tot"]:
        x = scores.pivot(index="company_id", columns="role", values=scale)[["marketing", "sales"]]
        expected = _pingouin_icc1(x.to_numpy(float))
        got = table.loc[scale, ["icc1", "icc1_ci_low", "icc1_ci_high"]].to_numpy(float)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        r, p = stats.pearsonr(x["marketing"], x["sales"])
        assert table.loc[scale, ["r", "r_p"]].tolist() == pytest.approx([r, p], rel=1e-12)


def test_partner_agreement_edge_cases_leave_the_coefficients_missing(scores):
    two = agreement.partner_agreement(scores[scores["company_id"].isin(["C00", "C01"])], INST)
    assert (two["note"] == "2 matched companies (3 needed)").all()
    assert two[["r", "r_p", "icc1", "icc1_ci_low", "icc1_ci_high"]].isna().all().all()
    one = agreement.partner_agreement(scores[scores["company_id"] == "C00"], INST)
    assert (one["n_pairs"] == 1).all() and (one["note"] == "1 matched companies (3 needed)").all()
    flat = scores.assign(tot=np.where(scores["role"] == "sales", 7.0, scores["tot"]))
    row = agreement.partner_agreement(flat, INST).set_index("scale")
    assert row.loc["tot", "note"] == "no variance in one function's scores"
    assert np.isnan(row.loc["tot", "icc1"]) and row.loc["a", "note"] == ""
    # a company with only one function's score is not a pair
    lone = scores[~((scores["company_id"] == "C03") & (scores["role"] == "sales"))]
    assert agreement.partner_agreement(lone, INST).set_index("scale").loc["tot", "n_pairs"] == 24
    empty = agreement.partner_agreement(scores[scores["role"] == "sales"], INST)
    assert (empty["n_pairs"] == 0).all() and empty["icc1"].isna().all()


def _random_responses(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(9):
        for r in range(int(rng.integers(1, 6))):  # one to five raters per company
            for item in INST.item_ids:
                value = np.nan if rng.random() < 0.08 else float(rng.integers(1, 6))
                rows.append(
                    {
                        "respondent_id": f"K{c}-{r}",
                        "company_id": f"K{c}",
                        "role": "marketing" if r % 2 == 0 else "sales",
                        "instrument": "t",
                        "item": item,
                        "keyed": value,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rwg_by_company_equals_the_formulas_written_out(seed):
    responses = _random_responses(seed)
    table = agreement.rwg_by_company(responses, INST).set_index(["company_id", "scale"])
    wide = responses.pivot(index="respondent_id", columns="item", values="keyed")
    company = responses.drop_duplicates("respondent_id").set_index("respondent_id")["company_id"]
    for (c, scale), row in table.iterrows():
        x = wide.loc[company.index[company == c], INST.scales[scale]].dropna().to_numpy(float)
        assert row["n_raters"] == len(x) and row["n_items"] == 4
        if len(x) < 2:
            assert np.isnan(row["rwg_j"]) and np.isnan(row["rwg_star_j"])
            continue
        ratio = np.mean([np.var(x[:, k], ddof=1) for k in range(4)]) / 2.0  # (5² - 1) / 12
        rwg = 0.0 if ratio >= 1 else 4 * (1 - ratio) / (4 * (1 - ratio) + ratio)
        assert row["rwg_j"] == pytest.approx(rwg, rel=1e-12, abs=1e-15)
        assert row["rwg_star_j"] == pytest.approx(1 - ratio, rel=1e-12, abs=1e-15)
    assert list(table.index.get_level_values(0).unique()) == list(company.unique())
    summary = agreement.agreement_summary(
        pd.DataFrame(columns=["respondent_id", "company_id", "role", "instrument", "a", "tot"]),
        responses,
        INST,
    ).set_index("scale")
    for scale in ["a", "tot"]:
        r = table.xs(scale, level="scale")["rwg_j"].dropna().to_numpy()
        star = table.xs(scale, level="scale")["rwg_star_j"].dropna().to_numpy()
        assert summary.loc[scale, "rwg_companies"] == len(r)
        assert summary.loc[scale, "rwg_median"] == pytest.approx(np.median(r), rel=1e-12)
        assert summary.loc[scale, "rwg_share_70"] == pytest.approx(np.mean(r >= 0.7))
        assert summary.loc[scale, "rwg_star_median"] == pytest.approx(np.median(star), rel=1e-12)


def test_rwg_summary_without_any_company_of_two_raters():
    responses = _random_responses(0)
    first = responses.drop_duplicates("company_id")["respondent_id"]
    single = responses[responses["respondent_id"].isin(first)]
    by_company = agreement.rwg_by_company(single, INST)
    assert (by_company["n_raters"] <= 1).all() and by_company["rwg_j"].isna().all()
    summary = agreement.agreement_summary(
        pd.DataFrame(columns=["respondent_id", "company_id", "role", "instrument", "a", "tot"]),
        single,
        INST,
    )
    assert (summary["rwg_companies"] == 0).all() and summary["rwg_companies"].dtype.kind == "i"
    assert summary[["rwg_median", "rwg_share_70", "rwg_star_median"]].isna().all().all()
    assert (summary["note"] == "0 matched companies (3 needed)").all()
