"""SPEC §4: a study that leaves one function with no respondents runs (exit 0), says so on the
terminal and at the top of every page, and no page draws a marketing-versus-sales conclusion."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml


def one_sided(demo_copy):
    config = yaml.safe_load((demo_copy / "study.yaml").read_text("utf-8"))
    config["roles"]["sales"] = [
        "sales manger"
    ]  # the typo of the issue: every sales respondent is unknown
    (demo_copy / "study.yaml").write_text(yaml.safe_dump(config), "utf-8")
    return demo_copy


def research(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "research.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_validate_says_on_the_terminal_that_a_function_is_missing(demo_copy, tmp_path):
    out = research("validate", one_sided(demo_copy), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "the study has no sales respondents" in out.stderr
    assert "problem(s)" not in out.stdout


@pytest.mark.slow
def test_run_warns_on_every_page_and_compares_nothing(demo_copy, tmp_path):
    study = one_sided(demo_copy)
    out = research(
        "run",
        study,
        "--out",
        tmp_path / "report",
        "--processed",
        tmp_path / "processed",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "the study has no sales respondents" in out.stderr
    pages = sorted((tmp_path / "report").glob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        html = page.read_text("utf-8")
        assert "no sales respondents" in html, page.name
        # conclusions, not the table notes that define the sign ("positive: marketing rates ...
        # higher")
        for claim in (
            r"rates it higher",
            r"rates the relationship [\d.]+ points higher",
            r"raises it more often",
            r"gives the higher score in",
            r"differ most on",
            r"rates itself (higher|lower)",
        ):
            assert not re.search(claim, html), (page.name, claim)
