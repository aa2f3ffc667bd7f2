"""The toolkit as an installed wheel: notebooks, demo study and built-ins inside it, working from
any folder.

The wheel is built from a copy of the checkout (building writes build/ and egg-info), installed with
``pip install --no-deps --target`` into a temporary folder, and run with the project's environment
for the dependencies (PYTHONPATH puts the installed copy first, so the checkout's own package is not
what runs). An audit hook in every process of the installed tool logs what it writes: nothing may be
in the checkout.
"""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from research.files import checksum_folder

from .conftest import ROOT

pytestmark = pytest.mark.slow

SOURCES = ["pyproject.toml", "README.md", "src", "notebooks", "data/raw/demo"]


# Installed as sitecustomize in every process of the installed tool (the command and its kernels):
# logs each path that a process opens for writing, creates, moves or removes, so that the test can
# tell that none is in the checkout, however busy the checkout is with other work meanwhile.
AUDIT = """
import os, sys, threading
_log, _busy = os.environ["RESEARCH_AUDIT_LOG"], threading.local()
_EVENTS = {"os.rename", "os.replace", "os.remove", "os.rmdir", "os.mkdir", "os.symlink", \
"os.link", "os.truncate",
           "os.chmod", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move", \
"tempfile.mkdtemp",
           "tempfile.mkstemp"}
def _hook(event, args):
    if getattr(_busy, "on", False):
        return
    paths = []
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        mode, flags = args[1] or "", args[2] or 0
        if any(c in str(mode) for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            paths = [args[0]]
    elif event in _EVENTS:
        paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
    if paths:
        _busy.on = True
        try:
            with open(_log, "a") as fh:
                for path in paths:
                    fh.write(event + "\\t" + os.path.abspath(os.fsdecode(path)) + "\\n")
        finally:
            _busy.on = False
sys.addaudithook(_hook)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    for name in SOURCES:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name,
                target,
                symlinks=True,
                ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", ".ipynb_checkpoints"),
            )
        else:
            shutil.copy2(ROOT / name, target)
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(base / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next((base / "dist").glob("research-*.whl"))
    target = base / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return {"wheel": wheel, "site": target, "base": base}


def test_the_wheel_holds_the_notebooks_the_demo_and_the_builtins_as_files(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        assert f"research/notebooks/{notebook.name}" in names
    for path in (ROOT / "data" / "raw" / "demo").rglob("*"):
        if path.is_file():
            assert (
                "research/demo_study/" + path.relative_to(ROOT / "data" / "raw" / "demo").as_posix()
                in names
            )
    assert "research/builtin/instruments/smr.yaml" in names
    with zipfile.ZipFile(installed["wheel"]) as zf:  # real files, the same bytes as their one home
        assert (
            zf.read("research/demo_study/study.yaml")
            == (ROOT / "data/raw/demo/study.yaml").read_bytes()
        )


def _run_installed(installed, *args, cwd):
    """The installed ``research`` command (pip's script, run by this Python, the installed package
    first)."""
    audit = installed["base"] / "audit"
    audit.mkdir(exist_ok=True)
    (audit / "sitecustomize.py").write_text(AUDIT)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed["site"]), str(audit)]),
        "RESEARCH_AUDIT_LOG": str(installed["base"] / "written.log"),
    }
    script = installed["site"] / "bin" / "research"
    command = (
        [sys.executable, str(script)]
        if script.is_file()
        else [sys.executable, "-m", "research.cli"]
    )
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def written_in_the_checkout(installed) -> list[str]:
    log = installed["base"] / "written.log"
    lines = log.read_text().splitlines() if log.is_file() else []
    assert lines, "the audit hook logged nothing: it did not run"
    return [line for line in lines if Path(line.split("\t", 1)[1]).is_relative_to(ROOT)]


def test_the_installed_tool_runs_the_demo_from_any_folder_and_touches_no_file_of_the_checkout(
    installed, tmp_path
):
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run_installed(installed, "--version", cwd=work)
    assert where.returncode == 0
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import research, research.paths as p; print(research.__file__); "
            "print(p.demo_study()); print(p.notebooks_folder())",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(installed["site"])},
    )
    module, demo, notebooks = probe.stdout.split()
    for path in (module, demo, notebooks):
        assert Path(path).is_relative_to(installed["site"]), (
            path
        )  # the installed copy, not the checkout
    validate = _run_installed(installed, "validate", cwd=work)
    assert validate.returncode == 0, validate.stderr
    out = _run_installed(installed, "run", "--jobs", "2", cwd=work)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (work / "reports" / "demo" / "index.html").is_file()
    assert len(list((work / "reports" / "demo").glob("0*.html"))) == len(
        list((ROOT / "notebooks").glob("0*.ipynb"))
    )
    assert (work / "data" / "processed" / "demo" / "manifest.json").is_file()
    assert checksum_folder(Path(demo)) == checksum_folder(ROOT / "data" / "raw" / "demo")
    commands = (
        re.search(r"\{([a-z,]+)\}", _run_installed(installed, "--help", cwd=work).stdout)
        .group(1)
        .split(",")
    )
    if "new" in commands:  # `research new` (scaffold.py), when the tool has it
        new = _run_installed(installed, "new", str(work / "newstudy"), cwd=work)
        assert new.returncode == 0, new.stderr
        assert (work / "newstudy" / "study.yaml").is_file()
    assert written_in_the_checkout(installed) == []
