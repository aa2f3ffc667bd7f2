"""A memo of analysis results shared by the notebooks of one run, on disk.

Several notebooks compute the same tables (report 07's appendix repeats reports 02 to 05, the
manager's summary repeats 03 and 04). ``research run`` names a folder of its own in the environment
variable :data:`ENV` of every kernel; a function decorated with :func:`memoised` then stores its
result there and a later call with the same key, in any kernel of that run, reads it back instead of
computing it. Without the variable (a notebook run by hand, nbval, the tests) or when it names no
folder, the functions run as they always did. The run removes the folder when it ends, so nothing is
kept from one run to the next.

The key is the function's qualified name, the toolkit's version, every other argument (normalised:
see :func:`canonical`) and a content hash of the study as passed (:func:`study_digest`), so a
notebook that filters or edits ``study.responses`` before it calls a function gets that study's
result, not another's. An argument that cannot be keyed reliably (an arbitrary object) makes the
call run unmemoised. Values are pickled and written atomically (a temporary file, then
``os.replace``), so two kernels computing the same key at once are safe; a hit returns a fresh
unpickled copy (callers never share an object), and an entry that cannot be read is computed again.

Only functions that leave numpy's and Python's global random states alone may be memoised: a hit
skips the call, so a function that drew from them would change every later draw (seaborn's
strip-plot jitter). ``tests/test_memo.py`` checks this for every memoised function.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import inspect
import os
import pickle
import re
import tempfile
from pathlib import Path, PurePath

from research import __version__

# numpy and pandas are imported where they are used: ``research run`` reads ENV from here before its
# kernels start, and importing pandas then would delay them.

#: The environment variable naming the run's memo folder.
ENV = "RESEARCH_MEMO_DIR"

#: The study's data frames (``Study.TABLES``), hashed by content.
STUDY_FRAMES = (
    "respondents",
    "responses",
    "scores",
    "interviews",
    "turns",
    "manual_codes",
    "open_answers",
)

#: The study's definitions, hashed by their canonical text.
STUDY_DEFINITIONS = ("config", "instruments", "codebook", "decision_table")


_PLAIN = (bool, int, float, str, bytes)
_DATES = (datetime.date, datetime.time, datetime.timedelta)
#: Unsigned integer dtypes and the longest text (in bytes) each can give the length of.
_LENGTH_WIDTHS = (("u1", 2**8 - 1), ("u2", 2**16 - 1), ("u4", 2**32 - 1), ("u8", 2**64 - 1))


class Unkeyable(TypeError):
    """An argument the memo cannot key reliably; the call then runs unmemoised."""


def canonical(value) -> str:
    """``value`` as text that two equal values, and only they, share (the memo's key material).

    Plain values are written with ``repr`` (so ``1``, ``1.0`` and ``'1'`` differ), containers
    element by element (a set sorted), dataclasses (instruments, codebooks, decision tables) field
    by field with their type, compiled patterns by pattern and flags, data frames and series by
    :func:`frame_digest`. Anything else raises :class:`Unkeyable`.

    Examples
    --------
    >>> canonical(0.05), canonical(2026), canonical("two"), canonical(None)
    ('0.05', '2026', "'two'", 'None')
    >>> canonical({"b": [1, 2.0], "a": (True,)})
    "{'b':[1,2.0],'a':(True)}"
    >>> canonical(object())
    Traceback (most recent call last):
    ...
    research.analysis.memo.Unkeyable: cannot key an argument of type object
    """
    if value is None or isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, _DATES):  # YAML dates
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        return open_ + ",".join(canonical(v) for v in value) + close
    if isinstance(value, set | frozenset):
        return "set(" + ",".join(sorted(canonical(v) for v in value)) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(
            f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__module__}.{type(value).__qualname__}({fields})"
    if isinstance(value, PurePath):
        return f"Path({str(value)!r})"
    if isinstance(value, re.Pattern):
        return f"re({value.pattern!r},{value.flags})"
    import numpy as np  # only here: the definitions hold thousands of plain values
    import pandas as pd

    if isinstance(value, np.generic):
        return f"{type(value).__name__}({value.item()!r})"
    if isinstance(value, pd.DataFrame | pd.Series):
        return f"frame({frame_digest(value)})"
    raise Unkeyable(f"cannot key an argument of type {type(value).__qualname__}")


def frame_digest(frame) -> str:
    """A SHA-256 of a data frame's (or series') content: its values and index, column names, dtypes
    (a categorical's categories and their order too) and index names.

    Each column is hashed by the bytes of its values where they alone give its content (numbers,
    dates and booleans held by numpy; text held by Arrow: :func:`_hash_values`), else by
    ``pandas.util.hash_array``. The bytes hashed never depend on how the frame was made (its blocks,
    Arrow chunks or slices) nor on the process, so equal frames share a digest in every kernel.
    ``hash_array`` hashes the cells of an object column by their text, so the kind of value each
    object column holds (``pandas.api.types.infer_dtype``) is hashed too. Raises
    :class:`Unkeyable` for cells it cannot hash (lists, dicts).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> frame_digest(a) == frame_digest(a.copy()), frame_digest(a) == frame_digest(a.astype(float))
    (True, False)
    >>> frame_digest(a) == frame_digest(a.iloc[::-1])
    False
    """
    import numpy as np
    import pandas as pd

    frame = frame.to_frame() if isinstance(frame, pd.Series) else frame
    digest = hashlib.sha256()
    dtypes = list(frame.dtypes)
    kinds = [
        pd.api.types.infer_dtype(frame.iloc[:, i]) if dtype == np.dtype(object) else ""
        for i, dtype in enumerate(dtypes)
    ]
    index = frame.index
    digest.update(
        repr(
            (
                [repr(c) for c in frame.columns.tolist()],  # a column 1 is not a column "1"
                repr(frame.columns.dtype),
                [repr(d) for d in dtypes],  # a categorical's categories and order too
                kinds,
                list(index.names),
                str(index.dtype),
                pd.api.types.infer_dtype(index) if index.dtype == np.dtype(object) else "",
                frame.shape,
                (index.start, index.step) if isinstance(index, pd.RangeIndex) else None,
            )
        ).encode()
    )
    try:
        for values in _column_arrays(frame):
            _hash_values(digest, values)
        if not isinstance(index, pd.RangeIndex):
            digest.update(pd.util.hash_pandas_object(index).to_numpy())
    except TypeError as exc:  # unhashable cells
        raise Unkeyable(f"cannot hash the frame's cells: {exc}") from exc
    return digest.hexdigest()


def _column_arrays(frame):
    """The frame's columns' arrays, in order, without a series made for each (pandas' own
    iterator, when it has it)."""
    iterate = getattr(frame, "_iter_column_arrays", None)
    if iterate is not None:
        return iterate()
    return (frame.iloc[:, i].array for i in range(frame.shape[1]))


def _hash_values(digest, values) -> None:
    """Add one column's values to ``digest``: their bytes for a numpy array of numbers, booleans or
    dates and for Arrow-held text (:func:`_hash_arrow_text`), else ``pandas.util.hash_array``.

    Its length and dtype are in the frame's header; each part written here is preceded by its
    size, so that the bytes of two columns never run together ambiguously.
    """
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.arrays.NumpyExtensionArray):
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufcmM":
        _add(digest, np.ascontiguousarray(values).view(np.uint8))
        return
    if isinstance(values, pd.arrays.ArrowExtensionArray) and _hash_arrow_text(digest, values):
        return
    _add(digest, pd.util.hash_array(values).view(np.uint8))


def _hash_arrow_text(digest, values) -> bool:
    """Add an Arrow string or binary column to ``digest`` (False, nothing added, for other Arrow
    types): which cells are missing, each cell's length and the cells' bytes run together.

    Missing cells are hashed as a mask and their slots as empty, since Arrow leaves what lies under
    a missing cell undefined; the lengths and bytes are read from the slice the array covers.
    """
    import numpy as np
    import pyarrow as pa

    chunks = values.__arrow_array__()
    array = chunks.chunk(0) if chunks.num_chunks == 1 else chunks.combine_chunks()
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        width = np.int32
    elif pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        width = np.int64
    else:
        return False
    if array.null_count:
        _add(digest, array.is_null().to_numpy(zero_copy_only=False).view(np.uint8))
        array = array.fill_null(b"" if "binary" in str(kind) else "")
    else:
        _add(digest, b"")  # no mask
    _, offsets, data = array.buffers()
    if not len(array):  # no cells: no lengths, no bytes (and a buffer may be absent)
        _add(digest, b"")
        _add(digest, b"")
        return True
    offsets = np.frombuffer(offsets, dtype=width)[array.offset : array.offset + len(array) + 1]
    lengths = np.diff(offsets)
    # the narrowest width that holds every length: fewer bytes to hash (the frame's header gives
    # the number of cells, so the width is told by the part's size)
    longest = int(lengths.max())
    width = next(code for code, most in _LENGTH_WIDTHS if longest <= most)
    _add(digest, lengths.astype(width, copy=False).view(np.uint8))
    first, last = int(offsets[0]), int(offsets[-1])
    _add(digest, memoryview(data)[first:last] if data is not None else b"")
    return True


def _add(digest, data) -> None:
    """Add ``data`` (bytes or a buffer) to ``digest``, preceded by its size in bytes."""
    view = memoryview(data)
    digest.update(view.nbytes.to_bytes(8, "little"))
    digest.update(view)


def study_digest(study) -> str:
    """A SHA-256 of a study as the analyses see it: every data frame (:func:`frame_digest`) and
    the definitions they read (``study.yaml``, instruments, codebook, decision table;
    :func:`canonical`).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> s = SimpleNamespace(respondents=pd.DataFrame({"role": ["sales"]}), config={"name": "x"})
    >>> t = SimpleNamespace(respondents=pd.DataFrame({"role": ["marketing"]}), config={"name": "x"})
    >>> study_digest(s) == study_digest(s), study_digest(s) == study_digest(t)
    (True, False)
    """
    digest = hashlib.sha256()
    for name in STUDY_FRAMES:
        frame = getattr(study, name, None)
        digest.update(f"{name}={frame_digest(frame) if frame is not None else None};".encode())
    for name in STUDY_DEFINITIONS:
        digest.update(f"{name}={canonical(getattr(study, name, None))};".encode())
    return digest.hexdigest()


def memo_key(func, study, args: tuple, kwargs: dict) -> str:
    """The memo key of ``func(study, *args, **kwargs)``: defaults filled in, so ``f(s)`` and
    ``f(s, seed=2026)`` share one when 2026 is the default. Raises :class:`Unkeyable`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def table(study, seed=2026): ...
    >>> s = SimpleNamespace()
    >>> memo_key(table, s, (), {}) == memo_key(table, s, (), {"seed": 2026})
    True
    >>> memo_key(table, s, (), {}) == memo_key(table, s, (7,), {})
    False
    """
    bound = inspect.signature(func).bind(study, *args, **kwargs)
    bound.apply_defaults()
    arguments = list(bound.arguments.items())[1:]  # the study is keyed by its content
    text = "|".join(
        [
            f"{func.__module__}.{func.__qualname__}",
            __version__,
            canonical(arguments),
            study_digest(study),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


_MISSING = object()


def _read(path: Path):
    """The value kept at ``path``, or ``_MISSING`` when there is none or it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # absent, truncated, or written by another version: compute it again
        return _MISSING


def _write(path: Path, value) -> None:
    """Keep ``value`` at ``path`` atomically; a value that cannot be pickled, or a folder that
    cannot be written to, keeps nothing (the caller has its value either way)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:
        Path(tmp).unlink(missing_ok=True)


def memo_folder() -> Path | None:
    """The run's memo folder (:data:`ENV`), or None when the memo is off (unset, or no folder)."""
    folder = os.environ.get(ENV)
    return Path(folder) if folder and os.path.isdir(folder) else None


def memoised(func):
    """Decorate an analysis function whose first argument is the study: while :data:`ENV` names
    a folder, its results are kept there and read back for the same key (:func:`memo_key`).

    The function must be deterministic in its arguments and must not draw from numpy's or Python's
    global random state (a hit skips the call).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> calls = []
    >>> @memoised
    ... def count(study, column="x"):
    ...     calls.append(column)
    ...     return study.respondents[column].sum()
    >>> s = SimpleNamespace(respondents=pd.DataFrame({"x": [1, 2]}))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     os.environ[ENV] = folder
    ...     try:
    ...         values = [count(s), count(s, "x")]
    ...     finally:
    ...         del os.environ[ENV]
    >>> [int(v) for v in values], calls
    ([3, 3], ['x'])
    """

    @functools.wraps(func)
    def wrapper(study, *args, **kwargs):
        folder = memo_folder()
        if folder is None:
            return func(study, *args, **kwargs)
        try:
            path = folder / f"{func.__name__}-{memo_key(func, study, args, kwargs)}.pickle"
        except TypeError:  # Unkeyable, or arguments the function itself will refuse
            return func(study, *args, **kwargs)
        value = _read(path)
        if value is _MISSING:
            value = func(study, *args, **kwargs)
            _write(path, value)
        return value

    wrapper.memoised = True
    return wrapper
