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
