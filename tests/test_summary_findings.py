"""The manager's summary: a figure that shows two findings is drawn once; the thought-worlds
finding uses the perception gaps without fitting the mixed ANOVA; findings are computed only while
there is room for them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from research.analysis import survey  # noqa: E402
from research.report import figures, prose, summary  # noqa: E402


def test_the_company_map_of_two_findings_is_drawn_once(demo_study, monkeypatch):
    drawn = []
    company_map = figures.company_map

    def counted(*args, **kwargs):
        drawn.append(1)
        return company_map(*args, **kwargs)

    monkeypatch.setattr(figures, "company_map", counted)
    findings = summary.key_findings(demo_study)
    images = [f.draw() for f in findings if f.draw is not None]
    maps = [image for image in images if isinstance(image, Image.Image)]
    assert len(maps) == 2 and maps[0] is maps[1]
    assert len(drawn) == 1


def test_the_gaps_facade_gives_the_gaps_of_the_full_tables(demo_study):
    _, gaps = survey.thought_worlds_tables(demo_study)
    pd.testing.assert_frame_equal(survey.perception_gaps_table(demo_study), gaps)


def test_no_finding_is_computed_beyond_the_n_asked_for(demo_study, monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the sixth finding was computed")

    monkeypatch.setattr(summary, "_thought_worlds", refused)
    assert len(summary.key_findings(demo_study, n=5)) == 5
    monkeypatch.undo()
    assert len(summary.key_findings(demo_study, n=6)) == 6


# ---- the sentences of a small study (7 companies, one interview per side) -----------------------


def _theme_rows(n_tied: int, n_other: int = 0) -> pd.DataFrame:
    rows = [
        {
            "theme": f"t{i}",
            "label": ["Short-term focus", "Lead quality", "Budget fights"][i]
            if i < 3
            else f"Theme {i}",
            "with_theme_marketing": 1,
            "with_theme_sales": 0,
            "interviews_marketing": 1,
            "interviews_sales": 1,
            "share_marketing": 1.0,
            "share_sales": 0.0,
            "p": 1.0,
            "p_holm": 1.0,
            "effect_size": 3.1416,
        }
        for i in range(n_tied)
    ]
    rows += [
        {
            "theme": f"o{i}",
            "label": f"Other {i}",
            "with_theme_marketing": 0,
            "with_theme_sales": 0,
            "interviews_marketing": 1,
            "interviews_sales": 1,
            "share_marketing": 0.0,
            "share_sales": 0.0,
            "p": 1.0,
            "p_holm": 1.0,
            "effect_size": 0.0,
        }
        for i in range(n_other)
    ]
    return pd.DataFrame(rows)


class _Study:
    codebook = object()
    interviews = pd.DataFrame({"x": [1]})


def _themes_finding(monkeypatch, table):
    from research.analysis import interviews

    monkeypatch.setattr(interviews, "coded_segments", lambda study: None)
    monkeypatch.setattr(interviews, "theme_table", lambda study, coded: table)
    return summary._themes(_Study(), 0.05)


def test_a_tie_of_themes_is_named_and_no_theme_singled_out(monkeypatch):
    finding = _themes_finding(monkeypatch, _theme_rows(11, 2))
    assert finding.title.startswith("11 themes differ equally between the sides")
    assert "this could be chance" in finding.title
    assert "Short-term focus, Lead quality, Budget fights and 8 more" in finding.text
    assert "largest difference between the sides" not in finding.text
    assert "each is raised in 1 of 1 marketing interview against 0 of 1 sales interview" in (
        finding.text
    )
    assert "more interviews would be needed" in finding.text
    assert "companies would" not in finding.text


def test_a_single_largest_theme_says_raises_and_interviews(monkeypatch):
    finding = _themes_finding(monkeypatch, _theme_rows(1, 2))
    assert finding.text.startswith(
        "1 of 1 marketing interview raises short-term focus, against 0 of 1 sales interview"
    )
    assert "more interviews would be needed" in finding.text
    assert "Of the themes, this is the largest difference" in finding.text
    two = _theme_rows(1).assign(with_theme_marketing=2, interviews_marketing=3)
    assert "2 of 3 marketing interviews raise short-term" in _themes_finding(monkeypatch, two).text


def test_no_theme_finding_without_any_difference(monkeypatch):
    assert _themes_finding(monkeypatch, _theme_rows(0, 3)) is None


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (0, 7, "None of the 7 companies is at the highest stage, Integrated."),
        (1, 7, "1 of 7 companies is at the highest stage, Integrated."),
        (3, 7, "3 of 7 companies are at the highest stage, Integrated."),
        (7, 7, "All 7 companies are at the highest stage, Integrated."),
        (0, 1, "The company is not at the highest stage, Integrated."),
    ],
)
def test_companies_at_the_highest_stage(k, n, expected):
    assert summary._at_top(k, n, "Integrated") == expected


def test_the_largest_scale_is_said_to_be_the_largest_standardised_difference():
    row = {
        "mean_marketing": 3.43,
        "mean_sales": 3.07,
        "n_marketing": 7,
        "n_sales": 7,
        "effect_size": 0.97,
        "p_holm": 0.46,
    }
    title, text = prose.largest_scale_plain(row, 0.05, "Shared metrics and accountability")
    assert "differ most" not in title and "largest standardised difference" in title
    assert "largest standardised difference (Hedges' g = 0.97" in text
    assert "more respondents would be needed" in text


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (["a; b", "c"], "No reason for a move is more common than another"),
        (["a", "a", "c"], "The most common reason for a move: a (2 of 3 cases)."),
        (["a", "a", "c", "c"], "2 reasons for a move are equally common (2 of 4 cases each)"),
        (["a"], "The reason for a move: a (1 of 1 case)."),
    ],
)
def test_the_most_common_reason_is_never_one_of_a_tie(held, expected):
    evaluation = pd.DataFrame(
        {
            "company_id": [f"c{i}" for i in range(len(held))],
            "status": "fires",
            "action": "move",
            "held": held,
            "rule": "r",
        }
    )
    summ = pd.DataFrame({"company_id": [f"c{i}" for i in range(len(held))]})
    _, text = prose.advice_plain(evaluation, summ)
    assert expected in text
    if "No reason" in expected or "equally" in expected:
        assert "most common" not in text


@pytest.mark.parametrize(
    ("actions", "title", "absent"),
    [
        (["attend", "attend", None], "No company is advised to move or to stay; 2 of 3 companies "
         "have a point to attend to first", ["0 of", "for 0"]),
        ([None, None, None], "No company is advised to move or to stay",
         ["0 of", "for 0", "attend"]),
        (["move", None, None], "1 of 3 companies should move closer", ["stay where", "for 0"]),
        (["stay", "stay", None], "2 of 3 companies can stay where they are",
         ["move closer", "for 0"]),
        (["move", "stay", "stay"], "1 of 3 companies should move closer; 2 can stay where they are",
         ["for 0"]),
    ],
)  # fmt: skip
def test_advice_counts_never_print_a_zero_as_advice(actions, title, absent):
    evaluation = pd.DataFrame(
        {
            "company_id": [f"c{i}" for i, a in enumerate(actions) if a],
            "status": "fires",
            "action": [a for a in actions if a],
            "held": "x",
            "rule": "r",
        }
    )
    summ = pd.DataFrame({"company_id": [f"c{i}" for i in range(len(actions))]})
    got_title, text = prose.advice_plain(evaluation, summ)
    assert got_title == title
    assert not any(word in got_title + text for word in absent)
