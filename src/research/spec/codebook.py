"""Interview codebooks: themes with patterns, validated and compiled once (SPEC §3, themes).

A pattern is a phrase matched case-insensitively on word boundaries, runs of white space matching
any white space; a pattern starting with ``re:`` is a case-insensitive regular expression. A theme's
keys are ``id``, ``label``, ``description`` and ``patterns``; another key close to one of these is
taken for a misspelling and is fatal, any other is an annotation the toolkit does not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from research.errors import StudyError
from research.spec.yamlfile import check_entry_keys, entry_where, read_yaml_ref


def compile_pattern(pattern: str) -> str:
    """Turn one codebook pattern into regular-expression source, to be searched in lower-cased text.

    A phrase is lower-cased, its words joined by ``\\s+`` and bounded by word boundaries (``\\b``
    where the phrase starts or ends with a word character, an explicit look-around otherwise): the
    same matches as ``(?<!\\w)phrase(?!\\w)`` with IGNORECASE, about six times faster on long texts.

    Examples
    --------
    >>> bool(re.search(compile_pattern("Out of  touch"), "they are out of\\ntouch."))
    True
    >>> bool(re.search(compile_pattern("price"), "pricey"))
    False
    """
    if pattern.startswith("re:"):
        return f"(?:{pattern[3:]})"
    words = pattern.lower().split()
    body = r"\s+".join(re.escape(w) for w in words)
    start = r"\b" if re.match(r"\w", words[0][0]) else r"(?<!\w)"
    end = r"\b" if re.match(r"\w", words[-1][-1]) else r"(?!\w)"
    return start + body + end


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str
    patterns: tuple[str, ...]
    regex: re.Pattern  # searched in lower-cased text

    def matches(self, text: str) -> bool:
        """Whether any of the theme's patterns occurs in ``text`` (case-insensitively)."""
        return self.regex.search(text.lower()) is not None


@dataclass(frozen=True)
class Codebook:
    id: str
    themes: tuple[Theme, ...]
    source: str = ""

    @property
    def theme_ids(self) -> list[str]:
        """The theme ids, in the codebook's order."""
        return [t.id for t in self.themes]

    def labels(self) -> dict[str, str]:
        """Each theme's id mapped to its label."""
        return {t.id: t.label for t in self.themes}


#: The keys of a codebook theme; other keys are annotations, unless close to one of these (a
#: misspelling such as ``pattern``, which is fatal: see :mod:`research.spec.yamlfile`).
THEME_KEYS = ("id", "label", "description", "patterns")


def _compile_theme(th: dict, n: int, tid: str, source: str) -> Theme:
    """One theme's patterns checked and compiled into one regular expression."""
    key = f"themes[{n}].patterns"
    patterns = th.get("patterns")
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p.strip() for p in patterns)
    ):
        raise StudyError(
            source,
            entry_where(key, "theme", tid),
            f"theme {tid!r} needs a non-empty list of text patterns",
        )
    sources = []
    for k, pat in enumerate(patterns):
        src = compile_pattern(pat.strip())
        try:
            re.compile(src, re.IGNORECASE)
        except re.error as exc:
            raise StudyError(
                source,
                entry_where(f"{key}[{k}]", "theme", tid),
                f"invalid regular expression {pat!r}: {exc}",
            ) from None
        sources.append(src)
    # Phrases are matched in lower-cased text; a theme with a user's regular expression also gets
    # IGNORECASE, which that expression's own character classes may need.
    flags = re.IGNORECASE if any(p.strip().startswith("re:") for p in patterns) else 0
    regex = re.compile("|".join(sources), flags)
    return Theme(
        tid, str(th.get("label", tid)), str(th.get("description", "")), tuple(patterns), regex
    )


def codebook_from_dict(spec, source: str = "<codebook>") -> Codebook:
    """Validate a codebook mapping and build a :class:`Codebook`.

    The mapping holds ``id`` and ``themes``: each ``id``, ``label``, ``description``, ``patterns``.

    Raises
    ------
    StudyError
        Naming the file, the key and the theme by its id, e.g. ``key 'themes[2].patterns' (theme
        'pay')``; a theme key close to a known one (``pattern``) gets a "did you mean".

    Examples
    --------
    >>> cb = codebook_from_dict(
    ...     {"id": "x", "themes": [{"id": "pay", "label": "Pay", "patterns": ["commission"]}]}
    ... )
    >>> cb.themes[0].matches("Their COMMISSION plan")
    True
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("themes"), list) or not spec["themes"]:
        raise StudyError(source, "key 'themes'", "a codebook needs a non-empty list of themes")
    themes, seen = [], set()
    for n, th in enumerate(spec["themes"]):
        if isinstance(th, dict):
            check_entry_keys(source, f"themes[{n}]", "theme", th, THEME_KEYS)
        if not isinstance(th, dict) or not th.get("id"):
            raise StudyError(source, f"key 'themes[{n}]'", "each theme needs an 'id'")
        tid = str(th["id"])
        if tid in seen:
            raise StudyError(
                source, entry_where(f"themes[{n}].id", "theme", tid), f"duplicate theme id {tid!r}"
            )
        seen.add(tid)
        themes.append(_compile_theme(th, n, tid, source))
    return Codebook(str(spec.get("id", "codebook")), tuple(themes), source)


def load_codebook(ref: str, base: Path | None = None) -> Codebook:
    """Load ``builtin:default`` or a codebook YAML path and validate it.

    Parameters
    ----------
    ref : str
        ``builtin:NAME`` or a path to a codebook YAML file.
    base : Path, optional
        The folder a relative path starts from (the study folder).

    Returns
    -------
    Codebook

    Raises
    ------
    StudyError
        A missing file, a YAML syntax error (line and column) or an invalid codebook (the key and
        theme).

    Examples
    --------
    >>> load_codebook("builtin:default").theme_ids[:2]
    ['short_term_focus', 'single_customer_fixation']
    """
    return codebook_from_dict(*read_yaml_ref(ref, base, "codebook"))
