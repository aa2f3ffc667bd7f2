"""Runs inside a pooled kernel: import the stack once, then give every notebook a fresh start.

``research.run.kernels`` starts each kernel of the pool with ``warm_up()`` and calls ``fresh()``
before every notebook. Only the modules stay loaded (that is the point: the imports cost more than
the analysis); the notebook's namespace, its figures and matplotlib's settings are those of a new
kernel.
"""

from __future__ import annotations

import importlib

# The stack, then the modules the package imports lazily inside its functions; warm_up() adds every
# module of the package's analysis, report and inputs layers (what the notebooks use). The first is
# imported first, as the notebooks do, so that matplotlib's inline backend and the package's figure
# style are set up exactly as in a new kernel.
STACK = [
    "research.report.figures",
    "pandas",
    "numpy",
    "scipy",
    "scipy.stats",
    "scipy.optimize",
    "statsmodels.miscmodels.ordinal_model",
    "statsmodels.multivariate.factor",
    "statsmodels.stats.power",
    "statsmodels.stats.inter_rater",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "pingouin",
    "krippendorff",
    "vaderSentiment.vaderSentiment",
    "IPython.display",
]
LAYERS = ["research.inputs", "research.analysis", "research.report"]

_style: dict | None = None  # matplotlib's settings right after the stack was imported


def warm_up(modules: list[str] | None = None) -> list[str]:
    """Import ``modules`` (default: :data:`STACK`) and remember matplotlib's settings; returns what
    is missing."""
    global _style
    missing = []
    for name in modules or [*STACK, *_package_modules()]:
        try:
            importlib.import_module(name)
        except ImportError:  # a notebook that needs it will say so itself
            missing.append(name)
    import gc

    import matplotlib

    _style = dict(matplotlib.rcParams)
    # The imported modules live as long as the kernel: moved out of the collector's reach, they are
    # not scanned again by every full collection (IPython's reset before each notebook runs one,
    # about 0.1 s over the whole stack; afterwards it scans only what notebooks made).
    gc.collect()
    gc.freeze()
    return missing


def _package_modules() -> list[str]:
    import pkgutil

    names = []
    for layer in LAYERS:
        package = importlib.import_module(layer)
        names += [f"{layer}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return names


#: A kernel's memory may grow by this much (MB) before the reset between notebooks collects the
#: previous notebooks' garbage cycles (see :func:`_reset`).
COLLECT_AFTER_MB = 256
_collected_at_mb: float | None = None  # the kernel's resident memory after its last collection


def _reset(shell) -> None:
    """IPython's ``reset`` (user namespace, output history, execution counter), with its full
    garbage collection only once the kernel has grown by :data:`COLLECT_AFTER_MB` since the last.

    The namespace's objects are freed by reference counting either way; the full collection frees
    the reference cycles a notebook leaves (matplotlib's figures, lxml trees), about 10 MB on the
    demo, and costs up to 0.13 s a notebook, so on a small study it is work spent on memory the
    run ends before needing. Python's own collector still runs as usual meanwhile.
    """
    import gc

    import psutil

    global _collected_at_mb
    resident = psutil.Process().memory_info().rss / 2**20
    if _collected_at_mb is None or resident - _collected_at_mb >= COLLECT_AFTER_MB:
        shell.reset(new_session=True)
        _collected_at_mb = psutil.Process().memory_info().rss / 2**20
        return
    collect, gc.collect = gc.collect, (lambda *args, **kwargs: 0)
    try:
        shell.reset(new_session=True)
    finally:
        gc.collect = collect


def fresh(seed: int | None = None, reset: bool = True) -> None:
    """Start a notebook afresh: an empty namespace (IPython ``reset``), no open figure, the
    package's style.

    Every notebook seeds its own generators from its ``seed`` parameter; numpy's and Python's global
    random states, which some plots draw from (seaborn's strip-plot jitter), are seeded here with
    the same ``seed`` so that a report is the same from run to run. ``reset=False`` only seeds (a
    new kernel).
    """
    import random

    import numpy as np

    if reset:
        import matplotlib
        import matplotlib.pyplot as plt
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            _reset(shell)
        plt.close("all")
        matplotlib.rcdefaults()
        if _style is not None:
            matplotlib.rcParams.update(_style)  # the package's own style, as its import set it
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed % 2**32)
