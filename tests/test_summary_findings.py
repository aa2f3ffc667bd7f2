"""The manager's summary: a figure that shows two findings is drawn once; the thought-worlds
finding uses the perception gaps without fitting the mixed ANOVA; findings are computed only while
there is room for them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from research.analysis import survey  # noqa: E402
from research.report import figures, summary  # noqa: E402


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
