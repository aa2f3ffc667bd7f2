"""The reset between two notebooks in a pooled kernel (research.run.warm)."""

import gc

from research.run import warm


class Shell:
    """Stands in for IPython's shell: its ``reset`` ends with ``gc.collect()``, as IPython's."""

    def __init__(self):
        self.collected = []

    def reset(self, new_session=True):
        self.collected.append(gc.collect())


def garbage_cycle():
    cycle = []
    cycle.append(cycle)


def test_the_reset_collects_cycles_only_once_the_kernel_has_grown(monkeypatch):
    monkeypatch.setattr(warm, "_collected_at_mb", None)
    real_collect, shell = gc.collect, Shell()
    warm._reset(shell)  # the first reset collects and remembers the kernel's size
    garbage_cycle()
    warm._reset(shell)  # grown by less than COLLECT_AFTER_MB: the cycle is left for later
    monkeypatch.setattr(warm, "COLLECT_AFTER_MB", 0)
    warm._reset(shell)  # grown "enough": collected now
    assert shell.collected[1] == 0 and shell.collected[2] >= 1
    assert gc.collect is real_collect  # the real collector is back
    assert warm._collected_at_mb is not None and warm._collected_at_mb > 0
