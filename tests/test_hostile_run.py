"""Whole runs on hostile studies: markup and formulas from the data never become live HTML or live
spreadsheet cells, and a failed run leaves the previous report as it was and says so."""

import re
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from research import cli
from research.run import pipeline

from .conftest import DEMO

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    study = base / "study"
    shutil.copytree(DEMO, study)
    r = pd.read_excel(study / "respondents.xlsx", dtype=str, engine="calamine")
    r.loc[r["company_id"] == "C-002", "company_id"] = SCRIPT
    r.loc[0, "industry"] = "=cmd|' /C calc'!A0"
    r.to_excel(study / "respondents.xlsx", index=False)
    txt = next((study / "transcripts").glob("I004_*.txt"))
    txt.write_bytes(
        txt.read_bytes().replace(
            b"Lead quality is the biggest issue",
            f"{IMG} Lead quality is the biggest issue".encode(),
        )
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "research.cli",
            "run",
            str(study),
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
    assert out.returncode == 0, out.stderr
    return base / "report"


def test_markup_from_the_data_is_escaped_in_every_page(hostile_report):
    pages = sorted(hostile_report.glob("*.html"))
    from research.run.pipeline import list_notebooks

    assert len(pages) == len(list_notebooks()) + 1  # every report and the index
    seen_escaped = False
    for page in pages:
        html = page.read_text("utf-8")
        assert SCRIPT not in html and IMG not in html, page.name
        seen_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert seen_escaped  # the hostile company id is shown, as text


def test_formulas_from_the_data_are_neutralised_in_every_table(hostile_report):
    for path in (hostile_report / "tables").glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in frame.columns:
            bad = frame[col][frame[col].str.match(r"^[=+@]") & ~frame[col].str.match(r"^[+-]?\d")]
            assert bad.empty, (path.name, col, bad.head(2).tolist())
    segments = pd.read_csv(hostile_report / "tables" / "segments.csv", dtype=str)
    assert segments["text"].str.contains(re.escape(IMG)).any()  # kept as data, harmless in a CSV


def _broken_notebook(folder):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'study_dir = ""\nprocessed_dir = ""\nout_dir = ""\nalpha = 0.05\nseed = 1'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Broken"),
        params,
        nbformat.v4.new_code_cell('raise ValueError("this notebook always fails")'),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "01-broken.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_failed_run_keeps_the_previous_report_and_says_so(tmp_path, monkeypatch, capsys):
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("the previous report")
    broken = _broken_notebook(tmp_path)
    monkeypatch.setattr(pipeline, "list_notebooks", lambda folder=None: [broken])
    code = cli.main(
        [
            "run",
            str(DEMO),
            "--out",
            str(report),
            "--processed",
            str(tmp_path / "processed"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "01-broken.ipynb failed: ValueError: this notebook always fails" in err
    assert "previous report is unchanged" in err
    assert (report / "index.html").read_text() == "the previous report"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith(".report")
    ] == []  # no half-written folder left


def test_a_study_with_one_function_only_runs_and_says_what_cannot_be_compared(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(DEMO, study)
    r = pd.read_excel(study / "respondents.xlsx", dtype=str, engine="calamine")
    r["role"] = r["role"].replace(
        {"VP Sales": "Marketing Manager", "Sales": "marketing", "Sales Director": "marketing"}
    )
    r.to_excel(study / "respondents.xlsx", index=False)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "research.cli",
            "run",
            str(study),
            "--out",
            str(tmp_path / "report"),
            "--processed",
            str(tmp_path / "processed"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    scales = pd.read_csv(tmp_path / "report" / "tables" / "scale_comparison.csv")
    assert scales["p"].isna().all() and scales["note"].str.contains("0 sales values").all()
    themes = pd.read_csv(tmp_path / "report" / "tables" / "theme_by_role.csv")
    assert themes["p"].isna().all() and themes["note"].str.contains("no sales interviews").all()
