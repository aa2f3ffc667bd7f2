"""Run a study end to end: read it, execute the ordered notebooks in a pool of warm kernels, export HTML.

The report is written to a temporary folder beside the target and swapped into place only when every
notebook ran and every page was exported, so a failure leaves the previous report as it was.
Notebooks run in a pool of kernels that imported the stack once (``research.run.kernels``), longest
first (the times of the last run, ``notebook_seconds.json``); each page is exported to HTML as soon as its
notebook has run. A notebook marked ``"research": {"stage": 2}`` in its metadata runs after every
notebook of stage 1 (it may read their tables); when all are stage 1 they all run at once.

Paths (SPEC §3): the study is the folder or its ``study.yaml``; every path handed to a notebook is
absolute; the process's working directory is never changed; nothing is written inside the study folder.
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
from pathlib import Path

import nbformat

from research.analysis.survey import missing_functions
from research.files import checksum_folder, swap_into_place
from research.inputs.study import read_study
from research.paths import (
    check_outside,
    default_processed,
    default_reports,
    notebooks_folder,
    output_base,
    study_folder,
)
from research.report import pages as pages_html
from research.report import prose
from research.report.pages import digest  # noqa: F401  (pipeline.digest, as before)
from research.run.kernels import KernelPool, NotebookFailed, parameterize


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
                text = " ".join(paragraph[len("**The question:**"):].split())
                return text.replace("**", "").replace("`", "")
    return ""


def _provenance(study_name: str, checksums: dict, when: str) -> str:
    return pages_html.provenance_footer(study_name, checksums, when)


def _html_exporter():
    """nbconvert's lab template with the code hidden, cells tagged ``remove_cell`` removed and nothing fetched
    from another host (``research.report.pages``)."""
    return pages_html.html_exporter()


def _export_page(exporter, nb, stem: str, out_dir: Path, footer: str) -> dict:
    """Export one executed notebook to ``out_dir/<stem>.html``: stderr streams dropped, the provenance footer added.

    Random ids (pandas' Styler tables) are numbered instead, so that a page is the same from run to run.
    """
    styler_ids: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        for output in cell.get("outputs", []):  # pandas' Styler names its tables with random ids
            html = output.get("data", {}).get("text/html")
            if isinstance(html, str) and 'id="T_' in html:
                output["data"]["text/html"] = _stable_styler_ids(html, styler_ids)
    nb.cells.append(nbformat.v4.new_markdown_cell(footer, id="provenance"))
    body, _ = exporter.from_notebook_node(nb, resources=pages_html.export_resources(_title(nb)))
    name = stem + ".html"
    (out_dir / name).write_text(body, "utf-8")
    return {"file": name, "title": _title(nb), "question": _question(nb)}


def _stable_styler_ids(html: str, ids: dict[str, str]) -> str:
    """Replace the random ``T_xxxxx`` ids of pandas' Styler tables by ``T_p0001``, ``T_p0002`` ... (per page).

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
    return pages_html.index_page(pages, out_dir, study, checksums, when)


def run(study=None, out=None, processed=None, jobs: int | None = None, seed: int = 2026, alpha: float = 0.05,
        progress=print, notebooks: list[Path] | None = None, reuse_kernels: bool = True) -> Path:
    """Read ``study``, write processed data, execute every notebook and write the HTML report.

    Parameters
    ----------
    study : path-like, optional
        The study folder or its ``study.yaml``, absolute or relative (default: the bundled demo).
    out, processed : path-like, optional
        Report and processed-data folders (defaults: ``reports/<slug>``, ``data/processed/<slug>`` under the
        current folder, or under the study's parent when the current folder lies inside the study).
        Either inside the study folder raises :class:`research.paths.InsideStudyError`.
    jobs : int, optional
        Kernels in the pool, i.e. notebooks executed at once (default: number of cores, at least 2).
    seed, alpha : passed to every notebook's ``parameters`` cell.
    progress : callable or None
        Called with one line of text per step.
    notebooks : list of paths, optional
        The notebooks to run (default: :func:`list_notebooks`).
    reuse_kernels : bool
        False gives every notebook a new kernel of its own (the slower way, kept for comparison).

    Returns
    -------
    Path
        The report folder, holding ``index.html``.
    """
    say = progress or (lambda *_: None)
    started = time.perf_counter()
    root = study_folder(study)
    out = check_outside(root, out, "--out") if out else None
    processed = check_outside(root, processed, "--processed") if processed else None
    notebooks = [Path(p).resolve() for p in (notebooks or list_notebooks())]
    if not notebooks:
        raise RuntimeError(f"no notebooks found in {notebooks_folder()}")
    jobs = max(1, jobs or default_jobs())
    work = Path(tempfile.mkdtemp(prefix="research-run-"))  # the kernels' working folder and their log
    tmp = None
    try:
        with open(work / "kernels.log", "wb") as log, \
                KernelPool(min(jobs, len(notebooks)), cwd=work, reuse=reuse_kernels, seed=seed,
                           stderr=log) as pool:
            # the kernels start and import the stack while the study is read
            parsed = read_study(root)  # fatal problems raise StudyError here, before anything is written
            base = output_base(root)
            out = out or default_reports(parsed.slug, base)
            processed = processed or default_processed(parsed.slug, base)
            say(f"read {parsed.name}: {len(parsed.respondents)} respondents, {len(parsed.interviews)} interviews, "
                f"{len(parsed.quality.rows)} data-quality notes ({time.perf_counter() - started:.1f} s)")
            warning = prose.one_side_terminal(missing_functions(parsed))
            if warning:
                print(f"research: {warning}", file=sys.stderr)
            timings = processed / "notebook_seconds.json"  # read before the processed folder is replaced
            history = json.loads(timings.read_text("utf-8")) if timings.is_file() else {}
            parsed.save(processed)
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            _readable(tmp)  # mkdtemp makes it 0700; the report is read like every other output
            params = {"study_dir": str(root), "processed_dir": str(processed.resolve()), "out_dir": str(tmp.resolve()),
                      "seed": seed, "alpha": alpha}
            when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            footer = _provenance(parsed.name, parsed.checksums, when)
            exporter = _html_exporter()
            pages = _execute_stages(pool, notebooks, params, say, history,
                                    lambda path, nb: _export_page(exporter, nb, path.stem, tmp, footer))
        timings.write_text(json.dumps(history, indent=1), "utf-8")
        shutil.copy(work / "kernels.log", processed / "kernels.log")
        after = checksum_folder(root)
        if after != parsed.checksums:
            raise RuntimeError(f"the raw study folder {root} changed during the run; report not written")
        _index([pages[p] for p in notebooks], tmp, parsed, after, when)
        swap_into_place(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    say(f"wrote {out / 'index.html'} ({len(pages)} reports, {time.perf_counter() - started:.1f} s)")
    return out


def _readable(folder: Path) -> None:
    """Give ``folder`` the mode a folder made by ``mkdir`` would have (0777 less the umask, 0755 by default)."""
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
    """How long a notebook is expected to take: its last run's time, else its number of code cells."""
    if path.name in history:
        return float(history[path.name])
    cells = json.loads(path.read_text("utf-8")).get("cells", [])
    return float(sum(1 for c in cells if c.get("cell_type") == "code"))


def _execute_stages(pool: KernelPool, notebooks: list[Path], params: dict, say, history: dict, export) -> dict[Path, dict]:
    """Stage by stage, each stage's notebooks in the pool, longest first; each page exported when its notebook ran.

    Progress lines count in the order of the report (``[3/6] 03-comparisons started`` / ``done (2.1 s)``),
    whatever the order of execution. ``history`` receives each notebook's time. Returns the pages.
    """
    total, pages = len(notebooks), {}
    number = {p: i for i, p in enumerate(notebooks, start=1)}
    events: queue.Queue = queue.Queue()  # filled by the pool's thread, read here
    for stage in sorted({_stage(p) for p in notebooks}):
        batch = sorted((p for p in notebooks if _stage(p) == stage), key=lambda p: -_expected_seconds(p, history))
        futures = {}
        for p in batch:
            futures[p] = pool.submit(parameterize(p, params), p.name, on_start=lambda p=p: events.put(("started", p)),
                                     on_end=lambda p=p: events.put(("done", p)))
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
    """Send what kernel processes print to stderr (transport warnings, shutdown notices) to a log file.

    Processes started inside inherit the stderr file descriptor, so it is redirected at the descriptor
    level. (``run`` hands its kernels the log file directly; the benchmark uses this.)
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
