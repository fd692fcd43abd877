"""Reference submissions for every assignment, and how they become notebooks.

Each ``<assignment>/<kind>.py`` file is a list of ``# %% <grade_id>`` sections; a section
replaces the code of that solution cell in the released notebook (cells not named keep
the release's stub). ``# expect: <grade_id> <phrase>`` lines name each test cell the
submission must fail when autograded, and a phrase (case-insensitive) its message
contains. The solution submission is not stored: it is the source notebook's solution
cells with the ``### BEGIN/END SOLUTION`` markers taken out.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
_SECTION = re.compile(r"^# %% (\S+)\s*$", re.M)
_EXPECT = re.compile(r"^# expect: (\S+)[ \t]*(.*)$", re.M)


def assignments() -> list[str]:
    """Every assignment in ``solutions/``, in order."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def notebook_name(assignment: str) -> str:
    """The assignment's notebook file name (one notebook per assignment)."""
    return f"{assignment}.ipynb"


def release(assignment: str) -> nbformat.NotebookNode:
    """The released (student) notebook of ``assignment``."""
    return nbformat.read(ROOT / "exercises" / assignment / notebook_name(assignment), as_version=4)


def source(assignment: str) -> nbformat.NotebookNode:
    """The source notebook (solutions and hidden tests) of ``assignment``."""
    return nbformat.read(ROOT / "solutions" / assignment / notebook_name(assignment), as_version=4)


def parse(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(grade_id -> replacement code, grade_id -> expected phrase) of one submission file."""
    text = path.read_text()
    expect = {gid: phrase.strip() for gid, phrase in _EXPECT.findall(text)}
    parts = _SECTION.split(text)
    sections = {parts[k]: parts[k + 1].strip("\n") for k in range(1, len(parts), 2)}
    return sections, expect


def solution_sections(assignment: str) -> dict[str, str]:
    """The source's solution cells with the solution markers removed."""
    out = {}
    for cell in source(assignment).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = [ln for ln in cell.source.splitlines()
                     if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            out[cell.metadata.nbgrader.grade_id] = "\n".join(lines)
    return out


def fill(assignment: str, sections: dict[str, str]) -> nbformat.NotebookNode:
    """The release with the named solution cells' code replaced."""
    nb = copy.deepcopy(release(assignment))
    solution_ids = {c.metadata.nbgrader.grade_id for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
    unknown = set(sections) - solution_ids
    if unknown:
        raise ValueError(f"{assignment}: no solution cell(s) {sorted(unknown)} to replace")
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sections:
            cell.source = sections[gid]
    return nb


def submission(assignment: str, kind: str) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """The notebook of a reference submission (``solution``, ``release``, ``right*``, ``wrong*``,
    ``hostile``) and the test cells it must fail (grade_id -> phrase)."""
    if kind == "solution":
        return fill(assignment, solution_sections(assignment)), {}
    if kind == "release":
        return release(assignment), {}
    sections, expect = parse(HERE / assignment / f"{kind}.py")
    return fill(assignment, sections), expect


# -- attacks on grading (tests/submissions/attacks) --------------------------------------------------
ATTACKS = HERE / "attacks"
#: The assignment every attack is a submission of.
ATTACKED = "01_stateless_vs_sticky"


def attacks() -> list[str]:
    """The names of the attack submissions."""
    return sorted(p.stem for p in ATTACKS.glob("*.py") if not p.stem.startswith("_"))


#: Correct submissions that look unusual (they log, answer with numpy numbers): graded beside the attacks.
FAIR = HERE / "fair"


def fair() -> list[str]:
    """The names of the unusual but correct submissions."""
    return sorted(p.stem for p in FAIR.glob("*.py"))


_HEADER = re.compile(r"^# (assignment|fails|beside): (.+)$", re.M)


def attack_header(name: str, folder: Path = ATTACKS) -> dict:
    """What an attack file's header lines say: ``assignment`` (default :data:`ATTACKED`), ``fails``
    (the test cells that must score 0; default every one) and ``beside`` (``{file name: link target}``,
    links handed in beside the notebook)."""
    header = {"assignment": ATTACKED, "fails": None, "beside": {}}
    for key, value in _HEADER.findall((folder / f"{name}.py").read_text()):
        if key == "assignment":
            header["assignment"] = value.strip()
        elif key == "fails":
            header["fails"] = value.split()
        else:
            link, target = (part.strip() for part in value.split("->"))
            header["beside"][link] = target
    return header


def attack(name: str, folder: Path = ATTACKS) -> nbformat.NotebookNode:
    """The notebook of attack ``name``: ``#include <file>`` lines are expanded, and ``+<name>``
    sections become cells of their own after the first solution cell of its assignment."""
    assignment = attack_header(name, folder)["assignment"]
    text = (folder / f"{name}.py").read_text()
    text = re.sub(r"^#include (\S+)\s*$", lambda m: (folder / f"{m.group(1)}.py").read_text(), text,
                  flags=re.M)
    parts = _SECTION.split(text)
    sections = {parts[k]: parts[k + 1].strip("\n") for k in range(1, len(parts), 2)}
    extra = {gid: code for gid, code in sections.items() if gid.startswith("+")}
    nb = fill(assignment, {gid: code for gid, code in sections.items() if gid not in extra})
    first = next(k for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    for offset, code in enumerate(extra.values(), start=1):
        nb.cells.insert(first + offset, nbformat.v4.new_code_cell(code))
    return nb
