"""Grading: nbgrader's pipeline, made safe against the code it grades, for one notebook or a class.

Where each module runs:

- **the host** (nbgrader's process, the instructor's or the learner's machine):
  :mod:`~stickylab.grade.course` (a scratch course driven by nbgrader's apps),
  :mod:`~stickylab.grade.single` (grade one notebook), :mod:`~stickylab.grade.cli`
  (the command line), :mod:`~stickylab.grade.terminal` (the printed report),
  :mod:`~stickylab.grade.batch`, :mod:`~stickylab.grade.replay` and
  :mod:`~stickylab.grade.reuse` (a class in parallel), :mod:`~stickylab.grade.execute`
  (the execution step), :mod:`~stickylab.grade.backup`, :mod:`~stickylab.grade.repair`
  and :mod:`~stickylab.grade.sanitize` (nbgrader steps), :mod:`~stickylab.grade.sandbox`
  (bubblewrap), :mod:`~stickylab.grade.names` (what the tests may take from the learner),
  :mod:`~stickylab.grade.exchange` (collecting), :mod:`~stickylab.grade.service` (the hub's
  grading service);
- **the test process** (sandboxed, clean): :mod:`~stickylab.grade.verdict` and
  :mod:`~stickylab.grade.remote`;
- **the learner's kernel** and **fresh interpreters** (sandboxed):
  :mod:`~stickylab.grade.learner_side` and :mod:`~stickylab.grade.fresh`;
- **on every side of a boundary**: :mod:`~stickylab.grade.protocol` (the messages) and
  :mod:`~stickylab.grade.wire` (the values they carry).
"""

from __future__ import annotations

from .cli import main
from .course import Course, TestResult, find_course_root
from .single import cache_folder, self_grade

__all__ = ["Course", "TestResult", "cache_folder", "find_course_root", "main", "self_grade"]
