"""Correct answers get full marks on a busy grading machine.

Instructors grade on shared servers, often while the class is working. Here stock
``nbgrader autograde`` runs on one CPU shared with four processes that compute without
end (as loaded as eight busy processes on two cores), and the correct answer of each
assignment whose hidden tests time the learner's code, or do the most work, must still
get full marks: the tests count CPU time where the learner's code runs, not the wall clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import submissions as subs

from stickylab.grade import Course
from stickylab.grade import sandbox as sb

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}"),
              pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")]

#: Assignments whose hidden tests measure the speed of the learner's code, or do the most work.
TIMED = ["03_ip_affinity", "05_stick_table", "08_consistent_hashing"]
SPINNERS = 4
STUDENT = "busy_machine"


def _on_one_cpu() -> None:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


@pytest.fixture(scope="module")
def graded_while_busy(tmp_path_factory):
    """A correct answer to each timed assignment, graded on one CPU shared with four spinning processes."""
    tmp = tmp_path_factory.mktemp("busy")
    course = Course(tmp / "course", subs.ROOT, TIMED, exchange=tmp / "exchange")
    for assignment in TIMED:
        course.generate(assignment)
        solved, _ = subs.submission(assignment, "solution")
        course.place(STUDENT, assignment, {subs.notebook_name(assignment): solved})
    spinners = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"], preexec_fn=_on_one_cpu)
                for _ in range(SPINNERS)]
    try:
        runs = {}
        for assignment in TIMED:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment],
                                  cwd=course.root, capture_output=True, text=True, timeout=900,
                                  preexec_fn=_on_one_cpu)
            runs[assignment] = (done, time.perf_counter() - started)
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()
    return course, runs


@pytest.mark.parametrize("assignment", TIMED)
def test_a_correct_answer_gets_full_marks_on_a_busy_machine(assignment, graded_while_busy):
    course, runs = graded_while_busy
    done, seconds = runs[assignment]
    score, total = course.score(assignment, STUDENT)
    failing = [(r.name, r.message) for r in course.results(assignment, STUDENT) if not r.passed]
    assert total > 0 and score == total, f"after {seconds:.0f} s: {failing}\n{done.stderr[-2000:]}"
