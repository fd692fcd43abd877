"""Set up a JupyterHub machine for the course: ``python -m stickylab.hub setup``.

A hub administrator runs it once, as root, with the Python the hub and every user's server
run (installed non-editable, in a place every user can execute). It does the machine-wide
parts of nbgrader's setup that a class needs, and prints each one:

- **the exchange**: its root made world-writable with the sticky bit (``1777``: nbgrader
  checks ``777``, and the sticky bit keeps students from deleting what others put there), and
  the course's folder in it owned by the instructor (``nbgrader release_assignment`` fails with
  "You don't own the directory" when root made it);
- **the global nbgrader config** (``/etc/jupyter/nbgrader_config.py``): the course id and the
  exchange, read by every user's server;
- **the Formgrader and "Create Assignment" off for everyone** at the level of the Python
  environment, where nbgrader's installation turns them on (``jupyter server extension disable
  --sys-prefix`` and ``jupyter labextension disable --level=sys_prefix`` write the same files),
  and **on for the instructor** in their own ``~/.jupyter``, which Jupyter reads first;
- **the instructor's** ``~/.jupyter/nbgrader_config.py``: ``CourseDirectory.root`` is their
  clone, so the Formgrader finds the course from a server started in their home;
- **the locks**: the instructor's home and clone ``0700`` (``solutions/``, the gradebook and
  ``submitted/`` live there), and the named students' homes ``0700`` (Debian makes homes
  ``0755``);
- **PATH for login shells**: a ``/etc/profile.d`` script that puts this Python's ``bin`` first,
  so ``nbgrader`` is found in Jupyter's terminals, which start login shells.

Every argument is checked before anything is changed; on bad input it refuses with the reason
and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FORMGRADER", "LAB_PLUGINS", "Setup", "SetupError", "apply", "main", "plan"]

#: nbgrader's server extension behind the Formgrader tab.
FORMGRADER = "nbgrader.server_extensions.formgrader"
#: nbgrader's JupyterLab plugins that only an instructor should see.
LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")
#: The first line of every file this command writes; a file without it is never overwritten.
MARK = "written by python -m stickylab.hub setup"


class SetupError(ValueError):
    """Bad input: the reason, said before anything was changed."""


@dataclass(frozen=True)
class Setup:
    """What ``setup`` will do, checked: users, folders and files.

    Attributes:
        instructor: the instructor's account.
        students: the students' accounts whose homes are locked.
        course: the instructor's clone of the course (holds ``nbgrader_config.py``).
        course_id: nbgrader's course id.
        exchange: the exchange's root folder.
        config_dir: the global Jupyter config folder every server reads (``/etc/jupyter``).
        env_config_dir: this Python environment's Jupyter config folder.
        profile: the login-shell script that sets ``PATH``, or None to write none.
        bin_dir: the folder of this Python's commands (``jupyterhub-singleuser``, ``nbgrader``).
    """

    instructor: pwd.struct_passwd
    students: tuple[pwd.struct_passwd, ...]
    course: Path
    course_id: str
    exchange: Path
    config_dir: Path
    env_config_dir: Path
    profile: Path | None
    bin_dir: Path


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise SetupError(f"no user {name!r} on this machine (create it first, e.g. `useradd -m {name}`)") \
            from None


def _absolute(value: str, what: str) -> Path:
    if not os.path.isabs(value):
        raise SetupError(f"{what} must be an absolute path, not {value!r}")
    return Path(os.path.normpath(value))


def _ours_or_absent(path: Path) -> None:
    if path.exists() and MARK not in path.read_text(errors="replace").partition("\n")[0]:
        raise SetupError(f"{path} exists and was not written by this command: move it away or merge by hand")


def _python_runs_as(user: pwd.struct_passwd) -> str | None:
    """None if ``user`` can run this Python and import the course and the hub's server, else why not."""
    code = "import stickylab, nbgrader, jupyterlab, jupyterhub.singleuser"
    try:       # subprocess drops the groups, then the group, then the user (no preexec_fn: threads may exist)
        done = subprocess.run([sys.executable, "-c", code], user=user.pw_uid, group=user.pw_gid,
                              extra_groups=[], cwd="/", capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "HOME": user.pw_dir})
    except OSError as exc:
        return str(exc)
    return done.stderr.strip()[-300:] if done.returncode else None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def plan(args: argparse.Namespace) -> Setup:
    """Check the arguments and the machine; the ``Setup`` to apply, or ``SetupError`` with the reason."""
    if os.geteuid() != 0:
        raise SetupError("run it as root (sudo): it changes owners and modes and writes global config")
    instructor = _user(args.instructor)
    students = tuple(_user(name) for name in args.students)
    names = [args.instructor, *args.students]
    if len(set(names)) != len(names):
        raise SetupError(f"a user is named twice: {names}")
    if any(s.pw_uid == 0 for s in (instructor, *students)):
        raise SetupError("root cannot be the instructor or a student")
    course = _absolute(args.course, "--course")
    if not (course / "nbgrader_config.py").is_file() or not (course / "solutions").is_dir():
        raise SetupError(f"{course} is not a clone of the course (no nbgrader_config.py and solutions/)")
    if course.stat().st_uid != instructor.pw_uid:
        raise SetupError(f"{course} is not owned by {args.instructor}: the instructor's own clone, "
                         f"or `chown -R {args.instructor}: {course}`")
    if not args.course_id.replace("-", "").replace("_", "").isalnum():
        raise SetupError(f"--course-id {args.course_id!r}: letters, digits, '-' and '_' only")
    exchange = _absolute(args.exchange, "--exchange")
    homes = [Path(u.pw_dir) for u in (instructor, *students)]
    if any(_inside(exchange, h) for h in [course, *homes]):
        raise SetupError(f"the exchange {exchange} must not be inside the course or a home: they are locked")
    config_dir = _absolute(args.config_dir, "--config-dir")
    profile = _absolute(args.profile, "--profile") if args.profile else None
    import stickylab

    package = Path(stickylab.__file__).resolve().parent
    if _inside(package, course.resolve()):
        raise SetupError(f"stickylab is imported from the clone ({package}), an editable install, which "
                         f"the lock makes unreadable: install it non-editable (`pip install .`)")
    why = _python_runs_as(instructor)
    if why:
        raise SetupError(f"{args.instructor} cannot run {sys.executable} with the course: {why}\n"
                         "install it where every user can run it, e.g. `python3 -m venv /opt/stickylab`")
    env_config_dir = Path(sys.prefix) / "etc" / "jupyter"
    mine = Path(instructor.pw_dir) / ".jupyter" / "nbgrader_config.py"
    for path in (config_dir / "nbgrader_config.py", mine, *([profile] if profile else [])):
        _ours_or_absent(path)
    return Setup(instructor, students, course, args.course_id, exchange, config_dir, env_config_dir,
                 profile, Path(sys.executable).parent)


def _write(path: Path, text: str, user: pwd.struct_passwd | None = None, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    if user is not None:
        os.chown(path.parent, user.pw_uid, user.pw_gid)
        os.chown(path, user.pw_uid, user.pw_gid)


def _merge_json(path: Path, update: dict, user: pwd.struct_passwd | None = None) -> None:
    data = json.loads(path.read_text()) if path.is_file() else {}
    for key, value in update.items():
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    _write(path, json.dumps(data, indent=2) + "\n", user)


def _python_config(lines: Sequence[str]) -> str:
    return "\n".join([f"# {MARK}", "c = get_config()  # noqa: F821", *lines, ""])


def apply(setup: Setup) -> list[str]:
    """Do what ``setup`` says; one line per change, in the order made."""
    done = []
    teacher = setup.instructor
    setup.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(setup.exchange, 0o1777)
    done.append(f"exchange {setup.exchange}: mode 1777")
    inbox = setup.exchange / setup.course_id
    inbox.mkdir(exist_ok=True)
    os.chown(inbox, teacher.pw_uid, teacher.pw_gid)
    os.chmod(inbox, 0o755)
    done.append(f"exchange course folder {inbox}: owned by {teacher.pw_name}, mode 755")

    config = setup.config_dir / "nbgrader_config.py"
    setup.config_dir.mkdir(parents=True, exist_ok=True)
    _write(config, _python_config([f"c.CourseDirectory.course_id = {setup.course_id!r}",
                                   f"c.Exchange.root = {str(setup.exchange)!r}"]))
    done.append(f"global nbgrader config {config}: course_id {setup.course_id}, exchange {setup.exchange}")

    off = setup.env_config_dir / "jupyter_server_config.d" / f"{FORMGRADER}.json"
    _merge_json(off, {"ServerApp": {"jpserver_extensions": {FORMGRADER: False}}})
    page = setup.env_config_dir / "labconfig" / "page_config.json"
    _merge_json(page, {"disabledExtensions": dict.fromkeys(LAB_PLUGINS, True)})
    done.append(f"Formgrader and Create Assignment off for every user: {off}, {page}")

    mine = Path(teacher.pw_dir) / ".jupyter"
    _write(mine / "nbgrader_config.py",
           _python_config([f"c.CourseDirectory.root = {str(setup.course)!r}"]), teacher)
    _merge_json(mine / "jupyter_server_config.json",
                {"ServerApp": {"jpserver_extensions": {FORMGRADER: True}}}, teacher)
    _merge_json(mine / "labconfig" / "page_config.json",
                {"disabledExtensions": dict.fromkeys(LAB_PLUGINS, False)}, teacher)
    os.chown(mine, teacher.pw_uid, teacher.pw_gid)
    done.append(f"{teacher.pw_name}'s {mine}: CourseDirectory.root {setup.course}, Formgrader and "
                "Create Assignment on")

    for folder in dict.fromkeys([*([Path(teacher.pw_dir)] if _inside(setup.course, Path(teacher.pw_dir))
                                   else []), setup.course]):
        os.chmod(folder, 0o700)
        done.append(f"locked {folder}: mode 700")
    for student in setup.students:
        os.chmod(student.pw_dir, 0o700)
        done.append(f"locked {student.pw_name}'s home {student.pw_dir}: mode 700")

    if setup.profile is not None:
        bin_dir = str(setup.bin_dir)
        _write(setup.profile, "\n".join([
            f"# {MARK}: Jupyter's terminals find nbgrader",
            f'case ":$PATH:" in *":{bin_dir}:"*) ;; *) PATH="{bin_dir}:$PATH" ;; esac',
            "export PATH", ""]))
        done.append(f"login shells get {bin_dir} on PATH: {setup.profile}")
    return done


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stickylab.hub", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="the machine-wide parts of a class on a JupyterHub (as root)")
    setup.add_argument("--instructor", required=True, help="the instructor's user name")
    setup.add_argument("--course", required=True, help="the instructor's clone of the course (absolute path)")
    setup.add_argument("--students", nargs="*", default=[], help="students whose homes are locked (mode 700)")
    setup.add_argument("--course-id", default="stickylab", help="nbgrader's course id (default: stickylab)")
    setup.add_argument("--exchange", default="/srv/nbgrader/exchange", help="the exchange's root folder")
    setup.add_argument("--config-dir", default="/etc/jupyter", help="the global Jupyter config folder")
    setup.add_argument("--profile", default="/etc/profile.d/stickylab.sh",
                       help="login-shell script that puts this Python's bin on PATH ('' for none)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; 0 when done, 2 when it refused (and changed nothing)."""
    args = _parser().parse_args(argv)
    try:
        setup = plan(args)
    except SetupError as exc:
        print(f"stickylab.hub setup: refused, nothing changed: {exc}", file=sys.stderr)
        return 2
    for line in apply(setup):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
