"""The course notebooks: committed clean, seeded, and each runs top to bottom with its own checks.

Every claim a lesson makes ("sticky routing loses no sessions") is asserted in a check cell
of that lesson, so running the notebook is what tests the claim.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
LESSONS = [
    "01_why_stateless_breaks", "02_what_sticky_sessions_are", "03_cookie_affinity",
    "04_ip_affinity", "05_header_affinity", "06_tradeoffs", "07_when_sticky_makes_sense",
    "08_sticky_vs_stateless", "09_beyond_sticky",
]
START = "00_start"   # the start page: the map and the glossary, not a lesson
# The exercise each lesson sends the learner to, in lesson order (README's "The course, in order").
NEXT_EXERCISE = ["01_stateless_vs_sticky", "05_stick_table", "02_cookie_affinity", "03_ip_affinity",
                 "04_header_affinity", "06_failover_draining", "06_failover_draining",
                 "07_going_stateless", "08_consistent_hashing"]
GLOSSARY = ["affinity", "persistence", "redispatch", "drain", "NAT", "CGNAT", "vnode", "Maglev",
            "stick table", "JWT", "sticky session", "session store", "consistent hashing", "ring",
            "bounded load", "health check"]
EXERCISES = ["01_stateless_vs_sticky", "02_cookie_affinity", "03_ip_affinity", "04_header_affinity",
             "05_stick_table", "06_failover_draining", "07_going_stateless", "08_consistent_hashing"]


def _all_notebooks():
    found = []
    for folder in ("course", "exercises", "solutions"):
        found += [p for p in sorted((ROOT / folder).rglob("*.ipynb"))
                  if ".ipynb_checkpoints" not in p.parts]
    return found


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_a_start_page_then_one_lesson_per_section_and_nothing_else():
    assert sorted(p.stem for p in COURSE.glob("*.ipynb")) == [START, *LESSONS]


def test_start_page_is_clean_and_maps_the_course():
    nb = _read(COURSE / f"{START}.ipynb")
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(c.get("id") for c in nb.cells), "nbformat 4.5 cell ids"
    code = [c.source for c in _code(nb)]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert any("import stickylab as sl" in src for src in code), "the setup check imports the package"
    for src in code:
        assert "sys.path" not in src
        for call in re.findall(r"sl\.Scenario\((.*?)\)", src, flags=re.S):
            assert "seed=" in call, f"unseeded scenario sl.Scenario({call})"
    rows = [line for line in text.splitlines() if re.match(r"\| \d \| `course/", line)]
    lessons = [re.search(r"course/(\w+)\.ipynb", r).group(1) for r in rows]
    exercises = [re.search(r"exercises/(\w+)", r).group(1) for r in rows]
    assert lessons == LESSONS, "the map lists every lesson in order"
    assert exercises == NEXT_EXERCISE, "each lesson's exercise, as in the README"
    low = text.lower()
    for term in GLOSSARY:
        assert f"**{term}".lower() in low or f"/ {term}**".lower() in low, f"glossary lacks {term}"
    for how in ("Shift+Enter", "Restart Kernel and Run All", "Validate", "python -m stickylab.grade",
                "--unsafe", "bubblewrap", "nbgrader submit", "--course stickylab"):
        assert how in text, f"the start page does not explain {how}"


def test_readme_points_to_the_start_page_and_agrees_with_its_map():
    readme = (ROOT / "README.md").read_text()
    assert f"course/{START}.ipynb" in readme
    rows = re.findall(r"^\| \d \| `(\w+)` \|.*`exercises/(\w+)` \|$", readme, flags=re.M)
    assert rows == list(zip(LESSONS, NEXT_EXERCISE)), "README's table and the start page's map differ"


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs_or_execution_counts(path):
    for n, c in enumerate(_code(_read(path))):
        assert c.outputs == [], f"{path.name}: code cell {n} has outputs; clear them before committing"
        assert c.execution_count is None, f"{path.name}: code cell {n} has an execution count"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_is_clean_and_seeded(name):
    nb = _read(COURSE / f"{name}.ipynb")
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c.source for c in _code(nb)]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert any("import stickylab as sl" in src for src in code), "a lesson imports the package"
    for src in code:
        assert "sys.path" not in src, "lessons import the installed package, never a path hack"
        for call in re.findall(r"sl\.Scenario\((.*?)\)", src, flags=re.S):
            assert "seed=" in call, f"unseeded scenario sl.Scenario({call})"
        assert len(src.splitlines()) <= 25, f"a code cell of {name} is {len(src.splitlines())} lines"
    assert any("# Check" in src and "assert" in src for src in code), "claims are checked"
    assert "What you measured" in text
    assert any(f"exercises/{ex}" in text for ex in EXERCISES), "the lesson points to its exercise"


@pytest.mark.slow
@pytest.mark.parametrize("name", [START, *LESSONS])
def test_lesson_runs_top_to_bottom(name):
    nb = _read(COURSE / f"{name}.ipynb")
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(COURSE)}})
    client.execute()          # a failing check cell raises CellExecutionError, naming the cell
    errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors
