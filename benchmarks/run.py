"""Benchmark the analysis at 1x, 10x and 100x the demo's size, and `research run` against its floor.

    python benchmarks/run.py              # everything; writes benchmarks/results.md
    python benchmarks/run.py --sizes 1 10 # a subset

Each size runs in its own process (so its peak memory is its own): every stage of the analysis is
timed in that one process, imports excluded. `research run` on the demo is timed end to end beside its
floor: starting one kernel and importing the stack in it, which the pool of warm kernels pays once (its
kernels start together); the goal is a run within 2.5 times that. Figures are measured, never asserted:
this prints them and writes them down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STUDIES = HERE / "studies"

STAGES = ["read and validate", "transcripts", "score", "reliability", "comparisons", "robustness models",
          "agreement", "theme coding", "quotes and sentiment", "inter-coder agreement", "company summary"]


def one_size(size: float) -> dict:
    """Time every stage for the study of ``size`` (already written); runs inside its own process."""
    # Imports are excluded from the timings, including those the package makes lazily.
    import pandas as pd  # noqa: F401
    import pingouin  # noqa: F401
    import statsmodels.formula.api  # noqa: F401
    import statsmodels.miscmodels.ordinal_model  # noqa: F401
    import vaderSentiment.vaderSentiment  # noqa: F401
    import webvtt  # noqa: F401
    from docx.oxml import parse_xml  # noqa: F401

    from research.analysis import companies, compare, interviews, survey, themes
    from research.inputs import study
    from research.inputs.quality import QualityLog

    folder = STUDIES / f"x{size:g}"
    times: dict[str, float] = {}

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        times[name] = times.get(name, 0.0) + time.perf_counter() - t0
        return out

    root = folder
    config = timed("read and validate", study.read_config, root)
    instruments = timed("read and validate", lambda: [study.load_instrument(r, root) for r in config["instruments"]])
    codebook = timed("read and validate", study.load_codebook, config["codebook"], root)
    decisions = timed("read and validate", study.load_decision_table, config["decision_table"], root)
    log = QualityLog()
    respondents = timed("read and validate", study._read_respondents, root, config, log)
    responses, open_answers = timed("read and validate", study._read_survey, root, config, instruments, respondents, log)
    ivs, turns = timed("transcripts", study._read_interviews, root, config, respondents, log)
    manual = timed("transcripts", study._read_manual_codes, root, config, turns, codebook, log)
    scores = timed("score", study.score_all, responses, instruments)
    s = study.Study("bench", "bench", root, config, instruments, respondents, responses, scores, ivs, turns, manual,
                    open_answers, codebook, decisions, log, {})
    timed("reliability", survey.reliability_table, s)
    timed("reliability", survey.item_statistics_table, s)
    timed("comparisons", survey.item_table, s)
    timed("comparisons", survey.scale_table, s)
    timed("comparisons", survey.dyad_table, s)
    timed("comparisons", survey.assumption_table, s)
    timed("comparisons", survey.thought_worlds_tables, s)
    timed("robustness models", survey.ordinal_table, s)
    timed("robustness models", survey.mixed_table, s)
    timed("agreement", survey.agreement_table, s)
    coded = timed("theme coding", interviews.coded_segments, s)
    timed("theme coding", interviews.theme_table, s, coded)
    timed("theme coding", themes.matrix_coding, coded, codebook)
    timed("theme coding", themes.co_occurrence, coded, codebook)
    timed("theme coding", interviews.open_answer_table, s)
    timed("quotes and sentiment", themes.representative_quotes, coded, codebook)
    tone = timed("quotes and sentiment", themes.sentiment, coded)
    timed("quotes and sentiment", themes.sentiment_by_theme, coded, tone, codebook)
    timed("inter-coder agreement", interviews.agreement_tables, s)
    summary, _ = timed("company summary", companies.company_summary, s)
    timed("company summary", companies.themes_by_stage, coded, ivs, summary, codebook)
    timed("company summary", companies.case_ordered, summary, coded, codebook)
    del compare
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"size": size, "companies": int(respondents["company_id"].nunique()), "respondents": len(respondents),
            "interviews": len(ivs), "segments": int((~turns["is_interviewer"]).sum()), "stages": times,
            "total": sum(times.values()), "peak_mb": peak_kib / 1024}


def floor_seconds() -> float:
    """Start one kernel and import the stack in it (what the pool's kernels do once), then shut it down."""
    from jupyter_client.manager import start_new_kernel

    from research.run.kernels import WARM_UP

    costs = []
    for _ in range(2):
        t0 = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3")
        reply = kc.execute_interactive(WARM_UP, timeout=120, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        km.shutdown_kernel(now=True)
        kc.stop_channels()
        costs.append(time.perf_counter() - t0)
    return min(costs)


def time_run(reuse: bool = True) -> float:
    """``research run`` on the demo, end to end, as a person types it (``reuse=False``: a kernel per notebook)."""
    out = Path(tempfile.mkdtemp())
    if reuse:
        cmd = [sys.executable, "-m", "research.cli", "run", "--out", str(out / "report"), "--processed",
               str(out / "processed"), "--quiet"]
    else:
        cmd = [sys.executable, "-c", "from research.run.pipeline import run; "
               f"run(out={str(out / 'report')!r}, processed={str(out / 'processed')!r}, progress=None, reuse_kernels=False)"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=out)
    elapsed = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def _notebook_seconds_of_a_run() -> dict:
    """Run once more, keeping the processed folder, and read each notebook's time from it."""
    out = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "research.cli", "run", "--out", str(out / "report"), "--processed",
                    str(out / "processed"), "--quiet"], check=True, cwd=out)
    seconds = json.loads((out / "processed" / "notebook_seconds.json").read_text("utf-8"))
    shutil.rmtree(out, ignore_errors=True)
    return dict(sorted(seconds.items()))


def run_section() -> tuple[list[str], str]:
    """Time `research run` on the demo against its floor; the lines for results.md and the goal's line."""
    from research.run.pipeline import default_jobs, kernel_stderr_to, list_notebooks

    with kernel_stderr_to(Path(tempfile.mkdtemp()) / "kernels.log"):  # kernels' transport warnings
        floor = floor_seconds()
    runs = [time_run() for _ in range(3)]
    run_s = min(runs)
    cold = time_run(reuse=False)
    seconds = _notebook_seconds_of_a_run()
    jobs = min(default_jobs(), len(seconds) or 1)
    bound = max(max(seconds.values(), default=0), sum(seconds.values()) / jobs)
    lines = ["## `research run` on the demo\n",
             f"- floor: one kernel started with the stack imported ({len(list_notebooks())} notebooks, "
             f"a pool of {min(default_jobs(), len(list_notebooks()))} warm kernels): **{floor:.2f} s**",
             f"- `research run`, end to end (best of {len(runs)}: {', '.join(f'{r:.1f}' for r in runs)} s): "
             f"**{run_s:.2f} s** = {run_s / floor:.2f} × the floor",
             f"- the same run with a new kernel for every notebook (papermill's way, before the pool): {cold:.2f} s",
             "- each notebook's own time in the pooled run (s): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()),
             f"- what the notebooks' own times allow: the floor + max(longest notebook, all of them / "
             f"{jobs} kernels) = {floor:.2f} + {bound:.2f} = **{floor + bound:.2f} s**; the run is "
             f"{run_s - floor - bound:.2f} s above that (reading the study, exporting pages, starting up)",
             ""]
    goal = (f"- `research run` within 2.5 x the floor: {run_s:.2f} s against 2.5 × {floor:.2f} s = "
            f"{2.5 * floor:.2f} s: {'met' if run_s <= 2.5 * floor else 'NOT met'}.")
    return lines, goal


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other work on the machine skews every figure
    return (f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average when measured: {load} (1, 5, 15 min)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 10, 100])
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--skip-run", action="store_true", help="do not time `research run` and its floor")
    parser.add_argument("--run-only", action="store_true", help="only time `research run`; print, write nothing")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one)))
        return 0
    if args.run_only:
        print("\n".join(run_section()[0]))
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    from research.run.demo import write_demo

    results = []
    for size in args.sizes:
        folder = STUDIES / f"x{size:g}"
        if not (folder / "study.yaml").is_file():
            t0 = time.perf_counter()
            write_demo(folder, size=size, seed=2026)
            print(f"wrote the {size:g}x study in {time.perf_counter() - t0:.1f} s", flush=True)
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{size:g}x: {r['total']:.2f} s, peak {r['peak_mb']:.0f} MB", flush=True)
    lines = ["# Benchmark results\n", f"Machine: {machine()}. Command: `make bench` (`python benchmarks/run.py`).\n",
             "## The analysis, stage by stage (seconds, one process, imports excluded)\n"]
    header = "| stage | " + " | ".join(f"{r['size']:g}x" for r in results) + " | " + " | ".join(
        f"{b['size']:g}x/{a['size']:g}x" for a, b in zip(results, results[1:], strict=False)) + " |"
    lines += [header, "|" + "---|" * (1 + 2 * len(results) - 1)]
    ratios_ok = True
    for stage in STAGES:
        cells = [f"{r['stages'].get(stage, 0):.3f}" for r in results]
        ratios = []
        for a, b in zip(results, results[1:], strict=False):
            ta, tb = a["stages"].get(stage, 0), b["stages"].get(stage, 0)
            ratio = tb / ta if ta > 0 else float("nan")
            scale = b["size"] / a["size"]
            # Tiny stages are dominated by fixed costs; growth is judged where the larger run takes 0.05 s or more.
            ok = ratio <= scale or tb < 0.05
            ratios_ok &= ok
            ratios.append(f"{ratio:.1f}{'' if ok else ' (!)'}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    lines.append("| **total** | " + " | ".join(f"**{r['total']:.2f}**" for r in results) + " | " + " | ".join(
        f"{b['total'] / a['total']:.1f}" for a, b in zip(results, results[1:], strict=False)) + " |")
    lines.append("| peak memory (MB) | " + " | ".join(f"{r['peak_mb']:.0f}" for r in results) + " |" + " |" * (len(results) - 1))
    lines.append("| companies / respondents / interviews | " + " | ".join(
        f"{r['companies']} / {r['respondents']} / {r['interviews']}" for r in results) + " |" + " |" * (len(results) - 1))
    lines.append("")
    goals = []
    big = next((r for r in results if r["size"] == 100), None)
    if big:
        goals.append(f"- 100x analysis at most 10 s: **{big['total']:.2f} s**, {'met' if big['total'] <= 10 else 'NOT met'}.")
        goals.append(f"- 100x peak memory at most 2 GB: **{big['peak_mb']:.0f} MB**, {'met' if big['peak_mb'] <= 2048 else 'NOT met'}.")
    goals.append(f"- 10x the data costs at most 10x the time at each stage (stages under 0.05 s excepted): "
                 f"{'met' if ratios_ok else 'NOT met (see (!))'}.")
    if not args.skip_run:
        run_lines, goal = run_section()
        lines += run_lines
        goals.append(goal)
    lines += ["## Goals\n"] + goals + [""]
    text = "\n".join(lines)
    (HERE / "results.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
