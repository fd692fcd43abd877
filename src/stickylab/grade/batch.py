"""Grade a whole class in parallel, with the same results as ``nbgrader autograde ASSIGNMENT``.

    python -m stickylab.grade class 02_cookie_affinity [--workers N | --scheduler ADDRESS]

Run from the course root. nbgrader grades one student after another (its issue 174); here
the slow part, running each submission in the sandbox, is spread over the workers of a
`Dask distributed <https://distributed.dask.org>`_ cluster: a local one of ``N``
single-threaded worker processes by default, or an existing cluster of machines
(``--scheduler``). The gradebook is written by this command's own process only:

1. The gradebook is backed up beside itself, and a copy of it is made for the workers.
2. Each worker task (:func:`grade_student`) grades one student in a private scratch course
   holding the course's configuration, the assignment's source, that copy of the
   gradebook and only that student's submission, with nbgrader's own ``Autograde``
   converter (so :class:`~stickylab.grade.execute.SandboxedExecute` sandboxes the
   learner's code as usual), up to the execution step: a
   :class:`~stickylab.grade.replay.KeepSanitized` step after the sanitize steps and a
   :class:`~stickylab.grade.replay.KeepExecuted` step after execution hand back each
   notebook as it was executed and with its outputs, and the scratch course is deleted.
3. As each student's notebooks come back, this process runs nbgrader's ``Autograde`` on
   the real course for that student, with the execution step swapped for
   :class:`~stickylab.grade.replay.ReplayExecution`, which takes every cell's outputs from the
   worker's notebook instead of running anything, and the sanitize steps for
   :class:`~stickylab.grade.replay.ReplaySanitized`, which takes the notebook the worker
   sanitized with the same steps against the same gradebook. Scores, late penalties and
   timestamps are nbgrader's own. A student whose worker failed gets the configured sanitize
   steps here and the failure as an error in every cell: 0 points, with the reason, and the
   rest of the class is graded.

Workers of a cluster of machines need what a local worker has: this package, nbgrader and
bubblewrap installed (the same versions), and the paths the configuration names (a shared
file system mounting the course at the same path is the simple way). The course's files
themselves travel with each task.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import glob
import io
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

# As ``python -m stickylab.grade`` does: jsonschema (which nbformat imports) would otherwise
# build the optional rfc3987_syntax's grammars at import, over a second in every process here.
sys.modules.setdefault("rfc3987_syntax", None)

__all__ = ["BadInput", "ClassGrading", "Progress", "cluster", "grade_student", "main", "parser",
           "start_fork_server"]

log = logging.getLogger(__name__)

CONFIG = "nbgrader_config.py"
#: Files never copied from a course folder to a worker.
_SKIP = {"__pycache__", ".ipynb_checkpoints"}


class BadInput(ValueError):
    """The command cannot start: what is wrong with its input, in plain words."""


# -- the worker's side ---------------------------------------------------------------------------
def grade_student(course: dict, student: str, files: dict[str, bytes]) -> dict:
    """A Dask task: autograde one student in a private scratch course; return the executed notebooks.

    Args:
        course: what every task shares (:meth:`ClassGrading.payload`): the assignment, the
            nbgrader configuration, the files of its source and a copy of the gradebook.
        student: the student's id.
        files: the student's submitted folder, path (relative to it) -> content.

    Returns:
        ``student``, ``notebooks`` (name -> executed notebook as JSON text), ``error`` (why
        grading failed, or None), ``log`` (nbgrader's log where it failed), ``seconds`` and
        ``host``. Never raises for a bad submission: one student's failure stays theirs.
    """
    started = time.perf_counter()
    _quiet()
    scratch = Path(tempfile.mkdtemp(prefix="stickylab-class-"))
    buffer = io.StringIO()
    result = {"student": student, "notebooks": {}, "sanitized": {}, "error": None, "log": "",
              "host": socket.gethostname()}
    try:
        config = _unpack(scratch, course, student, files)
        error = _autograde(config, course["assignment"], "*", _logger(student, buffer))
        for path in sorted((scratch / "executed").glob("*.ipynb")):
            result["notebooks"][path.stem] = path.read_text()
        result["sanitized"] = {p.stem: p.read_text() for p in sorted((scratch / "sanitized").glob("*.ipynb"))}
        if error:
            result["error"], result["log"] = error, buffer.getvalue()[-20_000:]
    except Exception as exc:        # the worker's own trouble: reported, never a lost class
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["log"] = buffer.getvalue()[-20_000:] + traceback.format_exc()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["seconds"] = time.perf_counter() - started
    return result


def _quiet() -> None:
    """nbgrader's gradebook warns of objects "not in session" on every run: noise, not news."""
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")


def _unpack(scratch: Path, course: dict, student: str, files: dict[str, bytes]):
    """Write the scratch course for one student; return its configuration."""
    for rel, data in course["files"].items():
        _write(scratch / rel, data)
    (scratch / "gradebook.db").write_bytes(course["gradebook"])
    submitted = scratch / course["submitted"] / student / course["assignment"]
    for rel, data in files.items():
        _write(submitted / rel, data)
    config = copy.deepcopy(course["config"])
    config.CourseDirectory.root = str(scratch)
    config.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
    config.Autograde.sanitize_preprocessors = course["sanitize_steps"]
    config.Autograde.autograde_preprocessors = course["worker_steps"]
    config.KeepSanitized.folder = str(scratch / "sanitized")
    config.KeepExecuted.folder = str(scratch / "executed")
    config.BaseConverter.force = True
    return config


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _logger(name: str, buffer: io.StringIO) -> logging.Logger:
    """A logger of nbgrader's messages for one student, kept apart from every other logger."""
    logger = logging.Logger(f"{__name__}.{name}", logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    return logger


def _autograde(config, assignment: str, student: str, logger: logging.Logger) -> str | None:
    """nbgrader's ``Autograde`` converter on the course ``config`` names; None, or why it failed."""
    from nbgrader.converters import Autograde, NbGraderException
    from nbgrader.coursedir import CourseDirectory

    from . import reuse

    reuse.install()         # this process grades student after student: build nbgrader's engines once
    coursedir = CourseDirectory(config=config, log=logger)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    converter = Autograde(coursedir=coursedir, config=config, log=logger)
    try:
        converter.start()
    except NbGraderException as exc:
        return _reason(logger) or str(exc)
    return None


def _reason(logger: logging.Logger) -> str:
    """The error a failed nbgrader run logged first, as one line (the last line of its traceback)."""
    text = logger.handlers[0].stream.getvalue()
    for block in text.split("\n[ERROR] ")[1:]:
        if block.startswith("Traceback"):
            lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("[")]
            return lines[-1].strip()
    return ""


def _worker_ready() -> dict:
    """Run on every worker before grading: is there a sandbox, and nbgrader (imported now, once)?"""
    import nbgrader.converters  # noqa: F401 - the import is the point: every task after it is quicker

    from . import execute, sandbox  # noqa: F401

    return {"host": socket.gethostname(), "sandbox": sandbox.check()}


# -- the command's side --------------------------------------------------------------------------
@dataclass
class Progress:
    """One line per student graded (or a bar where ``tqdm`` is installed): done, failures, time left."""

    total: int
    out: object = None
    done: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self):
        self.out = self.out or sys.stdout
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=self.total, unit="student", file=self.out)

    def step(self, student: str, failure: str | None) -> None:
        """Count one student as graded (``failure``: why their grading failed, or None)."""
        self.done += 1
        if failure:
            self.failures.append(student)
        mark = f"FAILED: {failure.splitlines()[0][:100]}" if failure else "graded"
        if self.bar is not None:
            if failure:
                self.bar.write(f"{student}: {mark}")
            self.bar.set_postfix(failures=len(self.failures))
            self.bar.update(1)
            return
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        width = len(str(self.total))
        print(f"[{self.done:>{width}}/{self.total}] {student}: {mark}  ({len(self.failures)} failed, "
              f"{elapsed:.0f} s so far, about {left:.0f} s left)", file=self.out, flush=True)

    def close(self) -> None:
        """End the bar, if there is one."""
        if self.bar is not None:
            self.bar.close()


class ClassGrading:
    """One run of class grading: what to grade, the cluster, and the gradebook's one writer.

    Everything that can be wrong with the input is checked on construction, before any
    work starts (:class:`BadInput` names the bad value).

    Args:
        root: the course root (where ``nbgrader_config.py`` is).
        assignment: the assignment to grade.
        force: grade students already autograded again (``nbgrader autograde --force``).
        unsafe: grade without a sandbox where none can be made.
    """

    def __init__(self, root: Path, assignment: str, force: bool = False, unsafe: bool = False):
        self.root = Path(root).resolve()
        self.assignment = assignment
        self.force = force
        if not (self.root / CONFIG).is_file():
            raise BadInput(f"{self.root} is not a course directory: it has no {CONFIG} "
                           "(run this command from the course root)")
        self.config, self.coursedir = _course_config(self.root, assignment)
        self.config.CourseDirectory.root = str(self.root)
        if unsafe:
            self.config.SandboxedExecute.unsafe = True
        self._check_assignment()
        self.db = _sqlite_path(self.coursedir.db_url)
        self._check_gradebook()
        self.students = self._students()
        steps = _steps(self.config, self.coursedir)
        at = _execute_index(steps)
        # A worker stops where the notebook is executed: the steps after it run here, once.
        self.sanitize_steps = [*_steps(self.config, self.coursedir, "sanitize_preprocessors"),
                               "stickylab.grade.replay.KeepSanitized"]
        self.worker_steps = [*steps[:at + 1], "stickylab.grade.replay.KeepExecuted"]
        self.replay_steps = [*steps[:at], "stickylab.grade.replay.ReplayExecution", *steps[at + 1:]]

    def _check_assignment(self) -> None:
        source = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", self.assignment))
        if self.assignment in ("", ".", "..") or "/" in self.assignment or not source.is_dir():
            folder = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", "."))
            known = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
            raise BadInput(f"unknown assignment {self.assignment!r}: there is no {source} "
                           f"(assignments: {', '.join(known) or 'none'})")

    def _students(self) -> list[str]:
        """The students ``nbgrader autograde`` would grade now (those with a notebook, not yet graded)."""
        cd = self.coursedir
        pattern = cd.format_path(cd.submitted_directory, "*", self.assignment)
        excluded = set(filter(None, cd.student_id_exclude.split(",")))
        found, wanted = [], []
        for folder in sorted(glob.glob(pattern)):
            student = Path(folder).parent.name
            if student in excluded or not glob.glob(os.path.join(glob.escape(folder), "*.ipynb")):
                continue
            found.append(student)
            dest = cd.format_path(cd.autograded_directory, student, self.assignment)
            new, old = cd.get_existing_timestamp(folder), cd.get_existing_timestamp(dest)
            if self.force or not os.path.exists(dest) or (new and old and new > old):
                wanted.append(student)
        if not found:
            raise BadInput(f"no submissions of {self.assignment!r} to grade: nothing matches {pattern}")
        self.already = len(found) - len(wanted)
        return wanted

    def _check_gradebook(self) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        if not self.db.is_file():
            raise BadInput(f"no gradebook at {self.db}: run "
                           f"`nbgrader generate_assignment {self.assignment}` first")
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                gb.find_assignment(self.assignment)
            except MissingEntry:
                raise BadInput(f"assignment {self.assignment!r} is not in the gradebook {self.db}: run "
                               f"`nbgrader generate_assignment {self.assignment}` first") from None

    # -- the work ----------------------------------------------------------------------------------
    def payload(self) -> dict:
        """What every worker task shares: configuration, the assignment's source, a gradebook copy."""
        from .backup import backup_gradebook

        saved = backup_gradebook(self.coursedir.db_url)
        log.info("Gradebook backed up to %s", saved)
        cd = self.coursedir
        source = Path(cd.format_path(cd.source_directory, ".", self.assignment))
        files = {str(p.relative_to(self.root)): p.read_bytes() for p in _files(source)}
        config = copy.deepcopy(self.config)
        config.CourseDirectory.source_directory = os.path.relpath(
            cd.format_path(cd.source_directory, ".", "."), self.root)
        return {"assignment": self.assignment, "config": config, "files": files,
                "submitted": cd.submitted_directory, "gradebook": _gradebook_copy(self.db),
                "sanitize_steps": self.sanitize_steps, "worker_steps": self.worker_steps}

    def submission(self, student: str) -> dict[str, bytes]:
        """A student's submitted folder: its regular files (links are not followed), by relative path."""
        cd = self.coursedir
        folder = Path(cd.format_path(cd.submitted_directory, student, self.assignment))
        return {str(p.relative_to(folder)): p.read_bytes() for p in _files(folder)}

    def record(self, staging: Path, student: str, result: dict) -> None:
        """Put a worker's notebooks (and why it failed, if it did) where ``ReplayExecution`` reads them."""
        from . import replay

        folder = staging / student
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in result.get("notebooks", {}).items():
            (folder / f"{name}.ipynb").write_text(text)
        if result.get("error"):
            (folder / replay.FAILED).write_text(result["error"])
            return
        sanitized = result.get("sanitized", {})
        if sanitized and sanitized.keys() == result.get("notebooks", {}).keys():
            (folder / replay.SANITIZED).mkdir(exist_ok=True)
            for name, text in sanitized.items():
                (folder / replay.SANITIZED / f"{name}.ipynb").write_text(text)

    def autograde_here(self, staging: Path, student: str, logfile) -> str | None:
        """nbgrader ``Autograde`` for one student on the real course, replaying the worker's execution."""
        from . import replay

        config = copy.deepcopy(self.config)
        config.Autograde.autograde_preprocessors = self.replay_steps
        config.ReplayExecution.folder = str(staging)
        if (staging / student / replay.SANITIZED).is_dir():     # the worker sanitized every notebook
            config.Autograde.sanitize_preprocessors = ["stickylab.grade.replay.ReplaySanitized"]
            config.ReplaySanitized.folder = str(staging)
        config.BaseConverter.force = self.force
        buffer = io.StringIO()
        logger = _logger(student, buffer)
        try:
            return _autograde(config, self.assignment, glob.escape(student), logger)
        finally:
            logfile.write(f"==== {student}\n{buffer.getvalue()}")
            logfile.flush()

    def run(self, client, out=None, logfile=None) -> dict[str, str]:
        """Grade every student on ``client``'s cluster; return student -> why it failed, for the failed."""
        from distributed import as_completed

        out = out or sys.stdout
        failed: dict[str, str] = {}
        if not self.students:
            return failed
        shared = client.scatter([self.payload()], broadcast=True)[0]
        futures = {client.submit(grade_student, shared, s, self.submission(s), pure=False,
                                 key=f"stickylab-grade-{self.assignment}-{s}-{time.time_ns()}"): s
                   for s in self.students}
        progress = Progress(len(futures), out)
        with tempfile.TemporaryDirectory(prefix="stickylab-class-") as staging:
            try:
                for future in as_completed(futures):
                    student = futures[future]
                    result = _result(future, student)
                    self.record(Path(staging), student, result)
                    why = self.autograde_here(Path(staging), student, logfile or io.StringIO())
                    why = result["error"] or why
                    if why:
                        failed[student] = why
                    progress.step(student, why)
            finally:
                progress.close()
        return failed


def _result(future, student: str) -> dict:
    """A task's result, or (where the worker itself was lost) a result that says so."""
    try:
        return future.result()
    except Exception as exc:
        return {"student": student, "notebooks": {}, "error": f"the grading worker failed: "
                f"{type(exc).__name__}: {exc}", "log": "", "seconds": 0.0}


def _course_config(root: Path, assignment: str):
    """The configuration stock ``nbgrader autograde`` would use here (global files, then the course's)."""
    from nbgrader.apps.autogradeapp import AutogradeApp

    app = AutogradeApp()
    app.log.handlers = [logging.NullHandler()]
    app.log.propagate = False
    with _cwd(root):
        app.initialize([])
    app.coursedir.assignment_id = assignment
    return app.config, app.coursedir


@contextlib.contextmanager
def _cwd(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _steps(config, coursedir, which: str = "autograde_preprocessors") -> list[str]:
    """The configured ``Autograde.autograde_preprocessors`` (or ``which``), as dotted class names."""
    from nbgrader.converters import Autograde

    return [p if isinstance(p, str) else _name(p)
            for p in getattr(Autograde(coursedir=coursedir, config=config), which)]


def _execute_index(steps: list[str]) -> int:
    """Where nbgrader's execution step (``Execute`` or a subclass) is in ``steps``."""
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item

    for k, step in enumerate(steps):
        cls = import_item(step)
        if isinstance(cls, type) and issubclass(cls, Execute):
            return k
    raise BadInput(f"no execution step (nbgrader's Execute or a subclass) in "
                   f"c.Autograde.autograde_preprocessors: {steps}")


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _sqlite_path(db_url: str) -> Path:
    if not db_url.startswith("sqlite:///"):
        raise BadInput("class grading copies the gradebook to its workers, so it must be SQLite, "
                       f"not {db_url}")
    return Path(db_url[len("sqlite:///"):])


def _gradebook_copy(db: Path) -> bytes:
    """A consistent copy of the SQLite gradebook, as bytes (SQLite's backup, safe while it is open)."""
    from .backup import copy_database

    with tempfile.TemporaryDirectory(prefix="stickylab-gradebook-") as tmp:
        target = Path(tmp) / "gradebook.db"
        copy_database(db, target)
        return target.read_bytes()


def _files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, without following links or entering caches."""
    found = []
    for base, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not os.path.islink(os.path.join(base, d)))
        found += [Path(base, n) for n in sorted(names) if os.path.isfile(os.path.join(base, n))
                  and not os.path.islink(os.path.join(base, n))]
    return found


@contextlib.contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: on the cluster at ``scheduler``, or on a local cluster of ``workers`` processes.

    The local cluster's workers are single-threaded processes (a task waits on a sandboxed
    kernel, so one task per process), shut down on leaving the context. It speaks TLS with
    a certificate made for this run, so no other user of the machine can send it work that
    would run with the instructor's rights. A cluster of machines uses whatever security
    Dask's configuration gives the client (``distributed.comm.tls``).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    import dask

    security = _run_security()
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        start_fork_server()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR, security=security) as local, \
                Client(local, security=security) as client:
            yield client


def _run_security():
    """TLS credentials for this run's local cluster, or None without ``cryptography``.

    As Dask's ``Security.temporary``, one self-signed certificate that every member of the
    cluster presents and trusts, kept in memory; but with an elliptic-curve key, made in a
    millisecond where Dask's RSA key takes a few tenths of a second of the command's start.
    Without ``cryptography`` the cluster listens on loopback in the clear, and the command
    says so.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        print("warning: the local Dask cluster runs without TLS (install `cryptography` to protect it): "
              "while it runs, another user of this machine could send it work", file=sys.stderr)
        return None
    from distributed.security import Security

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dask-internal")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("dask-internal")]), critical=False)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=7))
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    pem_cert = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Security(require_encryption=True, tls_ca_file=pem_cert,
                    **{f"tls_{role}_{kind}": pem for role in ("client", "scheduler", "worker")
                       for kind, pem in (("key", pem_key), ("cert", pem_cert))})


def start_fork_server() -> None:
    """Start the server local workers fork from, importing Dask, nbgrader and this module once.

    Each worker then starts in a fraction of a second with nothing left to import (IPython
    included, which jupyter_client imports to find the ``python3`` kernel: otherwise the
    first student of every worker waits for it). The server starts
    in the background, while the command checks its input; only the first call in a
    process starts it, and Dask's own list of modules to load, set later, then changes nothing.
    """
    import multiprocessing
    from multiprocessing import forkserver

    _short_socket_folder()
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        [__name__, "distributed", "nbgrader.converters", "stickylab.grade.execute", "stickylab.grade.replay",
         "stickylab.grade.reuse",
         "IPython.paths", "ipykernel.kernelspec"])
    forkserver.ensure_running()


def _short_socket_folder() -> None:
    """Have multiprocessing keep its sockets (the fork server's) in a folder with a short path.

    It makes them in the temporary folder, and a Unix socket's path may have 107 bytes at
    most: under a long ``TMPDIR`` (a hub user's, pytest's) the fork server cannot start.
    Where the temporary folder's path is long, multiprocessing's own folder is made in
    ``/tmp`` (or ``/dev/shm``) instead; it removes that folder itself when this process ends.
    """
    from multiprocessing import util

    base = tempfile.gettempdir()
    if len(base) <= 48:
        return
    for short in ("/tmp", "/dev/shm"):
        if os.access(short, os.W_OK | os.X_OK):
            saved, tempfile.tempdir = tempfile.tempdir, short
            try:
                util.get_temp_dir()         # made now, kept for this process's sockets
            finally:
                tempfile.tempdir = saved
            return


def _check_workers(client, unsafe: bool) -> int:
    """Every worker can grade (the package imports, a sandbox can be made); return how many there are."""
    try:
        ready = client.run(_worker_ready)
    except Exception as exc:
        raise RuntimeError(f"the cluster's workers cannot grade: {type(exc).__name__}: {exc} (each worker "
                           "needs this package, nbgrader and bubblewrap installed)") from None
    if not ready:
        raise RuntimeError("the cluster has no workers")
    unboxed = {w: r["sandbox"] for w, r in ready.items() if r["sandbox"]}
    if unboxed and not unsafe:
        worker, why = next(iter(unboxed.items()))
        raise RuntimeError(f"no sandbox can be made on {len(unboxed)} worker(s), e.g. {worker}: {why} "
                           "(install bubblewrap there, or pass --unsafe)")
    return len(ready)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m stickylab.grade class``."""
    p = argparse.ArgumentParser(
        prog="python -m stickylab.grade class",
        description="Autograde every submission of an assignment in submitted/ in parallel, with the "
                    "sandbox, into the course's gradebook and autograded/ (as `nbgrader autograde "
                    "ASSIGNMENT` does). Run it from the course root.")
    p.add_argument("assignment", help="e.g. 02_cookie_affinity")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help=f"worker processes of a local Dask cluster (default: one per core, {_cores()})")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of an existing Dask scheduler (e.g. tcp://grader:8786); its workers "
                            "need this package, nbgrader and bubblewrap installed, and any path the "
                            "nbgrader configuration names (the course's files travel with each task)")
    p.add_argument("--force", action="store_true",
                   help="grade again students already autograded (as `nbgrader autograde --force`)")
    p.add_argument("--unsafe", action="store_true",
                   help="grade without a sandbox where none can be made "
                        "(learners' code runs with your rights)")
    return p


def main(argv=None, out=None) -> int:
    """Command line: grade the class; 0 if every student was graded, 1 if some failed, 2 on bad input."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    _quiet()
    from . import sandbox

    unsafe = args.unsafe or sandbox.unsafe_requested()
    if not args.scheduler and (Path.cwd() / CONFIG).is_file():
        start_fork_server()
    try:
        grading = ClassGrading(Path.cwd(), args.assignment, force=args.force, unsafe=unsafe)
        if not args.scheduler and not unsafe and sandbox.check():
            raise BadInput(f"no sandbox can be made here ({sandbox.check()}), and grading runs learners' "
                           "code: install bubblewrap, or pass --unsafe")
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not grading.students:
        print(f"Nothing to grade: all {grading.already} submissions of {args.assignment} are graded already "
              "(--force grades them again).", file=out)
        return 0
    try:
        workers = min(args.workers or _cores(), len(grading.students))
        failed = _grade(grading, workers, args.scheduler, unsafe, out)
    except (OSError, RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _grade(grading: ClassGrading, workers: int, scheduler: str | None, unsafe: bool, out) -> dict[str, str]:
    """Start the cluster, grade, print the summary; return student -> why their grading failed."""
    started = time.perf_counter()
    handle, logpath = tempfile.mkstemp(prefix=f"stickylab-class-{grading.assignment}-", suffix=".log")
    with cluster(workers, scheduler) as client, open(handle, "w") as logfile:
        count = _check_workers(client, unsafe)
        print(f"Grading {_count(len(grading.students), 'submission')} of {grading.assignment} on "
              f"{_count(count, 'worker')}"
              f"{' at ' + scheduler if scheduler else ''}"
              f"{f' ({grading.already} graded already)' if grading.already else ''}", file=out, flush=True)
        failed = grading.run(client, out, logfile)
    print(f"Graded {len(grading.students) - len(failed)} of {len(grading.students)} submissions of "
          f"{grading.assignment} in {time.perf_counter() - started:.1f} s; gradebook {grading.db}; "
          f"nbgrader's log {logpath}", file=out)
    for student, why in sorted(failed.items()):
        print(f"  FAILED {student}: {why.splitlines()[0] if why else ''}", file=out)
    return failed


if __name__ == "__main__":      # pragma: no cover - run as python -m stickylab.grade class
    sys.exit(main())
