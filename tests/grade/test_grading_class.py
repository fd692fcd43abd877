"""`python -m stickylab.grade class`: a class graded in parallel gets exactly what stock nbgrader gives.

One class of 8 (right, wrong and untouched submissions, one notebook that is not JSON and
one student who handed in no notebook) is put in a scratch course and in an identical copy;
the copy is graded by stock ``nbgrader autograde``, the course by the class command on a
local Dask cluster of 2 workers. Both gradebooks must hold the same scores per student and
per test cell, and both autograded/ folders the same notebooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
import submissions as subs
from nbgrader.api import Gradebook, MissingEntry

from stickylab.grade import Course
from stickylab.grade import sandbox as sb
from stickylab.grade.batch import ClassGrading, Progress
from stickylab.grade.replay import FAILED, SANITIZED, ReplayExecution, ReplaySanitized

A = subs.ATTACKED      # the smallest assignment of the course, graded fastest
#: student -> the reference submission they hand in (None: a file that is not a notebook).
CLASS = {"ann": "solution", "bob": "wrong", "cy": "release", "dan": "solution", "eli": "wrong",
         "fay": "solution", "gus": None, "hal": "right_blind"}
NO_NOTEBOOK = "ivy"        # handed in a folder without a notebook: neither grader grades them
BROKEN = "gus"
CONFIG = "c.Execute.timeout = 10\nc.SandboxedExecute.notebook_seconds = 60\n"
needs_sandbox = pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")


def _command(*args, cwd):
    """``python -m ARGS`` in ``cwd``, its temporary files (the class command's log) beside ``cwd``."""
    tmp = cwd.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TMPDIR=str(tmp)))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    course = Course(tmp / "course", subs.ROOT, [A])
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(CONFIG)
    course.generate(A)
    for student, kind in CLASS.items():
        if kind is None:
            folder = course.place(student, A, {})
            (folder / subs.notebook_name(A)).write_text("this is not a notebook {")
        else:
            course.place(student, A, {subs.notebook_name(A): subs.submission(A, kind)[0]})
    course.place(NO_NOTEBOOK, A, {})
    stock = tmp / "stock"
    shutil.copytree(course.root, stock)
    started = time.perf_counter()
    ours = _command("stickylab.grade", "class", A, "--workers", "2", cwd=course.root)
    seconds = time.perf_counter() - started
    theirs = _command("nbgrader", "autograde", A, cwd=stock)
    print(f"class command: {seconds:.1f} s\n{ours.stdout}")
    return course, stock, ours, theirs


def _grades(root) -> dict:
    """student -> (score, max, {(notebook, cell): (score, max, needs manual grade)}), from the gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "stickylab") as gb:
        for student in sorted(s.id for s in gb.students):
            try:
                sub = gb.find_submission(A, student)
            except MissingEntry:
                continue
            cells = {(nb.name, g.name): (g.score, g.max_score, g.needs_manual_grade)
                     for nb in sub.notebooks for g in nb.grades}
            out[student] = (sub.score, sub.max_score, sub.late_submission_penalty, cells)
    return out


def _graded_notebooks(root) -> dict:
    """Each autograded notebook's cells and notebook metadata, without execution timings."""
    out = {}
    for path in sorted((root / "autograded").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = []
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
            cells.append(dict(cell))
        out[str(path.relative_to(root))] = (cells, dict(nb.metadata))
    return out


@pytest.mark.slow
@needs_sandbox
def test_scores_are_stock_nbgraders(graded):
    course, stock, ours, theirs = graded
    mine, stocks = _grades(course.root), _grades(stock)
    assert set(mine) == set(CLASS), ours.stdout + ours.stderr[-3000:]     # the broken one too, ungraded
    assert mine == stocks
    full = {s for s, (score, total, *_) in mine.items() if score == total}
    assert full == {s for s, kind in CLASS.items() if kind in ("solution", "right_blind")}


@pytest.mark.slow
@needs_sandbox
def test_graded_notebooks_are_stock_nbgraders(graded):
    course, stock, *_ = graded
    mine, stocks = _graded_notebooks(course.root), _graded_notebooks(stock)
    assert sorted(mine) == sorted(stocks)
    assert len(mine) == len(CLASS) - 1
    for path in mine:
        assert mine[path] == stocks[path], path


@pytest.mark.slow
@needs_sandbox
def test_a_broken_submission_fails_alone_and_is_named(graded):
    course, stock, ours, theirs = graded
    assert theirs.returncode == 1 and ours.returncode == 1
    assert f"FAILED {BROKEN}" in ours.stdout, ours.stdout
    assert "NotJSONError" in ours.stdout or "JSON" in ours.stdout
    assert not list((course.root / "autograded").glob(f"{BROKEN}/*/*.ipynb"))
    lines = [ln for ln in ours.stdout.splitlines() if ln.startswith("[")]
    assert len(lines) == len(CLASS), ours.stdout        # one progress line per student graded
    assert lines[-1].startswith(f"[{len(CLASS)}/{len(CLASS)}]") and "1 failed" in lines[-1]
    assert any(course.root.glob("gradebook.db.backup-*")), "the gradebook was not backed up first"


@pytest.mark.slow
@needs_sandbox
def test_an_existing_dask_cluster_grades_through_its_scheduler(tmp_path):
    from distributed import LocalCluster

    course = Course(tmp_path / "course", subs.ROOT, [A])
    course.generate(A)
    for student, kind in (("kim", "solution"), ("lou", "wrong")):
        course.place(student, A, {subs.notebook_name(A): subs.submission(A, kind)[0]})
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = _command("stickylab.grade", "class", A, "--scheduler", cluster.scheduler_address,
                       cwd=course.root)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "on 1 worker at tcp://" in run.stdout
    score, total = course.score(A, "kim")
    assert score == total > 0
    assert course.score(A, "lou")[0] < total


PROBE = """
from distributed import Client
from stickylab.grade.batch import cluster
with cluster(1) as client:
    address = client.scheduler.address
    assert client.submit(sum, [1, 2]).result() == 3
    try:
        with Client(address, timeout="5s") as stranger:
            print("reached", stranger.submit(sum, [1]).result())
    except Exception as exc:
        print("refused", address, type(exc).__name__)
"""


@pytest.mark.slow
def test_the_local_cluster_takes_work_from_this_run_only():
    """Another user of the machine cannot send the instructor's workers code of their own."""
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith("refused tls://"), run.stdout + run.stderr[-2000:]


@pytest.mark.slow
@needs_sandbox
def test_only_the_students_nbgrader_would_grade_again_are_graded_again(graded):
    """As ``nbgrader autograde`` without --force: graded students are skipped, a failed one is retried."""
    course, *_ = graded
    before = _grades(course.root)
    again = _command("stickylab.grade", "class", A, cwd=course.root)
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"Grading 1 submission of {A} on 1 worker ({len(CLASS) - 1} graded already)" in again.stdout
    assert f"FAILED {BROKEN}" in again.stdout
    assert _grades(course.root) == before


# -- bad input ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bare_course(tmp_path_factory):
    """A course with its configuration and source, nothing generated or submitted."""
    return Course(tmp_path_factory.mktemp("bare") / "course", subs.ROOT, [A])


def _nothing_done(root) -> bool:
    return not (root / "autograded").exists() and not list(root.glob("gradebook.db*"))


@pytest.mark.slow
def test_an_unknown_assignment_is_named_with_the_known_ones(bare_course):
    run = _command("stickylab.grade", "class", "no_such_thing", "--workers", "2", cwd=bare_course.root)
    assert run.returncode == 2
    assert "unknown assignment 'no_such_thing'" in run.stderr and A in run.stderr, run.stderr
    assert _nothing_done(bare_course.root)


def test_a_folder_that_is_not_a_course_is_named(tmp_path):
    run = _command("stickylab.grade", "class", A, cwd=tmp_path)
    assert run.returncode == 2
    assert str(tmp_path) in run.stderr and "not a course directory" in run.stderr, run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", ["0", "-3", "two"])
def test_a_bad_number_of_workers_is_named(bare_course, workers):
    run = _command("stickylab.grade", "class", A, "--workers", workers, cwd=bare_course.root)
    assert run.returncode == 2
    assert "--workers: must be" in run.stderr and workers in run.stderr, run.stderr
    assert _nothing_done(bare_course.root)


@pytest.mark.slow
def test_an_assignment_not_generated_says_what_to_run(bare_course):
    run = _command("stickylab.grade", "class", A, cwd=bare_course.root)
    assert run.returncode == 2
    assert f"nbgrader generate_assignment {A}" in run.stderr, run.stderr


@pytest.mark.slow
def test_no_submissions_is_said_plainly(tmp_path):
    tmp_path = tmp_path / ("a-long-temporary-folder-" * 3)      # too long for a socket beneath it
    course = Course(tmp_path / "course", subs.ROOT, [A])
    course.generate(A)
    run = _command("stickylab.grade", "class", A, cwd=course.root)
    assert run.returncode == 2
    assert f"no submissions of {A!r}" in run.stderr, run.stderr
    assert not (course.root / "autograded").exists()


# -- progress ---------------------------------------------------------------------------------------
def test_progress_says_done_failures_and_time_left(monkeypatch):
    import io

    monkeypatch.setitem(sys.modules, "tqdm", None)      # the plain lines, with or without tqdm installed
    out = io.StringIO()
    progress = Progress(3, out)
    progress.step("ann", None)
    progress.step("bob", "NotJSONError: not a notebook\nmore")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/3] ann: graded") and "0 failed" in lines[0] and "s left" in lines[0]
    assert lines[1].startswith("[2/3] bob: FAILED: NotJSONError: not a notebook") and "1 failed" in lines[1]


def test_progress_is_a_bar_where_tqdm_is_installed(monkeypatch):
    import types

    calls = []

    class Bar:
        def __init__(self, total, **_):
            calls.append(("total", total))

        def write(self, text):
            calls.append(("write", text))

        def set_postfix(self, **kw):
            calls.append(("postfix", kw))

        def update(self, n):
            calls.append(("update", n))

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    progress = Progress(2)
    progress.step("ann", None)
    progress.step("bob", "Boom")
    progress.close()
    assert calls == [("total", 2), ("postfix", {"failures": 0}), ("update", 1),
                     ("write", "bob: FAILED: Boom"), ("postfix", {"failures": 1}), ("update", 1), ("close",)]


# -- the step that stands in for execution ----------------------------------------------------------
def _resources(student):
    return {"nbgrader": {"student": student, "notebook": A, "assignment": A, "db_url": ""}}


def test_a_failed_worker_scores_every_cell_zero_with_its_reason(tmp_path):
    nb = subs.submission(A, "solution")[0]
    (tmp_path / "zed").mkdir()
    (tmp_path / "zed" / FAILED).write_text("the grading worker failed: KilledWorker")
    out, _ = ReplayExecution(folder=str(tmp_path)).preprocess(nb, _resources("zed"))
    code = [c for c in out.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.outputs[0].output_type == "error" and "KilledWorker" in c.outputs[0].evalue
                        for c in code)


def test_outputs_are_copied_from_the_executed_notebook(tmp_path):
    nb = subs.submission(A, "solution")[0]
    executed = nbformat.reads(nbformat.writes(nb), as_version=4)
    for k, cell in enumerate(executed.cells):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {k}\n")]
            cell.execution_count = k
    (tmp_path / "amy").mkdir()
    nbformat.write(executed, tmp_path / "amy" / f"{A}.ipynb")
    out, _ = ReplayExecution(folder=str(tmp_path)).preprocess(nb, _resources("amy"))
    for k, cell in enumerate(out.cells):
        if cell.cell_type == "code":
            assert cell.outputs[0].text == f"cell {k}\n" and cell.execution_count == k


def test_the_notebook_a_worker_sanitized_stands_in_for_the_sanitize_steps(tmp_path):
    handed_in = subs.submission(A, "release")[0]
    sanitized = subs.submission(A, "solution")[0]
    (tmp_path / "amy" / SANITIZED).mkdir(parents=True)
    nbformat.write(sanitized, tmp_path / "amy" / SANITIZED / f"{A}.ipynb")
    out, _ = ReplaySanitized(folder=str(tmp_path)).preprocess(handed_in, _resources("amy"))
    assert [c.source for c in out.cells] == [c.source for c in sanitized.cells]
    assert [c.source for c in out.cells] != [c.source for c in handed_in.cells]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*not in session")
def test_a_student_whose_worker_was_lost_scores_zero_with_the_reason_in_the_gradebook(tmp_path, monkeypatch):
    course = Course(tmp_path / "course", subs.ROOT, [A])
    course.generate(A)
    course.place("zoe", A, {subs.notebook_name(A): subs.submission(A, "solution")[0]})
    monkeypatch.chdir(course.root)
    grading = ClassGrading(course.root, A)
    assert grading.students == ["zoe"]
    lost = {"student": "zoe", "notebooks": {}, "error": "the grading worker failed: KilledWorker: gone"}
    grading.record(tmp_path / "staging", "zoe", lost)
    assert not (tmp_path / "staging" / "zoe" / SANITIZED).exists()     # nbgrader's own sanitize steps run
    assert grading.autograde_here(tmp_path / "staging", "zoe", open(tmp_path / "log", "w")) is None
    score, total = course.score(A, "zoe")
    assert score == 0 < total
    results = course.results(A, "zoe")
    assert results and all("KilledWorker" in r.message for r in results)


@pytest.mark.slow
def test_nbgrader_reuses_one_engine_per_gradebook_and_grades_the_same(tmp_path):
    """``reuse.install``: Gradebooks on one URL share an engine, and what they store is unchanged."""
    from nbgrader import api

    from stickylab.grade import reuse

    reuse.install()
    reuse.install()         # twice: still one layer
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with api.Gradebook(url, "c") as first:
        first.add_student("ann")
    with api.Gradebook(url, "c") as second:
        assert second.engine is first.engine
        assert [s.id for s in second.students] == ["ann"]
    with api.Gradebook(f"sqlite:///{tmp_path / 'other.db'}", "c") as other:
        assert other.engine is not first.engine and other.students == []


def test_nbgraders_metadata_check_raises_what_jsonschema_raises_once_reused():
    """``reuse.install``: a cell's metadata is checked against nbgrader's schema exactly as before."""
    import jsonschema
    from nbformat.v4 import new_code_cell
    from nbgrader.nbgraderformat import MetadataValidator

    from stickylab.grade import reuse

    validator = MetadataValidator()
    good = {"schema_version": 3, "grade": True, "solution": False, "locked": True, "points": 2,
            "grade_id": "t1", "task": False}
    bad = dict(good, points="two")
    expected = None
    try:
        jsonschema.validate(bad, validator.schema)
    except jsonschema.ValidationError as exc:
        expected = exc.message
    assert expected
    reuse.install()
    validator.validate_cell(new_code_cell(metadata={"nbgrader": good}))
    with pytest.raises(jsonschema.ValidationError) as raised:
        validator.validate_cell(new_code_cell(metadata={"nbgrader": bad}))
    assert raised.value.message == expected
