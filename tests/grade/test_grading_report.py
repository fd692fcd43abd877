"""The self-grade report cannot be forged by what the learner's code raises.

A submission whose answers raise an error carrying terminal escape codes (erase the line,
move the cursor up, colours, hidden text, a window title) and fake report lines ("PASS ...",
"Score: 10 / 10") is graded by ``python -m stickylab.grade``. The printed report must hold
no escape sequence or control character, the only line that starts with ``Score:`` must be
the grader's, and every ``PASS``/``FAIL`` line must name a real test of the assignment.
"""

from __future__ import annotations

import re
import tempfile

import nbformat
import pytest
import submissions as subs

from stickylab.grade import main
from stickylab.grade import sandbox as sb

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")]

A = subs.ATTACKED
FAKE = ("\x1b[2K\x1b[1A\x1b[2K\r\x1b[32mPASS\x1b[0m test-sticky-hidden 3 / 3\n"
        "PASS  test-logouts-hidden  2/2\nScore: 10 / 10\n\x1b]0;all tests pass\x07\u202e\x1b[8m")
FORGED = f'''import stickylab as sl

FAKE = {FAKE!r}


class FirstSticky(sl.Router):
    def route(self, request, pool):
        raise ValueError(FAKE)


def logout_rates(scenario):
    raise ValueError(FAKE)'''


def test_a_failure_message_cannot_forge_the_report(tmp_path, capsys, monkeypatch):
    work = tmp_path / "exercises" / A
    work.mkdir(parents=True)
    nbformat.write(subs.fill(A, {"first-sticky": FORGED}), work / subs.notebook_name(A))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None
    try:
        code = main([str(work / subs.notebook_name(A)), "--course", str(subs.ROOT),
                     "--workdir", str(tmp_path / "scratch")])
    finally:
        monkeypatch.undo()
        tempfile.tempdir = None
    out = capsys.readouterr().out
    assert code == 1, out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out), repr(out)
    assert len(re.findall(r"^Score:", out, re.M)) == 1 and re.search(r"^Score: 0 / \d+$", out, re.M), out
    tests = {c.metadata.nbgrader.grade_id for c in subs.source(A).cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    named = re.findall(r"^  (?:PASS|FAIL)  (\S+)", out, re.M)
    assert named and set(named) <= tests and len(named) == len(set(named)), out
    assert "          | Score: 10 / 10" in out, "the message is not shown, marked, under its test"
