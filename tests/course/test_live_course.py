"""The "Real traffic" lesson (course/11_real_traffic.ipynb): what it needs on a learner's laptop.

tests/course/test_course.py runs it top to bottom with every lesson (the lab starts and stops
inside it); tests/live/test_live_lab.py checks that a lab leaves no process behind, even when
its kernel is killed.
"""

import re
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")

LESSON = Path(__file__).resolve().parents[2] / "course" / "11_real_traffic.ipynb"


def test_real_traffic_lesson_is_clean_and_seeded():
    nb = nbformat.read(LESSON, as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert any("import stickylab as sl" in src for src in code)
    for src in code:
        assert "sys.path" not in src and len(src.splitlines()) <= 25
        for call in re.findall(r"sl\.Scenario\((.*?)\)", src, flags=re.S):
            assert "seed=" in call
    assert any("# Check" in src and "assert" in src for src in code)
    assert "What you measured" in text and "exercises/" in text
    assert "redis-server" in text and "SQLite" in text, "says how to get Redis, and the fallback"
