"""A learner's cells run again in a fresh interpreter, then served to the tests (``PYTHONHASHSEED`` checks).

    python -m stickylab.grade.fresh SOCKET < cells.json

Started by the grader, in a sandbox of its own, with ``PYTHONHASHSEED`` set: it runs the
learner's code cells (a JSON list of sources on stdin; IPython's ``%`` and ``!`` lines
are skipped) and then answers the tests' calls on ``SOCKET`` as the kernel does
(:func:`stickylab.grade.learner_side.serve`). A test compares what the same calls answer in
processes with different hash seeds: a router built on Python's salted ``hash()``
answers differently in each.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from .names import python_source


def main(argv=None) -> None:
    """Run the cells from stdin, then serve the socket named on the command line."""
    socket_path = (argv or sys.argv[1:])[0]
    cells = json.loads(sys.stdin.read())
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for source in cells:
            try:
                exec(compile(python_source(source), "<your cell>", "exec"), namespace)
            except BaseException:   # noqa: S110 - as in a notebook, the next cell still runs
                pass
        from stickylab.grade.learner_side import serve

        serve(socket_path, namespace)


if __name__ == "__main__":
    main()
