"""Hostile submissions, graded by stock `nbgrader autograde` with the repository's config.

One class batch of ``01_stateless_vs_sticky``: a correct submission first, then every
attack in tests/submissions/attacks (each tries to score without the code, to harm the
grading of others, or to leak the hidden tests), then a correct submission last. The
sandbox and the separate test process must leave every attacker with 0, every other
student with exactly full marks, nothing changed outside the sandbox, no process alive
after grading, and graded notebooks and feedback under 1 MB.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import submissions as subs

from stickylab.grade import Course
from stickylab.grade import sandbox as sb

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")]

A = subs.ATTACKED
FIRST, LAST = "aaa_first", "zzz_last"
ATTACKERS = {f"mal_{name}": name for name in subs.attacks()}
FAIR = {f"fair_{name}": name for name in subs.fair()}
MARKER = "stickylab-attack-marker"
#: Limits for the run: small, so the loops and the stuck call cost little.
CONFIG = """
c.Execute.timeout = 5
c.SandboxedExecute.notebook_seconds = 30
c.SandboxedExecute.interrupt_grace = 3
"""


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _marked_processes(scratch: Path | None = None) -> list[str]:
    """Live processes that run in a folder under ``scratch`` (a grading's), or any an attack started."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        mine = scratch is None or str(scratch) in cmdline or cwd.startswith(str(scratch))
        if mine and (MARKER in cmdline or scratch is not None):
            found.append(f"{proc.name} in {cwd}: {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacked")
    course = Course(tmp / "course", subs.ROOT, [A], exchange=tmp / "exchange")
    scratch = tmp / "scratch"
    scratch.mkdir()
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(CONFIG + f"c.Exchange.root = {str(tmp / 'exchange')!r}\n"
                f"c.SandboxedExecute.scratch_root = {str(scratch)!r}\n")
    course.generate(A)
    solution, _ = subs.submission(A, "solution")
    course.place(FIRST, A, {subs.notebook_name(A): solution})
    for student, name in ATTACKERS.items():
        course.place(student, A, {subs.notebook_name(A): subs.attack(name)})
    for student, name in FAIR.items():
        course.place(student, A, {subs.notebook_name(A): subs.attack(name, subs.FAIR)})
    course.place(LAST, A, {subs.notebook_name(A): solution})
    before = {"checkout": _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions"),
              "course": _digest(course.root / "solutions") | _digest(course.root / "submitted")}
    started = time.perf_counter()
    graded = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A], cwd=course.root,
                            capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    feedback = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", A], cwd=course.root,
                              capture_output=True, text=True, timeout=300)
    time.sleep(2)       # a detached process would act now, after grading
    leftover = _marked_processes(scratch)
    after = {"checkout": _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions"),
             "course": _digest(course.root / "solutions") | _digest(course.root / "submitted")}
    print(f"autograde of {len(ATTACKERS) + 2} submissions took {seconds:.1f} s")
    return course, graded, feedback, before, after, leftover


def _graded(course, student) -> str:
    path = course.root / "autograded" / student / A / subs.notebook_name(A)
    return path.read_text() if path.exists() else ""


def _printed(course, student) -> str:
    """Everything the student's cells printed or raised in the graded notebook."""
    path = course.root / "autograded" / student / A / subs.notebook_name(A)
    texts = []
    for cell in nbformat.read(path, as_version=4).cells if path.exists() else []:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + out.get("evalue", "") + str(out.get("data", "")))
    return "\n".join(texts)


def test_the_batch_finishes(attacked):
    course, graded, feedback, *_ = attacked
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert feedback.returncode == 0, feedback.stderr[-3000:]


@pytest.mark.parametrize("student", [FIRST, *FAIR, LAST])
def test_correct_submissions_around_the_attackers_get_full_marks(attacked, student):
    course, graded, *_ = attacked
    score, total = course.score(A, student)
    failing = [(r.name, r.message) for r in course.results(A, student) if not r.passed]
    assert total > 0 and score == total, f"{student}: {score}/{total}: {failing}\n{graded.stderr[-2000:]}"


@pytest.mark.parametrize("student", sorted(ATTACKERS))
def test_every_attacker_scores_zero(attacked, student):
    course, *_ = attacked
    results = course.results(A, student)
    assert results, f"{student} was not graded"
    assert course.score(A, student)[0] == 0, [(r.name, r.score) for r in results if r.score]


def test_no_process_outlives_grading(attacked):
    *_, leftover = attacked
    assert leftover == []


def test_nothing_outside_the_sandbox_changed(attacked):
    course, _, _, before, after, _ = attacked
    assert after["checkout"] == before["checkout"], "the checkout (src/, solutions/) was changed"
    assert after["course"] == before["course"], "the course's solutions/ or submitted/ was changed"
    assert (course.root / "gradebook.db").stat().st_size > 0
    backups = list(course.root.glob("gradebook.db.backup-*"))
    assert backups, "no backup of the gradebook was made before autograding"


def test_graded_notebooks_and_feedback_stay_small(attacked):
    course, *_ = attacked
    files = [*(course.root / "autograded").rglob("*.ipynb"), *(course.root / "feedback").rglob("*.html")]
    assert len(files) >= 2 * (len(ATTACKERS) + len(FAIR) + 2) - 4
    for path in files:
        assert path.stat().st_size < 1_000_000, f"{path} is {path.stat().st_size:,} bytes"
    assert "bytes of output cut by the grader" in _printed(course, "mal_huge_output")


def test_feedback_never_shows_hidden_test_source(attacked):
    course, *_ = attacked
    release = (subs.ROOT / "exercises" / A / subs.notebook_name(A)).read_text()
    hidden = []
    for cell in subs.source(A).cells:
        match = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
        if match:
            hidden += [ln.strip() for ln in match.group(1).splitlines()
                       if len(ln.strip()) > 20 and re.fullmatch(r"[\w .,()=\[\]:+-]+", ln.strip())
                       and ln.strip() not in release]
    assert hidden, "found no distinctive hidden-test line to look for"
    for html in (course.root / "feedback").rglob("*.html"):
        text = html.read_text()
        leaked = [ln for ln in hidden if ln in text]
        assert not leaked, f"{html} shows hidden-test source: {leaked[:3]}"


def test_the_sandbox_hides_the_course_and_keeps_its_files_read_only(attacked):
    course, *_ = attacked
    assert "solutions found: []" in _printed(course, "mal_read_solutions")
    assert "harmed: []" in _printed(course, "mal_harm_others")
    assert "patched: []" in _printed(course, "mal_patch_installed")
    leaked = _printed(course, "mal_leak_tests")
    assert "gradebook.db" not in leaked and ".ipynb" not in leaked, leaked[:2000]


def test_limits_stop_loops_stuck_calls_and_hogs(attacked):
    course, *_ = attacked
    assert "used up its 30 s" in _printed(course, "mal_loops")
    assert "did not stop when interrupted" in _printed(course, "mal_uninterruptible")
    hog = _printed(course, "mal_resources")
    assert "no 64 GiB" in hog and "stopped after" in hog
