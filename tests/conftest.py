"""Fixtures: the demo study, the real-format files in tests/fixtures/real (copies of other tools'
files, see its PROVENANCE.md), and small studies written by the tests themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"
REAL = Path(__file__).resolve().parent / "fixtures" / "real"


@pytest.fixture(scope="session")
def real() -> Path:
    """The real-format files made by other tools; part of the repository, so never skipped."""
    return REAL


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A copy of the demo study that a test may break."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def demo_study():
    from research.inputs.study import read_study

    return read_study(DEMO)


SMALL_INSTRUMENT = {
    "id": "mini",
    "title": "Mini scale",
    "response_scale": {"min": 1, "max": 5, "labels": ["SD", "D", "N", "A", "SA"]},
    "min_answered": 0.5,
    "subscales": [{"id": "one", "label": "One"}, {"id": "two", "label": "Two"}],
    "items": [
        {"id": "M1", "subscale": "one"},
        {"id": "M2", "subscale": "one", "reverse": True},
        {"id": "M3", "subscale": "two"},
        {"id": "M4", "subscale": "two"},
    ],
    "total": {
        "id": "mini_total",
        "bands": [{"label": "low", "min": 4}, {"label": "high", "min": 12}],
    },
}


def write_study(
    folder: Path,
    respondents: pd.DataFrame,
    survey: pd.DataFrame | None = None,
    instruments: list | None = None,
    **config,
) -> Path:
    """Write a small study folder from DataFrames; instruments given as dicts are written as YAML
    files."""
    folder.mkdir(parents=True, exist_ok=True)
    respondents.to_csv(folder / "respondents.csv", index=False)
    refs = []
    for inst in instruments if instruments is not None else [SMALL_INSTRUMENT]:
        if isinstance(inst, str):
            refs.append(inst)
        else:
            (folder / f"{inst['id']}.yaml").write_text(yaml.safe_dump(inst), "utf-8")
            refs.append(f"{inst['id']}.yaml")
    cfg = {
        "name": "Test study",
        "respondents": "respondents.csv",
        "instruments": refs,
        "roles": {"marketing": ["marketing", "Marketing Manager"], "sales": ["sales", "VP Sales"]},
    }
    if survey is not None:
        survey.to_csv(folder / "survey.csv", index=False)
        cfg["survey"] = "survey.csv"
    cfg.update(config)
    (folder / "study.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), "utf-8")
    return folder


@pytest.fixture
def small_study(tmp_path):
    """Factory: ``small_study(respondents, survey, **config)`` writes a study and returns its
    folder."""

    def make(respondents=None, survey=None, instruments=None, **config):
        if respondents is None:
            respondents = pd.DataFrame(
                {
                    "respondent_id": ["001", "002", "003", "004"],
                    "company_id": ["A", "A", "B", "B"],
                    "role": ["marketing", "VP Sales", "Marketing Manager", "sales"],
                }
            )
        if survey is None:
            survey = pd.DataFrame(
                {
                    "respondent_id": ["001", "002", "003", "004"],
                    "M1": [5, 4, 3, 2],
                    "M2": [1, 2, 3, 4],
                    "M3": [5, 3, 3, 1],
                    "M4": [4, 3, 2, 1],
                }
            )
        return write_study(tmp_path / "study", respondents, survey, instruments, **config)

    return make
