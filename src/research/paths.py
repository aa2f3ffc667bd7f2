"""Where things are: the project folder, the bundled demo study and the default output folders."""

from __future__ import annotations

from pathlib import Path


def project_root() -> Path:
    """The checkout holding ``data/raw/demo``: the current folder or a parent, else the source tree."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "data" / "raw" / "demo" / "study.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def demo_study() -> Path:
    """The bundled demo study (``data/raw/demo``)."""
    return project_root() / "data" / "raw" / "demo"


def default_processed(slug: str, base: Path | None = None) -> Path:
    """``data/processed/<slug>`` under ``base`` (the current folder by default), as SPEC §3 says."""
    return (base or Path.cwd()) / "data" / "processed" / slug


def default_reports(slug: str, base: Path | None = None) -> Path:
    """``reports/<slug>`` under ``base`` (the current folder by default)."""
    return (base or Path.cwd()) / "reports" / slug


def scratch_reports(slug: str, base: Path | None = None) -> Path:
    """``reports/_scratch/<slug>``: where a notebook opened by hand, ``make test`` or ``validate`` writes.

    Only ``research run`` publishes a report folder; everything else writes here, so a half-run notebook
    never leaves a report that looks whole. A slug never starts with ``_``, so no study's reports collide.
    """
    return (base or Path.cwd()) / "reports" / "_scratch" / slug


def output_folder(out_dir, slug: str) -> Path:
    """The folder a notebook writes its tables and figures to: ``out_dir`` when given, else the scratch folder.

    Examples
    --------
    >>> output_folder("/tmp/rep", "demo").as_posix(), output_folder(None, "demo").parts[-3:]
    ('/tmp/rep', ('reports', '_scratch', 'demo'))
    """
    return Path(out_dir) if out_dir else scratch_reports(slug)
