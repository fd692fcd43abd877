"""The student's side: post a notebook to the hub's grading service and print its report.

    python -m stickylab.grade 02_cookie_affinity/02_cookie_affinity.ipynb --hub

In a hub user's server ``$JUPYTERHUB_API_TOKEN`` is the student's token. The service's URL
is ``--service URL``, else ``$STICKYLAB_GRADE_URL`` (the hub's administrator sets it in
``c.Spawner.environment``), else the hub's public URL (``$JUPYTERHUB_PUBLIC_URL``, set where
``c.JupyterHub.public_url`` is) with ``/services/stickylab-grade/``. The report is printed as
``python -m stickylab.grade`` prints its own.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from . import NAME
from .report import from_json

logger = logging.getLogger(__name__)

#: Seconds to wait for the report (a grading may wait for a free slot first).
TIMEOUT = 900.0


def service_url(explicit: str | None = None) -> str:
    """The grading service's URL (ending in ``/``), or ValueError saying how to give it."""
    url = explicit or os.environ.get("STICKYLAB_GRADE_URL", "")
    if not url:
        public = os.environ.get("JUPYTERHUB_PUBLIC_URL") or os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL") or ""
        parts = urllib.parse.urlsplit(public)
        if parts.scheme and parts.netloc:
            url = f"{parts.scheme}://{parts.netloc}/services/{NAME}/"
    if not url:
        raise ValueError("no grading service named: pass --service URL, or ask the hub's administrator "
                         "to set STICKYLAB_GRADE_URL (c.Spawner.environment)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the grading service's URL must be http(s)://host[:port]/..., not {url!r}")
    return url.rstrip("/") + "/"


def _token() -> str:
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not token:
        raise ValueError("JUPYTERHUB_API_TOKEN is not set: grade on the hub from a terminal or notebook of "
                         "your hub server (every hub server sets it), or self-grade without --hub")
    return token


def _refusal(exc: urllib.error.HTTPError) -> str:
    try:
        message = json.loads(exc.read().decode("utf-8", "replace"))["error"]
    except Exception:
        message = exc.reason
    retry = exc.headers.get("Retry-After")
    return f"the grading service said {exc.code}: {message}" + (f" (retry after {retry} s)" if retry else "")


def grade_remotely(notebook: Path, url: str, out, timeout: float = TIMEOUT) -> tuple[float, float]:
    """Post ``notebook`` (in a folder named after its assignment) to the service; print its report.

    Returns (score, max score).

    Raises:
        FileNotFoundError: ``notebook`` is not a notebook file.
        ValueError: no token, or a bad URL.
        RuntimeError: the service refused or could not be reached (with its reason).
    """
    from ..terminal import print_results

    notebook = Path(notebook).resolve()
    if not notebook.is_file() or notebook.suffix != ".ipynb":
        raise FileNotFoundError(f"not a notebook: {notebook}")
    assignment = notebook.parent.name
    target = (url + "grade/" + urllib.parse.quote(assignment, safe="")
              + "?" + urllib.parse.urlencode({"notebook": notebook.name}))
    request = urllib.request.Request(target, data=notebook.read_bytes(), method="POST",
                                     headers={"Authorization": f"token {_token()}",
                                              "Content-Type": "application/json"})
    print(f"Grading {notebook} against {assignment}'s hidden tests on the hub's grading service ({url})",
          file=out)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            report = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise RuntimeError(_refusal(exc)) from None
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(f"could not reach the grading service at {url}: "
                           f"{getattr(exc, 'reason', exc)}") from None
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"the grading service at {url} answered with something that is not JSON: "
                           f"{exc}") from None
    results, score, total = from_json(report)
    print_results(results, score, total, out)
    return score, total
