"""The two nbgrader steps that let class grading run a notebook on one machine and grade it on another.

:mod:`stickylab.grade.batch` puts :class:`KeepSanitized` after the sanitize steps and
:class:`KeepExecuted` right after the execution step on its workers, and, where the gradebook
is written, :class:`ReplaySanitized` in place of the sanitize steps (for a student whose
worker handed back every notebook) and :class:`ReplayExecution` in place of the execution
step; everything else in ``c.Autograde.autograde_preprocessors`` runs as configured, in both
places.
"""

from __future__ import annotations

import logging
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

__all__ = ["FAILED", "SANITIZED", "KeepExecuted", "KeepSanitized", "ReplayExecution", "ReplaySanitized"]

log = logging.getLogger(__name__)

#: What a student's grading failed with, beside the notebooks a worker handed back.
FAILED = "FAILED.txt"
#: The folder, beside the executed notebooks a worker handed back, of its sanitized ones.
SANITIZED = "sanitized"


class _Keep(NbGraderPreprocessor):
    """Save the notebook as it is at this step as ``<folder>/<notebook>.ipynb``, and pass it on unchanged."""

    folder = Unicode("", help="where to save each notebook").tag(config=True)

    def preprocess(self, nb, resources):
        """Save ``nb`` as it is and pass it on unchanged."""
        name = resources["nbgrader"]["notebook"]
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(self.folder) / f"{name}.ipynb")
        return nb, resources


class KeepExecuted(_Keep):
    """On a worker, right after execution: save the executed notebook."""


class KeepSanitized(_Keep):
    """On a worker, after the sanitize steps: save the notebook that is then executed."""


class ReplaySanitized(NbGraderPreprocessor):
    """In place of the sanitize steps: the notebook a worker sanitized, ``<folder>/<student>/sanitized/``.

    The worker ran the configured sanitize steps on the same submission against a copy of
    the same gradebook, so its result is what they would give here; class grading uses this
    step only for a student whose worker handed back every notebook, sanitized and executed.
    """

    folder = Unicode("", help="where the notebooks of the workers are").tag(config=True)

    def preprocess(self, nb, resources):
        """The worker's sanitized copy of ``nb``."""
        info = resources["nbgrader"]
        path = Path(self.folder) / info["student"] / SANITIZED / f"{info['notebook']}.ipynb"
        return nbformat.read(path, as_version=4), resources


class ReplayExecution(NbGraderPreprocessor):
    """In place of execution: each cell's outputs from ``<folder>/<student>/<notebook>.ipynb``.

    Cells are matched by position where both notebooks hold the same cells (they do: the
    worker sanitised the same submission against the same gradebook), else by grade id. A
    code cell without a match, or every code cell of a notebook no worker returned, gets
    an error output naming the reason (``<folder>/<student>/FAILED.txt`` where a worker
    wrote one), so it scores 0 as a cell that raised does.
    """

    folder = Unicode("", help="where the executed notebooks of the workers are").tag(config=True)

    def preprocess(self, nb, resources):
        """Copy outputs, execution counts and timings from the executed notebook into ``nb``."""
        info = resources["nbgrader"]
        folder = Path(self.folder) / info["student"]
        path = folder / f"{info['notebook']}.ipynb"
        if path.is_file():
            _copy_execution(nbformat.read(path, as_version=4), nb)
        else:
            why = (folder / FAILED).read_text() if (folder / FAILED).is_file() else ""
            _fail_cells(nb.cells, why or "no grading worker returned this notebook")
        return nb, resources


def _copy_execution(executed, nb) -> None:
    """What the execution step changed in ``executed``, copied into ``nb``'s matching cells."""
    if "language_info" in executed.metadata:
        nb.metadata["language_info"] = executed.metadata["language_info"]
    same = [(c.cell_type, c.source) for c in executed.cells] == [(c.cell_type, c.source) for c in nb.cells]
    if same:
        pairs = list(zip(nb.cells, executed.cells))
    else:
        by_id = {_grade_id(c): c for c in executed.cells if _grade_id(c)}
        pairs = [(c, by_id.get(_grade_id(c))) for c in nb.cells]
    missing = []
    for mine, done in pairs:
        if mine.cell_type != "code":
            continue
        if done is None or done.cell_type != "code" or done.source != mine.source:
            missing.append(mine)
            continue
        mine.outputs = done.outputs
        mine.execution_count = done.execution_count
        if "execution" in done.metadata:
            mine.metadata["execution"] = done.metadata["execution"]
    _fail_cells(missing, "the graded notebook a worker returned has no such cell")


def _fail_cells(cells, why: str) -> None:
    for cell in cells:
        if cell.cell_type == "code" and cell.source.strip():
            cell.outputs = [new_output("error", ename="GradingFailed", evalue=why,
                                       traceback=[f"GradingFailed: this cell was not graded: {why}"])]


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
