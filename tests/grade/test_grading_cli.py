"""`python -m stickylab.grade`: bad arguments get a clear message and exit code 2, before any grading.

(The command grading a real notebook is exercised in test_grading.py.)
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
import submissions as subs

from stickylab.grade import find_course_root, main


def test_a_missing_file_is_named(tmp_path, capsys):
    assert main([str(tmp_path / "nope.ipynb"), "--course", str(subs.ROOT)]) == 2
    assert "not a notebook" in capsys.readouterr().err


def test_a_notebook_outside_an_assignment_lists_the_assignments(tmp_path, capsys):
    path = tmp_path / "elsewhere" / "mine.ipynb"
    path.parent.mkdir()
    path.write_text("{}")
    assert main([str(path), "--course", str(subs.ROOT)]) == 2
    err = capsys.readouterr().err
    assert "'elsewhere'" in err and subs.assignments()[0] in err


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path, capsys):
    a = subs.assignments()[0]
    path = tmp_path / a / subs.notebook_name(a)
    path.parent.mkdir()
    path.write_text("this is not json {")
    assert main([str(path), "--course", str(subs.ROOT)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err


def test_course_root_is_found_above_the_notebook():
    a = subs.assignments()[0]
    assert find_course_root(subs.ROOT / "exercises" / a) == subs.ROOT
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        find_course_root(subs.ROOT.parent)


def test_module_runs_as_a_command():
    out = subprocess.run([sys.executable, "-m", "stickylab.grade", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "hidden tests" in out


def test_a_notebook_of_another_assignment_is_named_plainly(tmp_path, capsys):
    mine, other = subs.assignments()[1], subs.assignments()[2]
    path = tmp_path / mine / subs.notebook_name(mine)
    path.parent.mkdir()
    nbformat.write(subs.release(other), path)      # the right folder name, the wrong exercise
    assert main([str(path), "--course", str(subs.ROOT)]) == 2
    err = capsys.readouterr().err
    assert f"a notebook of assignment {other}, not of {mine}" in err and f"exercises/{other}/" in err


def test_a_notebook_with_no_cells_of_the_exercise_is_refused(tmp_path, capsys):
    a = subs.assignments()[0]
    path = tmp_path / a / subs.notebook_name(a)
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    assert main([str(path), "--course", str(subs.ROOT)]) == 2
    assert "has none of the cells" in capsys.readouterr().err
