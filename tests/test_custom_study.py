"""A study the demo never resembles: a 7-point custom instrument with reverse-keyed items, other
column order, no interviews, no stages. The same notebooks must run on it unchanged."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from .conftest import write_study

pytestmark = pytest.mark.slow

SEVEN = {
    "id": "climate",
    "title": "Interface climate (7-point)",
    "response_scale": {"min": 1, "max": 7},
    "min_answered": 0.6,
    "subscales": [
        {"id": "openness", "label": "Openness"},
        {"id": "rivalry", "label": "Rivalry (low is good)"},
    ],
    "items": [
        {"id": "C1", "subscale": "openness"},
        {"id": "C2", "subscale": "openness"},
        {"id": "C3", "subscale": "openness", "reverse": True},
        {"id": "C4", "subscale": "rivalry"},
        {"id": "C5", "subscale": "rivalry", "reverse": True},
        {"id": "C6", "subscale": "rivalry"},
    ],
    "total": {"id": "climate_total"},
}


@pytest.fixture(scope="module")
def custom_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("custom")
    rng = np.random.default_rng(12)
    rows, answers = [], []
    for c in range(18):
        for role in ("Vertrieb", "Marketing") + (("Vertrieb",) if c % 4 == 0 else ()):
            rid = f"{len(rows) + 1:03d}"
            rows.append(
                {
                    "role": role,
                    "region": rng.choice(["north", "south"]),
                    "respondent_id": rid,
                    "company_id": f"F{c:02d}",
                }
            )
            level = rng.uniform(2, 6) + (0.8 if role == "Marketing" else 0)
            answers.append(
                {
                    "C6": None,
                    "id": rid,
                    **{
                        f"C{k}": int(np.clip(np.rint(level + rng.normal(0, 1)), 1, 7))
                        for k in range(1, 7)
                    },
                }
            )
    survey = pd.DataFrame(answers)[
        ["id", "C6", "C5", "C4", "C3", "C2", "C1"]
    ]  # other column order, id named differently
    folder = write_study(
        base / "study",
        pd.DataFrame(rows),
        survey,
        [SEVEN],
        survey_id_column="id",
        roles={"marketing": ["Marketing"], "sales": ["Vertrieb"]},
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "research.cli",
            "run",
            str(folder),
            "--out",
            str(base / "report"),
            "--processed",
            str(base / "processed"),
        ],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return out, base / "report", survey


def test_custom_seven_point_study_runs_through_every_notebook(custom_report):
    out, report, _ = custom_report
    assert out.returncode == 0, out.stderr
    from research.run.pipeline import list_notebooks

    n = len(list_notebooks())
    assert len(list(report.glob("0*.html"))) == n
    assert f"[{n}/{n}]" in out.stdout


def test_reverse_keying_on_seven_points_reaches_the_tables(custom_report):
    _, report, survey = custom_report
    scores = pd.read_csv(report / "tables" / "scores.csv", dtype={"respondent_id": str})
    first = survey.iloc[0]
    expected = np.mean([first["C1"], first["C2"], 8 - first["C3"]])
    assert scores.set_index("respondent_id").loc["001", "openness"] == pytest.approx(expected)
    items = pd.read_csv(report / "tables" / "item_comparison.csv")
    assert set(items["item"]) == {f"C{k}" for k in range(1, 7)}
    scales = pd.read_csv(report / "tables" / "scale_comparison.csv")
    assert set(scales["scale"]) == {"openness", "rivalry", "climate_total"}
    assert (
        scales.set_index("scale").loc["climate_total", "effect_size"] > 0
    )  # marketing planted higher


def test_no_interviews_and_no_stages_are_said_in_words(custom_report):
    _, report, _ = custom_report
    assert "The study has no coded interviews." in (report / "04-interviews.html").read_text(
        "utf-8"
    )
    assert "Joint displays need coded interviews" in (report / "05-companies.html").read_text(
        "utf-8"
    )
