"""Run a study end to end: read it, execute the ordered notebooks in a pool of warm kernels, export
HTML.

The report is written to a temporary folder beside the target and swapped into place only when every
notebook ran and every page was exported, so a failure leaves the previous report as it was.
Notebooks run in a pool of kernels that imported the stack once (``research.run.kernels``), longest
first (the times of the last run, ``notebook_seconds.json``); each page is exported to HTML as soon
as its notebook has run. A notebook marked ``"research": {"stage": 2}`` in its metadata runs after
every notebook of stage 1 (it may read their tables); when all are stage 1 they all run at once.

The kernels of one run share a memo of analysis results (:mod:`research.analysis.memo`), a folder in
the run's working folder that is removed when the run ends, so a first run computes everything.
Longest first also suits the memo: 03 and 04, which compute most of the shared tables early on,
start first, and the pages that mostly reuse them (05 to 07) run later, on the demo with every
repeated table read back (none computed twice at once).

Re-runs redo only what changed: each notebook writes into a staging folder of its own under
``<processed>/pages/`` and its page and files are kept there with the fingerprint of what it read
(:mod:`research.run.fingerprint`); a notebook whose fingerprint is unchanged is reused (``[2/7]
02-measurement reused (inputs unchanged)``), ``force`` executes every one. No kernel is started when
nothing needs executing, and the study is not read again when the processed data was written from
the same raw files, ``study.yaml``, spec files and toolkit. The raw folder is checksummed before and
after every run either way, and every page gets this run's provenance footer.

Paths (SPEC §3): the study is the folder or its ``study.yaml``; every path handed to a notebook is
absolute; the process's working directory is never changed; nothing is written inside the study
folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from research import __version__
from research.files import checksum_folder, swap_into_place
from research.inputs.config import read_config
from research.paths import (
    check_outside,
    default_processed,
    default_reports,
    notebooks_folder,
    output_base,
    slugify,
    study_folder,
)
from research.run import fingerprint as fp
from research.run.kernels import KernelPool, NotebookFailed, parameterize

if TYPE_CHECKING:
    import pandas as pd

# pandas, nbformat and the report layer are imported where they are used, after the kernels have
# started: the run's own imports then overlap the kernels' start instead of delaying it.


def list_notebooks(folder: Path | None = None) -> list[Path]:
    """The ordered notebooks (``NN-name.ipynb``)."""
    folder = folder or notebooks_folder()
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


def _stage(path: Path) -> int:
    meta = json.loads(path.read_text("utf-8")).get("metadata", {})
    return int(meta.get("research", {}).get("stage", 1))


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Report"


def _question(nb) -> str:
    """The notebook's "**The question:** ..." paragraph as plain text, for the index page."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for paragraph in cell.source.split("\n\n"):
            if paragraph.startswith("**The question:**"):
                text = " ".join(paragraph[len("**The question:**") :].split())
                return text.replace("**", "").replace("`", "")
    return ""


def _provenance(study_name: str, checksums: dict, when: str) -> str:
    from research.report import pages as pages_html

    return pages_html.provenance_footer(study_name, checksums, when)


def _html_exporter():
    """nbconvert's lab template with the code hidden, cells tagged ``remove_cell`` removed and
    nothing fetched from another host (``research.report.pages``)."""
    from research.report import pages as pages_html

    return pages_html.html_exporter()


def _page_html(exporter, nb, footer: str) -> tuple[str, dict]:
    """One executed notebook as an HTML page: stderr streams dropped, the provenance footer added.

    Random ids (pandas' Styler tables) are numbered instead, so that a page is the same from run to
    run. Returns the page and its title and question (for the index).
    """
    styler_ids: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
        for output in cell.get("outputs", []):  # pandas' Styler names its tables with random ids
            html = output.get("data", {}).get("text/html")
            if isinstance(html, str) and 'id="T_' in html:
                output["data"]["text/html"] = _stable_styler_ids(html, styler_ids)
    import nbformat

    from research.report import pages as pages_html

    nb.cells.append(nbformat.v4.new_markdown_cell(footer, id="provenance"))
    body, _ = exporter.from_notebook_node(nb, resources=pages_html.export_resources(_title(nb)))
    return body, {"title": _title(nb), "question": _question(nb)}


def _export_page(exporter, nb, stem: str, out_dir: Path, footer: str) -> dict:
    """Export one executed notebook to ``out_dir/<stem>.html`` (see :func:`_page_html`)."""
    body, meta = _page_html(exporter, nb, footer)
    name = stem + ".html"
    (out_dir / name).write_text(body, "utf-8")
    return {"file": name, **meta}


def _stable_styler_ids(html: str, ids: dict[str, str]) -> str:
    """Replace the random ``T_xxxxx`` ids of pandas' Styler tables by ``T_p0001``, ``T_p0002`` ...
    (per page).

    Examples
    --------
    >>> _stable_styler_ids('<style>#T_3e3a6_row0 {}</style><table id="T_3e3a6">', {})
    '<style>#T_p0001_row0 {}</style><table id="T_p0001">'
    """
    for uuid in re.findall(r'<table id="T_([0-9a-f]{5})"', html):
        ids.setdefault(uuid, f"p{len(ids) + 1:04d}")
        html = html.replace(f"T_{uuid}", f"T_{ids[uuid]}")
    return html


def _index(pages: list[dict], out_dir: Path, study, checksums: dict, when: str) -> Path:
    from research.report import pages as pages_html

    return pages_html.index_page(pages, out_dir, study, checksums, when)


def run(
    study=None,
    out=None,
    processed=None,
    jobs: int | None = None,
    seed: int = 2026,
    alpha: float = 0.05,
    progress=print,
    notebooks: list[Path] | None = None,
    reuse_kernels: bool = True,
    force: bool = False,
) -> Path:
    """Read ``study``, write processed data, execute the notebooks whose inputs changed and write
    the HTML report.

    Parameters
    ----------
    study : path-like, optional
        The study folder or its ``study.yaml``, absolute or relative (default: the bundled demo).
    out, processed : path-like, optional Report and processed-data folders (defaults:
        ``reports/<slug>``, ``data/processed/<slug>`` under the current folder, or under the study's
        parent when the current folder lies inside the study). Either inside the study folder raises
        :class:`research.paths.InsideStudyError`.
    jobs : int, optional
        Kernels in the pool, i.e. notebooks executed at once (default: number of cores, at least 2).
    seed, alpha : passed to every notebook's ``parameters`` cell.
    progress : callable or None
        Called with one line of text per step.
    notebooks : list of paths, optional
        The notebooks to run (default: :func:`list_notebooks`).
    reuse_kernels : bool
        False gives every notebook a new kernel of its own (the slower way, kept for comparison).
    force : bool Execute every notebook, even those whose page and files are kept with an unchanged
        fingerprint.

    Each notebook's page and files are kept in ``<processed>/pages/`` with the fingerprint of what
    it read (:mod:`research.run.fingerprint`); a notebook whose fingerprint is unchanged is not
    executed again, its kept page gets this run's provenance footer. When nothing needs executing no
    kernel is started, and when the raw files' checksums, ``study.yaml``, the spec files and the
    toolkit equal those the processed data was written from, the study is not read again.

    Returns
    -------
    Path
        The report folder, holding ``index.html``.
    """
    say = progress or (lambda *_: None)
    started = time.perf_counter()
    target = _target(study, out, processed, notebooks, jobs)
    work = Path(tempfile.mkdtemp(prefix="research-run-"))  # the kernels' working folder and log
    tmp = None
    try:
        with contextlib.ExitStack() as stack:
            kernels = _LazyPool(stack, target, work, reuse_kernels, seed)
            summary = _study_summary(target, kernels, say, started)
            _vouch(target, work)
            target.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.out.name}.tmp-", dir=target.out.parent))
            _readable(tmp)  # mkdtemp makes it 0700; the report is read like every other output
            params = {
                "study_dir": str(target.root),
                "processed_dir": str(target.processed.resolve()),
                "out_dir": None,
                "seed": seed,
                "alpha": alpha,
            }
            inputs = fp.gather_inputs(target.processed, target.root, target.config, target.slug)
            plan = _plan(target.notebooks, inputs, params, target.cache, force)
            todo = _say_reused(target.notebooks, plan, say)
            when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            exporter = _html_exporter()
            footer = _rendered_footer(exporter, _provenance(summary.name, target.checksums, when))
            written = {}  # each executed page, written into the report as soon as it is kept
            if todo:
                written = _execute_stages(
                    kernels.start(),
                    todo,
                    say,
                    kernels.history,
                    number={p: i for i, p in enumerate(target.notebooks, start=1)},
                    total=len(target.notebooks),
                    prepare=lambda p: _prepare(p, plan, target.cache, target.notebooks, params),
                    export=lambda p, nb: _keep_and_use_page(
                        exporter, p, nb, plan, target, kernels.history, tmp, footer
                    ),
                )
        kernels.keep_log(target.processed)
        pages = _assemble(target, tmp, summary, footer, when, written)
        swap_into_place(tmp, target.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    ran = len(todo)
    say(
        f"wrote {target.out / 'index.html'} ({len(pages)} reports: {ran} run, "
        f"{len(pages) - ran} reused; {time.perf_counter() - started:.1f} s)"
    )
    return target.out


@dataclass
class _Target:
    """Where a run reads and writes, and the state of the study it is about to report."""

    root: Path
    out: Path
    processed: Path
    notebooks: list[Path]
    jobs: int
    config: dict
    slug: str
    checksums: dict
    cache: fp.PageCache
    state: dict


def _target(study, out, processed, notebooks, jobs) -> _Target:
    """Resolve the study and the output folders (refusing any inside the study), read study.yaml
    (a fatal problem raises StudyError here, before anything is written) and take the checksums."""
    root = study_folder(study)
    out = check_outside(root, out, "--out") if out else None
    processed = check_outside(root, processed, "--processed") if processed else None
    notebooks = [Path(p).resolve() for p in (notebooks or list_notebooks())]
    if not notebooks:
        raise RuntimeError(f"no notebooks found in {notebooks_folder()}")
    config = read_config(root)
    slug = slugify(config["name"])
    base = output_base(root)
    processed = processed or default_processed(slug, base)
    checksums = checksum_folder(root)
    state = {
        "checksums": checksums,
        "config": _plain(config),
        "specs": fp.spec_digests(config, root),
        "toolkit": fp.toolkit_fingerprint(),
    }
    return _Target(
        root,
        out or default_reports(slug, base),
        processed,
        notebooks,
        max(1, jobs or default_jobs()),
        config,
        slug,
        checksums,
        fp.PageCache(processed),
        state,
    )


#: ``research.inputs.study.VERIFIED_ENV``, written out: importing that module imports pandas, which
#: would delay the kernels when they start before the study is read.
_VERIFIED_ENV = "RESEARCH_VERIFIED_MANIFEST"
_VERIFIED_FILE = "verified-manifest"


def _vouch(target: _Target, work: Path) -> None:
    """Vouch to the kernels for the processed data (:func:`research.inputs.study.vouch_for`): its
    manifest holds the raw checksums this run took before its notebooks run (and takes again
    after), so their ``open_study`` need not checksum the raw folder again."""
    from research.inputs.study import vouch_for

    vouch_for(target.processed, target.checksums, work / _VERIFIED_FILE)


class _LazyPool:
    """The kernel pool, started on first need: no kernel at all when every page is reused. Keeps
    the notebooks' timing history (read before the processed folder is replaced) and the kernels'
    log."""

    def __init__(self, stack, target: _Target, work: Path, reuse: bool, seed: int):
        self.stack, self.target, self.work, self.reuse, self.seed = stack, target, work, reuse, seed
        self.log = stack.enter_context(open(work / "kernels.log", "wb"))
        self.timings = target.processed / "notebook_seconds.json"
        self.history = json.loads(self.timings.read_text("utf-8")) if self.timings.is_file() else {}
        self.pool = None

    def start(self) -> KernelPool:
        """Start the pool (once). Its kernels share this run's memo of analysis results
        (:mod:`research.analysis.memo`), a folder inside ``work``, which the run removes when it
        ends: nothing is kept for the next run. They are told where the run vouches for the
        processed data it checked (:func:`_vouch`)."""
        if self.pool is None:
            from research.analysis.memo import ENV

            size = min(self.target.jobs, len(self.target.notebooks))
            memo = self.work / "memo"
            memo.mkdir(exist_ok=True)
            verified = {_VERIFIED_ENV: str(self.work / _VERIFIED_FILE)}
            self.pool = self.stack.enter_context(
                KernelPool(
                    size,
                    cwd=self.work,
                    reuse=self.reuse,
                    seed=self.seed,
                    stderr=self.log,
                    env={ENV: str(memo), **verified},
                )
            )
        return self.pool

    def keep_log(self, processed: Path) -> None:
        """Write the timing history and the kernels' log beside the processed data (when kernels
        ran)."""
        if self.pool is not None:
            self.timings.write_text(json.dumps(self.history, indent=1), "utf-8")
            shutil.copy(self.work / "kernels.log", processed / "kernels.log")


def _study_summary(target: _Target, kernels: _LazyPool, say, started: float):
    """The study as the run needs it: the processed data's summary when it is up to date, else the
    study read again (while the kernels start) and saved; says so, and warns on the terminal when a
    function has no respondents."""
    summary = _up_to_date(target.processed, target.cache, target.state)
    if summary is None:
        kernels.start()  # the kernels start and import the stack while the study is read
        from research.inputs.study import read_study

        summary = read_study(target.root)  # fatal problems raise StudyError, nothing written yet
        if summary.checksums != target.checksums:
            raise RuntimeError(
                f"the raw study folder {target.root} changed while it was read; report not written"
            )
        say(
            f"read {summary.name}: {len(summary.respondents)} respondents, "
            f"{len(summary.interviews)} interviews, {len(summary.quality.rows)} "
            f"data-quality notes ({time.perf_counter() - started:.1f} s)"
        )
        _save_keeping_pages(summary, target.processed)
        target.cache.write_state(target.state)
    else:
        say(
            f"read {summary.name}: {len(summary.respondents)} respondents, "
            f"{len(summary.interviews)} interviews, {summary.notes} data-quality notes "
            f"(processed data up to date, {time.perf_counter() - started:.1f} s)"
        )
    from research.inputs.study import missing_functions
    from research.report import prose

    warning = prose.one_side_terminal(missing_functions(summary))
    if warning:
        print(f"research: {warning}", file=sys.stderr)
    return summary


def _say_reused(notebooks: list[Path], plan: dict, say) -> list[Path]:
    """Say which notebooks are reused, in report order; return those to execute."""
    for number, p in enumerate(notebooks, start=1):
        if plan[p]["reuse"] is not None:
            say(f"[{number}/{len(notebooks)}] {p.stem} reused (inputs unchanged)")
    return [p for p in notebooks if plan[p]["reuse"] is None]


def _assemble(
    target: _Target, tmp: Path, summary, footer: str, when: str, written: dict
) -> list[dict]:
    """Write every page not yet ``written`` (the kept ones) and its files into ``tmp``, check that
    the raw folder did not change during the run, and write the index page."""
    pages = [
        written[p] if p in written else _use_page(p, target.cache, tmp, footer)
        for p in target.notebooks
    ]
    target.cache.clean(keep={p.stem for p in target.notebooks})
    after = checksum_folder(target.root)
    if after != target.checksums:
        raise RuntimeError(
            f"the raw study folder {target.root} changed during the run; report not written"
        )
    _index(pages, tmp, summary, after, when)
    return pages


def _plain(value):
    """``value`` as it reads back from JSON (the processed manifest keeps ``study.yaml`` that
    way)."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class _Summary:
    """What the run needs of a study whose processed data is up to date (instead of reading it
    again)."""

    name: str
    respondents: pd.DataFrame
    interviews: pd.DataFrame
    notes: int


def _up_to_date(processed: Path, cache: fp.PageCache, state: dict) -> _Summary | None:
    """The processed study's summary when it was written by a run from exactly these raw files, this
    ``study.yaml``, these spec files and this toolkit; else None (the study is read again)."""
    try:
        manifest = json.loads((processed / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if (
        cache.state() != _plain(state)
        or manifest.get("checksums") != state["checksums"]
        or manifest.get("config") != state["config"]
        or manifest.get("toolkit_version") != __version__
    ):
        return None
    import pandas as pd
    import pyarrow.parquet as pq

    try:
        respondents = pd.read_parquet(
            processed / "respondents.parquet", columns=["respondent_id", "company_id", "role"]
        )
        interviews = pd.read_parquet(processed / "interviews.parquet", columns=["interview_id"])
        notes = pq.ParquetFile(processed / "data_quality.parquet").metadata.num_rows
    except (OSError, ValueError, KeyError):
        return None
    return _Summary(str(manifest["name"]), respondents, interviews, int(notes))


def _save_keeping_pages(study, processed: Path) -> None:
    """``study.save(processed)`` (which replaces the folder) with the kept pages carried over."""
    pages = processed / "pages"
    kept = None
    if pages.is_dir():
        kept = Path(tempfile.mkdtemp(prefix=f".{processed.name}.pages-", dir=processed.parent))
        kept.rmdir()
        pages.rename(kept)
    try:
        study.save(processed)
    finally:
        if kept is not None:
            if processed.is_dir() and not pages.exists():
                kept.rename(pages)
            else:
                shutil.rmtree(kept, ignore_errors=True)


def _plan(
    notebooks: list[Path], inputs: fp.Inputs, params: dict, cache: fp.PageCache, force: bool
) -> dict:
    """Each notebook's fingerprint and, when its kept entry has that fingerprint (and not
    ``force``), the entry."""
    plan, earlier = {}, []
    for stage in sorted({_stage(p) for p in notebooks}):
        batch = [p for p in notebooks if _stage(p) == stage]
        for p in batch:
            fingerprint, parts = fp.notebook_fingerprint(p, inputs, params, earlier)
            plan[p] = {
                "fingerprint": fingerprint,
                "parts": parts,
                "stage": stage,
                "reuse": None if force else cache.lookup(p.stem, fingerprint),
            }
        earlier = earlier + [plan[p]["fingerprint"] for p in batch]
    return plan


def _prepare(
    path: Path, plan: dict, cache: fp.PageCache, notebooks: list[Path], params: dict
) -> dict:
    """A staging folder for ``path`` (its ``files/`` is the notebook's ``out_dir``), holding the
    files of the notebooks of earlier stages (a later stage may read their tables); returns its
    parameters."""
    staging = cache.staging(path.stem)
    files = staging / "files"
    seeded = {}
    for other in notebooks:
        if plan[other]["stage"] < plan[path]["stage"]:
            for rel in fp.copy_files(cache.files(other.stem), files):
                seeded[rel] = fp.sha256_file(files / rel)
    plan[path]["staging"], plan[path]["seeded"] = staging, seeded
    return {**params, "out_dir": str(files.resolve())}


def _keep_page(exporter, path: Path, nb, plan: dict, cache: fp.PageCache, history: dict) -> None:
    """Export the executed ``nb`` (footer to be filled in) and keep it with the files it wrote and
    its fingerprint."""
    entry = plan[path]
    files = entry["staging"] / "files"
    for rel, digest_ in entry["seeded"].items():  # what the notebook found there is not its output
        if (files / rel).is_file() and fp.sha256_file(files / rel) == digest_:
            (files / rel).unlink()
    body, meta = _page_html(exporter, nb, fp.FOOTER_PLACEHOLDER)
    meta = {
        **meta,
        "file": path.stem + ".html",
        "fingerprint": entry["fingerprint"],
        "parts": entry["parts"],
        "seconds": history.get(path.name),
    }
    cache.commit(path.stem, entry["staging"], body, meta)


def _keep_and_use_page(
    exporter, path: Path, nb, plan: dict, target: _Target, history: dict, report: Path, footer: str
) -> dict:
    """Keep the executed page (:func:`_keep_page`) and write it into the report folder at once
    (:func:`_use_page`), while the other notebooks run; returns its entry for the index."""
    _keep_page(exporter, path, nb, plan, target.cache, history)
    return _use_page(path, target.cache, report, footer)


#: The provenance footer as the exporter renders it (Markdown to HTML: quotes and entities as
#: mistune writes them).
_FOOTER = re.compile(r"<footer\b[^>]*\bprovenance\b[^>]*>.*?</footer>", re.S)
_PLACEHOLDER = re.compile(r"<footer\b[^>]*\bprovenance\b[^>]*>research-provenance-footer</footer>")


def _rendered_footer(exporter, footer: str) -> str:
    """``footer`` exactly as it appears in an exported page (exported once per run, on an empty
    notebook)."""
    import nbformat

    body, _ = _page_html(exporter, nbformat.v4.new_notebook(), footer)
    return _FOOTER.search(body).group(0)


def _use_page(path: Path, cache: fp.PageCache, report: Path, footer: str) -> dict:
    """Write ``path``'s kept page, with this run's footer, and its files into the report folder."""
    entry = cache.entry(path.stem)
    page, found = _PLACEHOLDER.subn(lambda _: footer, cache.page(path.stem))
    if found != 1:
        raise RuntimeError(f"the kept page of {path.name} has no provenance footer to fill in")
    (report / entry["file"]).write_text(page, "utf-8")
    fp.copy_files(cache.files(path.stem), report)
    return {k: entry[k] for k in ("file", "title", "question")}


def _readable(folder: Path) -> None:
    """Give ``folder`` the mode a folder made by ``mkdir`` would have (0777 less the umask, 0755 by
    default)."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)


def default_jobs() -> int:
    """Kernels in the pool by default: one per core this process may use, at least 2."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(2, cores)


def _expected_seconds(path: Path, history: dict) -> float:
    """How long a notebook is expected to take: its last run's time on this study, else the
    seconds its metadata gives (``research.seconds``: its time on the demo study, in proportion
    what a first run of any study expects), else its number of code cells."""
    if path.name in history:
        return float(history[path.name])
    notebook = json.loads(path.read_text("utf-8"))
    prior = notebook.get("metadata", {}).get("research", {}).get("seconds")
    if prior is not None:
        return float(prior)
    return float(sum(1 for c in notebook.get("cells", []) if c.get("cell_type") == "code"))


def _execute_stages(
    pool: KernelPool,
    notebooks: list[Path],
    say,
    history: dict,
    export,
    prepare=None,
    number: dict | None = None,
    total: int | None = None,
    params: dict | None = None,
) -> dict:
    """Stage by stage, each stage's notebooks in the pool, longest first; each page exported when
    its notebook ran.

    ``prepare(path)`` gives a notebook's parameters (else ``params``); ``export(path, nb)`` is
    called with each executed notebook and its result kept. Progress lines count in the order of the
    report (``[3/7] 03-comparisons started`` / ``done (2.1 s)``; ``number`` and ``total`` when only
    some notebooks run), whatever the order of execution. ``history`` receives each notebook's time.
    Returns the exports.
    """
    total = total or len(notebooks)
    number = number or {p: i for i, p in enumerate(notebooks, start=1)}
    pages = {}
    events: queue.Queue = queue.Queue()  # filled by the pool's thread, read here
    for stage in sorted({_stage(p) for p in notebooks}):
        batch = sorted(
            (p for p in notebooks if _stage(p) == stage),
            key=lambda p: -_expected_seconds(p, history),
        )
        futures = {}
        for p in batch:
            futures[p] = pool.submit(
                parameterize(p, prepare(p) if prepare else params),
                p.name,
                on_start=lambda p=p: events.put(("started", p)),
                on_end=lambda p=p: events.put(("done", p)),
            )
        left = len(batch)
        while left:
            kind, p = events.get()
            if kind == "started":
                say(f"[{number[p]}/{total}] {p.stem} started")
                continue
            left -= 1
            try:
                nb, seconds = futures[p].result()
            except NotebookFailed:
                say(f"[{number[p]}/{total}] {p.stem} failed")
                raise
            except Exception as exc:
                raise RuntimeError(f"notebook {p.name} failed: {_short(exc)}") from exc
            history[p.name] = round(seconds, 2)
            pages[p] = export(p, nb)
            say(f"[{number[p]}/{total}] {p.stem} done ({seconds:.1f} s)")
    return pages


@contextlib.contextmanager
def kernel_stderr_to(log: Path):
    """Send what kernel processes print to stderr (transport warnings, shutdown notices) to a log
    file.

    Processes started inside inherit the stderr file descriptor, so it is redirected at the
    descriptor level. (``run`` hands its kernels the log file directly; the benchmark uses this.)
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "wb") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    lines = [line for line in text if line.strip()]
    return lines[-1] if lines else type(exc).__name__
