"""A pool of warm kernels that execute notebooks in turn (instead of one new kernel per notebook).

Starting a kernel and importing the scientific stack in it costs more than most notebooks' analysis,
so ``research run`` starts a few kernels once, with the stack imported
(:func:`research.run.warm.warm_up`), and executes the notebooks in them one after the other; before
each notebook the kernel is made fresh (:func:`research.run.warm.fresh`: an empty namespace, no
figure, the package's matplotlib style). Where it can, the pool imports the stack only once: its
kernels are forked from one process that did (:mod:`research.run.forkserver`).

Notebooks are parameterised exactly as papermill does (its ``parameterize_notebook``: an
``injected-parameters`` cell after the ``parameters`` cell) and executed by nbclient's
``NotebookClient`` driving the already-started kernel (given ``km`` and ``kc``, nbclient neither
starts nor stops it).

The kernels are driven from one asyncio loop in a background thread, so that the calling thread
stays free to export finished pages and to receive KeyboardInterrupt. Nothing here changes the
process's working directory: each kernel is started with ``cwd=`` (its own process), and every path
handed to a notebook is absolute. :meth:`KernelPool.close` shuts every kernel down, on every path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WARM_UP = "__import__('research.run.warm', fromlist=['warm_up']).warm_up()"
FRESH = "__import__('research.run.warm', fromlist=['fresh']).fresh({seed!r}, reset={reset!r})"


class NotebookFailed(RuntimeError):
    """A notebook raised an error: its name, the failing cell and the error, in one line."""

    def __init__(self, name: str, ename: str, evalue: str, cell: int | None, nb=None):
        self.name, self.ename, self.evalue, self.cell, self.nb = name, ename, evalue, cell, nb
        where = f" (cell {cell})" if cell is not None else ""
        first = (str(evalue).strip().splitlines() or [""])[0]
        super().__init__(f"notebook {name} failed: {ename}: {first}{where}")


def parameterize(path: Path, parameters: dict):
    """The notebook at ``path`` with ``parameters`` injected as papermill injects them."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(path))  # papermill's metadata and an empty tag list on every cell
    nb = parameterize_notebook(nb, parameters, report_mode=False)
    for (
        cell
    ) in nb.cells:  # papermill gives the injected cell a random id; a report is the same run to run
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
    return nb


@dataclass
class _Kernel:
    km: object
    kc: object


class _StartFailed:
    def __init__(self, exc: BaseException):
        self.exc = exc


class KernelPool:
    """``size`` kernels with the stack imported, executing notebooks in turn.

    Parameters
    ----------
    size : int
        Kernels started (notebooks executed at once).
    cwd : path-like
        The kernels' working folder (their own processes'; the caller's is never changed).
    reuse : bool
        False starts a new, cold kernel for every notebook and shuts it down after it (papermill's
        way; for comparison and for tests).
    kernel_name : str
        The Jupyter kernel spec.
    seed : int, optional
        Numpy's and Python's global random states are seeded with it before every notebook.
    stderr : file, optional
        Where the kernel processes' own stderr goes (transport warnings, shutdown notices); a
        notebook's errors reach the caller through :class:`NotebookFailed`.
    env : dict, optional
        Environment variables set in every kernel, beside this process's own.
    fork : bool, optional
        Fork the pool's kernels from one process that imported the stack once
        (:mod:`research.run.forkserver`) instead of starting each as a process of its own; the
        default does so where it can (Linux, the ipykernel kernel spec, ``reuse``) and falls back
        to separate processes when the forking process does not start.

    Use as a context manager: kernels start (in the background) on entry and are shut down on exit,
    whatever happened.
    """

    def __init__(
        self,
        size: int,
        cwd,
        reuse: bool = True,
        kernel_name: str = "python3",
        startup_timeout: float = 120,
        warm_up: str = WARM_UP,
        seed: int | None = None,
        stderr=None,
        env: dict[str, str] | None = None,
        fork: bool | None = None,
    ):
        self.size, self.cwd, self.reuse, self.kernel_name = (
            max(1, int(size)),
            str(cwd),
            reuse,
            kernel_name,
        )
        self.startup_timeout, self.warm_up, self.seed, self.stderr = (
            startup_timeout,
            warm_up,
            seed,
            stderr,
        )
        self.env = dict(env or {})
        self.fork = reuse and (fork if fork is not None else True)
        self._template = None  # the forking process, once started (research.run.forkserver)
        self._template_address: Path | None = None  # its socket, once it is ready
        self._template_folder: Path | None = None  # the folder of that socket
        self._template_watch = None  # its forkserver.ForkedProcess (a pidfd), to kill it last
        self._starting: concurrent.futures.Future | None = None  # the kernels' start
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="research-kernels", daemon=True
        )
        self._kernels: list[_Kernel] = []  # every kernel ever started, for shutdown
        self._futures: list[concurrent.futures.Future] = []
        self._idle: asyncio.Queue | None = None
        self._closed = False

    # -- the calling thread's side -----------------------------------------------------------------
    def __enter__(self) -> KernelPool:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the kernels in the background; notebooks submitted meanwhile wait for the first
        ready one."""
        # jupyter_client is imported by this thread, never by two threads at once: its modules
        # import each other, and two threads importing them at the same time can deadlock. The
        # pool's thread imports it at once unless it first waits for its template (about 2 s).
        forking = self._may_fork()
        if not forking:
            import jupyter_client.manager  # noqa: F401
        self._thread.start()
        if forking:
            import jupyter_client.manager  # noqa: F401, F811
        if self.reuse:
            # held: asyncio keeps only weak references to tasks, and a stream reader is held
            # weakly by its protocol, so a start waiting on its template's answer would otherwise
            # be garbage ("Task was destroyed but it is pending!") and fail with GeneratorExit
            self._starting = self._call(self._start_pool())

    def submit(
        self,
        nb,
        name: str,
        on_start: Callable[[], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> concurrent.futures.Future:
        """Execute ``nb`` (parameterised) in the next free kernel; the future gives ``(nb,
        seconds)``.

        Notebooks start in the order they are submitted. ``on_start`` and ``on_end`` are called (in
        the pool's thread) when the notebook begins in a kernel and when it has ended, failed or not
        (the future's result follows at once). A cell's error makes the future raise
        :class:`NotebookFailed`.
        """
        future = self._call(self._execute(nb, name, on_start, on_end))
        self._futures.append(future)
        return future

    def close(self, timeout: float = 30) -> None:
        """Cancel what has not run, shut every kernel down and stop the pool's thread
        (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for future in self._futures:
            future.cancel()
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown_all(), self._loop).result(timeout)
            except BaseException:  # noqa: BLE001 - the processes are killed below in any case
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        for kernel in self._kernels:  # last resort: no kernel outlives the run
            process = getattr(getattr(kernel.km, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(5)
        if self._template_watch is not None:  # its kernels die with it (ipykernel's parent poller)
            self._template_watch.kill()  # through the pidfd opened at its start: never a reused id
        if self._template_folder is not None:
            import shutil

            shutil.rmtree(self._template_folder, ignore_errors=True)
        if not self._thread.is_alive():
            self._loop.close()

    def _may_fork(self) -> bool:
        """Whether to start a template to fork kernels from: where forking works, for ipykernel's
        own kernel spec (``python3``; each kernel's spec is checked again, :func:`_forkable`).
        Looking a spec up would import jupyter_client before the template starts, and cost that
        much of the run's start."""
        from research.run import forkserver

        return self.fork and self.kernel_name == "python3" and forkserver.available()

    def _call(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # -- the pool's thread -------------------------------------------------------------------------
    async def _start_kernel(self, warm: bool, attempts: int = 3) -> _Kernel:
        """Start a kernel (and warm it up); a kernel that dies on start is tried again with new
        ports.

        jupyter_client picks free TCP ports by binding and releasing them, so kernels starting at
        the same moment in other processes can take one first; the kernel then dies before it
        answers.
        """
        import zmq

        for attempt in range(1, attempts + 1):
            try:
                return await self._start_one_kernel(warm)
            except (RuntimeError, TimeoutError, OSError, zmq.ZMQError):
                # jupyter_client: "Kernel died before replying to kernel_info" (RuntimeError), no
                # reply in time (TimeoutError, RuntimeError), a port taken meanwhile (ZMQError)
                if attempt == attempts:
                    raise

    async def _start_one_kernel(self, warm: bool) -> _Kernel:
        from jupyter_client.manager import AsyncKernelManager

        km = AsyncKernelManager(kernel_name=self.kernel_name)
        if self._template_address is not None and _forkable(km.kernel_spec):
            import uuid

            from research.run import forkserver

            km.kernel_id = str(uuid.uuid4())
            km.provisioner = forkserver.provisioner(km, self._template_address)
        kernel = _Kernel(km, None)
        self._kernels.append(kernel)
        try:
            options = {"stderr": self.stderr} if self.stderr is not None else {}
            if self.env:
                import os

                options["env"] = {**os.environ, **self.env}
            await km.start_kernel(cwd=self.cwd, **options)
            kernel.kc = km.client()
            kernel.kc.start_channels()
            await _until_ready(km, kernel.kc, self.startup_timeout)
        except Exception:
            await self._stop_kernel(km, kernel.kc)
            raise
        kernel.kc.allow_stdin = False
        if warm:
            await self._run_code(kernel, self.warm_up)
        return kernel

    async def _start_pool(self) -> None:
        self._idle = asyncio.Queue()
        if self.fork:
            await self._start_template()

        async def one():
            try:
                kernel = await self._start_kernel(warm=True)
            except BaseException as exc:  # noqa: BLE001 - handed to the notebooks waiting for a kernel
                self._idle.put_nowait(_StartFailed(exc))
                raise
            self._idle.put_nowait(kernel)

        await asyncio.gather(*(one() for _ in range(self.size)), return_exceptions=True)

    async def _start_template(self) -> None:
        """Start the process the kernels are forked from; on any failure the pool starts its
        kernels as processes of their own."""
        import os
        import tempfile

        from research.run import forkserver

        if not self._may_fork():
            return
        folder = Path(tempfile.mkdtemp(prefix="research-kernels-"))  # short: a socket's path
        try:
            self._template = await asyncio.create_subprocess_exec(
                *forkserver.template_command(folder / "template.sock"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=self.stderr,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                start_new_session=True,  # as jupyter_client starts kernels: no terminal's Ctrl-C
            )
            self._template_watch = forkserver.ForkedProcess(self._template.pid)
            line = await asyncio.wait_for(self._template.stdout.readline(), self.startup_timeout)
        except (OSError, TimeoutError):
            line = b""
        self._template_folder = folder
        if line.strip() == forkserver.READY.encode():
            self._template_address = folder / "template.sock"
        else:
            await self._stop_template()

    async def _stop_template(self) -> None:
        """End the forking process (it kills the kernels it forked) and remove its socket."""
        import shutil

        process, self._template, self._template_address = self._template, None, None
        if process is not None and process.returncode is None:
            process.stdin.close()  # its signal to end
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._template_watch is not None:
            self._template_watch.poll()  # it has ended: its pidfd is closed
        if self._template_folder is not None:
            shutil.rmtree(self._template_folder, ignore_errors=True)

    async def _run_code(self, kernel: _Kernel, code: str) -> None:
        """Run ``code`` silently (no output, no history, no execution count); raise on an error."""
        reply = await kernel.kc.execute_interactive(
            code,
            silent=True,
            store_history=False,
            timeout=self.startup_timeout,
            output_hook=lambda msg: None,
        )
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(
                f"kernel set-up failed: {content.get('ename')}: {content.get('evalue')}"
            )

    async def _acquire(self) -> _Kernel:
        if not self.reuse:
            return await self._start_kernel(warm=False)
        while self._idle is None:  # the pool's start is scheduled before any notebook
            await asyncio.sleep(0)
        kernel = await self._idle.get()
        if isinstance(kernel, _StartFailed):
            self._idle.put_nowait(kernel)  # every other waiting notebook fails the same way
            raise RuntimeError(
                f"a kernel could not be started: {type(kernel.exc).__name__}: {kernel.exc}"
            )
        return kernel

    async def _release(self, kernel: _Kernel) -> None:
        if self.reuse:
            self._idle.put_nowait(kernel)
        else:
            await self._stop_kernel(kernel.km, kernel.kc)

    async def _execute(self, nb, name: str, on_start, on_end):
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        kernel = None
        try:
            kernel = await self._acquire()
            if on_start is not None:
                on_start()
            started = time.perf_counter()
            await self._run_code(kernel, FRESH.format(seed=self.seed, reset=self.reuse))
            client = NotebookClient(
                nb,
                km=kernel.km,
                kernel_name=self.kernel_name,
                timeout=None,
                startup_timeout=int(self.startup_timeout),
                resources={"metadata": {"path": self.cwd}},
            )
            client.kc = kernel.kc  # an already-started kernel: nbclient neither starts nor stops it
            try:
                await client.async_execute()
            except CellExecutionError as exc:
                raise NotebookFailed(name, exc.ename, exc.evalue, _failing_cell(nb), nb) from None
            return nb, time.perf_counter() - started
        finally:
            if (
                on_end is not None
            ):  # before the kernel goes to the next notebook, so "done" precedes "started"
                on_end()
            if kernel is not None:
                await self._release(kernel)

    async def _stop_kernel(self, km, kc) -> None:
        try:
            if kc is not None and kc.channels_running:
                kc.stop_channels()
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - close() kills what is left
            pass

    async def _shutdown_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self._loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self._template is not None:  # it kills the kernels it forked: none is waited for below
            await self._stop_template()
        await asyncio.gather(
            *(self._stop_kernel(k.km, k.kc) for k in self._kernels), return_exceptions=True
        )
        await self._stop_template()
        if tasks:  # a notebook cut short by its kernel's end: its error is no news
            done, _ = await asyncio.wait(tasks, timeout=5)
            for task in done:
                if not task.cancelled():
                    task.exception()


async def _until_ready(km, kc, timeout: float) -> None:
    """Wait until the kernel answers on its shell channel and its IOPub channel is connected.

    jupyter_client's ``wait_for_ready`` with one difference: after a ``kernel_info`` reply it looks
    for an IOPub message for 0.02 s instead of 0.2 s before asking again. A new kernel's first
    status messages are published before the client's subscription reaches it, so the first look
    always fails; each try costs 0.2 s there and about a round trip here.
    """
    import queue

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        kc.kernel_info()
        try:
            reply = await kc.get_shell_msg(timeout=1)
        except queue.Empty:
            reply = None
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            try:
                await kc.get_iopub_msg(timeout=0.02)
            except queue.Empty:
                continue
            kc._handle_kernel_info_reply(reply)  # what wait_for_ready does with it
            return
        if not await km.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


def _forkable(spec) -> bool:
    """Whether a kernel spec starts ipykernel with this Python (what a forked template is)."""
    import sys

    argv = list(getattr(spec, "argv", []) or [])
    return (
        len(argv) > 2
        and argv[0] in ("python", "python3", sys.executable)
        and argv[1:3] == ["-m", "ipykernel_launcher"]
    )


def _failing_cell(nb) -> int | None:
    """The execution count of the cell whose output is an error (papermill's "In [n]")."""
    for cell in nb.cells:
        if cell.cell_type == "code" and any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return cell.get("execution_count")
    return None
