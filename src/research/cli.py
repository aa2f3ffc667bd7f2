"""The command line: ``research run`` and ``research validate`` (SPEC §3-4).

Exit status: 0 on success, 2 for a fatal problem with the study's input (one message naming the
file and the column, row or key), 1 for any other failure.
"""

from __future__ import annotations

import argparse
import sys

from research import __version__

EPILOG = (
    "exit status: 0 success; 2 a fatal problem with the study's files (the message names the file\n"
    "and the column, row or key; nothing is written); 1 any other failure (the previous report is "
    "kept)."
)


STUDY_HELP = (
    "the study folder or its study.yaml, absolute or relative (default: the bundled demo study); "
    "nothing is ever written inside it"
)
OUTSIDE = (
    "under the study folder's parent instead when the current folder lies inside the study); "
    "a folder inside the study is refused (exit status 2)"
)


def _parser() -> argparse.ArgumentParser:
    """The ``research`` command line: the version option and one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="research",
        description="Compare how marketing and sales see their relationship: "
        "read a study folder, run the analysis notebooks and write HTML reports.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"research {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_validate(sub)
    _add_new(sub)
    return parser


def _add_run(sub) -> None:
    """The ``run`` sub-command and its options."""
    run = sub.add_parser(
        "run",
        help="read a study, execute every notebook on it and write the HTML reports",
        description="Read and check the study, write processed data, execute the ordered notebooks "
        "and export them as HTML with an index page.",
        epilog=EPILOG,
    )
    run.add_argument("study", nargs="?", help=STUDY_HELP)
    run.add_argument(
        "--out", help="report folder (default: reports/<slug> under the current folder; " + OUTSIDE
    )
    run.add_argument(
        "--processed",
        help="processed-data folder (default: data/processed/<slug> under the current folder; "
        + OUTSIDE,
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="kernels in the pool, i.e. notebooks executed at once "
        "(default: the number of cores, at least 2)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed for every random source (bootstrap intervals); default 2026",
    )
    run.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level used in the sentences; default 0.05",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="execute every notebook again, even those whose inputs "
        "are unchanged since their page was made (by default their kept pages are reused)",
    )
    run.add_argument("--quiet", action="store_true", help="print only errors")


def _add_validate(sub) -> None:
    """The ``validate`` sub-command and its options."""
    val = sub.add_parser(
        "validate",
        help="only read and check a study; write data_quality.csv",
        description="Read and check the study without analysing it. Writes data_quality.csv to "
        "OUT/tables/ (a scratch folder unless --out is given; only `research run` publishes a "
        "report) and prints a summary of the problems found and the file's path.",
        epilog=EPILOG,
    )
    val.add_argument("study", nargs="?", help=STUDY_HELP)
    val.add_argument(
        "--out",
        help="folder to write tables/data_quality.csv into (default: the scratch folder "
        "reports/_scratch/<slug> under the current folder; " + OUTSIDE,
    )


def _add_new(sub) -> None:
    """The ``new`` sub-command and its options."""
    new = sub.add_parser(
        "new",
        help="write a new, empty study folder to fill in",
        description="Write a new study folder: a commented study.yaml, respondents, survey and "
        "interviews templates whose columns are exactly those the instruments need, example "
        "transcripts and a README saying what to fill in. The folder must be new or empty.",
        epilog=EPILOG,
    )
    new.add_argument(
        "folder", help="the study folder to create, absolute or relative (new or empty)"
    )
    new.add_argument(
        "--instruments",
        nargs="+",
        metavar="REF",
        help="built-in names or instrument YAML paths "
        "(copied into the folder); default: builtin:smr builtin:perceptions",
    )
    new.add_argument("--name", help="the study's name (default: the folder's name)")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from research.errors import StudyError
    from research.paths import InsideStudyError

    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "new":
            return _new(args)
        if args.command == "run":
            return _run(args)
        raise AssertionError(f"no handler for the command {args.command!r}")
    except (StudyError, InsideStudyError) as exc:
        print(f"research: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("research: interrupted; the previous report is kept", file=sys.stderr)
        return 1
    except Exception as exc:  # anything else is a failure of the run, never a half-written report
        from research.run.kernels import NotebookFailed

        kept = (
            " (no report was written; any previous report is unchanged)"
            if args.command == "run"
            else ""
        )
        what = str(exc) if isinstance(exc, NotebookFailed) else f"{type(exc).__name__}: {exc}"
        print(f"research: failed: {what}{kept}", file=sys.stderr)
        return 1


def _run(args) -> int:
    from research.run.pipeline import run

    run(
        args.study,
        out=args.out,
        processed=args.processed,
        jobs=args.jobs,
        seed=args.seed,
        alpha=args.alpha,
        progress=None if args.quiet else _say,
        force=args.force,
    )
    return 0


def _say(line: str) -> None:
    print(line, flush=True)  # progress a person can follow, also through a pipe


def _validate(args) -> int:
    from research.inputs.study import read_study
    from research.paths import check_outside, output_base, scratch_reports, study_folder
    from research.report.tables import save_table

    root = study_folder(args.study)
    out = (
        check_outside(root, args.out, "--out", replaced=False) if args.out else None
    )  # only tables/ is written
    from research.inputs.study import missing_functions
    from research.report import prose

    study = read_study(root)
    out = out or scratch_reports(study.slug, output_base(root))
    quality = study.quality.frame()
    path = save_table(quality, out, "data_quality")
    counts = quality["problem"].value_counts()
    print(
        f"{study.name}: {len(study.respondents)} respondents, "
        f"{study.respondents['company_id'].nunique()} companies, {len(study.interviews)} "
        "interviews read."
    )
    if counts.empty:
        print("No data-quality problems found.")
    else:
        n = len(quality)
        print(
            f"{n} data-quality problem{'' if n == 1 else 's'}: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    warning = prose.one_side_terminal(missing_functions(study))
    if warning:
        print(f"research: {warning}", file=sys.stderr)
    print(f"wrote {path}")
    return 0


def _new(args) -> int:
    from research.run.scaffold import DEFAULT_INSTRUMENTS, new_study

    root = new_study(args.folder, args.instruments or DEFAULT_INSTRUMENTS, name=args.name)
    print(
        f"wrote the new study folder {root}; fill in respondents.csv first (its README.md says "
        f"how), then check it with: research validate {root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
