"""Every sentence is a function of its numbers: ties, zero, one and plurals, significance at the
chosen alpha with the p named, non-significance never called sameness, plurality never called
majority, the rule's own action words, labels from the YAML, keyed values said to be keyed, and
every figure quoted equal to its table value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from research.report import prose
from research.spec.instruments import instrument_from_dict

INSTRUMENT = instrument_from_dict(
    {
        "id": "x",
        "title": "Climate",
        "response_scale": {"min": 1, "max": 5},
        "subscales": [{"id": "open", "label": "Openness"}, {"id": "riv", "label": "Rivalry"}],
        "items": [
            {"id": "A1", "subscale": "open", "text": "We share plans."},
            {"id": "A2", "subscale": "open", "reverse": True, "text": "We hide plans."},
            {"id": "B1", "subscale": "riv"},
            {"id": "B2", "subscale": "riv"},
        ],
        "total": {
            "id": "tot",
            "label": "Climate total",
            "bands": [{"label": "Low", "min": 4}, {"label": "High", "min": 12}],
        },
    }
)


def scale_row(mm=3.5, ms=3.0, p_holm=0.01, p=0.004, g=0.6, scale="open"):
    return {
        "instrument": "x",
        "scale": scale,
        "n_marketing": 40,
        "n_sales": 38,
        "mean_marketing": mm,
        "sd_marketing": 1.0,
        "mean_sales": ms,
        "sd_sales": 1.1,
        "test": "welch-t",
        "statistic": 2.71,
        "df": 75.3,
        "p": p,
        "p_holm": p_holm,
        "effect": "hedges-g",
        "effect_size": g,
        "ci_low": 0.14,
        "ci_high": 1.06,
        "note": "",
    }


# ---- counts and plurals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 problems were found"), (1, "1 problem was found"), (2, "2 problems were found")],
)
def test_quality_sentence_agrees_in_number(n, expected):
    log = pd.DataFrame({"problem": ["out_of_range"] * n, "record": ["r"] * n})
    text = prose.quality_sentence(log)
    if n == 0:
        assert text == "No data-quality problems were found."
    else:
        assert text.startswith(expected)


def test_weak_items_none_one_several():
    frame = pd.DataFrame(
        {"item": ["A", "B", "C"], "scale": ["s"] * 3, "item_rest_r": [0.5, 0.2, 0.1]}
    )
    assert prose.weak_items_sentence(frame.iloc[:1]).startswith("No item has")
    assert prose.weak_items_sentence(frame.iloc[:2]).startswith("1 item has an item-rest")
    assert prose.weak_items_sentence(frame).startswith("2 items have an item-rest")
    assert "0 item(s)" not in prose.weak_items_sentence(frame.iloc[:1])


# ---- majority and plurality ----------------------------------------------------------------------


def test_most_only_for_a_majority_plurality_and_ties_otherwise():
    plurality, _ = prose.stage_distribution(
        pd.Series({"Defined": 18, "Aligned": 12, "Low": 10}), 40, "companies"
    )
    majority, _ = prose.stage_distribution(
        pd.Series({"Defined": 21, "Aligned": 19}), 40, "companies"
    )
    half, _ = prose.stage_distribution(
        pd.Series({"Defined": 20, "Aligned": 10, "Low": 10}), 40, "companies"
    )
    tie, _ = prose.stage_distribution(
        pd.Series({"Defined": 15, "Aligned": 15, "Low": 10}), 40, "companies"
    )
    assert "Most" not in plurality and "most common" in plurality and "18 of 40" in plurality
    assert majority.startswith("Most companies (21 of 40)")
    assert "Most" not in half  # 20 of 40 is not more than half
    assert "equally common" in tie and "Defined and Aligned" in tie


def test_stage_sentence_names_a_tie():
    counts = pd.DataFrame(
        {
            "band": ["Low", "High", "Low", "High"],
            "role": ["marketing"] * 2 + ["sales"] * 2,
            "n": [5, 5, 7, 3],
            "share": [0.5, 0.5, 0.7, 0.3],
        }
    )
    text = prose.stage_sentence(counts, INSTRUMENT)
    assert "equally often at **Low** and **High** (5 of 10 respondents each)" in text
    assert "most often at **Low** (7 of 10 respondents)" in text


# ---- direction and ties --------------------------------------------------------------------------


def test_a_tie_is_the_same_never_one_side_higher():
    text = prose.scale_sentences(
        pd.DataFrame([scale_row(mm=3.2, ms=3.2, g=0.0, p_holm=1.0, p=1.0)]), INSTRUMENT
    )
    assert "same mean" in text and "higher" not in text.split(";")[0]
    assert prose.higher_side(0.0) is None and prose.higher_side(1e-12) is None
    assert prose.higher_side(-0.3) == "sales" and prose.higher_side(0.3) == "marketing"


def test_dyad_tie_and_company_counts_name_ties():
    assert prose.who_higher_count(30, 7, 38).endswith("and the two are equal in 1.")
    assert prose.who_higher_count(30, 8, 38).endswith("sales in 8.")
    row = {"n_pairs": 10, "mean_diff": 0.0, "effect_size": 0.0, "p_holm": 1.0}
    title, text = prose.dyad_plain(row, 0.05, "Total")
    assert "same" in title and "higher" not in title


# ---- significance at the chosen alpha, with the p named ------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "p_holm", "significant"),
    [(0.05, 0.03, True), (0.01, 0.03, False), (0.10, 0.07, True), (0.05, 0.05, False)],
)
def test_significance_follows_the_chosen_alpha(alpha, p_holm, significant):
    text = prose.scale_sentences(pd.DataFrame([scale_row(p_holm=p_holm)]), INSTRUMENT, alpha)
    assert f"α = {prose.fmt_alpha(alpha)}" in text
    assert ("not significant" not in text) == significant
    assert "Holm-adjusted p" in text


def test_non_significance_is_never_called_sameness():
    text = prose.scale_sentences(pd.DataFrame([scale_row(p_holm=0.4)]), INSTRUMENT)
    assert "could be chance" in text
    for word in ("same relationship", "agree", "no difference", "identical"):
        assert word not in text
    gaps = pd.DataFrame(
        [
            {
                "dimension": "d",
                "rated_function": "sales",
                "self_view": 5,
                "other_view": 4.9,
                "gap": 0.1,
                "df": 70.0,
                "statistic": 0.4,
                "p_holm": 0.7,
                "effect_size": 0.1,
            }
        ]
    )
    assert "does not show that the two functions see each other alike" in prose.gap_sentences(gaps)


def test_the_headline_quotes_the_p_it_judged():
    items = pd.DataFrame(
        [
            {
                "item": "A1",
                "p": 0.004,
                "p_holm": 0.016,
                "p_bh": 0.008,
                "effect_size": 0.4,
                "ci_low": 0.1,
                "ci_high": 0.6,
                "statistic": 300.0,
            },
            {
                "item": "B1",
                "p": 0.3,
                "p_holm": 0.6,
                "p_bh": 0.4,
                "effect_size": 0.1,
                "ci_low": -0.2,
                "ci_high": 0.3,
                "statistic": 200.0,
            },
        ]
    )
    text = prose.item_sentence(items, 0.05, INSTRUMENT)
    assert "unadjusted p = .004" in text and "Holm-adjusted p = .016" in text
    assert text.startswith("1 of 2 items differs")


def test_power_sentence_uses_the_table_alpha_and_power():
    table = pd.DataFrame(
        [
            {
                "comparison": "c",
                "n": "10 + 10",
                "effect": "hedges-g",
                "min_detectable": 1.32,
                "alpha": 0.01,
                "power": 0.9,
            }
        ]
    )
    text = prose.sensitivity_sentence(table)
    assert "α = .01" in text and "90% power" in text and ".05" not in text


# ---- keyed values, labels ------------------------------------------------------------------------


def test_reverse_keyed_item_is_said_to_be_keyed():
    items = pd.DataFrame(
        [
            {
                "item": "A2",
                "p": 0.001,
                "p_holm": 0.004,
                "p_bh": 0.004,
                "effect_size": 0.5,
                "ci_low": 0.2,
                "ci_high": 0.7,
                "statistic": 310.0,
            }
        ]
    )
    text = prose.item_sentence(items, 0.05, INSTRUMENT)
    assert "reverse-keyed" in text and "keyed answers" in text and "We hide plans." in text


def test_labels_come_from_the_yaml():
    text = prose.scale_sentences(pd.DataFrame([scale_row(scale="tot")]), INSTRUMENT)
    assert "Climate total" in text and "**tot**" not in text


# ---- advice in the rule's own action words -------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("move", "should move to a closer stage"),
        ("stay", "can stay at its stage"),
        ("attend", "has a point to attend to before any move"),
    ],
)
def test_advice_uses_the_rules_own_action(action, words):
    row = {
        "company_id": "K",
        "band": "Low",
        "total": 9.0,
        "total_marketing": 10.0,
        "total_sales": 8.0,
        "band_marketing": "Low",
        "band_sales": "Low",
    }
    ev = pd.DataFrame(
        [
            {
                "company_id": "K",
                "rule": "r1",
                "action": action,
                "status": "fires",
                "held": "the company's stage is Low",
                "circumstance": "Something holds.",
                "moves": "Do it",
            }
        ]
    )
    text = prose.explain_company(row, ev, action)
    assert words in text and "It holds because the company" in text
    assert "move up" not in text


def test_rule_counts_agree_in_number():
    ev = pd.DataFrame(
        [{"company_id": "K", "rule": "r", "action": "move", "status": "not assessable"}]
    )
    text = prose.rule_counts_sentence(ev)
    assert "1 rule check in 1 company was **not assessable**" in text


# ---- every figure quoted equals its table value --------------------------------------------------


def test_scale_sentence_figures_equal_the_table():
    row = scale_row()
    text = prose.scale_sentences(pd.DataFrame([row]), INSTRUMENT)
    assert (
        f"{row['mean_marketing']:.2f} for marketing against {row['mean_sales']:.2f} for sales"
        in text
    )
    assert f"t({row['df']:.1f}) = {row['statistic']:.2f}" in text
    assert f"g = {row['effect_size']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]" in text
    assert prose.fmt_p(row["p_holm"], "Holm-adjusted p") in text


def test_demo_sentences_quote_their_tables(demo_study):
    from research.analysis import survey

    dyads = survey.dyad_table(demo_study)
    smr = demo_study.instrument("smr")
    text = prose.dyad_sentences(dyads[dyads["instrument"] == "smr"], smr)
    for row in dyads[dyads["instrument"] == "smr"].to_dict("records"):
        assert (
            f"by {prose.fmt_num(abs(row['mean_diff']))} on average over {row['n_pairs']} companies"
            in text
        )
        assert f"d_z = {prose.fmt_num(row['effect_size'])}" in text
    pairs = survey.matched_pairs(demo_study)
    total = dyads[(dyads["instrument"] == "smr") & (dyads["scale"] == "smr_total")].iloc[0]
    assert len(pairs) == total["n_pairs"]  # one definition of a matched company
    numbers = [
        float(x)
        for x in re.findall(r"-?\d+\.\d+", prose.coverage_sentence(len(pairs), 40, 2, "Total"))
    ]
    assert numbers == []  # counts only
    assert np.isfinite(total["statistic"])


def test_headline_interval_runs_in_the_direction_of_the_words():
    table = pd.DataFrame(
        [
            {
                "instrument": "x",
                "scale": "open",
                "estimate": -0.63,
                "ci_low": -1.06,
                "ci_high": -0.21,
                "p_holm": 0.004,
                "df": 80.0,
                "t": -2.98,
                "design": "paired t",
                "design_reason": "r",
                "note": "",
            }
        ]
    )
    text = prose.headline_sentences(table, INSTRUMENT)
    assert "sales rates it higher by 0.63 (95% interval 0.21 to 1.06)" in text


def test_every_company_gets_a_sentence_in_its_rules_words():
    summary = pd.DataFrame(
        [
            {"company_id": c, "instrument": "x", "band": b, "total": t}
            for c, b, t in (("A", "Low", 8.0), ("B", "High", 14.0), ("C", None, np.nan))
        ]
    )
    ev = pd.DataFrame(
        [
            {
                "company_id": "A",
                "instrument": "x",
                "rule": "go",
                "action": "move",
                "status": "fires",
                "not_assessable": "",
                "held": "the company's stage is Low",
            },
            {
                "company_id": "B",
                "instrument": "x",
                "rule": "keep",
                "action": "stay",
                "status": "not assessable",
                "not_assessable": "attr:size",
                "held": "",
            },
        ]
    )
    import html

    lines = [html.unescape(line) for line in prose.company_advice_lines(summary, ev, INSTRUMENT)]
    assert len(lines) == 3
    assert (
        "should move to a closer stage (rule `go`, because the company's stage is Low)" in lines[0]
    )
    assert (
        "no rule of the decision table applies" in lines[1] and "Not assessable: `keep`" in lines[1]
    )
    assert "attr:size" in lines[1]
    assert "has no stage" in lines[2]


def invariance_rows(cfi=0.96, d_metric=-0.004, d_scalar=-0.02):
    base = {
        "instrument": "x",
        "n_marketing": 80,
        "n_sales": 75,
        "chi2": 100.0,
        "df": 60.0,
        "rmsea": 0.05,
        "srmr": 0.04,
        "delta_chi2": 12.0,
        "delta_df": 6.0,
        "delta_p": 0.06,
        "note": "",
    }
    return pd.DataFrame(
        [
            {**base, "level": "configural", "cfi": cfi, "delta_cfi": np.nan, "delta_chi2": np.nan},
            {**base, "level": "metric", "cfi": cfi + d_metric, "delta_cfi": d_metric},
            {**base, "level": "scalar", "cfi": cfi + d_metric + d_scalar, "delta_cfi": d_scalar},
        ]
    )


@pytest.mark.parametrize(
    ("cfi", "d_metric", "d_scalar", "level"),
    [
        (0.96, -0.004, -0.005, "scalar"),
        (0.96, -0.004, -0.02, "metric"),
        (0.96, -0.03, -0.001, "configural"),
        (0.85, -0.001, -0.001, "poor configural fit"),
        (0.96, -0.01, -0.01, "scalar"),
    ],
)
def test_invariance_level_follows_chens_delta_cfi_after_an_acceptable_configural_fit(
    cfi, d_metric, d_scalar, level
):
    table = invariance_rows(cfi, d_metric, d_scalar)
    assert prose.invariance_levels(table)["x"] == level
    text = prose.invariance_sentence(table, INSTRUMENT)
    assert ("Scale means can be compared" in text) == (level == "scalar")
    if level == "metric":
        assert "beyond Chen's" in text and "may partly reflect how the items are read" in text


# ---- the text prints numbers as the tables do ----------------------------------------------------


def dyad_row(**kw):
    row = {
        "instrument": "x",
        "scale": "open",
        "n_pairs": 7,
        "mean_diff": -0.8,
        "sd_diff": 0.5,
        "statistic": -2.98,
        "df": 6.0,
        "p": 0.0248,
        "p_holm": 0.099,
        "effect_size": -0.8,
        "ci_low": -1.6,
        "ci_high": -0.05,
        "wilcoxon_statistic": 3.0,
        "wilcoxon_p": 0.0625,
    }
    return row | kw


def test_prose_p_values_and_minus_signs_equal_the_tables():
    from research.report import apa

    row = dyad_row()
    text = prose.dyad_sentences(pd.DataFrame([row]), INSTRUMENT)
    table = apa.dyad_table(pd.DataFrame([row]), INSTRUMENT).frame.iloc[0]
    assert table["Wilcoxon W (p)"] == "3 (.063)"
    assert "Wilcoxon W = 3.0, p = .063" in text and ".062" not in text
    assert prose.fmt_p(0.3125) == "p = .313"
    assert "t(6) = −2.98" in text and "d_z = −0.80 [−1.60, −0.05]" in text
    assert not re.search(r"-[\d.]", text)  # no hyphen used as a minus
    assert prose.bounded(-0.8) == apa.fmt_bounded(-0.8) == "−.80"


def test_welch_df_is_printed_one_way_in_table_and_text():
    from research.report import apa

    rows = [scale_row(scale="open") | {"df": 11.993}, scale_row(scale="riv") | {"df": 12.0}]
    cells = apa.scale_table(pd.DataFrame(rows), INSTRUMENT).frame["Welch test"].tolist()
    assert [c.split(")")[0] for c in cells] == ["t(12.0", "t(12.0"]
    text = prose.scale_sentences(pd.DataFrame(rows), INSTRUMENT)
    assert text.count("t(12.0) = ") == 2 and "t(12) " not in text
    assert prose.fmt_df(6.0) == apa.fmt_df(6.0) == "6"  # a paired t's whole df


# ---- a small study's awkward sentences -----------------------------------------------------------

PAIRED = (
    "every company has exactly one respondent per function: paired t on the companies' differences"
)


def headline_row(scale, estimate, design="paired t", reason=PAIRED):
    return {
        "instrument": "x",
        "scale": scale,
        "estimate": estimate,
        "ci_low": estimate - 0.5,
        "ci_high": estimate + 0.5,
        "p_holm": 0.6,
        "df": 6.0,
        "t": 1.49,
        "design": design,
        "design_reason": reason,
    }


def test_one_design_is_said_once_not_on_every_line():
    table = pd.DataFrame([headline_row("open", 0.46), headline_row("riv", -0.07)])
    text = prose.headline_sentences(table, INSTRUMENT)
    reason = prose.escape(PAIRED)
    assert text.count(reason) == 1
    assert text.startswith("Every scale is compared the same way, because " + reason)
    other = table.assign(design="welch t", design_reason="one respondent per company")
    assert prose.headline_sentences(other, INSTRUMENT).startswith(
        "Every scale is compared the same way (welch t), because one respondent per company."
    )
    assert "t(6) = 1.49." in text
    mixed = table.copy()
    mixed.loc[1, ["design", "design_reason"]] = ["welch t", "one side only"]
    text = prose.headline_sentences(mixed, INSTRUMENT)
    assert "same way" not in text and text.count(f"(paired t: {reason})") == 1


def test_possessive_of_sales_and_plain_size_words():
    items = pd.DataFrame(
        [
            {
                "item": "B1",
                "p": 0.025,
                "p_holm": 0.248,
                "p_bh": 0.2,
                "effect_size": -0.71,
                "ci_low": -1.0,
                "ci_high": -0.27,
                "statistic": 7.0,
            }
        ]
    )
    text = prose.item_sentence(items, 0.05, INSTRUMENT)
    assert "sales' answers are higher" in text and "sales's" not in text
    assert "rank-biserial r = −.71 [−1.00, −.27]" in text
    dyad = prose.dyad_sentences(pd.DataFrame([dyad_row(effect_size=0.56)]), INSTRUMENT)
    assert "over 7 companies, a medium difference, not significant" in dyad
    assert "size words" not in dyad


def test_sensitivity_names_effects_in_words_not_ids():
    table = pd.DataFrame(
        {
            "comparison": ["marketing vs sales (Welch/independent t)", "matched dyads (paired t)"],
            "n": ["7 + 7", "7 pairs"],
            "effect": ["hedges-g", "cohen-dz"],
            "min_detectable": [1.6317, 1.2726],
            "alpha": [0.05, 0.05],
            "power": [0.8, 0.8],
        }
    )
    text = prose.sensitivity_sentence(table)
    assert "Hedges' g ≥ 1.63" in text and "d_z ≥ 1.27" in text
    assert "hedges-g" not in text and "cohen-dz" not in text


def test_weak_items_are_counted_once_and_scales_named_by_label():
    items = pd.DataFrame(
        {
            "instrument": ["x"] * 5,
            "scale": ["open", "open", "riv", "tot", "tot"],
            "item": ["A1", "A2", "B1", "A1", "B2"],
            "item_rest_r": [0.1, 0.5, 0.2, 0.25, 0.4],
        }
    )
    text = prose.weak_items_sentence(items, instruments=[INSTRUMENT])
    assert text == (
        "2 items have an item-rest correlation below .30: A1 (Openness; Climate total), "
        "B1 (Rivalry)."
    )
    assert "tot" not in text.replace("total", "")


def test_dif_sentence_gives_the_reason_a_model_was_not_fitted():
    table = pd.DataFrame(
        {
            "instrument": ["x"] * 3,
            "item": ["A1", "A2", "B1"],
            "omnibus_p": [0.5, 0.3, np.nan],
            "p_holm": [1.0, 0.9, np.nan],
            "uniform_coef": [0.1, -0.2, np.nan],
            "note": ["", "", "M3: a coefficient or threshold beyond +-25 (separation?)"],
        }
    )
    text = prose.dif_sentence(table, INSTRUMENT)
    assert text.endswith(
        "The models could not be fitted for B1 (M3: a coefficient or threshold beyond ±25 "
        "(separation?))."
    )
    assert "see the table's note" not in text and "0 of 2 items" in text


def test_a_negative_two_item_correlation_is_not_presented_as_a_reliability():
    def rel(scale, sb, alpha):
        return {
            "scale": scale,
            "group": "all",
            "n": 14,
            "alpha": alpha,
            "ci_low": -4.61,
            "ci_high": 0.42,
            "omega": np.nan,
            "spearman_brown": sb,
        }

    text = prose.reliability_sentences(pd.DataFrame([rel("open", -0.81, -0.80)]), INSTRUMENT)
    assert "Spearman–Brown ρ" not in text and "recommended reliability" not in text
    assert "Openness: the two items correlate negatively (r = −.29, n = 14)" in text
    assert "reverse-keyed" in text
    both = pd.DataFrame([rel("open", -0.81, -0.80), rel("riv", 0.32, 0.31)])
    text = prose.reliability_sentences(both, INSTRUMENT)
    assert "Rivalry: Spearman–Brown ρ = .32" in text and "recommended reliability" in text


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["attend", "attend", None], "2 of 3 companies get a point to attend to first."),
        ([None, None, None], "No company gets a recommendation."),
        (["move", "stay", "stay"], "1 of 3 companies gets a *move* recommendation; 2 a *stay* "
         "recommendation."),
    ],
)  # fmt: skip
def test_rule_counts_list_only_the_kinds_some_company_gets(actions, expected):
    ev = pd.DataFrame(
        [
            {
                "company_id": f"K{i}",
                "rule": "r",
                "action": action or "move",
                "status": "fires" if action else "does not fire",
            }
            for i, action in enumerate(actions)
        ]
    )
    assert prose.rule_counts_sentence(ev) == expected


def test_a_rule_not_assessable_for_a_company_names_the_field_in_words():
    summary = pd.DataFrame([{"company_id": "K", "instrument": "x", "band": "Low", "total": 30.0}])
    ev = pd.DataFrame(
        [
            {
                "company_id": "K",
                "instrument": "x",
                "rule": "gap",
                "action": "attend",
                "status": "not assessable",
                "not_assessable": "abs_gap",
                "held": "",
            }
        ]
    )
    (line,) = prose.company_advice_lines(summary, ev, INSTRUMENT)
    assert "(not known for this company: the gap between the two functions (either way) " in line
    assert "study lacks" not in line
