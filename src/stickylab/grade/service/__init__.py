"""Hidden-test feedback on a JupyterHub: a hub service that self-grades a student's notebook.

    python -m stickylab.grade.service --course /srv/stickylab --port 10101

On one machine a learner self-grades with ``python -m stickylab.grade NOTEBOOK``, which reads
the hidden tests in the course's ``solutions/``. On a hub the students cannot read that folder,
so this service, run on the instructor's side, grades for them: a student's server posts the
notebook to ``POST /services/stickylab-grade/grade/<assignment>`` with its JupyterHub API token
(``python -m stickylab.grade NOTEBOOK --hub`` does it), the hub says who the token belongs to,
and the service runs the same self-grade, in the sandbox, in a scratch course of its own, and
answers with the report: points and messages per test, never a test's source, nothing written
to the instructor's gradebook.

Modules: :mod:`.hub` (who a request comes from), :mod:`.limits` (a few requests per student),
:mod:`.job` (one grading, in a child process), :mod:`.report` (the report as JSON, both ways),
:mod:`.app` (the HTTP server) and :mod:`.client` (the student's side).
"""

from __future__ import annotations

__all__ = ["NAME"]

#: The service's name in ``c.JupyterHub.services`` (its URLs are under ``/services/<name>/``).
NAME = "stickylab-grade"
