"""The pool of warm kernels: a fresh namespace for every notebook, errors in one line, no kernel
left over.

Small notebooks written here stand in for the analysis notebooks, so these tests cost a few kernel
starts.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from research.run import pipeline
from research.run.kernels import KernelPool, parameterize

from .conftest import DEMO

pytestmark = pytest.mark.slow


def notebook(folder: Path, name: str, *codes: str, title: str | None = None) -> Path:
    """A notebook with a title, a ``parameters`` cell (as the real ones) and ``codes`` as code
    cells."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "study_dir = None\nprocessed_dir = None\nout_dir = None\nalpha = 0.05\nseed = 1"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title or name}"),
        params,
        *map(nbformat.v4.new_code_cell, codes),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def outputs(nb) -> list[str]:
    """The lines the notebook printed."""
    text = "".join(
        o.get("text", "")
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    return text.splitlines()


def test_a_name_defined_in_one_notebook_is_not_visible_in_the_next_in_the_same_kernel(tmp_path):
    first = notebook(
        tmp_path,
        "01-first",
        "leaked = 42\nimport os\nprint(os.getpid())",
        "import matplotlib, matplotlib.pyplot as plt\nmatplotlib.rcParams['lines.linewidth'] = 9\n"
        "fig = plt.figure()\nimport numpy as np\nprint(np.random.random())",
    )
    second = notebook(
        tmp_path,
        "02-second",
        "import os\nprint(os.getpid())\nprint('leaked' in dir(), 'fig' in dir())",
        "import matplotlib, matplotlib.pyplot as plt\n"
        "print(plt.get_fignums(), matplotlib.rcParams['lines.linewidth'])\n"
        "import numpy as np\nprint(np.random.random())",
    )
    with KernelPool(
        1, tmp_path, seed=7
    ) as pool:  # one kernel: the second notebook runs where the first ran
        one, _ = pool.submit(parameterize(first, {"seed": 7}), first.name).result(120)
        two, _ = pool.submit(parameterize(second, {"seed": 7}), second.name).result(120)
    assert _kernel_children() == []  # shut down on leaving the pool
    pid_one, random_one = outputs(one)[0].strip(), outputs(one)[1].strip()
    pid_two, visible, figures, random_two = [line.strip() for line in outputs(two)]
    assert pid_one == pid_two  # the same kernel ...
    assert visible == "False False"  # ... with an empty namespace,
    assert figures.startswith("[]") and not figures.endswith(
        " 9.0"
    )  # no open figure, matplotlib's style restored
    assert random_one == random_two  # and the global random state seeded alike before each notebook
    injected = [c for c in two.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert (
        len(injected) == 1
        and injected[0].source.startswith("# Parameters")
        and "seed = 7" in injected[0].source
    )


def _kernel_children() -> list[int]:
    """Kernel processes (and kernel templates) descended from this process and still running."""
    parents, names = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)], names[int(stat.parent.name)] = int(fields[1]), cmdline
    found = []
    for pid, cmdline in names.items():
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, os.getpid()):
            ancestor = parents.get(ancestor)
        if ancestor == os.getpid() and (b"ipykernel" in cmdline or b"forkserver" in cmdline):
            found.append(pid)
    return found


def test_a_failing_notebook_fails_the_run_in_one_line_keeps_the_report_and_stops_every_kernel(
    tmp_path, monkeypatch, capsys
):
    from research import cli

    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("the previous report")
    good = notebook(tmp_path, "01-good", "import time\ntime.sleep(1)")
    bad = notebook(tmp_path, "02-bad", "x = 1", "raise KeyError('no such column')")
    slow = notebook(tmp_path, "03-slow", "import time\ntime.sleep(60)")
    monkeypatch.setattr(pipeline, "list_notebooks", lambda folder=None: [good, bad, slow])
    code = cli.main(
        [
            "run",
            str(DEMO),
            "--out",
            str(report),
            "--processed",
            str(tmp_path / "processed"),
            "--jobs",
            "3",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines() == [
        "research: failed: notebook 02-bad.ipynb failed: KeyError: 'no such column' "
        "(cell 4) (no report was written; any previous report is unchanged)"
    ]
    assert "[2/3] 02-bad started" in out and "[2/3] 02-bad failed" in out
    assert (report / "index.html").read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["01-good.ipynb", "02-bad.ipynb", "03-slow.ipynb", "report", "processed"]
    )
    assert _kernel_children() == []  # the slow notebook's kernel was stopped too


def test_keyboard_interrupt_stops_every_kernel_and_keeps_the_previous_report(tmp_path):
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("the previous report")
    runtime = tmp_path / "runtime"  # kernels' connection files: the way to find them afterwards
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "research.cli",
            "run",
            str(DEMO),
            "--out",
            str(report),
            "--processed",
            str(tmp_path / "processed"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C reaches a process started from a shell with SIGINT's default disposition; a test
        # process may have inherited another (an ignored SIGINT is inherited across exec)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if " started" in line:
                break
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    ignored = [s for s in Path("/proc/self/status").read_text().splitlines() if "SigIgn" in s]
    assert proc.returncode == 1, (err, "".join(seen) + out, ignored)
    assert "interrupted" in err
    assert (report / "index.html").read_text() == "the previous report"
    time.sleep(0.5)
    leftover = [  # kernels started (cmdline) or forked (environment) for this run
        p
        for p in Path("/proc").glob("[0-9]*")
        if str(runtime).encode() in _read(p / "cmdline") + _read(p / "environ")
    ]
    assert leftover == []
    assert not list(runtime.glob("kernel-*.json"))  # connection files cleaned up too


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone meanwhile, or another user's
        return b""


def test_the_pool_sets_its_environment_variables_in_every_kernel(tmp_path):
    path = notebook(tmp_path, "01-env", "import os\nprint(os.environ.get('RESEARCH_TEST_ENV'))")
    with KernelPool(2, tmp_path, env={"RESEARCH_TEST_ENV": "set by the pool"}) as pool:
        futures = [pool.submit(parameterize(path, {}), path.name) for _ in range(2)]
        printed = [outputs(f.result(120)[0]) for f in futures]
    assert printed == [["set by the pool"], ["set by the pool"]]
    assert "RESEARCH_TEST_ENV" not in os.environ  # this process's own environment is untouched


STATE = """\
import json, os, sys
import matplotlib
from IPython import get_ipython
from research.run import warm
shell = get_ipython()
print(json.dumps({
    "rc": {k: repr(v) for k, v in matplotlib.rcParams.items()},
    "style": {k: repr(v) for k, v in (warm._style or {}).items()},
    "events": {k: [getattr(f, "__qualname__", repr(f)) for f in v]
               for k, v in shell.events.callbacks.items()},
    "png": sorted(map(repr, shell.display_formatter.formatters["image/png"].type_printers)),
    "modules": sorted(m for m in sys.modules if m.startswith(("matplotlib", "ipykernel"))),
    "cwd": os.getcwd(),
    "argv": [os.path.basename(sys.argv[0]), *sys.argv[1:2]],
}))
print(os.getpid(), os.getppid())
"""


def _state(tmp_path: Path, fork: bool) -> tuple[dict, int, int]:
    import json

    path = notebook(tmp_path, "01-state", STATE)
    with KernelPool(1, tmp_path, fork=fork) as pool:
        printed = outputs(pool.submit(parameterize(path, {}), path.name).result(120)[0])
        forked = pool._template is not None
    assert forked == fork
    pid, parent = map(int, printed[1].split())
    return json.loads(printed[0]), pid, parent


forking = pytest.mark.skipif(
    not __import__("research.run.forkserver", fromlist=["available"]).available(),
    reason="kernels are forked on Linux only",
)


@forking
def test_a_forked_kernel_is_set_up_as_a_started_one_and_ends_with_the_pool(tmp_path):
    forked, pid, parent = _state(tmp_path, fork=True)
    assert _kernel_children() == []  # the kernel and its template are gone with the pool
    started, _, started_parent = _state(tmp_path, fork=False)
    assert started_parent == os.getpid() and parent not in (os.getpid(), pid)  # from a template
    assert forked["cwd"] == started["cwd"] == str(tmp_path)
    assert forked["argv"] == started["argv"] == ["ipykernel_launcher.py", "-f"]
    for part in ("rc", "style", "events", "png"):
        assert forked[part] == started[part], part
    # the template imports more of ipykernel ahead, and nothing of matplotlib's backends
    assert set(started["modules"]) <= set(forked["modules"])
    assert not [m for m in forked["modules"] if m.startswith("matplotlib.backends.backend_")]


@forking
def test_a_pool_whose_template_cannot_start_starts_its_kernels_itself(tmp_path, monkeypatch):
    from research.run import forkserver

    monkeypatch.setattr(
        forkserver, "template_command", lambda address: [sys.executable, "-c", "exit(3)"]
    )
    path = notebook(tmp_path, "01-pid", "import os\nprint(os.getppid())")
    with KernelPool(2, tmp_path, fork=True) as pool:
        parents = [outputs(pool.submit(parameterize(path, {}), "x").result(120)[0]) for _ in "ab"]
        assert pool._template is None
    assert parents == [[str(os.getpid())]] * 2
    assert _kernel_children() == []


@forking
def test_forked_kernels_end_when_their_template_is_killed(tmp_path):
    path = notebook(tmp_path, "01-pid", "import os\nprint(os.getpid())")
    with KernelPool(1, tmp_path, fork=True) as pool:
        kernel = int(outputs(pool.submit(parameterize(path, {}), "x").result(120)[0])[0])
        os.kill(pool._template.pid, signal.SIGKILL)
        for _ in range(100):  # ipykernel's parent poller looks once a second
            if not Path(f"/proc/{kernel}").exists() or _zombie(kernel):
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{kernel}").exists() or _zombie(kernel)
    assert _kernel_children() == []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@forking
def test_a_forked_process_is_polled_signalled_and_waited_for_by_its_id():
    from research.run.forkserver import ForkedProcess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watched = ForkedProcess(child.pid)
        assert watched.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            watched.wait(timeout=0.1)
        watched.terminate()
        child.wait(10)  # the real parent reaps it, as the template reaps its kernels
        assert watched.wait(timeout=10) == 0 and watched.poll() == 0
        watched.kill()  # an ended process is never signalled (its id may be another's by now)
    finally:
        child.kill()
        child.wait()


def test_the_kernels_start_survives_a_garbage_collection_while_it_waits(tmp_path):
    """asyncio holds tasks weakly: the pool must hold its start, or a collection while a kernel is
    being forked destroys it ("Task was destroyed but it is pending!")."""
    import gc

    path = notebook(tmp_path, "01-gc", "print('ok')")
    with KernelPool(2, tmp_path) as pool:
        for _ in range(60):  # while the template imports the stack and the kernels are forked
            gc.collect()
            time.sleep(0.05)
        printed = [outputs(pool.submit(parameterize(path, {}), "x").result(120)[0]) for _ in "ab"]
    assert printed == [["ok"], ["ok"]]
