"""The grading service's HTTP server: ``POST <prefix>grade/<assignment>`` with a notebook as the body.

Each request goes, in order: who sent it (the hub, :mod:`.hub`; 401 without a token, 403 for
one the hub does not know or without this service's scope), how many that student has asked
for (:mod:`.limits`; 429), which assignment and notebook it is (400 naming the problem: an
assignment this service does not grade, a body that is not a notebook, a notebook of another
assignment), then one grading slot of ``workers`` (503 when too many wait) and the grading
itself in a child process (:mod:`.job`; 504 past ``timeout``). The answer is the report
(:mod:`.report`). Errors are JSON too: ``{"error": "...", "status": N}``.

Everything a grading writes lives in the service's ``scratch`` folder (mode 0700, outside the
course): a job folder per request, removed when it is answered, and the generated courses
self-grade keeps between gradings. The child's environment carries none of the service's
tokens (the learner's code runs with what the grading process has, inside the sandbox).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

from ... import children
from ..course import CONFIG
from ..single import check_belongs
from .. import sandbox as sb
from . import NAME
from .hub import HubUnreachable, HubUsers, token_of
from .limits import Gate, Limits, TooMany

logger = logging.getLogger(__name__)

_ASSIGNMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Environment variables a grading child does not get (the learner's code runs with its environment).
_SECRET = re.compile(r"^(JUPYTERHUB_|JPY_|CONFIGPROXY_)|TOKEN|SECRET|PASSW|CREDENTIAL|_KEY$", re.IGNORECASE)


class Refused(Exception):
    """A request answered with an error: ``status`` and a message for the student."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Settings:
    """What the service grades, where, and how much at once; checked on construction.

    Args:
        course: the course directory (``nbgrader_config.py`` beside ``solutions/``).
        scratch: the service's private folder (made 0700; not inside the course, nor it inside).
        name: the service's name in ``c.JupyterHub.services``.
        prefix: the URL prefix the hub's proxy routes here (default ``/services/<name>/``).
        assignments: the assignments graded (default: every one in ``solutions/``).
        workers: gradings run at the same time, for all students.
        limits: what one student may ask (:class:`.limits.Limits`).
        timeout: seconds one grading may take before it is stopped.
        max_bytes: the largest notebook taken.
        queue: requests that may wait for a grading slot before more are refused (503).
    """

    course: Path
    scratch: Path
    name: str = NAME
    prefix: str = ""
    assignments: tuple[str, ...] = ()
    workers: int = 1
    limits: Limits = field(default_factory=Limits)
    timeout: float = 600.0
    max_bytes: int = 8_000_000
    queue: int = 100

    def __post_init__(self):
        course = Path(self.course).resolve()
        if not (course / CONFIG).is_file() or not (course / "solutions").is_dir():
            raise ValueError(f"--course {self.course} is not a course directory ({CONFIG} beside solutions/)")
        object.__setattr__(self, "course", course)
        scratch = Path(self.scratch).resolve()
        if scratch == course or course in scratch.parents or scratch in course.parents:
            raise ValueError(f"the scratch folder {scratch} must be outside the course {course} (and not "
                             "hold it): the students must find nothing of the course there")
        object.__setattr__(self, "scratch", scratch)
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", self.name):
            raise ValueError(f"the service name must be letters, digits, '-', '_' or '.', not {self.name!r}")
        prefix = self.prefix or f"/services/{self.name}/"
        if not prefix.startswith("/"):
            raise ValueError(f"the URL prefix must start with '/', not {prefix!r}")
        object.__setattr__(self, "prefix", prefix.rstrip("/") + "/")
        known = sorted(p.name for p in (course / "solutions").iterdir()
                       if p.is_dir() and any(p.glob("*.ipynb")))
        unknown = [a for a in self.assignments if a not in known]
        if unknown:
            raise ValueError(f"no assignment {', '.join(map(repr, unknown))} in {course / 'solutions'} "
                             f"(it has {', '.join(known)})")
        object.__setattr__(self, "assignments", tuple(self.assignments) or tuple(known))
        for name in ("workers", "max_bytes", "queue"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {self.timeout!r}")


def readable_by_others(path: Path) -> bool:
    """True if any user may read ``path``: every folder above it is searchable by others, and it readable."""
    path = Path(path).resolve()
    try:
        if any(not parent.stat().st_mode & 0o001 for parent in path.parents):
            return False
        return bool(path.stat().st_mode & 0o004)
    except OSError:
        return False


def _private(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


class Grader:
    """Runs gradings in child processes, ``workers`` at a time, in the service's scratch folder."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.workers)
        self._waiting = 0
        _private(settings.scratch)
        self.jobs = _private(settings.scratch / "jobs")
        self.env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
        self.env.pop("STICKYLAB_UNSAFE_GRADING", None)
        self.env.update(STICKYLAB_CACHE=str(_private(settings.scratch / "cache")),
                        JUPYTER_DATA_DIR=str(_private(settings.scratch / "jupyter-data")),
                        TMPDIR=str(_private(settings.scratch / "tmp")), PYTHONDONTWRITEBYTECODE="1")

    async def grade(self, assignment: str, name: str, notebook, request_id: str) -> dict:
        """The report of ``notebook`` (``name`` of ``assignment``), once a grading slot is free."""
        if self._waiting >= self.settings.queue:
            raise Refused(503, f"the grading service has {self._waiting} gradings waiting: try again in a "
                               "minute", {"Retry-After": "60"})
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            return await self._run(assignment, name, notebook, request_id)
        finally:
            self._slots.release()

    async def _run(self, assignment: str, name: str, notebook, request_id: str) -> dict:
        import nbformat

        job = Path(tempfile.mkdtemp(prefix=f"{request_id}-", dir=self.jobs))
        try:
            path = job / assignment / name
            path.parent.mkdir()
            nbformat.write(notebook, path)
            log = job / "log.txt"
            with open(log, "wb") as out:
                proc = children.start(
                    [sys.executable, "-m", "stickylab.grade.service.job", str(path),
                     "--course", str(self.settings.course), "--workdir", str(job / "course"),
                     "--report", str(job / "report.json")], stdin=subprocess.DEVNULL, stdout=out,
                    stderr=out, env=self.env, cwd=job)
                try:
                    await children.wait_async(proc, self.settings.timeout)
                except TimeoutError:
                    await children.kill_async(proc)
                    logger.warning("%s: grading stopped after %s s", request_id, self.settings.timeout)
                    raise Refused(504, f"grading took longer than {self.settings.timeout:g} s and was "
                                       "stopped: does a cell of the notebook run for ever?") from None
                except asyncio.CancelledError:
                    children.kill(proc)
                    raise
            if proc.returncode != 0 or not (job / "report.json").is_file():
                tail = log.read_text(errors="replace")[-4000:]
                logger.error("%s: grading failed (exit %s):\n%s", request_id, proc.returncode, tail)
                raise Refused(500, f"the grading failed on the service's side (request {request_id}): "
                                   "tell the instructor, who can read the service's log")
            return json.loads((job / "report.json").read_text())
        finally:
            shutil.rmtree(job, ignore_errors=True)


def _notebook(body: bytes, assignment: str, asked: str, course: Path):
    """(file name, notebook) of a request's body, or ValueError naming what is wrong with it."""
    import nbformat

    expected = sorted(p.name for p in (course / "solutions" / assignment).glob("*.ipynb"))
    if asked in expected:
        name = asked
    elif len(expected) == 1:
        name = expected[0]
    else:
        raise ValueError(f"name the notebook with ?notebook=NAME: {assignment} has {', '.join(expected)}"
                         + (f", not {asked!r}" if asked else ""))
    try:
        text = body.decode("utf-8")
        found = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"the request's body is not a notebook (not JSON: {exc})") from None
    if not isinstance(found, dict) or not {"cells", "nbformat"} <= set(found):
        raise ValueError("the request's body is JSON but not a notebook: a notebook has 'cells' and "
                         "'nbformat' (send the .ipynb file itself)")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise ValueError(f"the request's body is not a notebook: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
    check_belongs(notebook, Path(name), assignment, course)
    return name, notebook


class Service:
    """The service's request handlers: who asks (through the hub), how often, and the grading."""

    def __init__(self, settings: Settings, users: HubUsers):
        self.settings, self.users = settings, users
        self.grader = Grader(settings)
        self.gate = Gate(settings.limits)

    async def student(self, request: web.Request) -> str:
        """The hub user whose token ``request`` carries, or :class:`Refused` saying why not."""
        token = token_of(request.headers.get("Authorization"))
        if token is None:
            raise Refused(401, "log in to the hub: send your JupyterHub API token as "
                               "'Authorization: token <token>' ($JUPYTERHUB_API_TOKEN in your server)",
                          {"WWW-Authenticate": "token"})
        try:
            model = await self.users.user(token)
        except HubUnreachable as exc:
            logger.error("%s", exc)
            raise Refused(502, "the grading service could not reach the hub to check who you are") from None
        if not model:
            raise Refused(403, "the hub does not know this token: log in to the hub again")
        refusal = self.users.refusal(model)
        if refusal:
            raise Refused(403, refusal)
        return str(model["name"])

    async def grade(self, request: web.Request) -> web.Response:
        """``POST <prefix>grade/<assignment>``: the report, or a refusal with its status and reason."""
        request_id, started = uuid.uuid4().hex[:10], time.monotonic()
        assignment, user = request.match_info["assignment"], "-"
        try:
            user = await self.student(request)
            try:
                self.gate.enter(user)
            except TooMany as exc:
                raise Refused(429, exc.reason, {"Retry-After": str(int(exc.retry_after))}) from None
            try:
                report = await self._graded(request, assignment, request_id)
            finally:
                self.gate.leave(user)
        except Refused as refused:
            logger.info("%s %s %s: %s %s", request_id, user, assignment[:80], refused.status, refused.message)
            return web.json_response({"error": refused.message, "status": refused.status},
                                     status=refused.status, headers=refused.headers)
        logger.info("%s %s %s: %g/%g in %.1f s", request_id, user, assignment, report["score"],
                    report["max_score"], time.monotonic() - started)
        return web.json_response(report)

    async def _graded(self, request: web.Request, assignment: str, request_id: str) -> dict:
        settings = self.settings
        if assignment not in settings.assignments:
            shown = assignment if _ASSIGNMENT.match(assignment) and len(assignment) <= 80 else assignment[:80]
            raise Refused(400, f"unknown assignment {shown!r}: this service grades "
                               f"{', '.join(settings.assignments)}")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, f"the notebook is larger than the {settings.max_bytes:,} bytes this service "
                               "takes: clear its outputs and send it again") from None
        try:
            name, notebook = await asyncio.to_thread(_notebook, body, assignment,
                                                     request.query.get("notebook", ""), settings.course)
        except ValueError as exc:
            raise Refused(400, str(exc)) from None
        return await self.grader.grade(assignment, name, notebook, request_id)

    async def hello(self, request: web.Request) -> web.Response:
        """``GET <prefix>``: what this service is and how to ask it."""
        return web.json_response({"service": self.settings.name,
                                  "grades": f"POST {self.settings.prefix}grade/<assignment>"})


def make_app(settings: Settings, users: HubUsers) -> web.Application:
    """The aiohttp application of the service."""
    service = Service(settings, users)
    app = web.Application(client_max_size=settings.max_bytes)
    app.router.add_get(settings.prefix, service.hello)
    app.router.add_post(settings.prefix + "grade/{assignment}", service.grade)
    return app


def _warn_exposed(course: Path) -> None:
    for what in (course / "solutions", course / "gradebook.db"):
        if what.exists() and readable_by_others(what):
            logger.warning("%s is readable by every user of this machine: students could read it "
                           "(chmod 700 %s)", what, course)


def _parser() -> argparse.ArgumentParser:
    service_url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101")
    p = argparse.ArgumentParser(prog="python -m stickylab.grade.service",
                                description="Grade students' notebooks against the hidden tests, as a "
                                            "JupyterHub service: the students get the report, never the "
                                            "tests.")
    p.add_argument("--course", type=Path, required=True,
                   help="the course directory (students must not read it)")
    p.add_argument("--ip", default=service_url.hostname or "127.0.0.1", help="address to listen on "
                   "(default: from $JUPYTERHUB_SERVICE_URL, else 127.0.0.1)")
    p.add_argument("--port", type=int, default=service_url.port or 10101,
                   help="port (default: from $JUPYTERHUB_SERVICE_URL, else 10101; 0 for any free one)")
    p.add_argument("--name", default=os.environ.get("JUPYTERHUB_SERVICE_NAME") or NAME,
                   help=f"the service's name in c.JupyterHub.services (default {NAME})")
    p.add_argument("--prefix", default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "",
                   help="URL prefix (default: $JUPYTERHUB_SERVICE_PREFIX, else /services/<name>/)")
    p.add_argument("--api-url", default=os.environ.get("JUPYTERHUB_API_URL") or "http://127.0.0.1:8081/hub/api",
                   help="the hub's API (default: $JUPYTERHUB_API_URL)")
    p.add_argument("--scratch", type=Path, default=None,
                   help="the service's private folder (default: a new one in the temporary folder, "
                        "removed at exit)")
    p.add_argument("--assignments", nargs="+", default=(),
                   help="grade only these (default: all in solutions/)")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                   help="gradings at the same time (default: half the cores)")
    p.add_argument("--at-once", type=int, default=Limits.at_once,
                   help="gradings one student may run at a time")
    p.add_argument("--per-minute", type=int, default=Limits.per_minute,
                   help="requests one student may make a minute")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds one grading may take")
    p.add_argument("--max-bytes", type=int, default=8_000_000, help="the largest notebook taken")
    return p


async def _serve(settings: Settings, users: HubUsers, ip: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(make_app(settings, users), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, ip, port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    host = f"[{host}]" if ":" in host else host
    print(f"{settings.name}: listening on http://{host}:{bound}{settings.prefix} (course {settings.course}, "
          f"hub {users.api_url} through {users.how})", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv=None) -> int:
    """Command line: ``python -m stickylab.grade.service --course DIR [--port N] ...`` (``--help``)."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))     # until the server's own handler: clean up
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("stickylab").setLevel(logging.INFO)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="stickylab-grade-service-"))
    try:
        settings = Settings(args.course, scratch, args.name, args.prefix, tuple(args.assignments),
                            args.workers, Limits(args.at_once, args.per_minute), args.timeout, args.max_bytes)
        users = HubUsers(args.api_url, settings.name, os.environ.get("JUPYTERHUB_API_TOKEN", ""))
        problem = sb.check()
        if problem is not None:
            raise ValueError(f"no sandbox can be made here ({problem}): the service grades students' code "
                             "only in the sandbox (install bubblewrap)")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
        return 2
    _warn_exposed(settings.course)
    try:
        asyncio.run(_serve(settings, users, args.ip, args.port))
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0
