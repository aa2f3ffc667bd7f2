"""APA tables: the formatters' edge cases, page-width tables, labels instead of ids, notes,
numbering."""

from __future__ import annotations

import dataclasses
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis import companies, interviews, survey
from research.report import apa
from research.report.apa import (
    DASH,
    MAX_COLUMNS,
    MINUS,
    ApaTable,
    TableRegistry,
    fmt_bounded,
    fmt_ci,
    fmt_df,
    fmt_m_sd,
    fmt_p,
    fmt_stat,
)
from research.spec.codebook import codebook_from_dict
from research.spec.instruments import instrument_from_dict

# ---- formatters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, expected",
    [
        (0.0004, "< .001"),
        (0.00099, "< .001"),
        (0.001, ".001"),
        (0.0213, ".021"),
        (0.0495, ".0495"),  # rounding to .050 would hide that it is below alpha
        (0.04951, ".0495"),
        (0.05, ".050"),
        (0.0504, ".050"),
        (0.9994, ".999"),
        (0.9996, "> .999"),
        (1.0, "> .999"),
        (0.0, "< .001"),
        (float("nan"), DASH),
        (None, DASH),
        (np.float64(0.2), ".200"),
    ],
)
def test_fmt_p(p, expected):
    assert fmt_p(p) == expected


def test_fmt_p_keeps_the_alpha_boundary_for_another_alpha_and_refuses_nonsense():
    assert fmt_p(0.00996, alpha=0.01) == ".00996"  # not .010 (nor .0100): it is below alpha
    assert fmt_p(0.0496, alpha=0.01) == ".050"
    with pytest.raises(ValueError, match="p value"):
        fmt_p(1.2)
    with pytest.raises(ValueError):
        fmt_p(-0.1)


@pytest.mark.parametrize(
    "x, digits, expected",
    [
        (-3.2149, 2, f"{MINUS}3.21"),
        (3.215, 2, "3.22"),  # half up on the printed decimal
        (-0.004, 2, "0.00"),  # no negative zero
        (12, 1, "12.0"),
        (float("inf"), 2, DASH),
        (None, 2, DASH),
        (pd.NA, 2, DASH),
    ],
)
def test_fmt_stat(x, digits, expected):
    assert fmt_stat(x, digits) == expected


@pytest.mark.parametrize(
    "df, expected",
    [
        (27, "27"),
        (27.0, "27"),
        (np.int64(35), "35"),
        (73.666, "73.7"),
        (73.97, "74.0"),
        (float("nan"), DASH),
    ],
)
def test_fmt_df_integer_against_fractional(df, expected):
    assert fmt_df(df) == expected


@pytest.mark.parametrize(
    "r, expected",
    [
        (0.834, ".83"),
        (-0.12, f"{MINUS}.12"),
        (1.0, "1.00"),
        (-1.0, f"{MINUS}1.00"),
        (0.0, ".00"),
        (-0.0004, ".00"),
        (0.996, "1.00"),
        (float("nan"), DASH),
    ],
)
def test_fmt_bounded_has_no_leading_zero(r, expected):
    assert fmt_bounded(r) == expected


def test_fmt_bounded_prints_a_degenerate_alpha_below_minus_one_as_it_is():
    # Cronbach's alpha is unbounded below (negative item covariances); the table shows what was
    # computed.
    assert fmt_bounded(-5.70442702443524) == f"{MINUS}5.70"


def test_intervals_and_means():
    assert fmt_ci(0.4213, 1.1) == "[0.42, 1.10]"
    assert fmt_ci(-0.78, -0.12) == f"[{MINUS}0.78, {MINUS}0.12]"
    assert fmt_ci(0.2, 0.9, bounded=True) == "[.20, .90]"
    assert fmt_ci(float("nan"), 1) == DASH
    assert fmt_m_sd(3.4166, 0.8123) == "3.42 (0.81)"
    assert fmt_m_sd(-1.5, 0.5) == f"{MINUS}1.50 (0.50)"
    assert fmt_m_sd(None, 0.5) == DASH
    assert apa.fmt_effect(-0.4532, -0.78, -0.12) == f"{MINUS}0.45 [{MINUS}0.78, {MINUS}0.12]"
    assert apa.fmt_effect(0.5, None, None) == "0.50"
    assert apa.fmt_test("t", -2.7939, 37.0) == f"t(37) = {MINUS}2.79"
    assert apa.fmt_test("t", 4.714, 73.666) == "t(73.7) = 4.71"


def test_shorten_keeps_words_whole():
    text = (
        "The heads of sales and marketing talk regularly about new ideas, market signals and "
        "product direction."
    )
    short = apa.shorten(text, 60)
    assert len(short) <= 60 and short.endswith("…")
    assert text.startswith(short[:-1])
    assert short[:-1].split()[-1] in text.split()
    assert apa.shorten("Short one.", 60) == "Short one."


def test_symbol_runs_set_symbols_in_italics_and_subscripts():
    assert apa.symbol_runs("d_z [95% CI]") == [("d", "italic"), ("z", "sub"), (" [95% CI]", "")]
    assert ("Mdn", "italic") in apa.symbol_runs("Marketing M (Mdn)")
    assert apa.symbol_runs("Items") == [("Items", "")]
    assert apa.symbol_runs("ICC(1) [95% CI]") == [("ICC(1) [95% CI]", "")]
    assert apa.symbol_runs("t(73.7) = 4.71")[0] == ("t", "italic")


# ---- tables from the demo study ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_tables(demo_study):
    s = demo_study
    coded = interviews.coded_segments(s)
    summary, _ = companies.company_summary(s)
    ia, ka = interviews.agreement_tables(s)
    return {
        "items": survey.item_table(s),
        "scales": survey.scale_table(s),
        "dyads": survey.dyad_table(s),
        "reliability": survey.reliability_table(s),
        "agreement": survey.agreement_table(s),
        "themes": interviews.theme_table(s, coded),
        "open": interviews.open_answer_table(s),
        "intercoder": ia,
        "krippendorff": ka,
        "companies": summary,
    }


@pytest.fixture(scope="module")
def built(demo_study, demo_tables):
    s, t = demo_study, demo_tables
    out = []
    for inst in s.instruments:
        out += [
            apa.item_table(t["items"], inst),
            apa.scale_table(t["scales"], inst),
            apa.dyad_table(t["dyads"], inst),
            apa.reliability_table(t["reliability"], inst),
            apa.agreement_table(t["agreement"], inst),
        ]
    out += [
        apa.theme_table(t["themes"], s.codebook),
        apa.theme_table(t["open"], s.codebook),
        apa.intercoder_table(t["intercoder"], s.codebook, t["krippendorff"]),
        apa.company_table(t["companies"], s.instrument("smr"), s.decision_table),
    ]
    return out


def test_no_table_is_wider_than_a_page(built):
    assert len(built) == 14
    for table in built:
        assert 2 <= table.frame.shape[1] <= MAX_COLUMNS, table.title
        assert len(table.frame) > 0, table.title
        assert table.note and table.source.startswith("tables/") and table.source.endswith(".csv")
        # short cells: every cell but the first column's fits a narrow column
        body = table.frame.iloc[:, 1:].astype(str)
        assert (
            body.map(len).to_numpy().max() <= 40 or table.frame.columns[-1] == "Advice (rules)"
        ), table.title


def test_a_wide_table_is_refused():
    with pytest.raises(ValueError, match="split or transpose"):
        ApaTable("Too wide", pd.DataFrame({f"c{k}": ["x"] for k in range(MAX_COLUMNS + 1)}))


def test_scale_labels_replace_ids(demo_study, built):
    smr = demo_study.instrument("smr")
    scale = next(t for t in built if "Scale Scores" in t.title and t.title.startswith(smr.title))
    assert scale.frame["Scale"].tolist() == [s["label"] for s in smr.subscales] + [
        smr.total["label"]
    ]
    cells = set(scale.frame.astype(str).to_numpy().ravel())
    assert not cells & set(smr.subscale_ids + [smr.total["id"]])


def test_item_wording_beside_its_id_with_the_full_text_kept(demo_study, built):
    smr = demo_study.instrument("smr")
    items = next(t for t in built if t.title.startswith(smr.title) and "Items" in t.title)
    cells = items.frame["Item"].tolist()
    for item, cell in zip(smr.items, cells, strict=True):
        assert cell.startswith(item.id)
        assert ("(R)" in cell) == item.reverse
        shown = cell.split(" ", 2 if item.reverse else 1)[-1]
        if len(item.text) > apa.ITEM_TEXT_WIDTH:
            assert shown.endswith("…") and len(shown) <= apa.ITEM_TEXT_WIDTH
            assert f"{item.id}: {item.text}" in items.full_text
        else:
            assert shown == item.text
    assert all(
        tip.split(": ", 1)[1] in {it.text for it in smr.items} for tip in items.tooltips.values()
    )
    assert "reverse-keyed" in items.note and "positive: marketing higher" in items.note
    assert "Holm" in items.note and "(Holm, 1979)" in items.note


def test_scale_cells_match_an_independent_welch_test(demo_study, built):
    smr = demo_study.instrument("smr")
    scale = next(t for t in built if "Scale Scores" in t.title and t.title.startswith(smr.title))
    part = demo_study.scores[demo_study.scores["instrument"] == "smr"]
    x = part.loc[part["role"] == "marketing", "planning"].dropna().to_numpy(float)
    y = part.loc[part["role"] == "sales", "planning"].dropna().to_numpy(float)
    res = stats.ttest_ind(x, y, equal_var=False)
    row = scale.frame[scale.frame["Scale"] == "Joint planning"].iloc[0]
    assert row["Welch test"] == f"t({res.df:.1f}) = {res.statistic:.2f}"
    half_up = lambda v: str(Decimal(repr(float(v))).quantize(Decimal("0.01"), ROUND_HALF_UP))  # noqa: E731
    assert row["Marketing M (SD)"] == f"{half_up(x.mean())} ({half_up(x.std(ddof=1))})"
    assert row["n (mkt/sales)"] == f"{len(x)}/{len(y)}"
    pooled = math.sqrt(
        ((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1)) / (len(x) + len(y) - 2)
    )
    g = (x.mean() - y.mean()) / pooled * (1 - 3 / (4 * (len(x) + len(y)) - 9))
    assert row["g [95% CI]"].startswith(f"{g:.2f} [")


def test_negative_effects_carry_a_true_minus_sign(demo_study, built):
    per = demo_study.instrument("perceptions")
    dyad = next(
        t for t in built if t.title.startswith(per.title) and "Within the Same Company" in t.title
    )
    row = dyad.frame[dyad.frame["Scale"] == "Sales - orientation"].iloc[0]
    assert row["d_z [95% CI]"].startswith(MINUS) and "-" not in row["d_z [95% CI]"]
    assert row["Paired test"].startswith("t(37) = " + MINUS)
    assert "positive: marketing higher" in dyad.note


def test_reliability_has_no_leading_zeros(demo_study, built):
    rel = next(
        t
        for t in built
        if "Internal Consistency" in t.title
        and t.title.startswith(demo_study.instrument("smr").title)
    )
    assert rel.frame["α [95% CI]"].str.match(r"^\.\d\d \[\.\d\d, \.\d\d\]$").all()
    assert rel.frame["Scale"].iloc[-1] == "Relationship total"
    assert "(Cronbach, 1951)" in rel.note and "(Feldt, 1965)" in rel.note


def test_theme_and_company_tables_use_labels(demo_study, built):
    themes = next(t for t in built if t.title == "Themes in Interviews by Function")
    assert themes.frame["Theme"].tolist() == [th.label for th in demo_study.codebook.themes]
    assert themes.frame["Marketing k/n (%)"].str.match(r"^\d+/\d+ \(\d+%\)$").all()
    assert "(Fisher, 1922)" in themes.note
    opened = next(t for t in built if "Open Survey Answers" in t.title)
    assert (
        "answers of each function" in opened.note
        and opened.source == "tables/open_ended_by_role.csv"
    )
    company = next(t for t in built if "by Company" in t.title)
    bands = {b["label"] for b in demo_study.instrument("smr").total["bands"]}
    stages = company.frame["Overall (stage)"].str.extract(r"\((\w+)\)")[0].dropna()
    assert set(stages) <= bands and len(stages) > 0
    assert "Undefined 20 to < 40" in company.note and "close-perception-gap:" in company.note


def test_not_computed_cells_are_dashes_with_their_reason():
    inst = instrument_from_dict(
        {
            "id": "x",
            "title": "X",
            "response_scale": {"min": 1, "max": 5},
            "subscales": [{"id": "a", "label": "Alpha scale"}],
            "items": [{"id": "X1", "subscale": "a", "text": "One."}],
        }
    )
    scales = pd.DataFrame(
        [
            {
                "instrument": "x",
                "scale": "a",
                "n_marketing": 1,
                "n_sales": 3,
                "mean_marketing": 3.0,
                "sd_marketing": np.nan,
                "mean_sales": 2.0,
                "sd_sales": 1.0,
                "test": "welch-t",
                "statistic": np.nan,
                "df": np.nan,
                "p": np.nan,
                "p_holm": np.nan,
                "effect": "hedges-g",
                "effect_size": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "note": "not computed: 1 marketing value (2 needed per group)",
            }
        ]
    )
    table = apa.scale_table(scales, inst)
    row = table.frame.iloc[0]
    assert row["Scale"] == "Alpha scale"
    assert row["Welch test"] == DASH and row["p_Holm"] == DASH and row["g [95% CI]"] == DASH
    assert row["Marketing M (SD)"] == f"3.00 ({DASH})"
    assert (
        f"{DASH}: not computed" in table.note
        and "Alpha scale: not computed: 1 marketing value" in table.note
    )


def test_p_column_choice(demo_study, demo_tables):
    smr = demo_study.instrument("smr")
    bh = apa.scale_table(demo_tables["scales"], smr, p="p_bh")
    assert "p_BH" in bh.frame.columns and "(Benjamini & Hochberg, 1995)" in bh.note
    raw = apa.item_table(demo_tables["items"], smr, p="p")
    assert "p" in raw.frame.columns and "unadjusted" in raw.note
    with pytest.raises(ValueError, match="p must be one of"):
        apa.scale_table(demo_tables["scales"], smr, p="p_sidak")


def test_html_escapes_data_and_keeps_tooltips():
    cb = codebook_from_dict(
        {"id": "c", "themes": [{"id": "t1", "label": "<b>Pay</b> & bonus", "patterns": ["pay"]}]}
    )
    themes = pd.DataFrame(
        [
            {
                "theme": "t1",
                "label": "<b>Pay</b> & bonus",
                "interviews_marketing": 4,
                "with_theme_marketing": 1,
                "share_marketing": 0.25,
                "interviews_sales": 4,
                "with_theme_sales": 3,
                "share_sales": 0.75,
                "test": "fisher-exact",
                "p": 0.49,
                "p_holm": 0.49,
                "effect": "cohen-h",
                "effect_size": -1.05,
                "note": "",
            }
        ]
    )
    table = apa.theme_table(themes, cb)
    html = table.to_html()
    assert "<b>Pay</b>" not in html and "&lt;b&gt;Pay&lt;/b&gt; &amp; bonus" in html
    assert "<em>Note.</em>" in html and "<strong>Table</strong>" in html
    tip = ApaTable(
        "T", pd.DataFrame({"Item": ["A…"]}), tooltips={(0, "Item"): 'Full "text" <here>'}
    )
    assert 'title="Full &quot;text&quot; &lt;here&gt;"' in tip.to_html()


def test_registry_numbers_tables_in_order(built):
    reg = TableRegistry()
    for k, table in enumerate(built[:3]):
        reg.add(ApaTable(table.title, table.frame, table.note, table.source), key=f"t{k}")
    assert [t.label for t in reg] == ["Table 1", "Table 2", "Table 3"]
    assert reg.ref("t2") == "Table 3" and len(reg.tables()) == 3
    with pytest.raises(ValueError, match="already registered"):
        reg.add(ApaTable("again", built[0].frame), key="t0")
    with pytest.raises(KeyError, match="no table registered"):
        reg.ref("missing")


def test_tables_read_back_from_csv_and_contract_columns_alone(demo_study, demo_tables, tmp_path):
    from research.analysis.compare import DYAD_COLUMNS, ITEM_COLUMNS
    from research.report.tables import save_table

    smr = demo_study.instrument("smr")
    for name, key, build in (
        ("item_comparison", "items", apa.item_table),
        ("scale_comparison", "scales", apa.scale_table),
        ("dyad_comparison", "dyads", apa.dyad_table),
        ("reliability", "reliability", apa.reliability_table),
        ("company_summary", "companies", apa.company_table),
    ):
        path = save_table(demo_tables[key], tmp_path, name)
        assert build(pd.read_csv(path), smr).frame.equals(build(demo_tables[key], smr).frame), name
    items = apa.item_table(demo_tables["items"][ITEM_COLUMNS], smr)
    assert items.frame.columns[-1] == "r_rb" and "bootstrap" not in items.note
    dyads = apa.dyad_table(demo_tables["dyads"][DYAD_COLUMNS], smr)
    assert "M_diff" in dyads.frame.columns
    with pytest.raises(ValueError, match="missing \\['effect_size'\\]"):
        apa.scale_table(demo_tables["scales"].drop(columns="effect_size"), smr)


def test_html_sets_symbols_and_rules(built):
    html = built[1].to_html()
    assert "<i>p</i><sub>Holm</sub>" in html and "<i>t</i>(" in html
    assert html.count("border-top:1.5px solid #000") == built[1].frame.shape[1]
    assert "<script" not in html


def test_every_citation_in_a_note_is_a_known_reference(built):
    import re

    from research.report.references import REFERENCES

    known = {ref.in_text()[1:-1] for ref in REFERENCES.values()}
    cited = set()
    for table in built:
        for group in re.findall(
            r"\(([^()]*?, (?:19|20)\d\d(?:; [^()]*?, (?:19|20)\d\d)*)\)", table.note
        ):
            cited.update(group.split("; "))
    assert cited and cited <= known


def test_only_the_published_stages_are_cited_as_kotler(demo_study, demo_tables):
    smr = demo_study.instrument("smr")
    assert "Stages (Kotler et al., 2006):" in apa.company_table(demo_tables["companies"], smr).note
    own = dataclasses.replace(
        smr,
        total={**smr.total, "bands": [{"label": "Low", "min": 20}, {"label": "High", "min": 60}]},
    )
    note = apa.company_table(demo_tables["companies"], own).note
    assert "Kotler" not in note and "Stages: Low 20 to < 60; High 60 to 100." in note
