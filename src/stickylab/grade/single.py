"""Grade one notebook without an instructor: stock nbgrader autograde in a scratch course directory.

    python -m stickylab.grade exercises/02_cookie_affinity/02_cookie_affinity.ipynb

Runs on the host. The scratch course is built from the checkout's ``nbgrader_config.py``
and the assignment's source in ``solutions/`` (where the hidden tests live); the notebook
is submitted there as student ``self``, autograded and given HTML feedback by nbgrader's
own apps, and the score of each test is read back from the gradebook and printed
(:mod:`stickylab.grade.terminal`) with the message of any test that failed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from .course import CONFIG, Course, find_course_root
from .terminal import printable, print_results

__all__ = ["cache_folder", "check_belongs", "self_grade"]


def self_grade(notebook: Path, course_root: Path | None = None, workdir: Path | None = None,
               out=None, unsafe: bool = False) -> tuple[float, float]:
    """Autograde one learner notebook against the hidden tests; print each test's result.

    Returns (score, max score). The scratch course lives in ``workdir`` (default: a
    fresh folder under the system's temporary directory) and is kept, with its feedback.
    """
    out = sys.stdout if out is None else out
    notebook = Path(notebook).resolve()
    if not notebook.is_file() or notebook.suffix != ".ipynb":
        raise FileNotFoundError(f"not a notebook: {notebook}")
    root = Path(course_root).resolve() if course_root else find_course_root(notebook.parent)
    assignment = notebook.parent.name
    source = root / "solutions" / assignment
    if not source.is_dir():
        known = ", ".join(sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir()))
        raise ValueError(f"{notebook.name} is not in an assignment folder of this course "
                         f"(its folder is {assignment!r}; assignments: {known})")
    expected = sorted(p.name for p in source.glob("*.ipynb"))
    name = notebook.name if notebook.name in expected else (expected[0] if len(expected) == 1 else None)
    if name is None:
        raise ValueError(f"{notebook.name} is not one of {assignment}'s notebooks: {expected}")
    import nbformat

    try:
        submitted = nbformat.read(notebook, as_version=4)
    except Exception as exc:     # not JSON, not a notebook: say so instead of a traceback
        raise ValueError(f"{notebook} is not a readable notebook: {exc}") from None
    check_belongs(submitted, notebook, assignment, root)
    from . import sandbox

    unsafe = unsafe or sandbox.unsafe_requested()
    if not unsafe and sandbox.check() is not None:
        raise sandbox.SandboxUnavailable(
            f"no sandbox can be made here ({sandbox.check()}), and grading runs the notebook's code: "
            "install bubblewrap, or pass --unsafe to grade it without one (your own notebook, on your "
            "own machine)")
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"stickylab-grade-{assignment}-"))
    print(f"Grading {notebook} against {assignment}'s hidden tests (scratch course: {workdir})",
          file=out)
    course = _generated_course(workdir, root, assignment,
                               overrides={"SandboxedExecute.unsafe": True} if unsafe else None)
    course.place("self", assignment, {name: submitted})
    result = course.autograde(assignment, "self")
    if not result.get("success"):
        print("nbgrader reported a problem while grading (details below); scores are what it "
              "could grade.", file=out)
        print(_log_tail(result), file=out)
    course.feedback(assignment, "self")
    return _report(course, assignment, out)


def _cell_ids(nb) -> set[str]:
    """The grade ids of a notebook's answer and test cells (what tells one assignment from another)."""
    ids = set()
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if isinstance(meta, dict) and (meta.get("solution") or meta.get("grade")) and meta.get("grade_id"):
            ids.add(str(meta["grade_id"]))
    return ids


def check_belongs(submitted, notebook: Path, assignment: str, root: Path) -> None:
    """Refuse, in plain words, a notebook of another assignment (or of none) before grading it."""
    import json

    mine = _cell_ids(submitted)
    owners = {}
    for folder in sorted((root / "solutions").iterdir()):
        for path in folder.glob("*.ipynb"):
            if mine & _cell_ids(json.loads(path.read_text())):
                owners.setdefault(folder.name, path.name)
    if assignment in owners:
        return
    if owners:
        other = next(iter(owners))
        raise ValueError(f"{notebook.name} is a notebook of assignment {other}, not of {assignment} "
                         f"(the folder it is in): grade exercises/{other}/{owners[other]} instead")
    raise ValueError(f"{notebook.name} has none of the cells of {assignment}'s exercise (was it made from "
                     f"exercises/{assignment}/, with its cells kept?)")


def cache_folder() -> Path:
    """Where generated scratch courses are kept between self-grades (``STICKYLAB_CACHE`` to move it)."""
    base = os.environ.get("STICKYLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "stickylab")
    return Path(base)


def _generated_course(workdir: Path, root: Path, assignment: str, overrides=None) -> Course:
    """A scratch course with ``assignment`` generated: copied from the cache, made once per source.

    Generating rebuilds the gradebook (most of a cold self-grade's time), so the result is
    kept under :func:`cache_folder`, keyed by the configuration, the assignment's source and
    the versions of nbgrader and stickylab; any change makes a new one.
    """
    import hashlib

    import nbgrader

    from .. import __version__

    digest = hashlib.sha256(f"{nbgrader.__version__} {__version__}".encode())
    digest.update((root / CONFIG).read_bytes())
    for path in sorted((root / "solutions" / assignment).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    cached = cache_folder() / f"{assignment}-{digest.hexdigest()[:16]}"
    if not (cached / "gradebook.db").is_file():
        building = Path(tempfile.mkdtemp(prefix=f"{cached.name}-", dir=_made(cache_folder())))
        Course(building, root, [assignment]).generate(assignment)
        try:
            building.rename(cached)
        except OSError:             # made meanwhile by another self-grade: use theirs
            shutil.rmtree(building, ignore_errors=True)
    # Course copies the configuration and the source itself; from the cache come the rest.
    shutil.copytree(cached, workdir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("gradebook.db.backup-*", "exchange", "solutions", CONFIG))
    return Course(workdir, root, [assignment], overrides=overrides)


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_tail(result: dict, lines: int = 15) -> str:
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    keep = [ln for ln in text.splitlines() if "ERROR" in ln or "WARNING" in ln or "Error" in ln]
    return "\n".join("    " + printable(ln) for ln in keep[-lines:])


def _report(course: Course, assignment: str, out) -> tuple[float, float]:
    """Print the self-grade's report (:func:`~.terminal.print_results`) and where its feedback is."""
    score, total = course.score(assignment, "self")
    print_results(course.results(assignment, "self"), score, total, out)
    for html in course.feedback_files(assignment, "self"):
        print(f"Feedback: {html}", file=out)
    return score, total
