"""Re-runs redo only what changed (``research.run.fingerprint``, ``research.run.pipeline``).

- ``test_declared_reads_cover_what_notebooks_read``: every notebook's code runs in process on a
  ``Study`` that records each field and each ``study.yaml`` key it touches; all of it must be
  declared in ``fingerprint.READS``.
- ``test_each_kind_of_input_reruns_exactly_its_readers``: one kind of input changed at a time
  (respondents, survey answer, open answer, an unknown survey row, transcript, manual codes,
  codebook, decision table, instrument, study.yaml keys, parameters, toolkit version, a notebook
  file): exactly the expected notebooks get a new fingerprint.
- ``test_footer_filled_in_as_exported``: a kept page with this run's footer is the page exported
  with it.
- ``test_rerun_sequence`` (slow): a full run; an unchanged re-run reuses every page without starting
  a kernel or reading the study, and its report is byte-identical but for the run's time; a codebook
  edit runs exactly the codebook's readers; ``force`` runs all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

import research
from research.files import checksum_folder
from research.inputs import study as study_module
from research.inputs.study import Study, read_study
from research.paths import demo_study
from research.run import fingerprint as fp
from research.run import pipeline
from research.run.pipeline import list_notebooks

ALL = {p.stem for p in list_notebooks()}
PARAMS = {"alpha": 0.05, "seed": 2026}


def local_study(tmp_path: Path) -> Path:
    """The demo study copied, with its codebook, decision table and SMR instrument as files of its
    own."""
    root = tmp_path / "study"
    shutil.copytree(demo_study(), root)
    builtin = resources.files("research.builtin")
    (root / "codebook.yaml").write_bytes(builtin.joinpath("codebooks", "default.yaml").read_bytes())
    (root / "decisions.yaml").write_bytes(
        builtin.joinpath("decisions", "default.yaml").read_bytes()
    )
    (root / "smr.yaml").write_bytes(builtin.joinpath("instruments", "smr.yaml").read_bytes())
    edit(root / "study.yaml", "codebook: builtin:default", "codebook: codebook.yaml")
    edit(root / "study.yaml", "decision_table: builtin:default", "decision_table: decisions.yaml")
    edit(root / "study.yaml", "- builtin:smr", "- smr.yaml")
    return root


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), "utf-8")


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")


def fingerprints(root: Path, processed: Path, notebooks=None, params=PARAMS) -> dict[str, str]:
    """Each notebook's fingerprint as ``research run`` computes it, after reading and saving the
    study."""
    study = read_study(root)
    study.save(processed)
    inputs = fp.gather_inputs(processed, root, study.config, study.slug)
    plan = pipeline._plan(
        notebooks or list_notebooks(), inputs, params, fp.PageCache(processed), force=False
    )
    return {p.stem: entry["fingerprint"] for p, entry in plan.items()}


# ---- the declarations ----------------------------------------------------------------------------


class _RecordingConfig(dict):
    def __init__(self, data, seen):
        super().__init__(data)
        self._seen = seen

    def __getitem__(self, key):
        self._seen.add(f"config.{key}")
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._seen.add(f"config.{key}")
        return super().get(key, default)

    def __contains__(self, key):
        self._seen.add(f"config.{key}")
        return super().__contains__(key)

    def _everything(self):
        self._seen.add("config.*")

    def items(self):
        self._everything()
        return super().items()

    def keys(self):
        self._everything()
        return super().keys()

    def values(self):
        self._everything()
        return super().values()

    def __iter__(self):
        self._everything()
        return super().__iter__()


FIELDS = {f.name for f in dataclasses.fields(Study)}


def recording_study(study: Study, seen: set) -> Study:
    """``study`` as a Study that adds the name of every field read to ``seen`` (``config.KEY`` for
    keys)."""

    class Recording(Study):
        def __getattribute__(self, name):
            if name in FIELDS:
                seen.add(name)
            return object.__getattribute__(self, name)

    values = {f.name: getattr(study, f.name) for f in dataclasses.fields(Study)}
    values["config"] = _RecordingConfig(study.config, seen)
    return Recording(**values)


def declared(reads: fp.Reads) -> set[str]:
    names = (
        {"quality" if t == "data_quality" else t for t in reads.tables}
        | set(reads.specs)
        | {"slug", "config"}
    )
    if reads.config is None:
        return (
            names
            | {"config.*", "name"}
            | {f"config.{k}" for k in study_module.read_config(demo_study())}
        )
    return (
        names
        | {f"config.{k}" for k in reads.config}
        | ({"name"} if "name" in reads.config else set())
    )


@pytest.mark.slow
def test_declared_reads_cover_what_notebooks_read(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = demo_study()
    processed = tmp_path / "processed"
    read_study(root).save(processed)
    for notebook in list_notebooks():
        seen: set[str] = set()
        monkeypatch.setattr(
            study_module,
            "open_study",
            lambda *a, seen=seen, **k: recording_study(Study.load(processed), seen),
        )
        out = tmp_path / notebook.stem
        scope: dict = {}
        for cell in json.loads(notebook.read_text("utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source += (
                    f"\nstudy_dir = {str(root)!r}\nprocessed_dir = {str(processed)!r}"
                    f"\nout_dir = {str(out)!r}\n"
                )
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, notebook.name, "exec"), scope)  # noqa: S102
            plt.close("all")
        assert not seen & {"root", "checksums"}, f"{notebook.name} reads the raw folder itself"
        undeclared = seen - declared(fp.reads_of(notebook))
        assert not undeclared, (
            f"{notebook.name} reads {sorted(undeclared)}, not declared in fingerprint.READS"
        )


# ---- which notebooks each kind of input invalidates ----------------------------------------------


def _respondents(root):  # a company outcome of one respondent
    import openpyxl

    book = openpyxl.load_workbook(root / "respondents.xlsx")
    sheet = book.active
    column = [c.value for c in sheet[1]].index("performance") + 1
    sheet.cell(row=2, column=column).value = float(sheet.cell(row=2, column=column).value) + 1
    book.save(root / "respondents.xlsx")


def _survey_answer(root):
    edit(root / "survey.csv", ",R0001,Strongly disagree,", ",R0001,Agree,")


def _open_answer(root):
    lines = (root / "survey.csv").read_text("utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if ",R0001," in line)
    line = lines[row].rstrip("\r\n")
    ending = lines[row][len(line) :]
    lines[row] = (line[:-1] + " Really." + '"' if line.endswith('"') else line + "Really.") + ending
    (root / "survey.csv").write_text("".join(lines), "utf-8")


def _unknown_survey_row(root):  # only the data-quality log changes (unknown_respondent)
    text = (root / "survey.csv").read_text("utf-8")
    line = next(line for line in text.splitlines() if ",R0001," in line)
    (root / "survey.csv").write_text(
        text.rstrip("\r\n") + "\n" + line.replace(",R0001,", ",R9999,") + "\n", "utf-8"
    )


def _transcript(root):
    edit(
        root / "transcripts" / "I004_C-002_sales.txt",
        "It depends on the week",
        "It really depends on the week",
    )


def _manual_code(root):
    edit(root / "codes.csv", "I001,4,coder_a,market_knowledge", "I001,4,coder_a,pricing_discounts")


def _codebook(root):
    edit_yaml(root / "codebook.yaml", lambda d: d["themes"][0]["patterns"].append("this month"))


def _decision_table(root):
    edit_yaml(
        root / "decisions.yaml",
        lambda d: d["rules"][0].update(circumstance=d["rules"][0]["circumstance"] + "."),
    )


def _instrument(root):
    edit_yaml(
        root / "smr.yaml", lambda d: d["items"][0].update(text=d["items"][0]["text"] + " (edited)")
    )


def _description(root):
    edit(root / "study.yaml", "name: Demo\n", "name: Demo\ndescription: a pilot\n")


def _name(root):  # the same slug
    edit(root / "study.yaml", "name: Demo\n", "name: DEMO\n")


EXPECTED = {
    "respondents": (_respondents, ALL),
    "survey answer": (_survey_answer, ALL - {"04-interviews"}),
    "open answer": (_open_answer, {"04-interviews", "07-methods"}),
    "unknown survey row": (_unknown_survey_row, {"01-overview", "07-methods"}),
    "transcript": (_transcript, {"04-interviews", "05-companies", "06-summary", "07-methods"}),
    "manual codes": (_manual_code, {"04-interviews", "07-methods"}),
    "codebook": (_codebook, {"04-interviews", "05-companies", "06-summary", "07-methods"}),
    "decision table": (_decision_table, {"05-companies", "06-summary", "07-methods"}),
    "instrument": (_instrument, ALL - {"04-interviews"}),
    "study.yaml description": (_description, {"07-methods"}),
    "study.yaml name": (_name, {"01-overview", "04-interviews", "07-methods"}),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_kind_of_input_reruns_exactly_its_readers(kind, tmp_path):
    change, expected = EXPECTED[kind]
    root = local_study(tmp_path)
    before = fingerprints(root, tmp_path / "processed")
    change(root)
    after = fingerprints(root, tmp_path / "processed")
    assert {k for k in before if before[k] != after[k]} == expected


def test_parameters_toolkit_and_notebook_files_invalidate(tmp_path, monkeypatch):
    root = local_study(tmp_path)
    notebooks = tmp_path / "notebooks"
    shutil.copytree(list_notebooks()[0].parent, notebooks)
    ours = pipeline.list_notebooks(notebooks)
    before = fingerprints(root, tmp_path / "p", ours)
    assert (
        fingerprints(root, tmp_path / "p", ours) == before
    )  # the same inputs, the same fingerprints
    changed = fingerprints(root, tmp_path / "p", ours, {"alpha": 0.01, "seed": 2026})
    assert {k for k in before if before[k] != changed[k]} == ALL
    changed = fingerprints(root, tmp_path / "p", ours, {"alpha": 0.05, "seed": 7})
    assert {k for k in before if before[k] != changed[k]} == ALL
    edit(notebooks / "03-comparisons.ipynb", "How do", "How, then, do")
    changed = fingerprints(root, tmp_path / "p", ours)
    assert {k for k in before if before[k] != changed[k]} == {"03-comparisons"}
    edit(notebooks / "03-comparisons.ipynb", "How, then, do", "How do")
    monkeypatch.setattr(research, "__version__", research.__version__ + ".post1")
    changed = fingerprints(root, tmp_path / "p", ours)
    assert {k for k in before if before[k] != changed[k]} == ALL


def test_footer_filled_in_as_exported():
    import nbformat

    from research.report.pages import provenance_footer

    exporter = pipeline._html_exporter()
    footer = provenance_footer('A & B <x> "q" \'s', {"a.csv": "00"}, "2026-01-01 10:00 UTC")

    def page(text):
        nb = nbformat.v4.new_notebook()
        nb.cells.append(
            nbformat.v4.new_markdown_cell("# Title\n\n**The question:** what?", id="title")
        )
        return pipeline._page_html(exporter, nb, text)[0]

    kept = page(fp.FOOTER_PLACEHOLDER)
    filled = pipeline._PLACEHOLDER.sub(lambda _: pipeline._rendered_footer(exporter, footer), kept)
    assert filled == page(footer)


# ---- whole runs ----------------------------------------------------------------------------------

WHEN = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def report_files(folder: Path) -> dict[str, bytes]:
    """Every file of a report, the run's time blanked out."""
    return {
        p.relative_to(folder).as_posix(): WHEN.sub(b"<time>", p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def started(lines: list[str]) -> set[str]:
    return {m.group(1) for line in lines if (m := re.match(r"\[\d+/\d+\] (\S+) started$", line))}


def reused(lines: list[str]) -> list[str]:
    return [
        m.group(1)
        for line in lines
        if (m := re.match(r"\[\d+/\d+\] (\S+) reused \(inputs unchanged\)$", line))
    ]


@pytest.mark.slow
def test_rerun_sequence(tmp_path, monkeypatch):
    root = local_study(tmp_path)
    processed = tmp_path / "processed"
    raw = checksum_folder(root)

    lines: list[str] = []
    first = pipeline.run(root, out=tmp_path / "r1", processed=processed, progress=lines.append)
    assert started(lines) == ALL and not reused(lines)
    assert {
        p.name for p in (processed / "pages").iterdir() if p.is_dir()
    } == ALL  # the cache: processed/pages
    assert checksum_folder(root) == raw  # nothing written inside the study

    # unchanged: no kernel, the study not read again, every page reused, the same report but for the
    # time
    class NoKernels:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a kernel pool was started for a re-run with nothing to execute")

    def no_reading(*args, **kwargs):
        raise AssertionError("the study was read again although nothing changed")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "KernelPool", NoKernels)
        patch.setattr(study_module, "read_study", no_reading)  # the run imports it when needed
        lines = []
        second = pipeline.run(root, out=tmp_path / "r2", processed=processed, progress=lines.append)
    assert reused(lines) == sorted(ALL) and not started(lines)  # reused lines in report order
    assert report_files(second) == report_files(first)
    index = (second / "index.html").read_text("utf-8")
    assert all(digest in index for digest in raw.values())  # this run's raw checksums

    # a codebook edit: exactly the notebooks that read the codebook run again
    _codebook(root)
    lines = []
    third = pipeline.run(root, out=tmp_path / "r3", processed=processed, progress=lines.append)
    readers = {p.stem for p in list_notebooks() if "codebook" in fp.reads_of(p).specs}
    assert readers == {"04-interviews", "05-companies", "06-summary", "07-methods"}
    assert started(lines) == readers and set(reused(lines)) == ALL - readers
    before, after = report_files(first), report_files(third)
    footer = re.compile(rb"<footer\b[^>]*provenance.*?</footer>", re.S)
    for stem in ALL - readers:  # the same page; its footer names this run's raw checksums
        assert footer.sub(b"", after[f"{stem}.html"]) == footer.sub(b"", before[f"{stem}.html"])
        assert after[f"{stem}.html"] != before[f"{stem}.html"]
    assert after["tables/scores.csv"] == before["tables/scores.csv"]

    # force: every notebook runs
    lines = []
    pipeline.run(root, out=tmp_path / "r4", processed=processed, progress=lines.append, force=True)
    assert started(lines) == ALL and not reused(lines)


def test_a_run_vouches_to_its_kernels_for_the_processed_data_it_checked(
    demo_copy, tmp_path, monkeypatch
):
    import hashlib

    seen = {}

    class Pool:
        def __init__(self, size, cwd, env=None, **kwargs):
            seen["env"] = dict(env)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *args, **kwargs):  # what the kernels find when notebooks run
            seen["vouched"] = Path(seen["env"][study_module.VERIFIED_ENV]).read_text("utf-8")
            raise RuntimeError("stop here")

    monkeypatch.setattr(pipeline, "KernelPool", Pool)
    processed = tmp_path / "p"
    for _ in range(2):  # the study read and saved, then its processed data up to date
        seen.clear()
        with pytest.raises(RuntimeError, match="stop here"):
            pipeline.run(demo_copy, out=tmp_path / "r", processed=processed, force=True)
        manifest = (processed / "manifest.json").read_bytes()
        assert seen["vouched"] == hashlib.sha256(manifest).hexdigest()
        assert not Path(seen["env"][study_module.VERIFIED_ENV]).exists()  # removed with the run


def test_a_first_run_orders_notebooks_by_the_seconds_their_metadata_expects(tmp_path):
    shipped = {p.name: pipeline._expected_seconds(p, {}) for p in list_notebooks()}
    assert max(shipped, key=shipped.get) == "03-comparisons.ipynb"  # the longest starts first
    assert all(0 < s < 60 for s in shipped.values())
    bare = tmp_path / "01-bare.ipynb"
    bare.write_text(json.dumps({"metadata": {}, "cells": [{"cell_type": "code"}] * 3}), "utf-8")
    assert pipeline._expected_seconds(bare, {}) == 3.0  # no prior: its code cells
    assert pipeline._expected_seconds(bare, {"01-bare.ipynb": 0.25}) == 0.25  # its own history
