"""Every reference submission against the source's tests, hidden ones included, run in this process.

The nbgrader workflow (tests/grade/test_grading.py) grades the ``solution``, ``wrong`` and
``hostile`` submissions for real, learner's code and tests in separate processes, and
takes minutes. Here each assignment's notebook is run cell by cell with ``exec`` in one
namespace, as a single kernel would: the solution cells come from the submission and the
test cells from the source, hidden tests and all. That checks, in about ten seconds for
the whole course, that the solution passes every test, and that each ``wrong*.py``
submission (one file per class of mistake) fails exactly the hidden test cells it names,
with a message that says why.
"""

from __future__ import annotations

import itertools
import linecache
import random
import traceback

import numpy as np
import pytest
import submissions as subs

_RUNS = itertools.count()


def _test_cells(assignment: str) -> dict[str, str]:
    """grade_id -> source of each test cell, as the autograder runs it (hidden tests kept)."""
    return {c.metadata.nbgrader.grade_id: c.source for c in subs.source(assignment).cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def run(assignment: str, kind: str) -> dict[str, str | None]:
    """Run a submission's notebook with the source's tests: grade_id -> failure message or None.

    Each cell is compiled under a file name of its own and put in ``linecache``, as
    ipykernel does, so ``grading.source_of`` finds the cell that defined a class.
    """
    nb, _ = subs.submission(assignment, kind)
    tests = _test_cells(assignment)
    namespace = {"__name__": "__main__"}
    results: dict[str, str | None] = {}
    run_id = next(_RUNS)
    saved = random.getstate(), np.random.get_state()
    try:
        for n, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            source = tests.get(gid, cell.source)
            name = f"/tmp/ipykernel_hidden/{run_id}_{n}.py"
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            try:
                exec(compile(source, name, "exec"), namespace)
            except Exception as exc:   # a failing cell, as nbgrader records it
                if gid in tests:
                    results[gid] = "".join(traceback.format_exception_only(exc)).strip()
            else:
                if gid in tests:
                    results[gid] = None
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        for key in [k for k in linecache.cache if k.startswith(f"/tmp/ipykernel_hidden/{run_id}_")]:
            linecache.cache.pop(key, None)
    return results


def _kinds(assignment: str, prefix: str = "wrong") -> list[str]:
    return sorted(p.stem for p in (subs.HERE / assignment).glob(f"{prefix}*.py"))


# Each right*.py is a correct answer written another way than the solution (other data
# structures, other names, another reading of what the text leaves open): it must pass
# every test, hidden ones included, or a test asks for more than the exercise says.
# Each trivial*.py does no real work (the untouched release, a constant, the first healthy
# instance, the library's own class behind a wrapper): it must fail every test cell, visible
# ones included, so it scores 0.
CASES = [(a, k) for a in subs.assignments()
         for k in ["solution", *_kinds(a, "right"), *_kinds(a), "release", *_kinds(a, "trivial")]]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "kind"), CASES)
def test_submission_fails_exactly_what_it_names(assignment, kind):
    _, expect = subs.submission(assignment, kind)
    results = run(assignment, kind)
    assert set(results) == set(_test_cells(assignment)), f"{assignment}: a test cell did not run"
    if kind == "release" or kind.startswith("trivial"):      # no work, no points: every test cell fails
        passed = sorted(gid for gid, message in results.items() if message is None)
        assert not passed, f"{assignment}/{kind} scores points for no work in {passed}"
        for gid, phrase in expect.items():
            assert phrase.lower() in (results[gid] or "").lower(), (
                f"{assignment}/{kind}: {gid} failed with\n{results[gid]}\nwhich does not mention {phrase!r}")
        return
    failed = {gid for gid, message in results.items() if message is not None}
    report = "\n".join(f"  {gid}: {(message or 'passed')[:400]}" for gid, message in results.items())
    assert failed == set(expect), (
        f"{assignment}/{kind}: failing cells {sorted(failed)}, expected exactly {sorted(expect)}:\n{report}")
    for gid, phrase in expect.items():
        assert "hidden" in gid, f"{assignment}/{kind}: a wrong answer must fail hidden tests only ({gid})"
        assert phrase.lower() in results[gid].lower(), (
            f"{assignment}/{kind}: {gid} failed with\n{results[gid]}\nwhich does not mention {phrase!r}")


@pytest.mark.parametrize("assignment", subs.assignments())
def test_every_right_submission_says_how_it_differs_and_expects_no_failure(assignment):
    for kind in _kinds(assignment, "right"):
        path = subs.HERE / assignment / f"{kind}.py"
        sections, expect = subs.parse(path)
        assert sections and not expect, f"{path}: a right answer replaces cells and fails no test"
        assert path.read_text().startswith('"""'), f"{path}: open with a docstring saying how it differs"


@pytest.mark.parametrize("assignment", subs.assignments())
def test_every_trivial_submission_says_what_it_skips(assignment):
    for kind in _kinds(assignment, "trivial"):
        path = subs.HERE / assignment / f"{kind}.py"
        sections, _ = subs.parse(path)
        assert path.read_text().startswith('"""'), f"{path}: open with a docstring saying what it skips"


@pytest.mark.parametrize("assignment", subs.assignments())
def test_every_wrong_submission_names_its_mistake(assignment):
    kinds = _kinds(assignment)
    assert "wrong" in kinds
    for kind in kinds:
        path = subs.HERE / assignment / f"{kind}.py"
        sections, expect = subs.parse(path)
        assert sections and expect, f"{path}: replaces no cell or expects no failure"
        assert path.read_text().startswith('"""'), f"{path}: open with a docstring naming the mistake"
