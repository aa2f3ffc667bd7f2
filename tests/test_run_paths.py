"""`research run` from any folder, with the study given any way, never writing inside the study
(SPEC §3).

Whole runs of the demo where the real notebooks matter; small notebooks (tests/test_kernels.py's
helper) where only the paths and the parallelism do.
"""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from research.files import checksum_folder
from research.run import pipeline

from .conftest import DEMO
from .test_cli import listing, research
from .test_kernels import notebook

pytestmark = pytest.mark.slow


def test_run_with_study_yaml_twice_from_the_parent_folder(demo_copy, tmp_path):
    before = listing(demo_copy)
    for _ in range(2):  # the second run finds the first one's processed data and report
        out = research("run", "demo/study.yaml", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert listing(demo_copy) == before
    assert (tmp_path / "reports" / "demo" / "index.html").is_file()
    assert (tmp_path / "data" / "processed" / "demo" / "manifest.json").is_file()


def test_run_from_inside_the_study_writes_beside_it(demo_copy, tmp_path):
    before = listing(demo_copy)
    out = research("run", ".", "--jobs", "2", cwd=demo_copy)
    assert out.returncode == 0, out.stderr
    assert listing(demo_copy) == before  # nothing written inside the study ...
    assert (tmp_path / "reports" / "demo" / "index.html").is_file()  # ... the outputs are beside it
    assert (tmp_path / "data" / "processed" / "demo" / "scores.parquet").is_file()


# Small notebooks that look at the paths they are given and read the processed study through them.
PATHS_CELL = """import os
from pathlib import Path
from research.inputs.study import open_study
for value in (study_dir, processed_dir, out_dir):
    assert os.path.isabs(value), value
study = open_study(study_dir, processed_dir)
assert Path(processed_dir, "manifest.json").is_file()
(Path(out_dir) / "tables").mkdir(exist_ok=True)
(Path(out_dir) / "tables" / (NAME + ".csv")).write_text(str(len(study.respondents)))"""


def small_notebooks(folder, count=6):
    return [
        notebook(folder, f"0{i}-part", f"NAME = '0{i}'\n" + PATHS_CELL) for i in range(1, count + 1)
    ]


def test_the_working_folder_never_changes_while_notebooks_run_in_parallel(tmp_path, monkeypatch):
    """The pipeline's own parallelism, exercised repeatedly with a relative study path."""
    shutil_copy(DEMO, tmp_path / "mystudy")
    notebooks = small_notebooks(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path / "mystudy")
    seen, stop = set(), threading.Event()

    def watch():
        while not stop.is_set():
            seen.add(os.getcwd())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            report = pipeline.run("mystudy", jobs=3, notebooks=notebooks, progress=None)
            assert sorted(p.name for p in (report / "tables").glob("0*.csv")) == [
                f"0{i}.csv" for i in range(1, 7)
            ]
    finally:
        stop.set()
        watcher.join()
    assert seen == {str(tmp_path)}
    assert listing(tmp_path / "mystudy") == before


def test_six_runs_at_once_with_relative_paths(tmp_path):
    """Six processes, each running a copy of the study by a relative path: none sees its study
    change."""
    notebooks = small_notebooks(tmp_path)
    script = (
        "import sys; from pathlib import Path; from research.run import pipeline; "
        "pipeline.run('study', jobs=2, progress=None, notebooks=[Path(p) for p in sys.argv[1:]])"
    )
    folders = []
    for i in range(6):
        folder = tmp_path / f"run{i}"
        shutil_copy(DEMO, folder / "study")
        folders.append(folder)
    before = checksum_folder(DEMO)

    def one(folder):
        return subprocess.run(
            [sys.executable, "-c", script, *map(str, notebooks)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(one, folders))
    for folder, result in zip(folders, results, strict=True):
        assert result.returncode == 0, result.stderr[-2000:]
        assert checksum_folder(folder / "study") == before
        assert (folder / "reports" / "demo" / "index.html").is_file()


def shutil_copy(source, target):
    import shutil

    shutil.copytree(source, target)
