"""Kernels forked from one process that has already imported the stack.

Starting a Python kernel and importing the scientific stack in it costs about 2 CPU-seconds, and a
pool of one kernel per core pays that once per kernel. Here one *template* process (this module run
as a script) imports ipykernel and the stack once (:func:`research.run.warm.warm_up`) and then
waits; each kernel of the pool is an ``os.fork()`` of it, ready about 0.2 s after the template,
instead of importing the stack again while the others do the same on the same cores.

A forked child is an ordinary ipykernel (``IPKernelApp`` with the connection file that
jupyter_client wrote): jupyter_client drives it through :class:`ForkProvisioner`, a
``LocalProvisioner`` that asks the template for a kernel instead of starting a process, and
signals, polls and kills the child by its process id. Each child starts a session of its own (so
an interrupt reaches its process group only) and takes the environment jupyter_client gives a
kernel.

The template listens on a Unix socket inside a folder only this user can enter (``mkdtemp``).

Lifetimes: the template exits when the process that started it closes its standard input (or
dies), and kills its kernels then; a kernel exits when the template is gone (ipykernel's parent
poller, through ``JPY_PARENT_PID``).

Linux only (:func:`available`); elsewhere, and whenever the template cannot start, the pool starts
its kernels as separate processes as before.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

READY = "ready"


def available() -> bool:
    """Whether kernels are forked here: on Linux only. macOS has ``fork`` too, but its system
    libraries (Accelerate, which numpy may use for linear algebra, and the Objective-C runtime) are
    not safe to use in a forked child."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "AF_UNIX")


def template_command(address: Path) -> list[str]:
    """The command that starts a template listening at ``address`` (a Unix socket's path)."""
    return [sys.executable, "-m", "research.run.forkserver", str(address)]


def _prepare() -> None:
    """Import ipykernel and the stack, with matplotlib's backend chosen as ipykernel chooses it."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import ipykernel.ipkernel  # noqa: F401  (what a kernel imports when it starts)
    import ipykernel.kernelapp  # noqa: F401

    from research.run import warm

    warm.warm_up()


def _become_kernel(request: dict, stream, connection: socket.socket) -> None:
    """In the forked child: the environment, folder and session of a new kernel, then the kernel.

    The child answers the pool itself (its process id on ``stream``, then closes ``connection``)
    once its sockets are bound, so
    that the pool's client connects at once instead of retrying until they are (ZeroMQ retries
    every 0.1 s and a subscriber that joins late misses the kernel's first messages).
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    os.environ.clear()
    os.environ.update(request["env"])
    parent = os.getppid()  # the template: the kernel ends when it is gone (ipykernel's poller)
    os.environ["JPY_PARENT_PID"] = str(parent)
    os.chdir(request["cwd"])
    from ipykernel.kernelapp import IPKernelApp

    # parent_handle's default was read from the environment when the template imported ipykernel
    argv = ["-f", request["connection_file"], f"--IPKernelApp.parent_handle={parent}"]
    import importlib.util

    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher else "ipykernel_launcher", *argv[:2]]  # as if started
    import numpy as np

    np.random.seed()  # numpy's global generator from fresh entropy, as in a started kernel
    app = IPKernelApp.instance()  # what IPKernelApp.launch_instance does, with the answer between
    app.initialize(argv)
    stream.write(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    stream.close()
    connection.close()
    app.start()


def _fork_kernel(connection: socket.socket, listener: socket.socket, children: set) -> None:
    """Read one request and fork a kernel for it (which answers with its process id)."""
    with connection, connection.makefile("rwb") as stream:
        request = json.loads(stream.readline())
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                listener.close()
                _become_kernel(request, stream, connection)
            except BaseException:  # noqa: BLE001 - a child must never return into the server loop
                code = 1
            finally:
                os._exit(code)
        children.add(pid)


def _reap(children: set) -> None:
    """Collect every kernel that ended, known yet or not (one can end before its fork returns):
    a zombie's process id would still look alive to a poll."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child left
            return
        if not pid:
            return
        children.discard(pid)


def serve(address: Path) -> None:
    """Prepare, listen at ``address``, say ``ready`` on stdout, fork a kernel per request; end when
    stdin closes, once the kernels are killed and gone."""
    import selectors

    _prepare()
    children: set[int] = set()
    signal.signal(signal.SIGCHLD, lambda *_: _reap(children))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(address))
    listener.listen()
    print(READY, flush=True)
    os.dup2(2, 1)  # the kernels' own stdout goes where their stderr goes, not into the pool's pipe
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    try:
        while True:
            for key, _ in selector.select(timeout=1.0):
                if key.fileobj is listener:
                    _fork_kernel(listener.accept()[0], listener, children)
                elif not sys.stdin.buffer.read1(1024):  # the pool closed our stdin: its end
                    return
    finally:
        _end_kernels(children)
        listener.close()


def _end_kernels(children: set) -> None:
    """Kill the kernels still running and wait until they are gone (so that once the template has
    ended, no kernel of its runs)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


class ForkedProcess:
    """A forked kernel as jupyter_client's provisioner handles a ``Popen``: poll, wait, signal.

    The kernel is the template's child, not ours, so it is watched through a pidfd where Linux has
    one (else by ``kill(pid, 0)``), and signalled only while that says it is alive: through the
    pidfd itself here, through its process group by :func:`provisioner` (as jupyter_client signals
    any kernel), a group that cannot be another's while its leader lives.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux, or a kernel already gone
            self._pidfd = None

    def poll(self) -> int | None:
        if self.returncode is None and not self._alive():
            self.returncode = 0  # the template, its parent, knows the status; no caller needs it
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def _alive(self) -> bool:
        if self._pidfd is not None:
            import select

            return not select.select([self._pidfd], [], [], 0)[0]  # readable once it has ended
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def wait(self, timeout: float | None = None) -> int:
        import subprocess
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signum)
            else:
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def provisioner(km, address: Path):
    """A jupyter_client provisioner for ``km`` that forks its kernel from the template at
    ``address``."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs):
            import asyncio

            request = {
                "connection_file": self.parent.connection_file,
                "cwd": str(kwargs.get("cwd") or os.getcwd()),
                "env": dict(kwargs.get("env") or os.environ),
            }
            reader, writer = await asyncio.open_unix_connection(str(address))
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            answer = await reader.readline()  # empty: the kernel failed before it could answer
            writer.close()
            if not answer:
                raise RuntimeError("the kernel template's kernel ended before it was ready")
            reply = json.loads(answer)
            self.process = ForkedProcess(reply["pid"])
            self.pid = self.pgid = reply["pid"]  # the kernel leads a session of its own
            self.cwd = request["cwd"]
            return self.connection_info

        async def wait(self) -> int | None:
            """As LocalProvisioner's, looking every 0.01 s instead of every 0.1 s."""
            import asyncio

            while self.process is not None and self.process.poll() is None:
                await asyncio.sleep(0.01)
            self.process = None
            return 0

        async def send_signal(self, signum: int) -> None:
            if self.process is not None and self.process.poll() is None:
                await super().send_signal(signum)  # its process group, as for any kernel

    return ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
    os._exit(0)  # nothing to flush or finalise: tearing the stack down would only delay the pool
