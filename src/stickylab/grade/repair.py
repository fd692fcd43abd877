"""An nbgrader preprocessor that repairs learners' damage to cell metadata before grading.

nbgrader 0.9 already restores locked cells, cell types, points and deleted test cells from
the gradebook. Two kinds of damage still stop a submission from being graded at all:
a duplicated cell (``DeduplicateIds`` empties the copy's metadata, and the missing-cell
check then fails on it) and edited ``nbgrader`` metadata (a solution cell turned into a
test cell, points that are not a number). This preprocessor runs after ``DeduplicateIds``
and puts back, from the gradebook, the metadata of every cell it knows by grade id; cells
it does not know become ordinary cells. Each repair is logged, so the instructor sees why.
"""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["RepairCellMetadata"]


class RepairCellMetadata(NbGraderPreprocessor):
    """Reset each known cell's nbgrader metadata to the source's; drop metadata nbgrader cannot use."""

    def preprocess(self, nb, resources):
        """Repair every cell of ``nb`` against the gradebook's copy of the source notebook."""
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                source = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            known = self._known(source)
        for index, cell in enumerate(nb.cells):
            self._repair(index, cell, known)
        return nb, resources

    @staticmethod
    def _known(source) -> dict[str, dict]:
        known = {c.name: {"grade": False, "solution": False, "locked": bool(c.locked), "task": False,
                          "schema_version": 3}
                 for c in source.source_cells}
        for c in source.grade_cells:
            known.setdefault(c.name, {"locked": False, "schema_version": 3, "task": False})
            known[c.name].update(grade=True, points=float(c.max_score), solution=False)
        for c in source.solution_cells:
            known.setdefault(c.name, {"locked": False, "schema_version": 3, "task": False,
                                      "grade": False})
            known[c.name]["solution"] = True
        return known

    def _repair(self, index: int, cell, known: dict[str, dict]) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(gid, str) or gid not in known:
            self.log.warning("Cell %d has nbgrader metadata for no cell of the assignment "
                             "(grade id %r, a copied or duplicated cell?): graded as an ordinary "
                             "cell", index, gid)
            del cell.metadata["nbgrader"]
            return
        want = dict(known[gid], grade_id=gid)
        have = {k: meta.get(k) for k in want}
        if have != want:
            changed = sorted(k for k in want if have[k] != want[k])
            self.log.warning("Cell %r had edited nbgrader metadata (%s): repaired from the source",
                             gid, ", ".join(changed))
            meta.update(want)
            if not want.get("grade"):
                meta.pop("points", None)
