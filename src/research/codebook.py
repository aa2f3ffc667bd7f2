"""Interview codebooks: themes with patterns, validated and compiled once (SPEC §3, themes).

A pattern is a phrase matched case-insensitively on word boundaries, runs of white space matching any
white space; a pattern starting with ``re:`` is a case-insensitive regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .instruments import read_yaml_ref
from .quality import StudyError


def compile_pattern(pattern: str) -> str:
    """Turn one codebook pattern into regular-expression source.

    Examples
    --------
    >>> bool(re.search(compile_pattern("out of  touch"), "They are OUT OF\\ntouch.", re.I))
    True
    >>> bool(re.search(compile_pattern("price"), "pricey", re.I))
    False
    """
    if pattern.startswith("re:"):
        return f"(?:{pattern[3:]})"
    words = pattern.split()
    body = r"\s+".join(re.escape(w) for w in words)
    return rf"(?<!\w){body}(?!\w)"


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str
    patterns: tuple[str, ...]
    regex: re.Pattern

    def matches(self, text: str) -> bool:
        return bool(self.regex.search(text))


@dataclass(frozen=True)
class Codebook:
    id: str
    themes: tuple[Theme, ...]
    source: str = ""

    @property
    def theme_ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.themes}


def codebook_from_dict(spec, source: str = "<codebook>") -> Codebook:
    """Validate a codebook mapping (``id``, ``themes``: each ``id``, ``label``, ``description``, ``patterns``).

    Examples
    --------
    >>> cb = codebook_from_dict({"id": "x", "themes": [{"id": "pay", "label": "Pay", "patterns": ["commission"]}]})
    >>> cb.themes[0].matches("Their COMMISSION plan")
    True
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("themes"), list) or not spec["themes"]:
        raise StudyError(source, "key 'themes'", "a codebook needs a non-empty list of themes")
    themes, seen = [], set()
    for n, th in enumerate(spec["themes"]):
        if not isinstance(th, dict) or not th.get("id"):
            raise StudyError(source, f"key 'themes[{n}]'", "each theme needs an 'id'")
        tid = str(th["id"])
        if tid in seen:
            raise StudyError(source, f"key 'themes[{n}].id'", f"duplicate theme id {tid!r}")
        seen.add(tid)
        patterns = th.get("patterns")
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
            raise StudyError(source, f"key 'themes[{n}].patterns'", f"theme {tid!r} needs a non-empty list of text patterns")
        sources = []
        for k, pat in enumerate(patterns):
            src = compile_pattern(pat.strip())
            try:
                re.compile(src)
            except re.error as exc:
                raise StudyError(source, f"key 'themes[{n}].patterns[{k}]'", f"invalid regular expression {pat!r}: {exc}") from None
            sources.append(src)
        regex = re.compile("|".join(sources), re.IGNORECASE)
        themes.append(Theme(tid, str(th.get("label", tid)), str(th.get("description", "")), tuple(patterns), regex))
    return Codebook(str(spec.get("id", "codebook")), tuple(themes), source)


def load_codebook(ref: str, base: Path | None = None) -> Codebook:
    """Load ``builtin:default`` or a codebook YAML path and validate it."""
    return codebook_from_dict(*read_yaml_ref(ref, base, "codebook"))
