"""Benchmark the analysis at 1x, 10x, 100x and 1,000x the demo's size, and `research run` against
its floor.

    python benchmarks/run.py              # everything; writes benchmarks/results.md
    python benchmarks/run.py --sizes 1 10 # a subset

Each size runs in its own process (so its peak memory is its own), several times (the median is
reported, the machine is shared): every stage of the analysis is timed in that one process, imports
excluded. The studies are written once to benchmarks/studies/ (git-ignored; the 1,000x study takes
minutes) and reused. `research run` on the demo is timed end to end beside its floor (starting one
kernel and importing the stack in it, which the pool of warm kernels pays once), then re-run
unchanged (every page reused, no kernel) and after a codebook edit (only the codebook's readers
run). Figures are measured, never asserted: this prints them and writes them down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STUDIES = HERE / "studies"

STAGES = [
    "read and validate",
    "transcripts",
    "score",
    "reliability",
    "comparisons",
    "robustness models",
    "agreement",
    "theme coding",
    "quotes and sentiment",
    "inter-coder agreement",
    "company summary",
]


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
    instruments = timed(
        "read and validate", lambda: [study.load_instrument(r, root) for r in config["instruments"]]
    )
    codebook = timed("read and validate", study.load_codebook, config["codebook"], root)
    decisions = timed(
        "read and validate", study.load_decision_table, config["decision_table"], root
    )
    log = QualityLog()
    respondents = timed("read and validate", study._read_respondents, root, config, log)
    responses, open_answers = timed(
        "read and validate", study._read_survey, root, config, instruments, respondents, log
    )
    ivs, turns = timed("transcripts", study._read_interviews, root, config, respondents, log)
    manual = timed("transcripts", study._read_manual_codes, root, config, turns, codebook, log)
    scores = timed("score", study.score_all, responses, instruments)
    s = study.Study(
        "bench",
        "bench",
        root,
        config,
        instruments,
        respondents,
        responses,
        scores,
        ivs,
        turns,
        manual,
        open_answers,
        codebook,
        decisions,
        log,
        {},
    )
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
    return {
        "size": size,
        "companies": int(respondents["company_id"].nunique()),
        "respondents": len(respondents),
        "interviews": len(ivs),
        "segments": int((~turns["is_interviewer"]).sum()),
        "stages": times,
        "total": sum(times.values()),
        "peak_mb": peak_kib / 1024,
    }


def median(values) -> float:
    return statistics.median(values)


def floor_seconds(repeat: int) -> list[float]:
    """Start one kernel and import the stack in it (what the pool's kernels do once), then shut it
    down."""
    from jupyter_client.manager import start_new_kernel

    from research.run.kernels import WARM_UP

    costs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3")
        reply = kc.execute_interactive(WARM_UP, timeout=120, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        km.shutdown_kernel(now=True)
        kc.stop_channels()
        costs.append(time.perf_counter() - t0)
    return costs


def research_run(folder: Path, *options: str, study: Path | None = None) -> tuple[float, list[str]]:
    """``research run`` as a person types it, with ``folder/report`` and ``folder/processed``;
    (seconds, lines)."""
    cmd = [
        sys.executable,
        "-m",
        "research.cli",
        "run",
        *([str(study)] if study else []),
        "--out",
        str(folder / "report"),
        "--processed",
        str(folder / "processed"),
        *options,
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return time.perf_counter() - t0, done.stdout.splitlines()


def which(lines: list[str], word: str) -> list[str]:
    """The notebooks a run's progress lines say ``started`` (or ``reused``), in report order."""
    found = {
        m.group(2): int(m.group(1))
        for line in lines
        if (m := re.match(rf"\[(\d+)/\d+\] (\S+) {word}\b", line))
    }
    return sorted(found, key=found.get)


def codebook_study(folder: Path) -> Path:
    """The demo study with its codebook as a file of its own (``codebook.yaml``), to edit."""
    from importlib import resources

    from research.paths import demo_study

    root = folder / "study"
    shutil.copytree(demo_study(), root)
    (root / "codebook.yaml").write_bytes(
        resources.files("research.builtin").joinpath("codebooks", "default.yaml").read_bytes()
    )
    text = (root / "study.yaml").read_text("utf-8")
    (root / "study.yaml").write_text(
        text.replace("codebook: builtin:default", "codebook: codebook.yaml"), "utf-8"
    )
    return root


def run_section(repeat: int) -> tuple[list[str], list[str]]:
    """Time `research run` on the demo: a first run against its floor, an unchanged re-run, a
    codebook edit. Returns the lines for results.md and the goals' lines."""
    from research.run.fingerprint import reads_of
    from research.run.pipeline import default_jobs, kernel_stderr_to, list_notebooks

    with kernel_stderr_to(Path(tempfile.mkdtemp()) / "kernels.log"):  # kernels' transport warnings
        floors = floor_seconds(repeat)
    floor = median(floors)
    first, rerun, edited, seconds = [], [], [], {}
    ran_unchanged, runs_edited = set(), []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp())
        elapsed, _lines = research_run(folder)  # nothing kept: every notebook runs
        first.append(elapsed)
        seconds = json.loads((folder / "processed" / "notebook_seconds.json").read_text("utf-8"))
        elapsed, lines = research_run(folder)  # nothing changed
        rerun.append(elapsed)
        ran_unchanged |= set(which(lines, "started"))
        shutil.rmtree(folder, ignore_errors=True)
    folder = Path(tempfile.mkdtemp())
    study = codebook_study(folder)
    research_run(folder, study=study)
    for n in range(repeat):  # a new pattern each time: the codebook's readers run again
        text = (study / "codebook.yaml").read_text("utf-8")
        edit = text.replace('"short-term",', f'"short-term", "bench edit {n}",', 1)
        assert edit != text
        (study / "codebook.yaml").write_text(edit, "utf-8")
        elapsed, lines = research_run(folder, study=study)
        edited.append(elapsed)
        runs_edited.append((which(lines, "started"), which(lines, "reused")))
    shutil.rmtree(folder, ignore_errors=True)
    readers = [p.stem for p in list_notebooks() if "codebook" in reads_of(p).specs]
    same = all(run == runs_edited[0] for run in runs_edited)
    ran_edited, reused_edited = runs_edited[0] if same else (["differs from run to run"], [])
    full, again, after_edit = median(first), median(rerun), median(edited)
    jobs = min(default_jobs(), len(seconds) or 1)
    bound = max(max(seconds.values(), default=0), sum(seconds.values()) / jobs)

    def times(values):
        return ", ".join(f"{v:.1f}" for v in values)

    lines = [
        "## `research run` on the demo\n",
        f"Each figure is the median of {repeat} runs (each run's time in brackets).\n",
        f"- floor: one kernel started with the stack imported ({len(list_notebooks())} notebooks, "
        f"a pool of {min(default_jobs(), len(list_notebooks()))} warm kernels, {pool_kind()}): "
        f"**{floor:.2f} s** ({times(floors)})",
        f"- `research run`, first run (nothing kept), end to end: **{full:.2f} s** = "
        f"{full / floor:.2f} × the floor ({times(first)})",
        "- each notebook's own time in the pooled run (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(seconds.items())),
        f"- what the notebooks' own times allow: the floor + max(longest notebook, all of them / "
        f"{jobs} kernels) = {floor:.2f} + {bound:.2f} = **{floor + bound:.2f} s**; the run is "
        f"{full - floor - bound:.2f} s above "
        "that (reading the study, exporting pages, starting up)",
        f"- re-run with nothing changed: **{again:.2f} s** = {again / full:.2f} × the first run "
        f"({times(rerun)}); "
        f"notebooks executed: {', '.join(sorted(ran_unchanged)) or 'none'} (no kernel started)",
        f"- re-run after a codebook edit: **{after_edit:.2f} s** = {after_edit / full:.2f} × "
        f"the first run ({times(edited)}); each time executed: {', '.join(ran_edited)}; "
        f"reused: {', '.join(reused_edited)}",
        "",
    ]
    goals = [
        f"- `research run` within 2.5 × the floor: {full:.2f} s against 2.5 × {floor:.2f} s = "
        f"{2.5 * floor:.2f} s: "
        f"{'met' if full <= 2.5 * floor else 'NOT met'}.",
        f"- unchanged re-run at most 0.25 × the first run: {again:.2f} s against "
        f"0.25 × {full:.2f} s = {0.25 * full:.2f} s: "
        f"{'met' if again <= 0.25 * full and not ran_unchanged else 'NOT met'}.",
        f"- after a codebook edit only the codebook's readers ({', '.join(readers)}) run again: "
        f"{'met' if same and ran_edited == readers else 'NOT met'} "
        f"(executed: {', '.join(ran_edited)}).",
    ]
    return lines, goals


def pool_kind() -> str:
    """How this machine's runs start their kernels (research.run.forkserver)."""
    from research.run import forkserver

    if forkserver.available():
        return "forked from one process that imported the stack once"
    return "each started and importing the stack itself"


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = cpu
    load = ", ".join(
        f"{x:.1f}" for x in os.getloadavg()
    )  # other work on the machine skews every figure
    return (
        f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average (1, 5, 15 min) at the end: {load}"
    )


def write_study(size: float) -> Path:
    """The study of ``size`` in benchmarks/studies/ (written once, atomically, then reused)."""
    folder = STUDIES / f"x{size:g}"
    if not (folder / "study.yaml").is_file():
        from research.run.demo import write_demo

        tmp = STUDIES / f".x{size:g}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        t0 = time.perf_counter()
        write_demo(tmp, size=size, seed=2026)
        tmp.rename(folder)
        print(f"wrote the {size:g}x study in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def measure_size(size: float, repeat: int) -> dict:
    """``one_size`` in ``repeat`` processes of their own; each stage's, the total's and the peak's
    median."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = dict(runs[0])
    result["stages"] = {k: median([r["stages"][k] for r in runs]) for k in runs[0]["stages"]}
    result["total"] = median([r["total"] for r in runs])
    result["totals"] = [r["total"] for r in runs]
    result["peak_mb"] = median([r["peak_mb"] for r in runs])
    result["peaks"] = [r["peak_mb"] for r in runs]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 10, 100, 1000])
    parser.add_argument(
        "--repeat", type=int, default=3, help="times each figure is measured (the median is kept)"
    )
    parser.add_argument(
        "--repeat-largest",
        type=int,
        default=None,
        help="times the largest size is measured (default: --repeat)",
    )
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip-run", action="store_true", help="do not time `research run` and its floor"
    )
    parser.add_argument(
        "--run-only", action="store_true", help="only time `research run`; print, write nothing"
    )
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one)))
        return 0
    if args.run_only:
        lines, goals = run_section(args.repeat)
        print("\n".join(lines + goals))
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    results = []
    load_before = os.getloadavg()
    for size in args.sizes:
        write_study(size)
        repeat = (
            args.repeat_largest if size == max(args.sizes) and args.repeat_largest else args.repeat
        )
        results.append(measure_size(size, repeat))
        r = results[-1]
        print(
            f"{size:g}x: {r['total']:.2f} s "
            f"(median of {', '.join(f'{t:.2f}' for t in r['totals'])}), "
            f"peak {r['peak_mb']:.0f} MB",
            flush=True,
        )
    lines = [
        "# Benchmark results\n",
        f"Machine: {machine()}, when the measuring began: "
        f"{', '.join(f'{x:.1f}' for x in load_before)} (other engineers' tests share the machine). "
        "Command: `make bench` (`python benchmarks/run.py`).\n",
        "## The analysis, stage by stage (seconds, one process, imports excluded)\n",
        f"Each size in processes of its own, {args.repeat} times (the largest "
        f"{args.repeat_largest or args.repeat}); the medians.\n",
    ]
    header = (
        "| stage | "
        + " | ".join(f"{r['size']:g}x" for r in results)
        + " | "
        + " | ".join(
            f"{b['size']:g}x/{a['size']:g}x" for a, b in zip(results, results[1:], strict=False)
        )
        + " |"
    )
    lines += [header, "|" + "---|" * (1 + 2 * len(results) - 1)]
    worst: dict[tuple, tuple[float, str]] = {}
    for stage in STAGES:
        cells = [f"{r['stages'].get(stage, 0):.3f}" for r in results]
        ratios = []
        for a, b in zip(results, results[1:], strict=False):
            ta, tb = a["stages"].get(stage, 0), b["stages"].get(stage, 0)
            ratio = tb / ta if ta > 0 else float("nan")
            scale = b["size"] / a["size"]
            # Tiny stages are dominated by fixed costs; growth is judged where the larger run takes
            # 0.05 s or more.
            limit = 12 if scale == 10 and b["size"] == 1000 else scale
            ok = ratio <= limit or tb < 0.05
            key = (a["size"], b["size"])
            if tb >= 0.05 and ratio > worst.get(key, (0, ""))[0]:
                worst[key] = (ratio, stage)
            ratios.append(f"{ratio:.1f}{'' if ok else ' (!)'}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    lines.append(
        "| **total** | "
        + " | ".join(f"**{r['total']:.2f}**" for r in results)
        + " | "
        + " | ".join(
            f"{b['total'] / a['total']:.1f}" for a, b in zip(results, results[1:], strict=False)
        )
        + " |"
    )
    lines.append(
        "| peak memory (MB) | "
        + " | ".join(f"{r['peak_mb']:.0f}" for r in results)
        + " |"
        + " |" * (len(results) - 1)
    )
    lines.append(
        "| companies / respondents / interviews | "
        + " | ".join(f"{r['companies']} / {r['respondents']} / {r['interviews']}" for r in results)
        + " |"
        + " |" * (len(results) - 1)
    )
    lines.append("")
    lines.append(
        "Each size's total, run by run (s): "
        + "; ".join(f"{r['size']:g}x {', '.join(f'{t:.2f}' for t in r['totals'])}" for r in results)
        + ".\n"
    )
    goals = []
    by_size = {r["size"]: r for r in results}
    if 100 in by_size:
        big = by_size[100]
        goals.append(
            f"- 100x analysis at most 10 s: **{big['total']:.2f} s**, "
            f"{'met' if big['total'] <= 10 else 'NOT met'}."
        )
        goals.append(
            f"- 100x peak memory at most 2 GB: **{big['peak_mb']:.0f} MB**, "
            f"{'met' if big['peak_mb'] <= 2048 else 'NOT met'}."
        )
    for a, b in zip(results, results[1:], strict=False):
        if b["size"] == 1000 and a["size"] == 100:
            ratio, stage = worst.get((100, 1000), (float("nan"), ""))
            total = b["total"] / a["total"]
            goals.append(
                f"- 1,000x: growth from 100x to 1,000x within 12x: the whole analysis "
                f"{total:.1f}x, the steepest stage ({stage}) {ratio:.1f}x: "
                f"{'met' if total <= 12 and ratio <= 12 else 'NOT met'}."
            )
            goals.append(
                f"- 1,000x: the whole analysis within 4 GB: peak **{b['peak_mb']:.0f} MB**: "
                f"{'met' if b['peak_mb'] <= 4096 else 'NOT met'}."
            )
    small = [(a, b) for a, b in zip(results, results[1:], strict=False) if b["size"] <= 100]
    if small:
        ok = all(
            worst.get((a["size"], b["size"]), (0, ""))[0] <= b["size"] / a["size"] for a, b in small
        )
        goals.append(
            f"- up to 100x, 10x the data costs at most 10x the time at each stage "
            f"(stages under 0.05 s excepted): {'met' if ok else 'NOT met (see (!))'}."
        )
    if not args.skip_run:  # the analysis' figures are written first, so a failure here keeps them
        (HERE / "results.md").write_text("\n".join(lines + ["## Goals\n"] + goals + [""]), "utf-8")
        run_lines, run_goals = run_section(args.repeat)
        lines += run_lines
        goals += run_goals
    lines += ["## Goals\n"] + goals + [""]
    text = "\n".join(lines)
    (HERE / "results.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
