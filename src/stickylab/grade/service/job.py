"""One grading of the service, in a child process of its own: the self-grade, then its report as JSON.

    python -m stickylab.grade.service.job NOTEBOOK --course DIR --workdir DIR --report FILE

The notebook's folder is named after its assignment, as for ``python -m stickylab.grade``.
The child runs :func:`stickylab.grade.self_grade` (the sandbox is required) in ``--workdir``,
a scratch course of its own, and writes :func:`.report.to_json` to ``--report``; what
self-grade printed goes to stderr, for the service's log.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import warnings
from pathlib import Path

from ..course import Course
from ..single import self_grade
from .report import to_json

logger = logging.getLogger(__name__)


def grade(notebook: Path, course: Path, workdir: Path) -> dict:
    """Self-grade ``notebook`` against ``course``'s hidden tests in ``workdir``; the report as JSON."""
    assignment = notebook.parent.name
    printed = io.StringIO()
    try:
        self_grade(notebook, course, workdir, out=printed)
    finally:
        sys.stderr.write(printed.getvalue())
    scratch = Course(workdir, course, [assignment])
    score, total = scratch.score(assignment, "self")
    return to_json(assignment, notebook.name, scratch.results(assignment, "self"), score, total)


def main(argv=None) -> int:
    """Command line of the child process (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m stickylab.grade.service.job")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--course", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    report = grade(args.notebook.resolve(), args.course.resolve(), args.workdir)
    args.report.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
