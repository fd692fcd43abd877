"""Correct answers get full marks on a busy grading machine.

Instructors grade on shared servers, often while the class is working. Here the
self-grade command runs on one CPU shared with four processes that compute without end
(as loaded as eight busy processes on two cores), and every correct answer of the
assignments whose hidden tests time the learner's code must still get full marks: the
tests count CPU time where the learner's code runs, not the wall clock.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import nbformat
import pytest
import submissions as subs

from stickylab.grade import sandbox as sb

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}"),
              pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")]

#: Assignments whose hidden tests measure the speed of the learner's code, or do the most work.
TIMED = ["03_ip_affinity", "05_stick_table", "08_consistent_hashing"]
SPINNERS = 4


def _on_one_cpu() -> None:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


@pytest.fixture(scope="module")
def busy():
    """Four processes that never stop computing, on the CPU the grading will use."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"], preexec_fn=_on_one_cpu)
                for _ in range(SPINNERS)]
    try:
        yield
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("assignment", TIMED)
def test_a_correct_answer_gets_full_marks_on_a_busy_machine(assignment, busy, tmp_path):
    work = tmp_path / "exercises" / assignment
    work.mkdir(parents=True)
    notebook = work / subs.notebook_name(assignment)
    nbformat.write(subs.submission(assignment, "solution")[0], notebook)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "stickylab.grade", str(notebook), "--course", str(subs.ROOT),
                           "--workdir", str(tmp_path / "scratch")], capture_output=True, text=True,
                          timeout=900, preexec_fn=_on_one_cpu, env=dict(os.environ, TMPDIR=str(tmp_path)))
    seconds = time.perf_counter() - started
    score = re.search(r"^Score: (\S+) / (\S+)", done.stdout, re.M)
    assert score and score.group(1) == score.group(2), f"after {seconds:.0f} s:\n{done.stdout}\n{done.stderr[-2000:]}"
