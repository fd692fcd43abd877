"""The course's nbgrader notebooks: the release is generated from the source, and both are tidy.

Cheap checks on the files (no kernel); the slow drift check regenerates every release
with nbgrader's own app in a scratch copy and compares it byte for byte.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
import submissions as subs

from stickylab.grade import Course

ROOT = subs.ROOT
ASSIGNMENTS = subs.assignments()


def _cells(nb, **flags):
    return [c for c in nb.cells
            if all(c.metadata.get("nbgrader", {}).get(k, False) == v for k, v in flags.items())]


def test_there_are_assignments_with_both_versions():
    assert ASSIGNMENTS, "solutions/ holds no assignment"
    released = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.slow
def test_release_is_exactly_what_generate_assignment_makes(tmp_path):
    course = Course(tmp_path / "course", ROOT)
    for a in ASSIGNMENTS:
        course.generate(a)
        made = (tmp_path / "course" / "exercises" / a / subs.notebook_name(a)).read_text()
        committed = (ROOT / "exercises" / a / subs.notebook_name(a)).read_text()
        assert made == committed, (
            f"exercises/{a} differs from what `nbgrader generate_assignment {a} --force` makes "
            "from solutions/: regenerate it and commit the result")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_notebooks_are_clean(folder, assignment):
    nb = nbformat.read(ROOT / folder / assignment / subs.notebook_name(assignment), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{folder}/{assignment}: cell {cell.id} has outputs"
            assert cell.execution_count is None, f"{folder}/{assignment}: cell {cell.id} was run"
        assert "nbgrader" in cell.metadata, f"{folder}/{assignment}: cell {cell.id} has no nbgrader metadata"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_has_solutions_and_hidden_tests(assignment):
    nb = subs.source(assignment)
    solutions = _cells(nb, solution=True)
    assert solutions and all("### BEGIN SOLUTION" in c.source for c in solutions)
    tests = _cells(nb, grade=True)
    hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
    assert hidden, f"{assignment} has no hidden tests"
    for cell in tests:
        assert cell.metadata.nbgrader.locked and cell.metadata.nbgrader.points > 0
        # A comment, not a docstring: a cell whose hidden tests are cut would otherwise show the
        # docstring as its result, which Validate reads as an unparseable partial score.
        opening = [ln for ln in cell.source.splitlines() if ln.startswith("#") and not ln.startswith("###")]
        assert cell.source.startswith("# ") and opening, (
            f"{assignment}: test cell {cell.id} does not open with a comment")
        assert ast.get_docstring(ast.parse(cell.source)) is None
        assert "hidden" in " ".join(opening).lower(), (
            f"{assignment}: test cell {cell.id}'s opening comment does not say that hidden tests exist")
        assert ("hidden" in cell.id) == (cell in hidden), (
            f"{assignment}: name test cells '*-hidden-*' exactly when they hold hidden tests")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    nb = subs.release(assignment)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert all("raise NotImplementedError()" in c.source for c in _cells(nb, solution=True))
    source_tests = {c.id: c.source for c in _cells(subs.source(assignment), grade=True)}
    for cell in _cells(nb, grade=True):
        if "hidden" in cell.id:
            assert cell.source != source_tests[cell.id]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_submissions_exist_and_name_real_cells(assignment):
    test_ids = {c.metadata.nbgrader.grade_id for c in _cells(subs.source(assignment), grade=True)}
    for kind in ("wrong", "hostile"):
        path = subs.HERE / assignment / f"{kind}.py"
        sections, expect = subs.parse(path)
        assert sections, f"{path} replaces no cell"
        assert expect and set(expect) <= test_ids, f"{path}: '# expect:' names unknown cells"
        subs.fill(assignment, sections)    # raises on a section for a cell that does not exist


def _validate(nb, tmp_path):
    from nbgrader.validator import Validator

    path = tmp_path / "work.ipynb"
    nbformat.write(nb, path)
    return Validator().validate(str(path))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_button_passes_the_solution_and_fails_the_release(assignment, tmp_path, caplog):
    """What a learner's Validate button says (nbgrader's Validator, visible tests only)."""
    solved, _ = subs.submission(assignment, "solution")
    with caplog.at_level("WARNING"):
        results = _validate(solved, tmp_path)
    assert not results.get("failed") and not results.get("changed"), results
    warned = [r.getMessage() for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert not warned, f"Validate warned on a correct notebook: {warned[:2]}"
    results = _validate(subs.release(assignment), tmp_path)
    failed = {r["source"] for r in results.get("failed", [])}
    visible = {c.source.strip() for c in _cells(subs.release(assignment), grade=True)
               if "hidden" not in c.id}
    assert visible and visible <= failed, "every visible test must fail on the untouched release"
