"""Reading the toolkit's YAML files (study.yaml, instruments, codebooks, decision tables) safely.

Every file is read with the safe loader; a syntax error is fatal and names its line and column. The
entries of the YAML models (an instrument's items and subscales, a codebook's themes, a decision
table's rules) are checked key by key with :func:`check_entry_keys`, and a message about an entry
names the entry by its id beside the key path (:func:`entry_where`), e.g.
``key 'items[3].subscale' (item 'SMR04')``.

Unknown keys of an entry follow one rule. A key that is not part of the model but is *close* to one
of its keys (the same test as study.yaml's "did you mean", :func:`did_you_mean`) is taken for a
misspelling and is fatal: ``revrese`` gets "did you mean 'reverse'?". Any other key is the
researcher's own: an item keeps it in ``Item.extra`` (``target`` and ``dimension`` are the extras
the built-in instruments use), a subscale, theme or rule carries it as an annotation that the
toolkit does not read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from research.errors import StudyError

#: libyaml's safe loader when PyYAML was built with it (its wheels are), about ten times faster than
#: the pure-Python one; both are the YAML 1.1 safe schema and report errors with line and column.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """``yaml.safe_load`` with libyaml's loader when there is one.

    Examples
    --------
    >>> safe_load("id: smr\\nitems: [a, b]")
    {'id': 'smr', 'items': ['a', 'b']}
    """
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


_BUILTIN_FOLDERS = {
    "instrument": "instruments",
    "codebook": "codebooks",
    "decision table": "decisions",
}


def did_you_mean(word: str, choices, cutoff: float = 0.75) -> str:
    """`` (did you mean 'roles'?)`` when ``word`` is close to one of ``choices``, else ``""``.

    Examples
    --------
    >>> did_you_mean("intruments", ["instruments", "roles"])
    " (did you mean 'instruments'?)"
    >>> did_you_mean("colour", ["instruments"])
    ''
    """
    close = difflib.get_close_matches(
        str(word).strip().lower(), [str(c).lower() for c in choices], n=1, cutoff=cutoff
    )
    if not close:
        return ""
    original = next(c for c in choices if str(c).lower() == close[0])
    return f" (did you mean {original!r}?)"


def yaml_error_message(exc: yaml.YAMLError, text: str | None = None) -> tuple[str, str]:
    """(where, what) of a YAML error: ``line 3, column 5`` and the parser's problem.

    A problem at a tab (YAML forbids tabs in indentation) says so; ``text`` is the document, which
    libyaml's errors do not carry.

    Examples
    --------
    >>> try:
    ...     safe_load("name: x\\nroles: [a, b\\n")
    ... except yaml.YAMLError as exc:
    ...     yaml_error_message(exc)[0]
    'line 3, column 1'
    """
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    buffer = getattr(mark, "buffer", None) or text  # libyaml's marks carry no copy of the text
    if _at(mark, buffer) == "\t" and "tab" not in problem:
        problem += " (a tab: indent with spaces)"
    context = getattr(exc, "context", None)
    return where, f"not valid YAML: {problem}" + (f" ({context})" if context else "")


def _at(mark, text) -> str:
    """The character ``mark`` points at in ``text`` ("" when either is missing)."""
    if mark is None or not text or not 0 <= mark.index < len(text):
        return ""
    return text[mark.index]


def load_yaml_file(path: Path, label: str | None = None):
    """Read a YAML file with the safe loader; a syntax error is fatal and names its line and column.

    Parameters
    ----------
    path : Path
        The file, read as UTF-8 (a byte-order mark is allowed).
    label : str, optional
        How messages name the file (defaults to ``str(path)``).

    Raises
    ------
    StudyError
        For a file that is not UTF-8 text or not valid YAML (with its line and column).

    Examples
    --------
    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "x.yaml"
    >>> _ = bad.write_text("id: x\\nitems: [a, b\\n")
    >>> load_yaml_file(bad, "x.yaml")
    Traceback (most recent call last):
    ...
    research.errors.StudyError: x.yaml: line 3, column 1: not valid YAML: ...
    """
    label = label or str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StudyError(label, "", "not UTF-8 text") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        where, what = yaml_error_message(exc, text)
        raise StudyError(label, where, what) from None


def read_yaml_ref(ref: str, base: Path | None, what: str) -> tuple[dict, str]:
    """Read a ``builtin:NAME`` or a YAML file with the safe loader; return (data, source name).

    Parameters
    ----------
    ref : str
        ``builtin:NAME`` or a path, relative to ``base`` unless absolute.
    base : Path or None
        The study folder that relative paths start from.
    what : str
        ``"instrument"``, ``"codebook"`` or ``"decision table"``: where built-ins live and how
        messages name the file.

    Raises
    ------
    StudyError
        For an unknown built-in, a missing file, or a file that is not valid YAML (naming its line
        and column, see :func:`load_yaml_file`).
    """
    ref = str(ref)
    if ref.startswith("builtin:"):
        name = ref.split(":", 1)[1]
        try:
            folder = _BUILTIN_FOLDERS[what]
            text = (
                resources.files("research.builtin")
                .joinpath(folder, f"{name}.yaml")
                .read_text("utf-8")
            )
        except (FileNotFoundError, OSError):
            raise StudyError(
                "study.yaml", f"{what} '{ref}'", f"no built-in {what} called {name!r}"
            ) from None
        return safe_load(text), ref
    path = Path(ref) if base is None or Path(ref).is_absolute() else Path(base) / ref
    if not path.is_file():
        raise StudyError(str(path), "", f"{what} file not found")
    return load_yaml_file(path, str(path)), str(path)


def entry_where(key: str, kind: str = "", entry_id=None) -> str:
    """The place of a problem in an entry: its key path and, when known, the entry's id.

    Examples
    --------
    >>> entry_where("items[3].subscale", "item", "SMR04")
    "key 'items[3].subscale' (item 'SMR04')"
    >>> entry_where("items[0]")
    "key 'items[0]'"
    """
    where = f"key '{key}'"
    if kind and entry_id is not None and str(entry_id).strip():
        where += f" ({kind} {str(entry_id)!r})"
    return where


def check_entry_keys(
    source: str,
    key: str,
    kind: str,
    entry: dict,
    known: Iterable[str],
    extras: Iterable[str] = (),
) -> list[str]:
    """Refuse a misspelt key of one entry; return the entry's other unknown keys.

    Parameters
    ----------
    source : str
        The file, as messages name it.
    key : str
        The entry's key path, e.g. ``items[3]``.
    kind : str
        What the entry is (``item``, ``subscale``, ``theme``, ``rule``); messages name it with its
        id.
    entry : dict
        The entry as read from YAML.
    known : iterable of str
        The keys of the model.
    extras : iterable of str
        Further keys the toolkit knows by name (an item's ``target`` and ``dimension``); they are
        accepted, and also offered in "did you mean".

    Returns
    -------
    list of str
        The keys that are neither known nor extras nor close to one of them (the researcher's own).

    Raises
    ------
    StudyError
        For a key close to a known key or an extra (see the module's rule), naming the key, the
        entry's id and the key it probably means.

    Examples
    --------
    >>> known = ["id", "reverse"]
    >>> try:
    ...     check_entry_keys("x.yaml", "items[0]", "item", {"id": "A1", "revrese": True}, known)
    ... except StudyError as exc:
    ...     print(exc.file, exc.where, exc.message, sep="\\n")
    x.yaml
    key 'items[0].revrese' (item 'A1')
    unknown key (did you mean 'reverse'?)
    >>> check_entry_keys("x.yaml", "items[0]", "item", {"id": "A1", "note": "new"}, known)
    ['note']
    """
    known, extras = list(known), list(extras)
    vocabulary = known + extras
    own = []
    for name in entry:
        if name in vocabulary:
            continue
        hint = did_you_mean(name, vocabulary)
        if hint:
            raise StudyError(
                source, entry_where(f"{key}.{name}", kind, entry.get("id")), "unknown key" + hint
            )
        own.append(name)
    return own
