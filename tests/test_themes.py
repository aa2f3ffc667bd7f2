"""Theme coding and themes by role, recomputed independently (SPEC §3, themes)."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analysis import interviews, themes
from research.spec.codebook import codebook_from_dict, load_codebook

from .test_compare import holm

CB = codebook_from_dict(
    {
        "id": "t",
        "themes": [
            {"id": "touch", "label": "Out of touch", "patterns": ["out of touch"]},
            {"id": "price", "label": "Price", "patterns": ["price", "re:discount(s|ing)?"]},
            {"id": "lead", "label": "Leads", "patterns": ["lead"]},
        ],
    }
)


def test_pattern_semantics_word_boundaries_white_space_and_regex():
    texts = pd.Series(
        [
            "They are OUT   OF\ntouch.",
            "priceless",
            "Price!",
            "heavy discounting",
            "leads",
            "a lead.",
        ]
    )
    flags = themes.theme_matrix(texts, CB)
    assert flags["touch"].tolist() == [True, False, False, False, False, False]
    assert flags["price"].tolist() == [False, False, True, True, False, False]
    assert flags["lead"].tolist() == [False, False, False, False, False, True]


def test_segments_get_semicolon_joined_themes_in_codebook_order():
    seg = pd.DataFrame({"text": ["A lead at a good price", "nothing here"]})
    coded = themes.code_segments(seg, CB)
    assert coded["themes"].tolist() == ["price;lead", ""]


def _units():
    rng = np.random.default_rng(4)
    rows = []
    for i in range(40):
        role = "marketing" if i < 18 else "sales"
        rows.append(
            {
                "interview_id": f"I{i}",
                "role": role,
                "touch": rng.random() < (0.15 if role == "marketing" else 0.7),
                "price": rng.random() < 0.4,
                "lead": rng.random() < 0.5,
            }
        )
    return pd.DataFrame(rows)


def test_prevalence_by_role_fisher_holm_and_cohen_h_written_out():
    units = _units()
    table = themes.prevalence_by_role(units, CB).set_index("theme")
    assert list(themes.prevalence_by_role(units, CB).columns[:13]) == themes.THEME_BY_ROLE_COLUMNS
    ps = []
    for t in ["touch", "price", "lead"]:
        m, s = units[units["role"] == "marketing"][t], units[units["role"] == "sales"][t]
        a, b, c, d = m.sum(), len(m) - m.sum(), s.sum(), len(s) - s.sum()
        # two-sided Fisher: sum of hypergeometric probabilities no larger than the observed table's
        dist = stats.hypergeom(len(units), a + c, len(m))
        support = np.arange(max(0, len(m) - (b + d)), min(len(m), a + c) + 1)
        probs = dist.pmf(support)
        p = probs[probs <= dist.pmf(a) * (1 + 1e-7)].sum()
        h = 2 * math.asin(math.sqrt(a / len(m))) - 2 * math.asin(math.sqrt(c / len(s)))
        row = table.loc[t]
        assert (row["interviews_marketing"], row["with_theme_marketing"]) == (len(m), a)
        assert (row["interviews_sales"], row["with_theme_sales"]) == (len(s), c)
        assert row["p"] == pytest.approx(p, rel=1e-6)
        assert row["effect_size"] == pytest.approx(h)
        ps.append(p)
    np.testing.assert_allclose(table.loc[["touch", "price", "lead"], "p_holm"], holm(ps), rtol=1e-6)


def test_demo_theme_by_role_counts_interviews_with_any_segment_having_the_theme(demo_study):
    coded = interviews.coded_segments(demo_study)
    table = interviews.theme_table(demo_study, coded).set_index("theme")
    for theme in demo_study.codebook.themes:
        for role in ("marketing", "sales"):
            segs = demo_study.segments[demo_study.segments["role"] == role]
            with_theme = {
                i
                for i, text in zip(segs["interview_id"], segs["text"], strict=True)
                if theme.regex.search(text)
            }
            assert table.loc[theme.id, f"with_theme_{role}"] == len(with_theme)
            assert (
                table.loc[theme.id, f"interviews_{role}"]
                == (demo_study.interviews["role"] == role).sum()
            )


def test_planted_effects_show_in_the_demo(demo_study):
    table = interviews.theme_table(demo_study, interviews.coded_segments(demo_study)).set_index(
        "theme"
    )
    assert table.loc["out_of_touch", "share_sales"] > table.loc["out_of_touch", "share_marketing"]
    assert (
        table.loc["short_term_focus", "share_marketing"]
        > table.loc["short_term_focus", "share_sales"]
    )
    assert table.loc["lead_handoff", "share_sales"] > table.loc["lead_handoff", "share_marketing"]


def test_segments_table_has_spec_columns_and_pseudonyms_only(demo_study):
    coded = interviews.coded_segments(demo_study)
    assert list(coded.columns[:7]) == themes.SEGMENT_COLUMNS
    real_names = set(demo_study.turns["speaker"]) - {"Interviewer"}
    assert not coded["speaker"].isin(real_names).any()
    assert coded["speaker"].str.match(r"^(Marketing manager|Sales VP)( \d+)?, C-\d{3}$").all()
    assert (coded["segment"] % 2 == 0).all()  # interviewer speaks first in every demo interview


def test_quotes_carry_their_theme_and_reference(demo_study):
    coded = interviews.coded_segments(demo_study)
    quotes = themes.representative_quotes(coded, demo_study.codebook)
    by_id = {t.id: t for t in demo_study.codebook.themes}
    for q in quotes.itertuples():
        assert by_id[q.theme].matches(q.quote)
        seg = coded[(coded["interview_id"] == q.interview_id) & (coded["segment"] == q.segment)]
        assert q.quote in seg["text"].iloc[0]
    assert quotes.groupby(["theme", "role"]).size().max() <= 2


def test_builtin_codebook_has_the_classic_themes():
    ids = set(load_codebook("builtin:default").theme_ids)
    assert {
        "short_term_focus",
        "single_customer_fixation",
        "market_knowledge",
        "out_of_touch",
        "pricing_discounts",
        "advertising_spend",
        "product_features",
        "launch_timing",
        "pay_commission",
        "lead_handoff",
        "shared_terms",
        "shared_metrics",
        "joint_planning",
        "liaison_roles",
        "trust",
        "conflict_blame",
        "collaboration",
    } <= ids


def test_sentiment_is_exploratory_vader_and_signed(demo_study):
    seg = pd.DataFrame(
        {
            "interview_id": ["a", "b"],
            "segment": [2, 2],
            "role": ["sales", "sales"],
            "text": [
                "We love working together, it is great.",
                "This is terrible, we hate the awful leads.",
            ],
        }
    )
    tone = themes.sentiment(seg)
    assert tone["compound"].iloc[0] > 0.5 and tone["compound"].iloc[1] < -0.5


def test_open_answers_are_coded_with_the_same_codebook(demo_study):
    table = interviews.open_answer_table(demo_study).set_index("theme")
    answers = demo_study.open_answers
    for role in ("marketing", "sales"):
        texts = answers[answers["role"] == role]["text"]
        rx = re.compile(
            next(t for t in demo_study.codebook.themes if t.id == "out_of_touch").regex.pattern,
            re.I,
        )
        assert table.loc["out_of_touch", f"with_theme_{role}"] == sum(
            bool(rx.search(t)) for t in texts
        )
        assert table.loc["out_of_touch", f"answers_{role}"] == len(texts)
