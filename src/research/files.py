"""File-system steps every layer relies on: atomic replacement of a folder, and checksums of a
folder."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path


def swap_into_place(tmp: Path, folder: Path) -> None:
    """Replace ``folder`` by ``tmp`` so that a reader never sees a half-written folder."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
        folder.rename(old)
    tmp.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def checksum_folder(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (relative path -> hex digest), for provenance."""
    sums = {}
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        sums[path.relative_to(root).as_posix()] = digest.hexdigest()
    return sums
