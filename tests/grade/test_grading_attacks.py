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
HEADERS = {student: subs.attack_header(name) for student, name in ATTACKERS.items()}
#: Every assignment attacked, each graded in a batch of its own with a correct submission in it.
ASSIGNMENTS = sorted({h["assignment"] for h in HEADERS.values()} | {A})
HONEST = {f"ok_{assignment[:2]}": assignment for assignment in ASSIGNMENTS if assignment != A}


def assignment_of(student: str) -> str:
    return HEADERS[student]["assignment"] if student in HEADERS else HONEST.get(student, A)
FAIR = {f"fair_{name}": name for name in subs.fair()}
MARKER = "stickylab-attack-marker"
#: Limits for the run: small, so the loops and the stuck call cost little.
CONFIG = """
c.Execute.timeout = 5
c.SandboxedExecute.notebook_seconds = 30
c.SandboxedExecute.interrupt_grace = 3
"""


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(os.fsencode(os.readlink(p)) if p.is_symlink()
                                                     else p.read_bytes()).hexdigest()
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
    course = Course(tmp / "course", subs.ROOT, ASSIGNMENTS, exchange=tmp / "exchange")
    # A long scratch folder, as a hub user's or pytest's can be: a Unix socket's path may have
    # at most 107 bytes, so grading must keep its sockets elsewhere.
    scratch = tmp / ("long-temporary-folder-" * 4) / "scratch"
    scratch.mkdir(parents=True)
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(CONFIG + f"c.Exchange.root = {str(tmp / 'exchange')!r}\n"
                f"c.SandboxedExecute.scratch_root = {str(scratch)!r}\n")
    for assignment in ASSIGNMENTS:
        course.generate(assignment)
    solution, _ = subs.submission(A, "solution")
    course.place(FIRST, A, {subs.notebook_name(A): solution})
    for student, assignment in HONEST.items():
        solved, _ = subs.submission(assignment, "solution")
        course.place(student, assignment, {subs.notebook_name(assignment): solved})
    for student, name in ATTACKERS.items():
        assignment = HEADERS[student]["assignment"]
        folder = course.place(student, assignment, {subs.notebook_name(assignment): subs.attack(name)})
        for link, target in HEADERS[student]["beside"].items():
            (folder / link).symlink_to(target)
    for student, name in FAIR.items():
        course.place(student, A, {subs.notebook_name(A): subs.attack(name, subs.FAIR)})
    course.place(LAST, A, {subs.notebook_name(A): solution})
    before = {"checkout": _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions"),
              "course": _digest(course.root / "solutions") | _digest(course.root / "submitted")}
    started = time.perf_counter()
    runs = [subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment], cwd=course.root,
                           capture_output=True, text=True, timeout=900) for assignment in ASSIGNMENTS]
    seconds = time.perf_counter() - started
    feedbacks = [subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment],
                                cwd=course.root, capture_output=True, text=True, timeout=300)
                 for assignment in ASSIGNMENTS]
    graded = subprocess.CompletedProcess("autograde", max(r.returncode for r in runs),
                                         "".join(r.stdout for r in runs), "".join(r.stderr for r in runs))
    feedback = subprocess.CompletedProcess("generate_feedback", max(r.returncode for r in feedbacks),
                                           "".join(r.stdout for r in feedbacks),
                                           "".join(r.stderr for r in feedbacks))
    time.sleep(2)       # a detached process would act now, after grading
    leftover = _marked_processes(scratch)
    after = {"checkout": _digest(subs.ROOT / "src") | _digest(subs.ROOT / "solutions"),
             "course": _digest(course.root / "solutions") | _digest(course.root / "submitted")}
    print(f"autograde of {len(ATTACKERS) + len(HONEST) + 2} submissions took {seconds:.1f} s")
    return course, graded, feedback, before, after, leftover


def _graded(course, student) -> str:
    assignment = assignment_of(student)
    path = course.root / "autograded" / student / assignment / subs.notebook_name(assignment)
    return path.read_text() if path.exists() else ""


def _printed(course, student) -> str:
    """Everything the student's cells printed or raised in the graded notebook."""
    assignment = assignment_of(student)
    path = course.root / "autograded" / student / assignment / subs.notebook_name(assignment)
    texts = []
    for cell in nbformat.read(path, as_version=4).cells if path.exists() else []:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + out.get("evalue", "") + str(out.get("data", "")))
    return "\n".join(texts)


def test_the_batch_finishes(attacked):
    course, graded, feedback, *_ = attacked
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert feedback.returncode == 0, feedback.stderr[-3000:]


@pytest.mark.parametrize("student", [FIRST, *FAIR, *HONEST, LAST])
def test_correct_submissions_around_the_attackers_get_full_marks(attacked, student):
    course, graded, *_ = attacked
    assignment = assignment_of(student)
    score, total = course.score(assignment, student)
    failing = [(r.name, r.message) for r in course.results(assignment, student) if not r.passed]
    assert total > 0 and score == total, f"{student}: {score}/{total}: {failing}\n{graded.stderr[-2000:]}"


@pytest.mark.parametrize("student", sorted(ATTACKERS))
def test_every_attacker_scores_zero(attacked, student):
    """Every attacker scores 0 (or 0 in the cells its header names)."""
    course, *_ = attacked
    results = course.results(assignment_of(student), student)
    assert results, f"{student} was not graded"
    cells = HEADERS[student]["fails"]
    scored = [(r.name, r.score) for r in results if r.score and (cells is None or r.name in cells)]
    assert not scored, scored


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
    assert len(files) >= 2 * (len(ATTACKERS) + len(FAIR) + len(HONEST) + 2) - 4
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


def test_hidden_test_inputs_never_reach_a_later_cell(attacked):
    """A router that recorded what the hidden tests gave it shows nothing of it in a later cell."""
    course, *_ = attacked
    printed = _printed(course, "mal_record_calls")
    assert "recorded 0 calls: []" in printed, printed[:2000]


def test_no_link_handed_in_is_followed(attacked):
    course, *_ = attacked
    printed = _printed(course, "mal_links_beside")
    assert "gradebook.txt unreadable" in printed and "solution.txt unreadable" in printed, printed[:2000]
    graded = course.root / "autograded" / "mal_links_beside" / A
    assert not {"gradebook.txt", "solution.txt"} & {p.name for p in graded.iterdir()}


def test_what_a_submission_writes_is_capped_in_all(attacked):
    course, *_ = attacked
    printed = _printed(course, "mal_disk_fill")
    written = re.search(r"working folder: stopped after (\d+) MiB", printed)
    assert written and int(written.group(1)) <= 256, printed[:2000]
    assert "into the folder it shares with the grader" in printed, printed[:2000]


def test_widget_messages_neither_swell_nor_break_a_graded_notebook(attacked):
    course, *_ = attacked
    graded = _graded(course, "mal_widget_messages")
    assert graded and "widget-state" not in graded
    assert len(_graded(course, "mal_display_updates")) < 300_000


def test_no_learner_script_is_kept_in_a_graded_notebook(attacked):
    course, *_ = attacked
    shown = _printed(course, "mal_html_script").lower()
    assert "rate" in shown or "nowhere" in shown, "mal_html_script was not graded"
    for live in ("onerror", "<script", "application/javascript"):
        assert live not in shown, f"the graded notebook's outputs keep {live!r}"
