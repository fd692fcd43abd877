"""The course notebooks: committed clean, seeded, and each runs top to bottom with its own checks.

Every claim a lesson makes ("sticky routing loses no sessions") is asserted in a check cell
of that lesson, so running the notebook is what tests the claim.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"
START = "00_start"   # the start page: the map and the glossary, not a lesson
# The course in order, each lesson with the exercises it sends the learner to (README's "The course,
# in order" and the start page's map list the same).
MAP = [
    ("01_why_stateless_breaks", ["01_stateless_vs_sticky"]),
    ("02_what_sticky_sessions_are", ["01_stateless_vs_sticky"]),
    ("03_cookie_affinity", ["02_cookie_affinity"]),
    ("04_cookie_security", ["02_cookie_affinity"]),
    ("05_ip_affinity", ["03_ip_affinity"]),
    ("06_header_affinity", ["04_header_affinity", "05_stick_table"]),
    ("07_tradeoffs", ["06_failover_draining"]),
    ("08_when_sticky_makes_sense", ["06_failover_draining"]),
    ("09_sticky_vs_stateless", ["07_going_stateless"]),
    ("10_beyond_sticky", ["08_consistent_hashing"]),
    ("11_real_traffic", []),
    ("12_recap", []),
]
# Lessons the map lists before they land (none today).
IN_PROGRESS: set[str] = set()
RECAP = "12_recap"
LESSONS = [name for name, _ in MAP if (COURSE / f"{name}.ipynb").exists()]
GLOSSARY = ["affinity", "persistence", "redispatch", "drain", "NAT", "CGNAT", "vnode", "Maglev",
            "stick table", "JWT", "sticky session", "session store", "consistent hashing", "ring",
            "bounded load", "health check", "connection stickiness"]
EXERCISES = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir() and p.name[:2].isdigit())


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


def test_a_start_page_then_the_lessons_of_the_map_and_nothing_else():
    present = {p.stem for p in COURSE.glob("*.ipynb")}
    assert present - {START} <= {name for name, _ in MAP}, "a course notebook is missing from the map"
    assert {name for name, _ in MAP} - present <= IN_PROGRESS, "the map lists a lesson that does not exist"
    assert START in present


def test_exercises_are_numbered_in_the_order_the_lessons_send_learners_to_them():
    sent = [ex for _, exercises in MAP for ex in exercises]
    assert list(dict.fromkeys(sent)) == EXERCISES


def _map_rows(text, lesson_pattern):
    """(lesson, [exercises]) for each row of a map table in ``text``."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"\| (\d+) \| " + lesson_pattern + r" \|(.*)\|$", line)
        if m:
            assert int(m.group(1)) == int(m.group(2)[:2]), line
            rows.append((m.group(2), re.findall(r"`exercises/(\w+)`", m.group(3))))
    return rows


def _clean_and_seeded(name):
    """The notebook's code cells and its prose, once checked: valid, cell ids, the package imported
    as installed (never a path hack), every scenario seeded."""
    nb = _read(COURSE / f"{name}.ipynb")
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(c.get("id") for c in nb.cells), "nbformat 4.5 cell ids"
    code = [c.source for c in _code(nb)]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert any("import stickylab as sl" in src for src in code), f"{name} imports the package"
    for src in code:
        assert "sys.path" not in src, "notebooks import the installed package, never a path hack"
        for call in re.findall(r"sl\.Scenario\((.*?)\)", src, flags=re.S):
            assert "seed=" in call, f"unseeded scenario sl.Scenario({call})"
    return code, text


def test_start_page_is_clean_and_maps_the_course():
    _, text = _clean_and_seeded(START)
    rows = _map_rows(text, r"`course/(\w+)\.ipynb`")
    assert rows == MAP, "the map lists every lesson and its exercises, in order"
    low = text.lower()
    for term in GLOSSARY:
        assert f"**{term}".lower() in low or f"/ {term}**".lower() in low, f"glossary lacks {term}"
    for how in ("Shift+Enter", "Restart Kernel and Run All", "Validate", "python -m stickylab.grade",
                "--unsafe", "bubblewrap", "nbgrader submit", "--course stickylab", "answer panel"):
        assert how in text, f"the start page does not explain {how}"


def test_readme_points_to_the_start_page_and_agrees_with_its_map():
    readme = (ROOT / "README.md").read_text()
    assert f"course/{START}.ipynb" in readme
    section = readme.split("## The course, in order", 1)[1].split("\n## ", 1)[0]
    assert _map_rows(section, r"`(\w+)` \|.*?") == MAP, "README's table and the start page's map differ"


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs_or_execution_counts(path):
    for n, c in enumerate(_code(_read(path))):
        assert c.outputs == [], f"{path.name}: code cell {n} has outputs; clear them before committing"
        assert c.execution_count is None, f"{path.name}: code cell {n} has an execution count"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_is_clean_and_seeded(name):
    code, text = _clean_and_seeded(name)
    for src in code:
        assert len(src.splitlines()) <= 25, f"a code cell of {name} is {len(src.splitlines())} lines"
    assert any("# Check" in src and "assert" in src for src in code), "claims are checked"
    exercises = dict(MAP)[name]
    if name not in IN_PROGRESS:
        assert "What you measured" in text
    for ex in exercises:
        assert f"exercises/{ex}" in text, f"{name} does not send the learner to exercises/{ex}"
    for ex in re.findall(r"exercises/(\w+)", text):
        assert ex in EXERCISES, f"{name} points to exercises/{ex}, which learners do not have"
    everything = text + "\n".join(code)
    for private in ("REFERENCE", "DESIGN.md", "shared/", "seed/"):
        assert private not in everything, f"{name} refers to {private}, which learners do not have"


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_opens_with_its_objectives_and_a_time(name):
    first = _read(COURSE / f"{name}.ipynb").cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {int(name[:2])}. "), name
    minutes = re.search(r"\*About (\d+) minutes\.\*", first.source)
    assert minutes, f"{name}: the first cell says how long the lesson takes (*About N minutes.*)"
    assert 5 <= int(minutes.group(1)) <= 60, f"{name}: {minutes.group(1)} minutes"
    after = first.source.split("By the end you can", 1)
    assert len(after) == 2, f"{name}: the first cell lists what the learner will be able to do"
    goals = re.findall(r"^- \S", after[1], flags=re.M)
    assert len(goals) >= 2, f"{name}: at least two objectives, as a list after 'By the end you can'"


@pytest.mark.parametrize("name", [n for n in LESSONS if n != RECAP])
def test_every_your_turn_checks_the_learners_own_number_before_the_reveal(name):
    """A "Your turn" asks for an answer and says right or wrong, with the reason, before the panels."""
    cells = _read(COURSE / f"{name}.ipynb").cells
    for k, cell in enumerate(cells):
        if cell.cell_type == "markdown" and "Your turn" in cell.source:
            later = cells[k + 1:]
            reveal = next((j for j, c in enumerate(later)
                           if "quiz.answers(" in c.source or "quiz.reveal(" in c.source), len(later))
            asked = [c for c in later[:reveal] if c.cell_type == "code"
                     and ("quiz.Numeric(" in c.source or "quiz.Choice(" in c.source)]
            assert asked, f"{name}: the \"Your turn\" in cell {cell.id} checks no answer before its reveal"


@pytest.mark.parametrize("name", LESSONS)
def test_every_your_turn_has_an_answer_to_reveal(name):
    cells = _read(COURSE / f"{name}.ipynb").cells
    for k, cell in enumerate(cells):
        if cell.cell_type == "markdown" and "Your turn" in cell.source:
            later = [c for c in cells[k + 1:] if c.cell_type == "code"]
            answers = [c for c in later if "quiz.answers(" in c.source or "quiz.reveal(" in c.source]
            assert answers, f"{name}: the \"Your turn\" in cell {cell.id} has no answer to reveal after it"
    for cell in cells:
        if "quiz.answers(" in cell.source or "quiz.reveal(" in cell.source:
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
                f"{name}: cell {cell.id} shows its answers in its source; collapse it (source_hidden)")


def test_the_recap_checks_itself_and_has_a_decision_to_defend():
    code = "\n".join(c.source for c in _code(_read(COURSE / f"{RECAP}.ipynb")))
    assert "quiz.Quiz(" in code and "quiz.Numeric(" in code and "quiz.Choice(" in code
    assert code.count("quiz.Decision(") >= 2 and "sl.simulate(" in code


@pytest.mark.slow
@pytest.mark.parametrize("name", [START, *LESSONS])
def test_lesson_runs_top_to_bottom(name):
    nb = _read(COURSE / f"{name}.ipynb")
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(COURSE)}})
    client.execute()          # a failing check cell raises CellExecutionError, naming the cell
    errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors
    as_text = [n for n, c in enumerate(_code(nb)) for o in c.outputs
               if o.output_type in ("execute_result", "display_data")
               and str(o.get("data", {}).get("text/plain", "")).startswith("<Figure size")
               and "image/png" not in o.get("data", {})]
    assert not as_text, f"{name}: code cells {as_text} show a figure as text, not as a picture"
