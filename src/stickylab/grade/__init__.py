"""Grade a notebook without an instructor: stock nbgrader autograde in a scratch course directory.

    python -m stickylab.grade exercises/02_cookie_affinity/02_cookie_affinity.ipynb

The scratch course is built from the checkout's ``nbgrader_config.py`` and the
assignment's source in ``solutions/`` (where the hidden tests live); the notebook is
submitted there as student ``self``, autograded and given HTML feedback by nbgrader's
own apps, and the score of each test is read back from the gradebook and printed with the
message of any test that failed. The same :class:`Course` runs the grading tests and the
grading benchmark.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import sys
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Course", "TestResult", "find_course_root", "main", "self_grade"]

CONFIG = "nbgrader_config.py"


@dataclass(frozen=True)
class TestResult:
    """One graded test cell of one submitted notebook, as the gradebook holds it."""

    notebook: str
    name: str
    score: float
    max_score: float
    message: str    #: the error the cell raised when graded ("" if it passed)

    @property
    def passed(self) -> bool:
        """True if the cell earned all its points."""
        return self.score >= self.max_score


def find_course_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds ``nbgrader_config.py`` and ``solutions/``."""
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        if (folder / CONFIG).is_file() and (folder / "solutions").is_dir():
            return folder
    raise FileNotFoundError(f"no course directory ({CONFIG} beside solutions/) at or above {start}")


def _load_config(root: Path, overrides: dict | None):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG, path=str(root)).load_config()
    extra = Config()
    for dotted, value in (overrides or {}).items():
        section, _, name = dotted.rpartition(".")
        extra[section][name] = value
    config.merge(extra)
    return config


class Course:
    """A scratch nbgrader course directory made from a checkout's config and ``solutions/``.

    Every step is one of nbgrader's own apps (through :class:`nbgrader.apps.NbGraderAPI`),
    so what passes here passes for an instructor running the commands by hand.

    Args:
        root: the scratch directory (created; its ``solutions/`` is replaced).
        checkout: the course directory to copy ``nbgrader_config.py`` and sources from.
        assignments: which assignments to copy (default: all of them).
        exchange: the exchange folder (default: ``root/exchange``).
        overrides: extra config, e.g. ``{"Execute.timeout": 10}``.
    """

    def __init__(self, root: Path, checkout: Path, assignments=None, exchange: Path | None = None,
                 overrides: dict | None = None):
        self.root = Path(root).resolve()
        self.checkout = Path(checkout).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.exchange = Path(exchange or self.root / "exchange").resolve()
        self.exchange.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.checkout / CONFIG, self.root / CONFIG)
        names = assignments or sorted(p.name for p in (self.checkout / "solutions").iterdir()
                                      if p.is_dir())
        for name in names:
            dest = self.root / "solutions" / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(self.checkout / "solutions" / name, dest,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        self.assignments = list(names)
        overrides = dict(overrides or {})
        overrides.setdefault("Exchange.root", str(self.exchange))
        self.config = _load_config(self.root, overrides)
        self._api = None

    @property
    def db_url(self) -> str:
        """The gradebook's database URL."""
        return self.config.CourseDirectory.db_url

    @property
    def course_id(self) -> str:
        """The course id from the configuration."""
        return self.config.CourseDirectory.course_id

    @property
    def api(self):
        """The :class:`nbgrader.apps.NbGraderAPI` of this course."""
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            coursedir.root = str(self.root)
            self._api = NbGraderAPI(coursedir=coursedir, config=self.config)
        return self._api

    @staticmethod
    def _check(result: dict, what: str) -> dict:
        if not result.get("success"):
            raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")
        return result

    def generate(self, assignment: str) -> None:
        """``nbgrader generate_assignment --force``: the release, and the gradebook's test cells."""
        self._check(self.api.generate_assignment(assignment, force=True), "generate_assignment")

    def release(self, assignment: str) -> None:
        """``nbgrader release_assignment``: copy the release to the exchange."""
        self._check(self.api.release_assignment(assignment), "release_assignment")

    def collect(self, assignment: str) -> None:
        """``nbgrader collect``: copy every submission from the exchange to ``submitted/``."""
        self._check(self.api.collect(assignment), "collect")

    def place(self, student: str, assignment: str, notebooks: dict) -> Path:
        """Put a submission straight into ``submitted/`` (as ``nbgrader zip_collect`` would).

        ``notebooks`` maps file names to nbformat notebooks (or None to leave one out).
        """
        import nbformat

        folder = self.root / "submitted" / student / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            if nb is not None:
                nbformat.write(nb, folder / name)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        (folder / "timestamp.txt").write_text(stamp)
        return folder

    def autograde(self, assignment: str, student: str) -> dict:
        """``nbgrader autograde``: returns nbgrader's result dict (``success``, ``log``, ``error``)."""
        return self.api.autograde(assignment, student, force=True, create=True)

    def feedback(self, assignment: str, student: str) -> dict:
        """``nbgrader generate_feedback`` for one student: HTML in ``feedback/``."""
        return self.api.generate_feedback(assignment, student, force=True)

    def feedback_files(self, assignment: str, student: str) -> list[Path]:
        """The feedback HTML files generated for a student's assignment."""
        return sorted((self.root / "feedback" / student / assignment).glob("*.html"))

    def results(self, assignment: str, student: str) -> list[TestResult]:
        """Each graded test cell's score from the gradebook, with the message it failed with."""
        from nbgrader.api import Gradebook, MissingEntry

        out = []
        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                return []
            for nb in submission.notebooks:
                messages = self._messages(assignment, student, nb.name)
                for grade in nb.grades:
                    out.append(TestResult(nb.name, grade.name, float(grade.score),
                                          float(grade.max_score), messages.get(grade.name, "")))
        order = self._cell_order(assignment)
        return sorted(out, key=lambda r: (r.notebook, order.get((r.notebook, r.name), 1 << 30)))

    def _cell_order(self, assignment: str) -> dict:
        import nbformat

        order = {}
        for path in sorted((self.root / "solutions" / assignment).glob("*.ipynb")):
            for k, cell in enumerate(nbformat.read(path, as_version=4).cells):
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid:
                    order[(path.stem, gid)] = k
        return order

    def _messages(self, assignment: str, student: str, notebook: str) -> dict[str, str]:
        """grade_id -> the error output of that cell in the autograded notebook."""
        import nbformat

        path = self.root / "autograded" / student / assignment / f"{notebook}.ipynb"
        if not path.exists():
            return {}
        messages = {}
        for cell in nbformat.read(path, as_version=4).cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            for output in cell.get("outputs", []):
                if gid and output.get("output_type") == "error":
                    messages[gid] = f"{output.get('ename')}: {output.get('evalue')}".strip()
        return messages

    def score(self, assignment: str, student: str) -> tuple[float, float]:
        """(score, max score) of a student's assignment, from the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                return 0.0, float(gb.find_assignment(assignment).max_score)
            return float(submission.score), float(submission.max_score)


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
    _check_belongs(submitted, notebook, assignment, root)
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


def _check_belongs(submitted, notebook: Path, assignment: str, root: Path) -> None:
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
    return "\n".join("    " + _printable(ln) for ln in keep[-lines:])


#: Terminal escape sequences: CSI (colours, cursor moves, erasing), OSC (titles, links), the string
#: commands (DCS, SOS, PM, APC) and the short two- and three-character ones.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]")


def _printable(text: str, width: int = 240) -> str:
    """One line that came from the learner's code, safe to print.

    No escape sequence, no control or format character (a carriage return, a bidirectional
    override), at most ``width`` characters.
    """
    text = _ESCAPES.sub("", text.replace("\t", "    "))
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))[:width]


def _print_results(results: list[TestResult], score: float, total: float, out) -> None:
    """Print each test's result, then the score.

    What a failing test said goes under it, each line cleaned and marked with ``|``, so no
    message can move the cursor or pass for a report line. The hub's grading service
    (:mod:`stickylab.grade.service`) answers with the same results, printed here by its client.
    """
    width = max((len(r.name) for r in results), default=10)
    for r in results:
        mark = "PASS" if r.passed else "FAIL"
        print(f"  {mark}  {r.name:<{width}}  {r.score:g}/{r.max_score:g}", file=out)
        if r.message and not r.passed:
            for line in r.message.splitlines()[:12]:
                print(f"          | {_printable(line)}", file=out)
    print(f"Score: {score:g} / {total:g}", file=out)


def _report(course: Course, assignment: str, out) -> tuple[float, float]:
    """Print the self-grade's report (:func:`_print_results`) and where its feedback is."""
    score, total = course.score(assignment, "self")
    _print_results(course.results(assignment, "self"), score, total, out)
    for html in course.feedback_files(assignment, "self"):
        print(f"Feedback: {html}", file=out)
    return score, total


def main(argv=None) -> int:
    """Command line: ``python -m stickylab.grade NOTEBOOK [--course DIR] [--workdir DIR]``.

    ``python -m stickylab.grade class ASSIGNMENT [--workers N]`` grades a whole class
    instead (:mod:`stickylab.grade.batch`).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["class"]:
        from .batch import main as grade_class

        return grade_class(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m stickylab.grade",
                                     description="Grade your exercise notebook against the hidden tests.",
                                     epilog="Instructors: `python -m stickylab.grade class ASSIGNMENT "
                                            "[--workers N]` grades every submission in submitted/ in "
                                            "parallel (see `class --help`).")
    parser.add_argument("notebook", type=Path,
                        help="e.g. exercises/02_cookie_affinity/02_cookie_affinity.ipynb")
    parser.add_argument("--course", type=Path, default=None,
                        help="the course directory (default: found above the notebook)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to build the scratch course (default: a new temporary folder)")
    parser.add_argument("--unsafe", action="store_true",
                        help="grade without a sandbox where none can be made (only for your own notebook)")
    parser.add_argument("--hub", action="store_true",
                        help="on a JupyterHub: have the hub's grading service grade it (you cannot read the "
                             "hidden tests there); needs $JUPYTERHUB_API_TOKEN, as every hub server has")
    parser.add_argument("--service", metavar="URL", default=None,
                        help="the grading service's URL for --hub (default: $STICKYLAB_GRADE_URL)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    try:
        if args.hub or args.service:
            from .service.client import grade_remotely, service_url

            score, total = grade_remotely(args.notebook, service_url(args.service), sys.stdout)
        else:
            score, total = self_grade(args.notebook, args.course, args.workdir, unsafe=args.unsafe)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if score >= total else 1

