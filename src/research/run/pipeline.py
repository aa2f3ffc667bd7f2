"""Run a study end to end: read it, execute the ordered notebooks (papermill), export HTML (nbconvert).

The report is written to a temporary folder beside the target and swapped into place only when every
notebook ran and every page was exported, so a failure leaves the previous report as it was.
Notebooks of stage 1 (all but the summary) do not depend on each other and run in parallel; stage 2
(marked ``"research": {"stage": 2}`` in the notebook's metadata) reads their tables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from research import __version__
from research.files import checksum_folder, swap_into_place
from research.inputs.study import read_study
from research.paths import default_processed, default_reports, demo_study, project_root
from research.report.tables import escape


def notebooks_folder() -> Path:
    return project_root() / "notebooks"


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


def _execute(path: Path, out_dir: Path, parameters: dict) -> Path:
    import papermill as pm

    target = out_dir / "executed" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(path), str(target), parameters=parameters, cwd=str(path.parent), progress_bar=False,
                        log_output=False, kernel_name="python3", report_mode=False)
    return target


def digest(checksums: dict) -> str:
    """One SHA-256 over the raw folder's per-file checksums, for a one-line provenance stamp."""
    return hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()


def _provenance(study_name: str, checksums: dict, when: str) -> str:
    return (f"<footer class='provenance'>research {escape(__version__)} · study “{escape(study_name)}” · "
            f"{len(checksums)} raw files, SHA-256 of their checksums {digest(checksums)[:16]}… · run {escape(when)}</footer>")


_STYLE = """<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433;line-height:1.5}
h1{font-size:1.8rem;margin-bottom:.2rem} .lead{color:#4a5568;margin-top:0} ol.reports li{margin:.6rem 0}
ol.reports a{font-weight:600;font-size:1.1rem} .q{color:#4a5568} table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid #d9dee7;padding:.2rem .5rem;text-align:left} footer.provenance{margin-top:2.5rem;color:#6b7280;font-size:.8rem;border-top:1px solid #e5e7eb;padding-top:.6rem}
details{margin-top:1rem}
</style>"""


def _html_exporter():
    """nbconvert's lab template with the code hidden and cells tagged ``remove_cell`` removed."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=config, template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    return exporter


def _export_page(exporter, executed: Path, out_dir: Path, footer: str) -> dict:
    """Export one executed notebook to ``out_dir``: stderr streams dropped, the provenance footer added."""
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    nb.cells.append(nbformat.v4.new_markdown_cell(footer))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": _title(nb)}})
    name = executed.stem + ".html"
    (out_dir / name).write_text(body, "utf-8")
    return {"file": name, "title": _title(nb), "question": _question(nb)}


def _index(pages: list[dict], out_dir: Path, study, checksums: dict, when: str) -> Path:
    items = "\n".join(f"<li><a href='{escape(p['file'])}'>{escape(p['title'])}</a><br><span class='q'>{escape(p['question'])}</span></li>"
                      for p in pages)
    tables = ", ".join(f"<a href='tables/{escape(p.name)}'>{escape(p.name)}</a>" for p in sorted((out_dir / "tables").glob("*.csv")))
    files = "\n".join(f"<tr><td>{escape(k)}</td><td><code>{v}</code></td></tr>" for k, v in checksums.items())
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(study.name)}: sales–marketing study reports</title>{_STYLE}</head>
<body><h1>{escape(study.name)}</h1><p class="lead">How marketing and sales see their relationship: {len(study.respondents)} respondents from
{study.respondents['company_id'].nunique()} companies, {len(study.interviews)} interviews. Read the reports in order; each opens with the question it answers.</p>
<ol class="reports">{items}</ol>
<h2>Tables</h2><p>Every table behind the reports, as CSV: {tables}</p>
<details><summary>Provenance: the raw files and their SHA-256 checksums (unchanged by the run)</summary><table><tr><th>file</th><th>sha256</th></tr>{files}</table></details>
{_provenance(study.name, checksums, when)}
</body></html>"""
    path = out_dir / "index.html"
    path.write_text(page, "utf-8")
    return path


def run(study=None, out=None, processed=None, jobs: int | None = None, seed: int = 2026, alpha: float = 0.05,
        progress=print, notebooks: list[Path] | None = None) -> Path:
    """Read ``study``, write processed data, execute every notebook and write the HTML report.

    Parameters
    ----------
    study : path-like, optional
        The study folder (default: the bundled demo).
    out, processed : path-like, optional
        Report and processed-data folders (defaults: ``reports/<slug>``, ``data/processed/<slug>``).
    jobs : int, optional
        Notebooks executed at once (default: number of cores, at least 2).
    seed, alpha : passed to every notebook's ``parameters`` cell.
    progress : callable or None
        Called with one line of text per step.

    Returns
    -------
    Path
        The report folder, holding ``index.html``.
    """
    say = progress or (lambda *_: None)
    started = time.perf_counter()
    root = Path(study) if study else demo_study()
    parsed = read_study(root)  # fatal problems raise StudyError here, before anything is written
    out = Path(out) if out else default_reports(parsed.slug)
    processed = Path(processed) if processed else default_processed(parsed.slug)
    say(f"read {parsed.name}: {len(parsed.respondents)} respondents, {len(parsed.interviews)} interviews, "
        f"{len(parsed.quality.rows)} data-quality notes ({time.perf_counter() - started:.1f} s)")
    timings = processed / "notebook_seconds.json"  # read before the processed folder is replaced
    history = json.loads(timings.read_text("utf-8")) if timings.is_file() else {}
    parsed.save(processed)
    notebooks = notebooks or list_notebooks()
    if not notebooks:
        raise RuntimeError(f"no notebooks found in {notebooks_folder()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        params = {"study_dir": str(root.resolve()), "processed_dir": str(processed.resolve()), "out_dir": str(tmp.resolve()),
                  "seed": seed, "alpha": alpha}
        jobs = jobs or max(2, os.cpu_count() or 2)
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        footer = _provenance(parsed.name, parsed.checksums, when)
        exporter = _html_exporter()
        with kernel_stderr_to(tmp / "kernels.log"):
            pages = _execute_stages(notebooks, tmp, params, jobs, say, history,
                                    lambda executed: _export_page(exporter, executed, tmp, footer))
        timings.write_text(json.dumps(history, indent=1), "utf-8")
        shutil.copy(tmp / "kernels.log", processed / "kernels.log")
        (tmp / "kernels.log").unlink()
        after = checksum_folder(root)
        if after != parsed.checksums:
            raise RuntimeError(f"the raw study folder {root} changed during the run; report not written")
        _index([pages[p] for p in notebooks], tmp, parsed, after, when)
        shutil.rmtree(tmp / "executed", ignore_errors=True)
        swap_into_place(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"wrote {out / 'index.html'} ({len(pages)} reports, {time.perf_counter() - started:.1f} s)")
    return out


def _expected_seconds(path: Path, history: dict) -> float:
    """How long a notebook is expected to take: its last run's time, else its number of code cells."""
    if path.name in history:
        return float(history[path.name])
    cells = json.loads(path.read_text("utf-8")).get("cells", [])
    return float(sum(1 for c in cells if c.get("cell_type") == "code"))


def _execute_stages(notebooks, tmp, params, jobs, say, history: dict, export) -> dict[Path, dict]:
    """Stage by stage; the notebooks of one stage in parallel threads (each drives its own kernel).

    The longest notebooks are started first (longest-processing-time order), so that a long one does not
    start last and keep the others waiting; while a stage runs, the previous stage's notebooks are exported
    to HTML by ``export`` in this thread. ``history`` receives each notebook's time. Returns the pages.
    """
    total, done, pages = len(notebooks), 0, {}
    waiting: list[tuple[Path, Path]] = []
    for stage in sorted({_stage(p) for p in notebooks}):
        batch = sorted((p for p in notebooks if _stage(p) == stage), key=lambda p: -_expected_seconds(p, history))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {p: pool.submit(_timed, _execute, p, tmp, params) for p in batch}
            for p, executed in waiting:
                pages[p] = export(executed)
            waiting = []
            for p, fut in futures.items():
                try:
                    target, seconds = fut.result()
                except Exception as exc:
                    raise RuntimeError(f"notebook {p.name} failed: {_short(exc)}") from exc
                done += 1
                history[p.name] = round(seconds, 2)
                waiting.append((p, target))
                say(f"[{done}/{total}] executed {p.name} ({seconds:.1f} s)")
    for p, executed in waiting:
        pages[p] = export(executed)
    return pages


@contextlib.contextmanager
def kernel_stderr_to(log: Path):
    """Send what kernel processes print to stderr (transport warnings, shutdown notices) to a log file.

    Kernels inherit the stderr file descriptor, so it is redirected at the descriptor level; a notebook's
    own errors still reach the user through the exception papermill raises.
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


def _timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


def _short(exc: Exception) -> str:
    if hasattr(exc, "ename"):  # papermill's PapermillExecutionError: the failing cell's error
        return f"{exc.ename}: {exc.evalue} (cell {getattr(exc, 'exec_count', '?')})"
    text = str(exc).strip().splitlines()
    lines = [line for line in text if line.strip()]
    return lines[-1] if lines else type(exc).__name__
