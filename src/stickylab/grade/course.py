"""A scratch nbgrader course directory, driven by nbgrader's own apps.

Runs on the host (the instructor's or the learner's machine). The self-grade command
(:mod:`stickylab.grade.single`), the hub's grading service, the grading tests and the
grading benchmarks all build their courses with :class:`Course`.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONFIG", "Course", "TestResult", "find_course_root"]

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
