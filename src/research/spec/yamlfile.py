"""Reading the toolkit's YAML files (instruments, codebooks, decision tables) safely, built-in or from a path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from research.errors import StudyError


def read_yaml_ref(ref: str, base: Path | None, what: str) -> tuple[dict, str]:
    """Read a ``builtin:NAME`` or a YAML file with the safe loader; return (data, source name)."""
    ref = str(ref)
    if ref.startswith("builtin:"):
        name = ref.split(":", 1)[1]
        try:
            folder = {"instrument": "instruments", "codebook": "codebooks", "decision table": "decisions"}[what]
            text = resources.files("research.builtin").joinpath(folder, f"{name}.yaml").read_text("utf-8")
        except (FileNotFoundError, OSError):
            raise StudyError("study.yaml", f"{what} '{ref}'", f"no built-in {what} called {name!r}") from None
        return yaml.safe_load(text), ref
    path = Path(ref) if base is None or Path(ref).is_absolute() else Path(base) / ref
    if not path.is_file():
        raise StudyError(str(path), "", f"{what} file not found")
    try:
        return yaml.safe_load(path.read_text("utf-8-sig")), str(path)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StudyError(str(path), "", f"not valid YAML: {exc}".splitlines()[0]) from None
