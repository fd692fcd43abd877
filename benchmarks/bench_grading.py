"""How long autograding takes: one student's eight notebooks, with stock nbgrader.

    python benchmarks/bench_grading.py [--repeat 1]

Builds a scratch course from this checkout (the real nbgrader_config.py, so the real
per-cell timeout), submits the solution of every assignment as one student, and times
`nbgrader autograde` per notebook (kernel start, the hidden tests and the gradebook),
then `generate_feedback`. Prints each notebook's time, the total, and whether it is
under the one-minute target.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat

from stickylab.grade import Course

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 60.0


def run_once(workdir: Path) -> tuple[dict[str, float], float, float]:
    """(seconds per assignment for autograde, total autograde, feedback) for one student."""
    course = Course(workdir, ROOT)
    for a in course.assignments:
        course.generate(a)
        src = ROOT / "solutions" / a / f"{a}.ipynb"
        course.place("bench", a, {src.name: nbformat.read(src, as_version=4)})
    per = {}
    for a in course.assignments:
        start = time.perf_counter()
        result = course.autograde(a, "bench")
        per[a] = time.perf_counter() - start
        score, total = course.score(a, "bench")
        if not result["success"] or score != total:
            raise SystemExit(f"{a}: the solution scored {score}/{total}:\n{result.get('error')}")
    start = time.perf_counter()
    for a in course.assignments:
        course.feedback(a, "bench")
    return per, sum(per.values()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    best = None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="stickylab-bench-") as tmp:
            run = run_once(Path(tmp))
        if best is None or run[1] < best[1]:
            best = run
    per, total, feedback = best
    for a, seconds in per.items():
        print(f"autograde {a:<28} {seconds:6.2f} s")
    print(f"autograde, one student, {len(per)} notebooks: {total:6.2f} s "
          f"(target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'NOT met'})")
    print(f"generate_feedback, {len(per)} notebooks:        {feedback:6.2f} s")


if __name__ == "__main__":
    main()
