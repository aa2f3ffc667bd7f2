"""The command line as a researcher meets it: exit codes, messages, and what is (not) written."""

import subprocess
import sys

import pandas as pd
import pytest

from research.files import checksum_folder


def research(*args, cwd):
    return subprocess.run([sys.executable, "-m", "research.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_help_explains_each_option(tmp_path):
    out = research("run", "--help", cwd=tmp_path)
    assert out.returncode == 0
    for option in ("--out", "--processed", "--jobs", "--seed", "exit status"):
        assert option in out.stdout


def test_validate_without_company_id_exits_2_naming_file_and_column_and_writes_nothing(demo_copy, tmp_path):
    path = demo_copy / "respondents.xlsx"
    frame = pd.read_excel(path, dtype=str, engine="calamine").drop(columns="company_id")
    frame.to_excel(path, index=False)
    work = tmp_path / "work"
    work.mkdir()
    out = research("validate", demo_copy, cwd=work)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "respondents.xlsx" in lines[0] and "company_id" in lines[0]
    assert "Traceback" not in out.stderr
    assert not (work / "data").exists() and not (work / "reports").exists()


def test_validate_writes_data_quality_and_summarises(demo_copy, tmp_path):
    out = research("validate", demo_copy, "--out", tmp_path / "rep", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    quality = pd.read_csv(tmp_path / "rep" / "tables" / "data_quality.csv", dtype=str)
    assert list(quality.columns) == ["source", "record", "column", "value", "problem", "action"]
    assert "out_of_range 1" in out.stdout


def test_run_on_a_broken_study_exits_2_and_keeps_the_previous_report(demo_copy, tmp_path):
    report = tmp_path / "rep"
    report.mkdir()
    (report / "index.html").write_text("previous report")
    (demo_copy / "study.yaml").write_text("name: x\nroles: {marketing: [m], sales: [s]}\ninstruments: [builtin:smr]\n")
    out = research("run", demo_copy, "--out", report, "--processed", tmp_path / "proc", cwd=tmp_path)
    assert out.returncode == 2
    assert "key 'respondents'" in out.stderr
    assert (report / "index.html").read_text() == "previous report"
    assert not (tmp_path / "proc").exists()


@pytest.mark.slow
def test_run_end_to_end_writes_the_report_and_leaves_raw_files_byte_identical(demo_copy, tmp_path):
    before = checksum_folder(demo_copy)
    out = research("run", demo_copy, "--out", tmp_path / "rep", "--processed", tmp_path / "proc", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert checksum_folder(demo_copy) == before
    assert (tmp_path / "rep" / "index.html").is_file()
    for table in ("data_quality", "scores"):
        assert (tmp_path / "rep" / "tables" / f"{table}.csv").is_file()
    assert (tmp_path / "proc" / "manifest.json").is_file()
    assert "executed 01-overview.ipynb" in out.stdout
    assert not list(tmp_path.glob("rep.tmp-*")) and not list(tmp_path.glob(".rep.*"))
