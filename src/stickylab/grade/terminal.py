"""What grading prints on a terminal: each test's result, cleaned of anything a learner could forge.

Runs on the host: the self-grade command prints with it, and the hub's grading service
cleans the messages it answers with it (its client prints them here again).
"""

from __future__ import annotations

import re
import unicodedata

from .course import TestResult

__all__ = ["print_results", "printable"]


#: Terminal escape sequences: CSI (colours, cursor moves, erasing), OSC (titles, links), the string
#: commands (DCS, SOS, PM, APC) and the short two- and three-character ones.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]")


def printable(text: str, width: int = 240) -> str:
    """One line that came from the learner's code, safe to print.

    No escape sequence, no control or format character (a carriage return, a bidirectional
    override), at most ``width`` characters.
    """
    text = _ESCAPES.sub("", text.replace("\t", "    "))
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))[:width]


def print_results(results: list[TestResult], score: float, total: float, out) -> None:
    """Print each test's result, then the score.

    What a failing test said goes under it, each line cleaned and marked with ``|``, so no
    message can move the cursor or pass for a report line. The hub's grading service
    (:mod:`stickylab.grade.service`) answers with the same results, printed here by its client.
    """
    width = max((len(r.name) for r in results), default=10)
    for r in results:
        mark = "PASS" if r.passed else "FAIL"
        print(f"  {mark}  {r.name:<{width}}  {r.score:g}/{r.max_score:g}", file=out)
        if r.message and not r.passed:
            for line in r.message.splitlines()[:12]:
                print(f"          | {printable(line)}", file=out)
    print(f"Score: {score:g} / {total:g}", file=out)
