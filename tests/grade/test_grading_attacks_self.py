"""The attacks on grading, against the self-grade command (`python -m stickylab.grade`).

The attacks on the grading's integrity (fooling the tests, reading the solutions, harming
the gradebook, the checkout or the grader) each run through the command as a learner
would run it. The attacks on resources (output, loops, stuck calls, memory and processes)
are graded in the class batch of test_grading_attacks.py, with short time limits.
"""

from __future__ import annotations

import re
import tempfile
import time

import nbformat
import pytest
import submissions as subs
from test_grading_attacks import A, _digest, _marked_processes

from stickylab.grade import sandbox as sb

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")]

RESOURCE_ATTACKS = {"huge_output", "loops", "uninterruptible", "resources", "display_updates",
                    "widget_messages", "disk_fill", "links_beside"}


@pytest.mark.parametrize("name", [n for n in subs.attacks() if n not in RESOURCE_ATTACKS])
def test_self_grade_gives_attacks_zero_and_changes_nothing(name, tmp_path, capsys, monkeypatch):
    from stickylab.grade import main

    before = _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions")
    header = subs.attack_header(name)
    assignment = header["assignment"]
    work = tmp_path / "exercises" / assignment
    work.mkdir(parents=True)
    nbformat.write(subs.attack(name), work / subs.notebook_name(assignment))
    monkeypatch.setenv("TMPDIR", str(tmp_path))     # the sandbox's scratch folders go here
    tempfile.tempdir = None
    try:
        code = main([str(work / subs.notebook_name(assignment)), "--course", str(subs.ROOT),
                     "--workdir", str(tmp_path / "scratch")])
    finally:
        monkeypatch.undo()
        tempfile.tempdir = None
    out = capsys.readouterr().out
    time.sleep(1)           # a detached process would act now
    assert code == 1, out
    if header["fails"] is None:
        assert "Score: 0 /" in out, out
    assert "\x1b" not in out, "the report passes on terminal escape codes"
    assert len(re.findall(r"^Score:", out, re.M)) == 1, f"a report line was forged:\n{out}"
    assert _marked_processes(tmp_path) == []
    assert _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions") == before
    assert (tmp_path / "scratch" / "gradebook.db").stat().st_size > 0


@pytest.mark.parametrize("name, expect",
                         [("noop_helpers", "zero"), ("equal_anything", "zero"), (None, "full")])
def test_unsafe_self_grade_still_decides_in_a_process_of_its_own(name, expect, tmp_path, capsys):
    """--unsafe drops the sandbox, not the separate test process: patched helpers change nothing."""
    from stickylab.grade import main

    work = tmp_path / "exercises" / A
    work.mkdir(parents=True)
    nb = subs.attack(name) if name else subs.submission(A, "solution")[0]
    nbformat.write(nb, work / subs.notebook_name(A))
    code = main([str(work / subs.notebook_name(A)), "--course", str(subs.ROOT), "--unsafe",
                 "--workdir", str(tmp_path / "scratch")])
    out = capsys.readouterr().out
    if expect == "zero":
        assert code == 1 and "Score: 0 /" in out, out
    else:
        assert code == 0 and "FAIL" not in out, out
