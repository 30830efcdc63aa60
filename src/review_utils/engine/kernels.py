"""Warm kernels: each notebook's kernel is forked from a process that has already imported
what every chapter needs, instead of starting a fresh Python and importing it all again.

Profiling the cold build (``bench/profile.py``) showed the notebooks' fixed costs dominating:
about 0.7 s to start an IPython kernel and about 0.8 s for the first cell's imports (pandas,
matplotlib, numpy, IPython, ``review_utils``), for every notebook, against one to two seconds of
actual work. On two cores that is most of the execution phase.

Each build worker starts one *kernel parent* (``python -m review_utils.engine.kernels``) with the
environment a kernel would get, which imports those modules once and then waits. For every
notebook the worker's kernel manager asks it for a kernel; it forks, and the child becomes an
ordinary ipykernel (``ipykernel_launcher -f <connection file>``) in its own session, working
folder, environment and log, so what a notebook sees is what a freshly started kernel sees:
a new IPython shell, the same hash seed (set before the parent started), no state from earlier
notebooks (each kernel is a new fork of a parent that never runs notebook code). Imported
modules are shared read-only until written, which is where the time goes away.

Starting a kernel parent costs about what two notebooks' start-ups save (it imports more than
any one chapter needs), so the build uses warm kernels only when each worker has at least
``WORTH_IT`` notebooks to run: a cold build, not a rebuild after one edit. SciPy is left to
the two chapters that need it.

The parent imports nothing that starts threads or opens sockets before forking (ZeroMQ and
the event loop are created by the child). It exits, killing any kernel it forked, when its
worker goes away (end of input). Set ``REVIEW_WARM_KERNELS=0`` to start kernels the ordinary way.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ENV_SWITCH = "REVIEW_WARM_KERNELS"
# What the chapters import (measured in a kernel after running every chapter); the facade and
# the layers below it are added by ``serve``. A module missing here is simply imported by the notebook.
PRELOAD = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython", "IPython.display",
    "numpy", "pandas", "matplotlib", "matplotlib.pyplot", "matplotlib.figure", "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg", "matplotlib.backends.backend_pdf", "yaml", "nbformat",
    "jsonschema", "fontTools.ttLib", "myst_nb", "myst_nb.ext.glue", "frictionless",  # frictionless: the data bundles
)


WORTH_IT = 3  # notebooks per worker from which a kernel parent pays for itself


def worth_it(notebooks: int, workers: int) -> bool:
    return notebooks >= WORTH_IT * max(1, workers)


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1") != "0" and hasattr(os, "fork") and hasattr(os, "pidfd_open")


# -- the worker's side -----------------------------------------------------------------------
class ForkedKernel:
    """The part of ``subprocess.Popen`` jupyter_client uses, for a kernel that is not our child
    (the kernel parent forked it). Exit is seen through a pidfd, which works for any process."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._signalled: int | None = None  # the fatal signal we sent, if any
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._exited()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._exited()
        return self.returncode

    def _exited(self) -> None:
        # The exit status belongs to the kernel parent, which reaps it; a kernel that ended on
        # its own is reported as a failure to the caller, the way a dead kernel should be.
        self.returncode = -self._signalled if self._signalled else 1
        os.close(self._pidfd)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                return
            if signum in (signal.SIGKILL, signal.SIGTERM):
                self._signalled = signum

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class KernelParent:
    """The worker's handle on its kernel parent process."""

    def __init__(self, env: dict[str, str]):
        self.hash_seed = env.get("PYTHONHASHSEED")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "review_utils.engine.kernels"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd="/", text=True, bufsize=1)
        self.lock = threading.Lock()

    def fork(self, argv: list[str], cwd: str, env: dict[str, str], log: str) -> int:
        with self.lock:
            self.process.stdin.write(json.dumps({"argv": argv, "cwd": cwd, "env": env, "log": log}) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError("the kernel parent exited")
        answer = json.loads(reply)
        if "error" in answer:
            raise RuntimeError(f"the kernel parent could not fork a kernel: {answer['error']}")
        return int(answer["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """End of input: the parent kills any kernel still running and exits."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


_parent: KernelParent | None = None


def launch(kernel_cmd: list[str], env: dict[str, str], cwd: str) -> ForkedKernel | None:
    """A kernel forked from this worker's kernel parent, or None to launch the ordinary way
    (not an ipykernel command, switched off, or a different hash seed than the parent's)."""
    global _parent
    if not enabled() or "ipykernel_launcher" not in kernel_cmd or "-f" not in kernel_cmd:
        return None
    try:
        if _parent is None or not _parent.alive():
            import atexit

            _parent = KernelParent(env)
            atexit.register(_parent.close)
        if env.get("PYTHONHASHSEED") != _parent.hash_seed:
            return None
        argv = kernel_cmd[kernel_cmd.index("-f"):]
        env = dict(env, JPY_PARENT_PID=str(os.getpid()))  # as jupyter_client's launcher sets it
        return ForkedKernel(_parent.fork(argv, str(cwd), env, str(Path(cwd) / "kernel.log")))
    except (OSError, RuntimeError, ValueError):  # no kernel parent: start this kernel the ordinary way
        _parent = None
        return None


# -- the kernel parent -----------------------------------------------------------------------
_children: set[int] = set()


def _reap(signum=None, frame=None) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _children.discard(pid)


def _child(request: dict[str, Any], ready: int) -> None:
    """In the forked child: become an ordinary ipykernel for this notebook (never returns)."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own session and process group, as jupyter_client starts kernels
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.write(ready, b"1")
        os.close(ready)
        # what `python -m ipykernel_launcher -f FILE` has: the launcher as argv[0], and the
        # working folder first on the path (the launcher removes it; IPython adds it back)
        import ipykernel_launcher

        sys.argv = [ipykernel_launcher.__file__, *request["argv"]]
        if sys.path and sys.path[0] in ("", "/"):
            del sys.path[0]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - reported in the kernel's log, then the child ends
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    """The kernel parent: import once, then fork one kernel per request line on stdin."""
    import importlib

    # The facade and the layers below it, which every chapter imports; never a chapter module,
    # because a notebook is keyed on the project modules its kernel holds (see engine.state).
    own = ["review_utils.chapter", "review_utils.render.text", "review_utils.render.markup", "review_utils.render.figures",
           "review_utils.render.downloads", "review_utils.data.package", "review_utils.data.values"]
    for module in (*PRELOAD, *own):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the notebook will import it itself, and report any error
            pass
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    try:
        for line in sys.stdin:
            request = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                read_end, write_end = os.pipe()
                pid = os.fork()
            except OSError as exc:  # e.g. out of processes: the worker starts this kernel itself
                sys.stdout.write(json.dumps({"error": str(exc)}) + "\n")
                sys.stdout.flush()
                continue
            if pid == 0:
                os.close(read_end)
                _child(request, write_end)
            os.close(write_end)
            os.read(read_end, 1)  # the child has its own session before anyone signals it
            os.close(read_end)
            _children.add(pid)
            sys.stdout.write(json.dumps({"pid": pid}) + "\n")
            sys.stdout.flush()
    finally:
        for pid in list(_children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    serve()
