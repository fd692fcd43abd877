"""Where a learner's code runs when it is graded: a bubblewrap sandbox with resource limits.

A submission is a stranger's program. While it is graded it runs in its own
`bubblewrap <https://github.com/containers/bubblewrap>`_ sandbox:

- its own PID namespace, torn down with the sandbox (a detached process dies with it),
  and ``--die-with-parent``: nothing it starts outlives grading, and it cannot see or
  signal the grader or any other process;
- no network (its own empty network namespace);
- a file system of read-only binds: the operating system's ``/usr``, the Python that
  runs the kernel and the installed packages (``stickylab`` included), and nothing of
  the course (no ``solutions/``, gradebook, ``submitted/``, other students, exchange or
  home), plus one scratch folder of its own, the only place it can write;
- limits: CPU seconds per process, address space, processes (as an unprivileged user:
  when the grader is root the sandbox drops to an unprivileged user, because the kernel does not
  count processes for root, each sandbox runs as a user id of its own), and the size of
  any file it writes.

Where bubblewrap cannot run, :func:`check` says why, and grading refuses unless the
instructor opts in to unsandboxed grading (``--unsafe``, ``c.SandboxedExecute.unsafe``
or ``STICKYLAB_UNSAFE_GRADING=1``).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import children

__all__ = ["FolderQuota", "Limits", "Sandbox", "SandboxUnavailable", "check", "kill_tree", "socket_folder",
           "unsafe_requested"]

#: A root grader runs each sandbox as its own unprivileged user, drawn from this range (no
#: account has these ids), so one sandbox's processes count against its own limit only.
SANDBOX_UIDS = range(1_900_000_000, 1_950_000_000)
#: Files from /etc a Python kernel needs (dynamic linker, time zone, fonts, users).
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "passwd", "group",
        "nsswitch.conf", "mime.types", "matplotlibrc")


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made here, and unsandboxed grading was not asked for."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed process tree may use.

    Attributes:
        cpu_seconds: CPU time of each process (the kernel: the whole notebook); past it
            the process is killed.
        memory_bytes: address space of each process.
        processes: processes and threads of the sandbox's user.
        file_bytes: largest file it may write.
        scratch_bytes: all it may write: its scratch folder is a memory file system of this
            size (where the sandbox is enabled), gone when the sandbox ends.
    """

    cpu_seconds: int = 120
    memory_bytes: int = 3 << 30
    processes: int = 256
    file_bytes: int = 64 << 20
    scratch_bytes: int = 256 << 20


def unsafe_requested() -> bool:
    """True if the environment asks for unsandboxed grading (``STICKYLAB_UNSAFE_GRADING=1``)."""
    return os.environ.get("STICKYLAB_UNSAFE_GRADING", "").strip().lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=1)
def check() -> str | None:
    """None if a sandbox can be made on this machine, else the reason it cannot."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap is not installed (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "Fedora: `dnf install bubblewrap`)")
    if os.getuid() == 0 and shutil.which("setpriv") is None:
        return "grading as root needs `setpriv` (util-linux) to drop to an unprivileged user"
    with tempfile.TemporaryDirectory(prefix="stickylab-probe-") as scratch:
        box = Sandbox(Path(scratch), forbidden=())
        box.prepare()
        probe = box.launcher(box.command([sys.executable, "-c", "print('ok')"]))
        try:
            done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        return f"bubblewrap could not start a sandbox here: {done.stderr.strip()[-300:]}"
    return None


def kill_tree(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """Kill a sandbox: every process below ``proc`` (SIGKILL), then ``proc`` once it has had ``grace``.

    Bubblewrap's ``--die-with-parent`` normally takes a sandbox down with it; killing
    every process below it as well leaves nothing to chance (the first of them is the
    init of the sandbox's PID namespace, and with it go all processes inside). Bubblewrap
    itself is left to reap them and exit, so no zombie is left behind
    (:func:`stickylab.children.kill`).
    """
    children.kill(proc, grace, close_pipes=False)


def _python_paths() -> list[Path]:
    """Folders the kernel's Python needs to read: its installation and where packages live."""
    import stickylab

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
             sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    paths.update(site.getsitepackages())
    paths.add(str(Path(stickylab.__file__).resolve().parent))
    paths.add(str(Path(sys.executable).resolve().parent))
    for entry in sys.path:
        if entry and os.path.isdir(entry) and ("site-packages" in entry or "dist-packages" in entry):
            paths.add(entry)
    return sorted({Path(p).resolve() for p in paths if p and os.path.isdir(p)})


class Sandbox:
    """The bubblewrap command line for one sandbox.

    Args:
        scratch: the one folder the sandbox may write (bound at the same path); its cwd.
        forbidden: paths that must stay out of the sandbox (the course directory, the
            gradebook, the exchange): a read-only bind that would contain one of them
            is refused.
        limits: resource limits; ``None`` for none.
        extra_binds: more folders to bind read-write (a socket folder shared with the grader).
        enabled: False for unsandboxed grading: then only the limits apply (and the launcher
            still closes inherited files).
    """

    def __init__(self, scratch: Path, forbidden=(), limits: Limits | None = Limits(), extra_binds=(),
                 enabled: bool = True):
        self.scratch = Path(scratch).resolve()
        self.forbidden = [Path(p).resolve() for p in forbidden]
        self.limits = limits
        self.extra_binds = [Path(p).resolve() for p in extra_binds]
        self.enabled = enabled
        self.uid = secrets.choice(SANDBOX_UIDS) if enabled and os.getuid() == 0 else None

    def readable(self) -> list[Path]:
        """The folders bound read-only, each checked against the forbidden paths."""
        out = []
        for path in _python_paths():
            for bad in self.forbidden:
                if bad == path or path in bad.parents:
                    raise SandboxUnavailable(
                        f"the sandbox would need to read {path}, which holds {bad}: install Python and "
                        "the course's packages outside the course directory")
            out.append(path)
        return out

    def command(self, argv: list[str], cwd: Path | None = None) -> list[str]:
        """``argv`` run inside the sandbox (``argv`` itself where the sandbox is not enabled)."""
        if not self.enabled:
            return list(argv)
        args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
        if self.uid is None:
            args += ["--unshare-user"]
        args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            top = Path("/") / name
            if top.is_symlink():
                args += ["--symlink", os.readlink(top), str(top)]
            elif top.is_dir():
                args += ["--ro-bind", str(top), str(top)]
        for name in _ETC:
            path = Path("/etc") / name
            if path.exists():
                args += ["--ro-bind", str(path), str(path)]
        readable, writable = self.readable(), [self.scratch, *self.extra_binds]
        args += _parents([Path("/usr"), *readable, *writable])
        for path in readable:
            args += ["--ro-bind", str(path), str(path)]
        if self.limits and self.limits.scratch_bytes > 0:     # nothing it writes reaches the disk
            args += ["--perms", "1777", "--size", str(self.limits.scratch_bytes),
                     "--tmpfs", str(self.scratch)]
            writable = self.extra_binds
        for path in writable:
            args += ["--bind", str(path), str(path)]
        args += ["--remount-ro", "/", "--unsetenv", "JPY_PARENT_PID", "--chdir", str(cwd or self.scratch),
                 "--setenv", "HOME", str(self.scratch),
                 "--setenv", "TMPDIR", str(self.scratch), "--setenv", "MPLCONFIGDIR", str(self.scratch)]
        if self.uid is not None:
            args += ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--"]
        return args + list(argv)

    def prepare(self) -> None:
        """Make the scratch folder the sandbox user's own, and the shared folders writable by all."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.uid is not None:
            for folder, _dirs, files in os.walk(self.scratch):
                os.chown(folder, self.uid, self.uid)
                for f in files:
                    os.chown(os.path.join(folder, f), self.uid, self.uid)
        for path in self.extra_binds:
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o777)

    def launcher(self, argv: list[str]) -> list[str]:
        """``argv`` started with no inherited file descriptors and with the limits set.

        Some launchers (jupyter_client's among them) keep the parent's open files open in
        the child; an inherited descriptor would reach past any sandbox (an open gradebook,
        say), so a small first step closes all but stdin, stdout and stderr, sets the
        limits, and only then runs ``argv``.
        """
        limits = self.limits or Limits(cpu_seconds=0, memory_bytes=0, processes=0, file_bytes=0)
        values = [limits.cpu_seconds, limits.memory_bytes, limits.processes, limits.file_bytes]
        return [sys.executable, "-S", "-c", _LAUNCH, ",".join(map(str, values)), *argv]


def _parents(targets: list[Path]) -> list[str]:
    """``--dir`` arguments that make the folders above bind targets traversable (mode 0755).

    Bubblewrap makes missing parents with the host folder's mode, and a parent such as
    ``/root`` (0700) would hide a Python installed under it from an unprivileged sandbox.
    """
    def covered(folder: Path) -> bool:
        return any(folder == t or t in folder.parents for t in targets)

    folders = {parent for t in targets for parent in t.parents if parent != Path("/") and not covered(parent)}
    args = []
    for folder in sorted(folders, key=lambda f: len(f.parts)):
        args += ["--perms", "0755", "--dir", str(folder)]
    return args


_LAUNCH = """\
import os, resource, sys
os.closerange(3, 1 << 16)
names = ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE")
for name, value in zip(names, map(int, sys.argv[1].split(","))):
    if value > 0:
        which = getattr(resource, name)
        hard = resource.getrlimit(which)[1]
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        top = soft + 5 if name == "RLIMIT_CPU" else soft
        resource.setrlimit(which, (soft, top if hard == resource.RLIM_INFINITY else min(top, hard)))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execvp(sys.argv[2], sys.argv[2:])
"""


#: Bytes a Unix socket's path may have (``sun_path`` is 108 bytes with its final NUL).
SOCKET_PATH_BYTES = 107
#: The longest socket name grading puts in its socket folder (``fresh-99.sock``, a kernel's ``k-12345``).
_LONGEST_SOCKET = "/fresh-99.sock"


def socket_folder(workspace: Path) -> Path:
    """A new folder, with a short path, for the Unix sockets of one grading (and nothing else).

    Tried in ``workspace`` first, then in ``/tmp`` and ``/dev/shm``: a long temporary
    folder (a hub user's, pytest's) would make a socket path longer than the 107 bytes
    Linux allows, and every kernel would fail to start.
    """
    for parent in (workspace, Path("/tmp"), Path("/dev/shm")):
        if len(str(parent)) + len("/slg-XXXXXXXX") + len(_LONGEST_SOCKET) > SOCKET_PATH_BYTES - 20:
            continue
        try:
            folder = Path(tempfile.mkdtemp(prefix="slg-", dir=parent))
        except OSError:
            continue
        os.chmod(folder, 0o777)
        return folder
    raise SandboxUnavailable(
        f"no folder for grading's Unix sockets has a path short enough: a socket's path may have at most "
        f"{SOCKET_PATH_BYTES} bytes, and {workspace} is {len(str(workspace))} bytes long while /tmp and "
        "/dev/shm are not writable; set c.SandboxedExecute.scratch_root to a short folder")


def folder_bytes(folder: Path, most: int = 10_000) -> int:
    """Bytes of the files in ``folder`` and below (links not followed), from ``most`` entries at most."""
    total, todo, seen = 0, [folder], 0
    while todo and seen < most:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    todo.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total if seen < most else max(total, 1 << 62)      # a million files is over any quota


class FolderQuota:
    """Watch a folder a sandbox shares with the grader; call ``over()`` once its files pass ``limit`` bytes.

    The sockets' folder must be writable from inside the sandbox (a process makes its
    socket there), so what is written there is measured from outside, every ``every`` s.
    """

    def __init__(self, folder: Path, limit: int, over, every: float = 0.2):
        self.folder, self.limit, self.over, self.every = folder, limit, over, every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, name="stickylab-quota", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.every):
            used = folder_bytes(self.folder)
            if used > self.limit:
                self.over(used)
                return
