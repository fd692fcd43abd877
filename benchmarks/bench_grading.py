"""How long autograding takes: one student's eight notebooks, with stock nbgrader.

    python benchmarks/bench_grading.py [--repeat 1] [--modes sandboxed,unsandboxed,stock]

Builds a scratch course from this checkout (the real nbgrader_config.py, so the real
per-cell timeout), submits the solution of every assignment as one student, and times
`nbgrader autograde` per notebook (kernel start, the hidden tests and the gradebook),
then `generate_feedback`, in up to three setups:

- sandboxed: the course's configuration (learner kernel in bubblewrap, tests in a
  separate sandboxed process), what every class gets;
- unsandboxed: the same two processes without bubblewrap (``SandboxedExecute.unsafe``);
- stock: nbgrader's own Execute, everything in one unsandboxed kernel (what the course
  did before; learners' code could then fool or harm grading).

Prints each notebook's time, the totals, the sandbox's cost per notebook, and whether the
sandboxed total is under the 30-second target.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat

from stickylab.grade import Course

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 30.0
STOCK = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
         "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
         "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
         "nbgrader.preprocessors.CheckCellMetadata"]
MODES = {
    "sandboxed": {},
    "unsandboxed": {"SandboxedExecute.unsafe": True},
    "stock": {"Autograde.autograde_preprocessors": STOCK},
}


def run_once(workdir: Path, overrides: dict) -> tuple[dict[str, float], float, float]:
    """(seconds per assignment for autograde, total autograde, feedback) for one student."""
    course = Course(workdir, ROOT, overrides=overrides)
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
    parser.add_argument("--modes", default="sandboxed,unsandboxed,stock")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise SystemExit(f"unknown mode(s) {unknown}: choose from {list(MODES)}")
    results = {}
    for mode in modes:
        best = None
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="stickylab-bench-") as tmp:
                run = run_once(Path(tmp), MODES[mode])
            if best is None or run[1] < best[1]:
                best = run
        results[mode] = best
    assignments = list(next(iter(results.values()))[0])
    print(f"{'autograde, seconds per notebook':<40}" + "".join(f"{m:>13}" for m in modes))
    for a in assignments:
        print(f"  {a:<38}" + "".join(f"{results[m][0][a]:13.2f}" for m in modes))
    print(f"{'total, one student':<40}" + "".join(f"{results[m][1]:13.2f}" for m in modes))
    print(f"{'generate_feedback, all notebooks':<40}" + "".join(f"{results[m][2]:13.2f}" for m in modes))
    n = len(assignments)
    if "sandboxed" in results:
        total = results["sandboxed"][1]
        print(f"sandboxed total {total:.2f} s for {n} notebooks (target < {TARGET_S:.0f} s: "
              f"{'met' if total < TARGET_S else 'NOT met'})")
        for other in ("unsandboxed", "stock"):
            if other in results:
                print(f"cost per notebook against {other}: {(total - results[other][1]) / n:+.2f} s")


if __name__ == "__main__":
    main()
