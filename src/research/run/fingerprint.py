"""What each notebook reads, its fingerprint, and the cache of the pages made from it (re-runs redo
only what changed).

A notebook's page and the files it wrote (tables, figures, ``tables.docx``, ``coded_study.qdpx``)
are kept in ``<processed>/pages/<notebook>/`` with the **fingerprint** of everything it read.
``research run`` reuses them when the fingerprint is the same and executes the notebook again when
it is not (``--force``: always).

What the fingerprint covers (:func:`notebook_fingerprint`)
    * the processed tables the notebook reads (:data:`READS`), by the SHA-256 of their Parquet
      files;
    * the spec files it reads (instruments, codebook, decision table), by content, built-ins
      included;
    * the ``study.yaml`` keys it reads, by value, and the study's slug and folder;
    * the notebook file, by content; the parameters (``alpha``, ``seed``);
    * the toolkit: its version, a digest of every file of the installed package (a checkout's code
      changes without a version change) and the versions of Python and of the libraries that compute
      or draw.

Why processed tables and not raw files. Every notebook reads the study in one way only:
``open_study``, which gives the :class:`~research.inputs.study.Study` that ``Study.load`` builds
from the processed Parquet files and the spec files; the layer rule says no notebook reads a file
the report layer wrote, and none opens a raw file. So the Parquet frames plus the spec files *are* a
notebook's inputs, whereas a raw file feeds several frames (the survey gives ``responses``,
``scores``, ``open_answers`` and data-quality rows) and a declaration by raw file must
over-approximate: with raw files, report 01 (the data-quality log) would depend on every file,
including the codebook (it filters the manual codes); with tables it runs again only when the
data-quality table or another table it shows really changed. The Parquet files are written byte for
byte the same from the same data, so equal hashes mean equal frames; a spurious difference could
only cause a needless re-run, never a wrong reuse. :data:`READS` was found by running every notebook
on a ``Study`` that records every field and every ``study.yaml`` key touched;
``tests/test_rerun.py`` does that again on every test run and fails when a notebook reads something
not declared here. A notebook not in the table reads everything.

The raw-file guarantee is unchanged: the raw folder is checksummed before and after every run, the
index page lists this run's checksums, and a reused page is one made from identical inputs; its
provenance footer (this run's checksums and time) is written anew (:data:`FOOTER_PLACEHOLDER`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from research.files import swap_into_place

#: Processed tables (``<name>.parquet``) a notebook may read; ``data_quality`` is ``Study.quality``.
TABLES = (
    "respondents",
    "responses",
    "scores",
    "interviews",
    "turns",
    "manual_codes",
    "open_answers",
    "data_quality",
)
#: Spec files a notebook may read (``Study.instruments``, ``.codebook``, ``.decision_table``).
SPECS = ("instruments", "codebook", "decision_table")
#: The libraries whose versions can change a page's numbers or pixels.
LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pingouin",
    "krippendorff",
    "vaderSentiment",
    "matplotlib",
    "seaborn",
    "pyarrow",
    "nbconvert",
    "nbformat",
    "mistune",
    "python-docx",
)
#: The footer exported with a page in the cache; replaced by this run's provenance footer when the
#: page is used.
FOOTER_PLACEHOLDER = "<footer class='provenance'>research-provenance-footer</footer>"


@dataclass(frozen=True)
class Reads:
    """What one notebook reads: processed tables, spec files and ``study.yaml`` keys (None: every
    key)."""

    tables: frozenset[str]
    specs: frozenset[str]
    config: frozenset[str] | None


def _reads(tables: str, specs: str = "", config: str | None = "") -> Reads:
    return Reads(
        frozenset(tables.split()),
        frozenset(specs.split()),
        None if config is None else frozenset(config.split()),
    )


EVERYTHING = _reads(" ".join(TABLES), " ".join(SPECS), None)

#: Each notebook's inputs (fields of ``Study``; ``name`` is the study's name shown in the text).
#: Every notebook also depends on the slug, the study folder, its own file, the parameters and the
#: toolkit.
READS: dict[str, Reads] = {
    "01-overview": _reads("respondents scores interviews data_quality", "instruments", "name"),
    "02-measurement": _reads("respondents responses", "instruments"),
    "03-comparisons": _reads("respondents responses scores", "instruments", "outcomes"),
    "04-interviews": _reads(
        "respondents interviews turns manual_codes open_answers", "codebook", "name"
    ),
    "05-companies": _reads(
        "respondents scores interviews turns", "instruments codebook decision_table"
    ),
    "06-summary": _reads(
        "respondents responses scores interviews turns", "instruments codebook decision_table"
    ),
    "07-methods": EVERYTHING,  # the methods text describes every part of the study
}


def reads_of(notebook: Path) -> Reads:
    """The inputs of ``notebook`` (:data:`READS` by its stem; everything for a notebook not
    listed)."""
    return READS.get(Path(notebook).stem, EVERYTHING)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# ---- the toolkit ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    """SHA-256 over every file of the installed package (code, built-in YAML, templates), not its
    links to the demo study and the notebooks (the raw checksums and each notebook's own digest
    cover those)."""
    import research

    package = Path(research.__file__).resolve().parent
    digest = hashlib.sha256()
    stack = [package]
    while stack:
        folder = stack.pop()
        for path in sorted(folder.iterdir()):
            if path.name in ("__pycache__", "demo_study", "notebooks") or path.is_symlink():
                continue
            if path.is_dir():
                stack.append(path)
            elif path.suffix not in (".pyc", ".pyo"):
                digest.update(path.relative_to(package).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _library_versions() -> dict:
    versions = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def toolkit_fingerprint() -> dict:
    """The toolkit's version, a digest of its files and the versions of Python and the libraries."""
    import research

    return {
        "version": research.__version__,
        "files": _package_digest(),
        "libraries": _library_versions(),
    }


# ---- the inputs ----------------------------------------------------------------------------------


def spec_digest(ref, root: Path, what: str) -> str | None:
    """SHA-256 of a spec file named by ``ref`` (``builtin:NAME`` or a path relative to ``root``);
    None when ``ref`` is empty; ``"missing"`` when there is no such file (reading the study says
    so)."""
    if not ref:
        return None
    ref = str(ref)
    if ref.startswith("builtin:"):
        from research.spec.yamlfile import _BUILTIN_FOLDERS

        path = resources.files("research.builtin").joinpath(
            _BUILTIN_FOLDERS[what], f"{ref.split(':', 1)[1]}.yaml"
        )
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "missing"
    path = Path(ref) if Path(ref).is_absolute() else Path(root) / ref
    return sha256_file(path) if path.is_file() else "missing"


def spec_digests(config: dict, root: Path) -> dict:
    """Each spec of the study by content: ``{"instruments": [...], "codebook": ...,
    "decision_table": ...}``."""
    return {
        "instruments": [
            [ref, spec_digest(ref, root, "instrument")] for ref in config.get("instruments") or []
        ],
        "codebook": spec_digest(config.get("codebook"), root, "codebook"),
        "decision_table": spec_digest(config.get("decision_table"), root, "decision table"),
    }


def table_digests(processed: Path) -> dict:
    """Each processed table by the SHA-256 of its Parquet file."""
    return {t: sha256_file(Path(processed) / f"{t}.parquet") for t in TABLES}


@dataclass
class Inputs:
    """Everything a notebook may read, as digests, gathered once per run."""

    tables: dict
    specs: dict
    config: dict
    slug: str
    root: str
    toolkit: dict


def gather_inputs(processed: Path, root: Path, config: dict, slug: str) -> Inputs:
    return Inputs(
        table_digests(processed),
        spec_digests(config, root),
        json.loads(json.dumps(config, default=str)),
        slug,
        str(Path(root).resolve()),
        toolkit_fingerprint(),
    )


def notebook_parts(notebook: Path, inputs: Inputs, params: dict) -> dict:
    """The parts of ``notebook``'s fingerprint, by name (kept beside the page, to say what
    changed)."""
    reads = reads_of(notebook)
    config = (
        inputs.config
        if reads.config is None
        else {k: inputs.config.get(k) for k in sorted(reads.config)}
    )
    parts = {
        "notebook": sha256_file(notebook),
        "toolkit": inputs.toolkit,
        "slug": inputs.slug,
        "study": inputs.root,
        "parameters": {k: params[k] for k in ("alpha", "seed")},
        "config": config,
    }
    parts.update({f"table:{t}": inputs.tables[t] for t in sorted(reads.tables)})
    parts.update({f"spec:{s}": inputs.specs[s] for s in sorted(reads.specs)})
    return parts


def notebook_fingerprint(
    notebook: Path, inputs: Inputs, params: dict, earlier: list[str] = ()
) -> tuple[str, dict]:
    """``(fingerprint, parts)``; ``earlier``: the fingerprints of the notebooks of earlier stages (a
    later stage may read their outputs)."""
    parts = notebook_parts(notebook, inputs, params)
    if earlier:
        parts["earlier stages"] = sorted(earlier)
    return _sha256_json(parts), parts


def changed_parts(old: dict, new: dict) -> list[str]:
    """The names of the parts that differ between two fingerprints' parts."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


# ---- the cache -----------------------------------------------------------------------------------


class PageCache:
    """``<processed>/pages/<stem>/``: ``entry.json`` (fingerprint, parts, page title and question,
    seconds), ``page.html`` (exported with :data:`FOOTER_PLACEHOLDER`) and ``files/`` (what the
    notebook wrote)."""

    def __init__(self, processed: Path):
        self.folder = Path(processed) / "pages"

    def entry(self, stem: str) -> dict | None:
        path = self.folder / stem / "entry.json"
        try:
            entry = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return (
            entry
            if (self.folder / stem / "page.html").is_file()
            and (self.folder / stem / "files").is_dir()
            else None
        )

    def lookup(self, stem: str, fingerprint: str) -> dict | None:
        """The cached entry when its fingerprint is ``fingerprint``, else None."""
        entry = self.entry(stem)
        return entry if entry is not None and entry.get("fingerprint") == fingerprint else None

    def staging(self, stem: str) -> Path:
        """A new folder for ``stem``'s next entry; the notebook writes into its ``files/``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=self.folder))
        (tmp / "files").mkdir()
        return tmp

    def commit(self, stem: str, staging: Path, page_html: str, entry: dict) -> None:
        """Make ``staging`` (its ``files/`` written by the notebook) the entry of ``stem``."""
        (staging / "page.html").write_text(page_html, "utf-8")
        (staging / "entry.json").write_text(json.dumps(entry, indent=1, default=str), "utf-8")
        swap_into_place(staging, self.folder / stem)

    def page(self, stem: str) -> str:
        return (self.folder / stem / "page.html").read_text("utf-8")

    def files(self, stem: str) -> Path:
        return self.folder / stem / "files"

    def clean(self, keep: set[str]) -> None:
        """Remove staging folders left by an interrupted run and entries of notebooks no longer
        run."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.is_dir() and (path.name.startswith(".") or path.name not in keep):
                shutil.rmtree(path, ignore_errors=True)

    # -- the state of the processed data, to skip reading the study when nothing changed
    # -----------------
    def state(self) -> dict | None:
        try:
            return json.loads((self.folder / "inputs.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def write_state(self, state: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "inputs.json").write_text(json.dumps(state, indent=1, default=str), "utf-8")


def copy_files(source: Path, target: Path) -> list[str]:
    """Copy every file under ``source`` to the same place under ``target``; return their relative
    paths."""
    written = []
    for path in sorted(p for p in Path(source).rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
        written.append(rel.as_posix())
    return written
