"""Where things are: the bundled demo study and notebooks, a study's folder, and the default output
folders.

The demo study and the notebooks are package data, found with ``importlib.resources`` so that an
installed wheel works from any folder. In the repository they live at the top (``data/raw/demo/``,
``notebooks/``, where researchers open them); ``src/research/demo_study`` and
``src/research/notebooks`` are symbolic links to them, so the package never holds a copy that could
drift (see ``pyproject.toml``).

SPEC §3: nothing is ever written inside a study folder. The default report and processed folders are
taken under the current folder, or under the study folder's parent when the current folder is the
study folder or lies inside it; an explicit output folder inside the study is refused
(:class:`InsideStudyError`).
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path


class InsideStudyError(Exception):
    """An output folder named on the command line lies inside the study folder, or holds it (exit
    status 2)."""

    def __init__(self, option: str, folder: Path, study: Path):
        self.option, self.folder, self.study = option, folder, study
        if _inside(folder, study):
            why = f"lies inside the study folder {study}; nothing is ever written inside a study"
        else:  # an output folder is replaced as a whole, so the study would go with it
            why = f"holds the study folder {study} and would be replaced as a whole"
        super().__init__(f"{option} {folder} {why}: choose a folder outside it")


def _package_folder(name: str) -> Path:
    """A folder of package data as a real path (the wheel installs it as files; the checkout links
    it)."""
    return Path(os.fspath(resources.files("research") / name)).resolve()


def demo_study() -> Path:
    """The bundled demo study (``data/raw/demo`` in the repository, ``research/demo_study`` when
    installed)."""
    return _package_folder("demo_study")


def notebooks_folder() -> Path:
    """The ordered analysis notebooks (``notebooks/`` in the repository, ``research/notebooks`` when
    installed)."""
    return _package_folder("notebooks")


def project_root() -> Path:
    """The checkout (the folder above ``src``) when running from one; only the tests and benchmarks
    use it."""
    return Path(__file__).resolve().parents[2]


def study_folder(study=None) -> Path:
    """The absolute, resolved study folder for ``study``: the folder, its ``study.yaml``, or None
    (the demo).

    Examples
    --------
    >>> study_folder(demo_study() / "study.yaml") == study_folder(demo_study()) == demo_study()
    True
    """
    if study is None or str(study) == "":
        return demo_study()
    root = Path(study).expanduser().resolve()
    if root.name == "study.yaml" and not root.is_dir():
        root = root.parent
    return root


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def output_base(study_root: Path, cwd: Path | None = None) -> Path:
    """The folder default outputs go under: the current folder, or the study's parent when cwd is in
    the study.

    Examples
    --------
    >>> output_base(Path("/data/mystudy"), cwd=Path("/data/mystudy/transcripts")).as_posix()
    '/data'
    >>> output_base(Path("/data/mystudy"), cwd=Path("/home/me")).as_posix()
    '/home/me'
    """
    here = Path(cwd or Path.cwd()).resolve()
    root = Path(study_root).resolve()
    return root.parent if _inside(here, root) else working_folder(here)


def working_folder(cwd: Path | None = None) -> Path:
    """The current folder, except in a checkout's ``notebooks/`` folder (where JupyterLab and nbval
    run the notebooks): there the checkout itself, so that ``data/processed`` and ``reports`` are
    the project's own.

    Examples
    --------
    >>> working_folder(Path("/home/me")).as_posix()
    '/home/me'
    """
    here = Path(cwd or Path.cwd()).resolve()
    checkout = here.parent
    if (
        here.name == "notebooks"
        and (checkout / "pyproject.toml").is_file()
        and (checkout / "data").is_dir()
    ):
        return checkout
    return here


def check_outside(study_root: Path, folder, option: str, replaced: bool = True) -> Path:
    """``folder`` made absolute; raises :class:`InsideStudyError` when it lies inside the study
    folder, or holds it when ``replaced`` (the folder is replaced as a whole, as a report or
    processed folder is).

    Examples
    --------
    >>> check_outside(Path("/data/mystudy"), "/data/reports", "--out").as_posix()
    '/data/reports'
    >>> check_outside(Path("/data/mystudy"), "/data", "--out")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    research.paths.InsideStudyError: --out /data holds the study folder /data/mystudy and would be
    replaced as a whole: choose a folder outside it
    """
    path = Path(folder).expanduser().resolve()
    if _inside(path, study_root) or (replaced and _inside(study_root, path)):
        raise InsideStudyError(option, path, Path(study_root).resolve())
    return path


def default_processed(slug: str, base: Path | None = None) -> Path:
    """``data/processed/<slug>`` under ``base`` (the current folder by default), as SPEC §3 says."""
    return (base or Path.cwd()) / "data" / "processed" / slug


def default_reports(slug: str, base: Path | None = None) -> Path:
    """``reports/<slug>`` under ``base`` (the current folder by default)."""
    return (base or Path.cwd()) / "reports" / slug


def scratch_reports(slug: str, base: Path | None = None) -> Path:
    """``reports/_scratch/<slug>``: where a notebook opened by hand, ``make test`` or ``validate``
    writes.

    Only ``research run`` publishes a report folder; everything else writes here, so a half-run
    notebook never leaves a report that looks whole. A slug never starts with ``_``, so no study's
    reports collide.
    """
    return (base or Path.cwd()) / "reports" / "_scratch" / slug


def output_folder(out_dir, slug: str) -> Path:
    """The folder a notebook writes its tables and figures to: ``out_dir`` when given, else the
    scratch folder.

    Examples
    --------
    >>> output_folder("/tmp/rep", "demo").as_posix(), output_folder(None, "demo").parts[-3:]
    ('/tmp/rep', ('reports', '_scratch', 'demo'))
    """
    return Path(out_dir) if out_dir else scratch_reports(slug, working_folder())


def slugify(name: str) -> str:
    """Folder-safe slug of a study name.

    Examples
    --------
    >>> slugify("Demo"), slugify("  Pharma Study 2026! ")
    ('demo', 'pharma-study-2026')
    """
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return slug or "study"
