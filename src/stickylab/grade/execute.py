"""nbgrader's Execute step, rebuilt so that no submission can fool or harm grading.

``SandboxedExecute`` takes the place of ``nbgrader.preprocessors.Execute`` in
``c.Autograde.autograde_preprocessors`` (see ``nbgrader_config.py``), so stock
``nbgrader autograde`` and ``python -m stickylab.grade`` both use it. For each notebook:

- The learner's cells run in a Jupyter kernel inside a :mod:`~stickylab.grade.sandbox`
  (bubblewrap: read-only file system but for a scratch folder, no network, its own
  process tree, CPU, memory, process and file-size limits), reached over Unix sockets.
- The test cells (those that award points) run in a separate clean process
  (:mod:`~stickylab.grade.verdict`), also sandboxed, that reaches the learner's objects
  only across the process boundary (:mod:`~stickylab.grade.remote`). Whatever the
  learner's code does to its own interpreter (patching helpers, input transformers,
  objects equal to everything), the verdict is computed where it never ran, and what
  the learner's code prints while the tests call it never reaches a test cell.
- Output is capped in bytes per cell and per notebook as it arrives; the notebook has a
  wall-clock budget; a kernel that ignores an interrupt is killed, and every cell after
  it is marked as not run, so the rest of the class is still graded.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Any, Bool, Integer, Unicode

from . import protocol
from . import sandbox as sb
from .output_caps import CappedOutputs
from .verdict_client import FreshInterpreters, VerdictClient, error_output
from .names import defined_names

__all__ = ["SandboxedExecute"]

#: The files nbgrader itself keeps beside a submission (its time, and the secret its feedback is filed under).
_NBGRADER_FILES = (Path("timestamp.txt"), Path("submission_secret.txt"))


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside a sandbox, talking over Unix sockets."""

    sandbox = Any(None, help="the stickylab.grade.sandbox.Sandbox to run the kernel in")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.sandbox.uid is not None:
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.uid)
        kernel_cmd = self.sandbox.launcher(self.sandbox.command(kernel_cmd, cwd=kw.get("cwd")))
        self.kernel_spec.interrupt_mode = "message"     # a signal would reach bubblewrap, not the kernel
        log = self.sandbox.scratch.parent / "kernel.log"     # the grader's, outside the sandbox
        kw["stdout"] = kw["stderr"] = open(log, "ab")    # noqa: SIM115 - the kernel's own, closed with it
        return await super()._async_launch_kernel(kernel_cmd, **kw)


class SandboxedExecute(CappedOutputs, Execute):
    """Execute a submission with the learner's code sandboxed and the tests in a clean process."""

    unsafe = Bool(False, help=(
        "Grade without a sandbox where none can be made (learners' code then runs with your rights "
        "and can read and change anything you can). Also STICKYLAB_UNSAFE_GRADING=1.")).tag(config=True)
    notebook_seconds = Integer(600, help="Wall-clock seconds one notebook may take in all").tag(config=True)
    cpu_seconds = Integer(300, help="CPU seconds of the learner's kernel for one notebook").tag(config=True)
    memory_bytes = Integer(3 << 30, help="Address space of each sandboxed process").tag(config=True)
    processes = Integer(256, help="Processes and threads of the sandbox's user").tag(config=True)
    interrupt_grace = Integer(5, help="Seconds a kernel has to obey an interrupt before it is killed"
                              ).tag(config=True)
    scratch_root = Unicode("", help="Where scratch folders are made (default: the system's temp folder)"
                           ).tag(config=True)
    scratch_bytes = Integer(256 << 20, help="Bytes the learner's code may write in all, in each sandbox "
                            "(its scratch folder is a memory file system of this size)").tag(config=True)
    socket_folder_bytes = Integer(1 << 20, help="Bytes of files allowed in the folder of sockets the "
                                  "sandbox shares with the grader; past it the kernel is stopped"
                                  ).tag(config=True)

    # -- the notebook -------------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb``: learner cells in the sandboxed kernel, test cells in the clean process."""
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.raise_on_iopub_timeout = False
        self._prepare(resources)
        try:
            self._verdict.start()           # its imports overlap the kernel's start
            with self._watch, self.setup_kernel(cwd=str(self._learner_dir)):
                try:
                    info = self.wait_for_reply(self.kc.kernel_info())
                    if info:
                        self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for index, cell in enumerate(self.nb.cells):
                        self.preprocess_cell(cell, resources, index)
                finally:
                    self._kill_kernel_tree()    # before the kernel manager reaps it (its pid stays its own)
        except DeadKernelError:
            self._stop("the kernel running your notebook died")
        finally:
            self._verdict.stop()
            self._fresh.stop_all()
            shutil.rmtree(self._workspace, ignore_errors=True)
            shutil.rmtree(self._rpc, ignore_errors=True)
        return self.nb, self.resources

    def _prepare(self, resources) -> None:
        safe = not (self.unsafe or sb.unsafe_requested())
        if safe:
            reason = sb.check()
            if reason:
                raise sb.SandboxUnavailable(
                    f"refusing to grade: no sandbox can be made here ({reason}). Grading would run "
                    "learners' code with your rights. To grade anyway, pass --unsafe to "
                    "`python -m stickylab.grade`, set c.SandboxedExecute.unsafe = True in "
                    "nbgrader_config.py, or set STICKYLAB_UNSAFE_GRADING=1.")
        else:
            self.log.warning("Grading WITHOUT a sandbox (unsafe was asked for): learners' code runs with "
                             "your rights")
        root = self.scratch_root or None
        self._workspace = Path(tempfile.mkdtemp(prefix="stickylab-grade-", dir=root)).resolve()
        os.chmod(self._workspace, 0o755)
        self._learner_dir = self._workspace / "learner"
        rpc = sb.socket_folder(self._workspace)
        for folder in (self._learner_dir, self._workspace / "verdict"):
            folder.mkdir()
        # Nothing handed in beside the notebook is copied: the exercises need no file, and a
        # link there could name anything the grader may read.
        self._drop_handed_in_files(resources)
        limits = sb.Limits(cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes,
                           processes=self.processes, scratch_bytes=self.scratch_bytes)
        forbidden = self._forbidden(resources)
        self._box = sb.Sandbox(self._learner_dir, forbidden, limits, extra_binds=[rpc], enabled=safe)
        verdict_limits = sb.Limits(cpu_seconds=max(self.cpu_seconds, 600), memory_bytes=self.memory_bytes,
                                   processes=self.processes, scratch_bytes=self.scratch_bytes)
        verdict_box = sb.Sandbox(self._workspace / "verdict", forbidden, verdict_limits, extra_binds=[rpc],
                                 enabled=safe)
        self._box.prepare()
        verdict_box.prepare()
        self._socket = str(rpc / "learner.sock")
        self._fresh = FreshInterpreters(self._workspace, rpc, self._box)
        self._verdict = VerdictClient(self._workspace, verdict_box, self.log, fresh=self._start_fresh)
        self._verdict.names = self._wanted_names(resources)
        self._watch = sb.FolderQuota(rpc, self.socket_folder_bytes, self._over_quota)
        self._sources: list[str] = []
        self._rpc = rpc
        self._deadline = time.monotonic() + self.notebook_seconds
        self._stopped: str | None = None
        self._cell_bytes: dict[int, int] = {}
        self._cut: dict[int, int] = {}
        self._notebook_bytes = 0
        self._quota: str | None = None

    def _forbidden(self, resources) -> list[Path]:
        """What no sandbox may hold: home, the course root, a configured exchange, the gradebook, the source.

        Read with nbgrader's own classes (the course root defaults to the folder nbgrader runs
        in); a configuration that cannot be read stops grading here, so a sandbox never hides
        less than it should without a word.
        """
        from nbgrader.coursedir import CourseDirectory

        paths = [Path.home(), Path(CourseDirectory(config=self.config).root)]
        exchange = self.config.get("Exchange", {}).get("root")
        if exchange:
            paths.append(Path(exchange))
        info = (resources or {}).get("nbgrader", {})
        if str(info.get("db_url", "")).startswith("sqlite:///"):
            paths.append(Path(info["db_url"][len("sqlite:///"):]))
        source = (resources or {}).get("metadata", {}).get("path")
        if source:
            paths.append(Path(source))
        return [p for p in paths if str(p) not in ("", "/")]

    def _course_folder(self, kind: str, student: str, assignment: str) -> Path:
        """A folder of the course, as nbgrader names it (``kind``: ``"source_directory"``, ...)."""
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.format_path(getattr(coursedir, kind), student, assignment))

    def _drop_handed_in_files(self, resources) -> None:
        """Remove from ``autograded/`` the copies nbgrader made of files handed in beside the notebook.

        nbgrader copies every other file of a submission into the graded folder, following
        links (``gradebook.txt -> ../../../gradebook.db`` arrives as a copy of the gradebook),
        and the Formgrader serves that folder from the Jupyter server's origin. The exercises
        need no such file: only the instructor's own (from the source folder) stay.
        """
        info = (resources or {}).get("nbgrader", {})
        graded = Path((resources or {}).get("metadata", {}).get("path") or "")    # the notebook's folder
        if not (info.get("student") and info.get("assignment") and graded.is_dir()):
            return
        try:
            handed_in = self._course_folder("submitted_directory", info["student"], info["assignment"])
            source = self._course_folder("source_directory", ".", info["assignment"])
        except Exception as exc:        # noqa: BLE001 - say so, and grade on
            self.log.warning("Could not look for files handed in beside the notebook: %s", exc)
            return
        if not handed_in.is_dir() or graded.resolve() == handed_in.resolve():
            return
        for folder, _dirs, files in os.walk(handed_in):
            for name in files:
                relative = (Path(folder) / name).relative_to(handed_in)
                own = relative.suffix == ".ipynb" or relative in _NBGRADER_FILES
                if own or (source / relative).exists():
                    continue
                copy = graded / relative
                if copy.is_file() or copy.is_symlink():
                    copy.unlink()
                    self.log.warning("Not kept in the graded folder: %s, handed in beside the notebook",
                                     relative)

    def _wanted_names(self, resources) -> list[str]:
        """The names the tests may take from the learner: those the source notebook's solution cells define.

        Where the source notebook cannot be read (a course without ``solutions/``), the
        names the test cells themselves use stand in for them.
        """
        info = (resources or {}).get("nbgrader", {})
        source = None
        with contextlib.suppress(Exception):     # no source: the fallback below, never more names
            folder = self._course_folder("source_directory", ".", info["assignment"])
            source = folder / f"{info['notebook']}.ipynb"
        names = defined_names(source, [c.source for c in self.nb.cells if c.cell_type == "code"
                                       and c.metadata.get("nbgrader", {}).get("grade")])
        self.log.debug("The tests may use the learner's %s", ", ".join(names))
        return names

    def create_kernel_manager(self):
        """A :class:`SandboxedKernelManager` on Unix sockets in the grading's socket folder."""
        kernel_dir = self._rpc      # a short path: a Unix socket's may have at most 107 bytes
        if not self.kernel_name:
            self.kernel_name = self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        import zmq.asyncio

        # One process-wide context: a context of its own per kernel manager is destroyed when the
        # manager is collected, and that can block forever on a socket still open.
        self.km = SandboxedKernelManager(kernel_name=self.kernel_name, config=self.config,
                                         context=zmq.asyncio.Context.instance(),
                                         sandbox=self._box,
                                         transport="ipc", ip=str(kernel_dir / "k"),
                                         connection_file=str(kernel_dir / "kernel.json"))
        return self.km

    # -- cells --------------------------------------------------------------------------------------
    def preprocess_cell(self, cell, resources, index):
        """Run one cell where it belongs: a test in the clean process, anything else in the kernel."""
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        meta = cell.metadata.get("nbgrader", {})
        if self._stopped is None and time.monotonic() > self._deadline:
            self._stop(f"the notebook used up its {self.notebook_seconds} s")
        if meta.get("grade"):
            self._run_test(cell)
            return cell, self.resources
        if meta.get("locked") and not meta.get("solution"):
            self._verdict.add_setup(cell.source)
        if self._stopped is not None:
            cell.outputs = [error_output("NotRun", f"this cell was not run: {self._stopped}")]
            return cell, self.resources
        self._sources.append(cell.source)
        self._run_learner(cell, index)
        return cell, self.resources

    def _run_learner(self, cell, index: int) -> None:
        timeout = self.timeout
        self.timeout = max(1, min(timeout or 30, int(self._deadline - time.monotonic())))
        try:
            self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            why = self._quota or ("the kernel running your notebook died here (it exited, was killed, or "
                                  "went past its memory or CPU limit)")
            cell.outputs.append(error_output("DeadKernelError", why))
            self._stop("the kernel running your notebook died in an earlier cell")
            return
        finally:
            self.timeout = timeout
        cut = self._cut.pop(index, 0)
        if cut:
            cell.outputs.append(new_output("stream", name="stdout",
                                           text=f"\n[{cut:,} bytes of output cut by the grader]\n"))
        if any(o.get("ename") == "CellTimeoutError" for o in cell.outputs if o.output_type == "error"):
            if not self._responsive():
                self._kill("a cell did not stop when interrupted at its time limit")

    def _over_quota(self, used: int) -> None:
        """Called from the quota's thread: stop every process of the learner's (the kernel's sandbox too)."""
        self._quota = (f"your code wrote {used:,} bytes into the folder it shares with the grader "
                       f"(at most {self.socket_folder_bytes:,} are allowed)")
        self.log.warning("Stopping the learner's code: %s", self._quota)
        self._kill_kernel_tree()
        self._fresh.stop_all()

    def _start_fresh(self, seed: int) -> str:
        """A fresh interpreter running the learner's cells so far with ``PYTHONHASHSEED=seed``; its socket."""
        return self._fresh.start(seed, self._sources)

    def _run_test(self, cell) -> None:
        """Run a test cell in the clean process, with the learner's kernel serving its names meanwhile."""
        self.code_cells_executed += 1
        cell.execution_count = self.code_cells_executed
        if self._stopped is not None:
            cell.outputs = [error_output("NotRun", f"the tests could not run: {self._stopped}")]
            return
        serve_id = self.kc.execute(protocol.SERVE.format(path=self._socket), silent=True, store_history=False,
                                   allow_stdin=False, stop_on_error=False)
        try:
            outputs = self._verdict.run(cell.source, self._socket, float(self.timeout or 30),
                                        idle=self._drain_output, cells=self._sources)
        finally:
            self._fresh.stop_all()
        self._drain_output()
        cell.outputs = [new_output(o["output_type"], **{k: v for k, v in o.items() if k != "output_type"})
                        for o in outputs]
        if self._reply(serve_id, 10):
            return
        if not self._alive():
            self._stop("the kernel running your notebook died while the tests called it")
            return
        self.km.interrupt_kernel()
        if not self._reply(serve_id, self.interrupt_grace):
            self._kill("your code did not return to the kernel after the tests")

    def _drain_output(self) -> None:
        """Drop what the learner's code printed while the tests called it, as it arrives.

        None of it belongs to a cell (the tests' verdicts never see it), and left in the
        client's queue it would grow with every call.
        """
        channel = getattr(self.kc, "iopub_channel", None)
        if channel is None:
            return
        get = run_sync(channel.get_msg)
        for _ in range(1000):
            try:
                get(timeout=0)
            except queue.Empty:         # nothing more for now
                return

    # -- kernel health ------------------------------------------------------------------------------
    def _reply(self, msg_id: str, seconds: float) -> bool:
        """Wait for the kernel's reply to ``msg_id``; False if none came within ``seconds`` or it died."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = run_sync(self.kc.shell_channel.get_msg)(timeout=min(left, 0.5))
            except queue.Empty:         # nothing yet: is there still a kernel to wait for?
                if not self._alive():
                    return False
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    def _alive(self) -> bool:
        """True while the kernel's process (its sandbox) runs."""
        return bool(run_sync(self.km.is_alive)())

    def _responsive(self) -> bool:
        if not self._alive():
            return False
        probe = self.kc.execute("", silent=True, store_history=False)
        return self._reply(probe, self.interrupt_grace)

    def _kill_kernel_tree(self) -> None:
        """Kill the kernel's sandbox and every process in it (nothing a learner started survives).

        Only while the kernel manager still holds the process unreaped, so its pid cannot
        belong to anything else.
        """
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is not None:
            sb.kill_tree(proc)

    def _kill(self, why: str) -> None:
        self.log.warning("Killing the learner's kernel: %s", why)
        self._kill_kernel_tree()
        self._kernel_killed = True
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)
        self._stop(f"the kernel was stopped because {why}")

    def _stop(self, why: str) -> None:
        if self._stopped is None:
            self._stopped = why
