"""The whole nbgrader workflow on one machine, with every reference submission, graded for real.

One module-scoped fixture builds a scratch course from this checkout, then runs a class:
generate and release every assignment to a temporary exchange; four students fetch,
work (their notebooks are reference submissions from tests/submissions) and submit;
the instructor collects; a fifth student's broken submissions are dropped straight into
submitted/; everything is autograded, feedback generated, and grades exported. The tests
below read the outcome back from the gradebook.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
import submissions as subs
from traitlets.config import Config

from stickylab.grade import Course

pytestmark = pytest.mark.slow

ASSIGNMENTS = subs.assignments()
#: student -> which reference submission they hand in, through the exchange.
EXCHANGE_STUDENTS = {"ana": "solution", "ben": "wrong", "cal": "release", "dee": "hostile"}
BAD = "eve"
#: Execute.timeout for the run: the hostile infinite loop costs this much once.
TIMEOUT = 6


def _student_side(exchange, student: str, home, assignment: str, nb) -> None:
    """What a student does in their own account: fetch the release, save work, submit."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    cfg = Config()
    cfg.CourseDirectory.course_id = "stickylab"
    cfg.Exchange.root = str(exchange)
    cfg.Exchange.assignment_dir = str(home)
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    factory = ExchangeFactory(config=cfg)
    auth = Authenticator(config=cfg)
    factory.FetchAssignment(coursedir=coursedir, authenticator=auth, config=cfg).start()
    fetched = home / assignment / subs.notebook_name(assignment)
    assert fetched.exists(), f"fetch did not bring {fetched}"
    nbformat.write(nb, fetched)
    factory.Submit(coursedir=coursedir, authenticator=auth, config=cfg).start()


# -- broken submissions: what learners do to notebooks by accident --------------------------------
def _ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _deleted_tests(a):
    nb, _ = subs.submission(a, "solution")
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return {subs.notebook_name(a): nb}


def _duplicated_cells(a):
    nb, _ = subs.submission(a, "solution")
    extra = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
             or c.metadata.get("nbgrader", {}).get("grade")][:2]
    nb.cells = nb.cells + [nbformat.from_dict(dict(c, id=f"{c.id}-copy")) for c in extra]
    return {subs.notebook_name(a): nb}


def _changed_types(a):
    nb, _ = subs.submission(a, "solution")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") and cell.cell_type == "code":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return {subs.notebook_name(a): nb}


def _edited_locked(a):
    nb = subs.release(a)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass  # all tests pass now, surely"
    return {subs.notebook_name(a): nb}


def _missing_notebook(a):
    nb, _ = subs.submission(a, "solution")
    return {"my_answers.ipynb": nb}     # the right work under the wrong name: not graded


def _not_json(a):
    return {subs.notebook_name(a): None, "_raw": "this is not a notebook {"}


def _corrupt_metadata(a):
    nb, _ = subs.submission(a, "solution")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.metadata.nbgrader["grade"] = True      # a solution cell turned into a grade cell
            cell.metadata.nbgrader["points"] = "lots"   # ...with points that are not a number
    return {subs.notebook_name(a): nb}


#: case -> (how to break a submission, expected: "full" marks (nbgrader repairs it) or "zero").
BAD_CASES = {
    "deleted_tests": (_deleted_tests, "full"),
    "duplicated_cells": (_duplicated_cells, "full"),
    "changed_types": (_changed_types, "full"),
    "edited_locked": (_edited_locked, "zero"),
    "missing_notebook": (_missing_notebook, "zero"),
    "not_json": (_not_json, "zero"),
    "corrupt_metadata": (_corrupt_metadata, "full"),
}
BAD_PLAN = dict(zip(BAD_CASES, ASSIGNMENTS))      # case -> assignment (one case per assignment)


def _place_bad(course, case: str, assignment: str) -> None:
    files = BAD_CASES[case][0](assignment)
    raw = files.pop("_raw", None)
    folder = course.place(BAD, assignment, files)
    if raw is not None:
        (folder / subs.notebook_name(assignment)).write_text(raw)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The class, run once: returns (course, autograde results, timings)."""
    tmp = tmp_path_factory.mktemp("class")
    exchange = tmp / "exchange"
    course = Course(tmp / "course", subs.ROOT, exchange=exchange,
                    overrides={"Execute.timeout": TIMEOUT})
    timings, started = {}, time.perf_counter()
    for a in ASSIGNMENTS:
        course.generate(a)
        course.release(a)
    timings["generate+release"] = time.perf_counter() - started

    expected = {}
    for student, kind in EXCHANGE_STUDENTS.items():
        for a in ASSIGNMENTS:
            nb, expect = subs.submission(a, kind)
            expected[student, a] = expect
            _student_side(exchange, student, tmp / "home" / student, a, nb)
    for a in ASSIGNMENTS:
        course.collect(a)
    for case, a in BAD_PLAN.items():
        _place_bad(course, case, a)
    timings["fetch+submit+collect"] = time.perf_counter() - started - timings["generate+release"]

    graded = {}     # assignment -> nbgrader's result for the whole class, graded in one batch
    for a in ASSIGNMENTS:
        t0 = time.perf_counter()
        graded[a] = course.autograde(a, "*")            # = `nbgrader autograde <a>`
        timings[a] = time.perf_counter() - t0
        course.api.generate_feedback(a, None, force=True)
    timings["total"] = time.perf_counter() - started
    print("grading timings:", {k: round(v, 1) for k, v in timings.items()})
    return course, graded, expected


# -- the workflow ---------------------------------------------------------------------------------
def test_exchange_round_trip_reaches_submitted(run):
    course, _, _ = run
    for a in ASSIGNMENTS:
        for student in EXCHANGE_STUDENTS:
            folder = course.root / "submitted" / student / a
            assert (folder / subs.notebook_name(a)).exists(), f"collect lost {student}'s {a}"
            assert (folder / "timestamp.txt").exists()


def test_solution_gets_full_marks(run):
    course, _, _ = run
    for a in ASSIGNMENTS:
        score, total = course.score(a, "ana")
        failing = [(r.name, r.message) for r in course.results(a, "ana") if not r.passed]
        assert total > 0 and score == total, f"{a}: solution scored {score}/{total}: {failing}"


def test_untouched_release_gets_zero(run):
    course, _, _ = run
    for a in ASSIGNMENTS:
        score, total = course.score(a, "cal")
        assert total > 0 and score == 0, f"{a}: the untouched release scored {score}/{total}"
        for r in course.results(a, "cal"):
            assert "NotImplementedError" in r.message, f"{a}/{r.name}: {r.message}"


def _check_expected(course, a, student, expect):
    results = {r.name: r for r in course.results(a, student)}
    failed = {name for name, r in results.items() if not r.passed}
    assert failed == set(expect), (
        f"{a}/{student}: failing cells {sorted(failed)}, expected exactly {sorted(expect)}:\n"
        + "\n".join(f"  {r.name}: {r.message[:300]}" for r in results.values()))
    for name, phrase in expect.items():
        assert results[name].score == 0
        assert phrase.lower() in results[name].message.lower(), (
            f"{a}/{student}: {name} failed with\n{results[name].message}\nwhich does not mention {phrase!r}")
    return results


def test_wrong_answer_passes_visible_and_loses_hidden(run):
    course, _, expected = run
    for a in ASSIGNMENTS:
        expect = expected["ben", a]
        assert expect and all("hidden" in name for name in expect), (
            f"{a}: wrong.py must expect failures of hidden test cells only, got {sorted(expect)}")
        results = _check_expected(course, a, "ben", expect)
        visible = [r for r in results.values() if "hidden" not in r.name]
        assert visible and all(r.passed for r in visible), f"{a}: wrong answer lost visible points"
        score, total = course.score(a, "ben")
        assert 0 < score < total


def test_hostile_breaks_only_itself(run):
    course, graded, expected = run
    for a in ASSIGNMENTS:
        _check_expected(course, a, "dee", expected["dee", a])
        score, _ = course.score(a, "dee")
        assert score == 0, f"{a}: the hostile submission scored {score}"
        # the batch went on: eve comes after dee, and was graded (full marks where repairable)
        if a in BAD_PLAN.values():
            assert (course.root / "submitted" / BAD / a).exists()
            case = next(c for c, x in BAD_PLAN.items() if x == a)
            if BAD_CASES[case][1] == "full":
                assert course.score(a, BAD)[0] > 0, f"{a}: grading stopped at the hostile submission"
    # the printed megabytes are cut down in the graded notebook
    for path in (course.root / "autograded" / "dee").rglob("*.ipynb"):
        assert path.stat().st_size < 2_000_000, f"{path} kept {path.stat().st_size} bytes of output"


@pytest.mark.parametrize("case", list(BAD_PLAN))
def test_bad_input_is_graded_not_crashed(run, case):
    course, graded, _ = run
    a = BAD_PLAN[case]
    outcome = BAD_CASES[case][1]
    score, total = course.score(a, BAD)
    log = (graded[a].get("log") or "") + (graded[a].get("error") or "")
    if outcome == "full":
        assert score == total, f"{case} on {a}: nbgrader should repair it, got {score}/{total}\n{log[-2000:]}"
    else:
        assert score == 0, f"{case} on {a}: scored {score}/{total}"
    visible = next(c.id for c in subs.release(a).cells
                   if c.metadata.nbgrader.get("grade") and "hidden" not in c.id)
    messages = {          # what tells the instructor why, in the log or the graded notebook
        "deleted_tests": "was missing from the submission",
        "duplicated_cells": "exists multiple times",
        "changed_types": "Attribute 'cell_type'",
        "edited_locked": f"Attribute 'checksum' for cell {visible} has changed",
        "missing_notebook": "Skipping unknown notebook",
        "not_json": f"error processing assignment: {course.root}/submitted/{BAD}/{a}",
        "corrupt_metadata": "repaired from the source",
    }
    graded_nb = course.root / "autograded" / BAD / a / subs.notebook_name(a)
    where = log + (graded_nb.read_text() if graded_nb.exists() else "")
    assert messages[case] in where, f"{case}: nothing says why:\n{log[-3000:]}"


def test_feedback_for_every_graded_submission(run):
    course, _, _ = run
    for a in ASSIGNMENTS:
        for student in [*EXCHANGE_STUDENTS, BAD]:
            if (course.root / "autograded" / student / a).exists():
                html = course.feedback_files(a, student)
                assert html and html[0].stat().st_size > 0, f"no feedback for {student}/{a}"


def test_grades_export_to_csv(run):
    course, _, _ = run
    out = course.root / "grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={out}"],
                   cwd=course.root, check=True, capture_output=True)
    rows = list(csv.DictReader(out.open()))
    by_key = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows}
    for a in ASSIGNMENTS:
        assert by_key["ana", a] == course.score(a, "ana")[1]
        assert by_key["cal", a] == 0


def test_self_grade_command(run, tmp_path, capsys):
    """`python -m stickylab.grade` on a learner's copy: prints every test and the feedback path."""
    from stickylab.grade import main

    a = ASSIGNMENTS[-1]
    work = tmp_path / "exercises" / a
    work.mkdir(parents=True)
    nb, expect = subs.submission(a, "wrong")
    nbformat.write(nb, work / subs.notebook_name(a))
    code = main([str(work / subs.notebook_name(a)), "--course", str(subs.ROOT),
                 "--workdir", str(tmp_path / "scratch")])
    out = capsys.readouterr().out
    assert code == 1
    for name in expect:
        assert f"FAIL  {name}" in out
    assert "Score:" in out and "Feedback:" in out and ".html" in out
    shutil.rmtree(tmp_path / "scratch")
