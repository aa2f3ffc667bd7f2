"""Item, scale and dyad comparisons recomputed independently from their formulas (SPEC §3)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis import compare, effects
from research.spec.instruments import instrument_from_dict

INST = instrument_from_dict(
    {
        "id": "t",
        "response_scale": {"min": 1, "max": 5},
        "min_answered": 0.5,
        "subscales": [{"id": "a"}, {"id": "b"}],
        "items": [
            {"id": "A1", "subscale": "a"},
            {"id": "A2", "subscale": "a"},
            {"id": "B1", "subscale": "b"},
            {"id": "B2", "subscale": "b"},
            {"id": "B3", "subscale": "b"},
        ],
        "total": {"id": "tot", "bands": [{"label": "low", "min": 5}, {"label": "high", "min": 15}]},
    }
)


def holm(p):
    """Holm's step-down adjustment written out."""
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted


def mwu_by_hand(x, y):
    """U of x by counting pairs; p from the normal approximation with tie and continuity
    corrections."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    u = (x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum()
    n1, n2 = len(x), len(y)
    n = n1 + n2
    _, ties = np.unique(np.concatenate([x, y]), return_counts=True)
    sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1))))
    z = (abs(u - n1 * n2 / 2) - 0.5) / sigma
    return u, 2 * stats.norm.sf(z)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    rows, _scores = [], []
    companies = [f"K{i:02d}" for i in range(30)]
    rid = 0
    for c_i, company in enumerate(companies):
        roles = (
            ["marketing", "sales"]
            + (["sales"] if c_i % 5 == 0 else [])
            + (["marketing"] if c_i % 7 == 0 else [])
        )
        if c_i == 29:
            roles = ["marketing"]  # no partner: out of the dyads
        level = rng.uniform(1.5, 4.5)
        for role in roles:
            rid += 1
            for item in INST.item_ids:
                shift = -0.6 if role == "sales" and item.startswith("B") else 0.0
                value = float(np.clip(np.rint(level + shift + rng.normal(0, 0.9)), 1, 5))
                if rng.random() < 0.05:
                    value = np.nan
                rows.append(
                    {
                        "respondent_id": f"r{rid}",
                        "company_id": company,
                        "role": role,
                        "instrument": "t",
                        "item": item,
                        "subscale": item[0].lower(),
                        "keyed": value,
                    }
                )
    responses = pd.DataFrame(rows)
    from research.inputs.study import score_all

    return responses, score_all(responses.assign(value=responses["keyed"]), [INST])


def test_item_comparison_matches_pair_counting_and_holm(data):
    responses, _ = data
    table = compare.item_comparison(responses, INST, seed=1).set_index("item")
    assert list(compare.item_comparison(responses, INST).columns[:15]) == compare.ITEM_COLUMNS
    ps = []
    for item in INST.item_ids:
        part = responses[(responses["item"] == item) & responses["keyed"].notna()]
        x = part.loc[part["role"] == "marketing", "keyed"].to_numpy()
        y = part.loc[part["role"] == "sales", "keyed"].to_numpy()
        u, p = mwu_by_hand(x, y)
        assert table.loc[item, "statistic"] == pytest.approx(u)
        assert table.loc[item, "p"] == pytest.approx(p, rel=1e-9)
        assert table.loc[item, "effect_size"] == pytest.approx(2 * u / (len(x) * len(y)) - 1)
        assert table.loc[item, "n_marketing"] == len(x) and table.loc[item, "n_sales"] == len(y)
        assert table.loc[item, "median_sales"] == np.median(y)
        ps.append(p)
    np.testing.assert_allclose(table.loc[INST.item_ids, "p_holm"], holm(ps), rtol=1e-9)
    assert (table["ci_low"] <= table["effect_size"]).all() and (
        table["effect_size"] <= table["ci_high"]
    ).all()


def test_bootstrap_interval_is_seeded_and_count_based_u_equals_pair_counting():
    rng = np.random.default_rng(3)
    x, y = rng.integers(1, 8, 40).astype(float), rng.integers(1, 8, 33).astype(float)
    levels = np.union1d(x, y)
    cx = np.array([(x == v).sum() for v in levels])
    cy = np.array([(y == v).sum() for v in levels])
    assert effects.u_from_counts(cx, cy) == pytest.approx(mwu_by_hand(x, y)[0])
    a = effects.bootstrap_rank_biserial(x, y, np.random.default_rng(5))
    b = effects.bootstrap_rank_biserial(x, y, np.random.default_rng(5))
    assert a == b and a[0] < a[1]


def test_scale_comparison_is_welch_with_hedges_g_written_out(data):
    _, scores = data
    table = compare.scale_comparison(scores, INST).set_index("scale")
    assert list(compare.scale_comparison(scores, INST).columns[:17]) == compare.SCALE_COLUMNS
    ps = []
    for scale in ["a", "b", "tot"]:
        x = scores.loc[scores["role"] == "marketing", scale].dropna().to_numpy()
        y = scores.loc[scores["role"] == "sales", scale].dropna().to_numpy()
        n1, n2 = len(x), len(y)
        v1, v2 = x.var(ddof=1), y.var(ddof=1)
        t = (x.mean() - y.mean()) / np.sqrt(v1 / n1 + v2 / n2)
        df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
        p = 2 * stats.t.sf(abs(t), df)
        d = (x.mean() - y.mean()) / np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
        g = d * (1 - 3 / (4 * (n1 + n2) - 9))
        row = table.loc[scale]
        assert (
            row["statistic"] == pytest.approx(t)
            and row["df"] == pytest.approx(df)
            and row["p"] == pytest.approx(p)
        )
        assert row["effect_size"] == pytest.approx(g)
        assert row["ci_low"] < g < row["ci_high"]
        assert row["sd_marketing"] == pytest.approx(np.sqrt(v1))
        ps.append(p)
    np.testing.assert_allclose(table.loc[["a", "b", "tot"], "p_holm"], holm(ps))


def test_dyads_pair_by_company_average_several_respondents_and_ignore_row_order(data):
    _, scores = data
    table = compare.dyad_comparison(scores, INST).set_index("scale")
    shuffled = compare.dyad_comparison(scores.sample(frac=1, random_state=4), INST).set_index(
        "scale"
    )
    pd.testing.assert_frame_equal(table, shuffled)
    assert list(compare.dyad_comparison(scores, INST).columns[:15]) == compare.DYAD_COLUMNS
    ps = []
    for scale in ["a", "b", "tot"]:
        means = (
            scores.dropna(subset=[scale])
            .groupby(["company_id", "role"])[scale]
            .mean()
            .unstack()
            .dropna()
        )
        d = (means["marketing"] - means["sales"]).to_numpy()
        n = len(d)
        t = d.mean() / (d.std(ddof=1) / np.sqrt(n))
        p = 2 * stats.t.sf(abs(t), n - 1)
        row = table.loc[scale]
        assert row["n_pairs"] == n and "K29" not in means.index
        assert (
            row["statistic"] == pytest.approx(t)
            and row["df"] == n - 1
            and row["p"] == pytest.approx(p)
        )
        assert row["effect_size"] == pytest.approx(d.mean() / d.std(ddof=1))
        # Wilcoxon signed-rank: the smaller of the positive and negative rank sums over non-zero
        # differences
        nz = d[d != 0]
        ranks = stats.rankdata(np.abs(nz))
        assert row["wilcoxon_statistic"] == pytest.approx(
            min(ranks[nz > 0].sum(), ranks[nz < 0].sum())
        )
        assert row["ci_low"] < row["effect_size"] < row["ci_high"]
        ps.append(p)
    np.testing.assert_allclose(table.loc[["a", "b", "tot"], "p_holm"], holm(ps))


def test_dz_interval_inverts_the_noncentral_t():
    low, high = effects.dz_interval(3.0, 25)
    assert stats.nct.cdf(3.0, 24, low * 5) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(3.0, 24, high * 5) == pytest.approx(0.025, abs=1e-6)


def test_sensitivity_effect_gives_eighty_percent_power_by_the_noncentral_t():
    table = compare.sensitivity(40, 40, 30)
    g = table.loc[0, "min_detectable"]
    ncp, df = g * np.sqrt(40 * 40 / 80), 78
    crit = stats.t.ppf(0.975, df)
    power = stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp)
    assert power == pytest.approx(0.8, abs=1e-3)


def test_missing_group_gives_missing_statistics_not_a_crash(data):
    _, scores = data
    only_marketing = scores[scores["role"] == "marketing"]
    assert compare.scale_comparison(only_marketing, INST)["p"].isna().all()
    assert compare.dyad_comparison(only_marketing, INST)["n_pairs"].eq(0).all()


def test_likert_shares_keep_every_level_when_one_is_empty():
    from research.report.figures import likert_shares

    r = pd.DataFrame(
        {
            "respondent_id": list("abcd"),
            "role": ["marketing", "marketing", "sales", "sales"],
            "instrument": "t",
            "item": "A1",
            "keyed": [1.0, 5.0, 5.0, 5.0],
        }
    )
    shares = likert_shares(r, INST)
    assert list(shares.columns) == [1, 2, 3, 4, 5]
    assert shares.loc[("A1", "marketing")].tolist() == [0.5, 0, 0, 0, 0.5]
    assert shares.loc[("A1", "sales")].tolist() == [0, 0, 0, 0, 1.0]


def test_dz_interval_equals_r_uniroot_inversion_across_the_range():
    # Reference: tests/r/robustness.R inverts R's pt(t, df, ncp) with uniroot (tol 1e-13) for t in
    # [-8, 8] (step 0.25, plus 3.7, 4.7, 5.3, 5.5, 5.9) and n in {5, 20, 38, 40, 200}; no fallback
    # is allowed.
    from pathlib import Path

    ref = pd.read_csv(Path(__file__).parent / "r" / "dz_interval_reference.csv")
    for t, n, low, high in ref[["t", "n", "ci_low", "ci_high"]].itertuples(index=False):
        got_low, got_high, method = effects.dz_interval(t, int(n), return_method=True)
        assert method == "noncentral t"
        assert got_low == pytest.approx(low, rel=1e-6, abs=1e-9) and got_high == pytest.approx(
            high, rel=1e-6, abs=1e-9
        )


def test_dz_interval_at_t_4_7_with_38_pairs_where_the_old_bracket_failed():
    low, high, method = effects.dz_interval(4.7, 38, return_method=True)
    assert method == "noncentral t"
    assert stats.nct.cdf(4.7, 37, low * np.sqrt(38)) == pytest.approx(0.975, abs=1e-9)
    assert stats.nct.cdf(4.7, 37, high * np.sqrt(38)) == pytest.approx(0.025, abs=1e-9)


def test_dz_interval_fallback_is_named_and_reaches_the_note(data, monkeypatch):
    _, scores = data
    monkeypatch.setattr(effects, "_nct_ncp", lambda *a: None)
    low, high, method = effects.dz_interval(3.0, 25, return_method=True)
    assert method == effects.DZ_NORMAL and low < 3 / 5 < high
    table = compare.dyad_comparison(scores, INST)
    assert (table["ci_method"] == effects.DZ_NORMAL).all()
    assert (
        table["note"]
        .str.contains(
            "d_z interval: normal approximation (non-central t did not converge)", regex=False
        )
        .all()
    )


def test_dz_interval_survives_nan_from_scipy_far_in_the_tail():
    # scipy's nct.cdf(5.5, 37, -5) is NaN; the reflected tail gives the (near 1) value
    assert effects._nct_cdf(5.5, 37, -5.0) == pytest.approx(1.0)
    assert effects.dz_interval(5.5, 38, return_method=True)[2] == "noncentral t"


@pytest.mark.parametrize(
    "effect,cuts",
    [
        ("hedges-g", (0.2, 0.5, 0.8)),
        ("cohen-h", (0.2, 0.5, 0.8)),
        ("cohen-dz", (0.2, 0.5, 0.8)),
        ("rank-biserial", (0.12, 0.28, 0.42)),
    ],
)
def test_size_words_change_exactly_at_their_bounds(effect, cuts):
    words = ["negligible", "small", "medium", "large"]
    assert effects.size_word(effect, 0.0) == "negligible"
    for k, cut in enumerate(cuts):
        below = np.nextafter(cut, 0)
        assert effects.size_word(effect, below) == words[k]
        assert effects.size_word(effect, cut) == words[k + 1]
        assert effects.size_word(effect, -cut) == words[k + 1]  # the sign does not matter
    assert effects.size_word(effect, np.nan) == "not computed"


def test_dz_size_word_follows_cohens_conversion_to_d():
    # d = d_z sqrt(2 (1 - rho)) (Cohen 1988, p. 48): with rho = .82, d_z = 0.5 is d = 0.3 ("small")
    assert effects.dz_size_word(0.5, rho=0.82) == "small"
    assert effects.dz_size_word(0.8 / np.sqrt(2 * (1 - 0.3)), rho=0.3) == "large"
    assert effects.size_word("dz", 0.5, rho=0.82) == "small"
    with pytest.raises(ValueError):
        effects.size_word("omega", 0.3)
