"""The grading service's report as JSON: what it sends, and the results the client reads back.

Per test: ``notebook``, ``name``, ``points``, ``max_points``, ``passed`` and ``message`` (what a
failing test said, each line cleaned as the self-grade report cleans it, at most 12 lines);
then ``score`` and ``max_score``. Never a test's source.
"""

from __future__ import annotations

import logging

from ..course import TestResult
from ..terminal import printable

logger = logging.getLogger(__name__)

#: Lines of a failing test's message kept (as the self-grade report prints them).
MESSAGE_LINES = 12


def _message(result: TestResult) -> str:
    if result.passed or not result.message:
        return ""
    return "\n".join(printable(line) for line in result.message.splitlines()[:MESSAGE_LINES])


def to_json(assignment: str, notebook: str, results: list[TestResult], score: float, total: float) -> dict:
    """The report of one grading, as the service answers it."""
    return {
        "assignment": assignment,
        "notebook": notebook,
        "tests": [{"notebook": r.notebook, "name": r.name, "points": r.score, "max_points": r.max_score,
                   "passed": r.passed, "message": _message(r)} for r in results],
        "score": float(score),
        "max_score": float(total),
    }


def from_json(report: dict) -> tuple[list[TestResult], float, float]:
    """(results, score, max score) of a report the service sent.

    Raises:
        ValueError: the report is not one (a field missing or of the wrong type), named.
    """
    try:
        results = [TestResult(str(t["notebook"]), str(t["name"]), float(t["points"]),
                              float(t["max_points"]), str(t.get("message") or ""))
                   for t in report["tests"]]
        return results, float(report["score"]), float(report["max_score"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the grading service's answer is not a report "
                         f"({type(exc).__name__}: {exc})") from None
