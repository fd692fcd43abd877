"""The command line of grading: ``python -m stickylab.grade NOTEBOOK`` and ``... class ASSIGNMENT``.

Runs on the host. One notebook is graded by :mod:`stickylab.grade.single` (or, on a hub, by
the hub's grading service: :mod:`stickylab.grade.service.client`); a class by
:mod:`stickylab.grade.batch`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .single import self_grade

__all__ = ["main"]


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
