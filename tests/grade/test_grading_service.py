"""The hub's grading service (python -m stickylab.grade.service): hidden-test feedback without the tests.

One service is started on loopback for the module, against a course built with
:class:`stickylab.grade.Course`, with a stand-in for the hub's user API (``GET /hub/api/user``
answers a known token with its owner's model, 403 otherwise, as JupyterHub does; where
jupyterhub is installed the service asks it through JupyterHub's own HubAuth). Every test
speaks as a student of its own, so the per-student limits of one test do not reach another.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import submissions as subs

from stickylab.grade import Course, main
from stickylab.grade import sandbox as sb
from stickylab.grade.service.hub import HubUnreachable, HubUsers

pytestmark = pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")

A = "02_cookie_affinity"
OTHER = "01_stateless_vs_sticky"
SERVICE = "stickylab-grade"
SCOPE = f"access:services!service={SERVICE}"
#: The service's own token: it must reach no learner's code.
SERVICE_TOKEN = "service-token-must-stay-secret"
#: token -> (name, kind, scopes), as the hub would answer /hub/api/user.
TOKENS = {f"token-{name}": (name, "user", ["read:users:name!user=" + name, SCOPE])
          for name in ("ana", "ben", "cal", "dee", "eve", "fay", "gus", "hal", "jon")}
TOKENS["token-noscope"] = ("ivy", "user", ["read:users:name!user=ivy"])
TOKENS["token-service"] = ("announcer", "service", [SCOPE])
PER_MINUTE = 3


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _hidden_lines(assignment: str) -> list[str]:
    """Every line of the source's hidden tests long enough to tell apart from a message."""
    out, inside = [], False
    for cell in subs.source(assignment).cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 20:
                out.append(line.strip())
    assert len(out) > 20, "the source has no hidden tests to look for"
    return out


class _Hub(BaseHTTPRequestHandler):
    """GET /hub/api/user as JupyterHub answers it: the token's owner, or 403."""

    def do_GET(self):  # noqa: N802 - http.server's name
        token = re.sub(r"^(?:token|bearer)\s+", "", self.headers.get("Authorization", ""), flags=re.I)
        known = TOKENS.get(token)
        if self.path.rstrip("/") != "/hub/api/user" or known is None:
            self._send(403, {"status": 403, "message": "Missing or invalid credentials."})
            return
        name, kind, scopes = known
        self._send(200, {"kind": kind, "name": name, "admin": False, "groups": [], "scopes": scopes,
                         "session_id": None, "token_id": "a1"})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _read_line(stream, seconds: float) -> str:
    """The first line of ``stream``, waiting at most ``seconds``."""
    got = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return got[0] if got else ""


@pytest.fixture(scope="module")
def hub():
    """The stand-in hub's API URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    server.shutdown()
    server.server_close()


# The tests that use it are marked slow: it takes about 10 s to start (a course generated, then a
# service process started on it).
@pytest.fixture(scope="module")
def service(tmp_path_factory, hub):
    tmp = tmp_path_factory.mktemp("service")
    course = Course(tmp / "course", subs.ROOT, [A, OTHER], exchange=tmp / "exchange")
    course.generate(A)      # the instructor's gradebook, with the assignment in it
    before = _digest(course.root)
    home, temp = tmp / "service-home", tmp / "service-tmp"
    home.mkdir()
    temp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTERHUB_", "STICKYLAB_", "JUPYTER_DATA"))}
    env.update(HOME=str(home), TMPDIR=str(temp), JUPYTERHUB_API_TOKEN=SERVICE_TOKEN,
               JUPYTERHUB_SERVICE_NAME=SERVICE, PYTHONUNBUFFERED="1")
    log = open(tmp / "service.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "stickylab.grade.service", "--course", str(course.root), "--port", "0",
         "--ip", "127.0.0.1", "--api-url", hub,
         "--workers", "2", "--at-once", "1", "--per-minute", str(PER_MINUTE), "--timeout", "240"],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=tmp)
    try:
        line = _read_line(proc.stdout, 60)
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"the service did not start: {line!r}\n{(tmp / 'service.log').read_text()}"
        yield {"url": match.group(1), "course": course, "before": before, "home": home, "temp": temp,
               "log": tmp / "service.log", "banner": line, "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def post(service, assignment: str, body: bytes | None, token: str | None = None, notebook: str = ""):
    """(status, JSON answer, headers) of one grading request."""
    url = f"{service['url']}grade/{assignment}" + (f"?notebook={notebook}" if notebook else "")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, data=body or b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=240) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


# -- who may ask ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_service_says_how_it_checks_tokens(service):
    how = "jupyterhub HubAuth"
    try:
        import jupyterhub.services.auth  # noqa: F401
    except ImportError:
        how = "aiohttp"
    assert how in service["banner"], service["banner"]


@pytest.mark.parametrize("client", ["HubAuth", "aiohttp"])
def test_both_ways_of_asking_the_hub_agree(hub, client, monkeypatch):
    """With jupyterhub's HubAuth where it is installed, with aiohttp where it is not: the same answers."""
    if client == "HubAuth":
        pytest.importorskip("jupyterhub.services.auth", reason="jupyterhub is not installed")
    else:
        monkeypatch.setitem(sys.modules, "jupyterhub.services.auth", None)     # as if not installed
    users = HubUsers(hub, SERVICE)
    assert client in users.how

    async def ask():
        return [await users.user(token) for token in ("token-ana", "nope", "token-noscope", "token-service")]

    ana, nobody, unscoped, other = asyncio.run(ask())
    assert ana["name"] == "ana" and users.refusal(ana) is None
    assert nobody is None
    assert SCOPE in users.refusal(unscoped) and "only hub users" in users.refusal(other)
    with pytest.raises(HubUnreachable, match="127.0.0.1:1"):
        asyncio.run(HubUsers("http://127.0.0.1:1/hub/api", SERVICE).user("token-ana"))
    with pytest.raises(ValueError, match="not 'hub'"):
        HubUsers("hub", SERVICE)


@pytest.mark.slow
def test_a_request_without_a_token_is_refused(service):
    status, answer, headers = post(service, A, _bytes(subs.release(A)))
    assert status == 401 and "JupyterHub API token" in answer["error"]
    assert headers.get("WWW-Authenticate") == "token"


@pytest.mark.parametrize("token, reason", [
    ("not-a-token", "does not know this token"),
    ("token-noscope", SCOPE),
    ("token-service", "only hub users grade here"),
])
@pytest.mark.slow
def test_a_token_that_may_not_grade_is_refused(service, token, reason):
    status, answer, _ = post(service, A, _bytes(subs.release(A)), token)
    assert status == 403 and reason in answer["error"], answer


# -- what is asked, checked before grading --------------------------------------------------------------
@pytest.mark.slow
def test_an_unknown_assignment_is_named(service):
    status, answer, _ = post(service, "99_nothing", _bytes(subs.release(A)), "token-eve")
    assert status == 400
    assert "unknown assignment '99_nothing'" in answer["error"] and A in answer["error"]


@pytest.mark.slow
def test_a_notebook_of_another_assignment_is_named(service):
    status, answer, _ = post(service, A, _bytes(subs.release(OTHER)), "token-fay")
    assert status == 400
    assert f"a notebook of assignment {OTHER}, not of {A}" in answer["error"], answer


@pytest.mark.parametrize("body, reason", [
    (b"this is not json {", "not a notebook (not JSON"),
    (b'{"cells": "nope"}', "JSON but not a notebook"),
    (b"\xff\xfe", "not a notebook"),
])
@pytest.mark.slow
def test_a_body_that_is_not_a_notebook_is_refused(service, body, reason):
    status, answer, _ = post(service, A, body, "token-gus")
    assert status == 400 and reason in answer["error"], answer


@pytest.mark.slow
def test_a_notebook_too_large_is_refused(service):
    status, answer, _ = post(service, A, b" " * 8_100_000, "token-jon")
    assert status == 413 and "larger than the 8,000,000 bytes" in answer["error"], answer


@pytest.mark.slow
def test_more_requests_a_minute_than_allowed_get_429(service):
    for _ in range(PER_MINUTE):
        status, _, _ = post(service, A, b"{}", "token-dee")
        assert status == 400
    status, answer, headers = post(service, A, b"{}", "token-dee")
    assert status == 429 and f"{PER_MINUTE} gradings a minute" in answer["error"], answer
    assert 0 < int(headers["Retry-After"]) <= 60
    status, _, _ = post(service, A, b"{}", "token-eve")     # another student is not held back
    assert status == 400


# -- grading for real ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_correct_notebook_gets_full_marks_and_no_hidden_test(service):
    nb, _ = subs.submission(A, "solution")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:       # the same student twice at once
        answers = list(pool.map(lambda _: post(service, A, _bytes(nb), "token-ana"), range(2)))
    assert sorted(status for status, _, _ in answers) == [200, 429], [a[:2] for a in answers]
    report = next(answer for status, answer, _ in answers if status == 200)
    refused = next(answer for status, answer, _ in answers if status == 429)
    assert "1 grading at a time" in refused["error"]
    assert report["assignment"] == A and report["score"] == report["max_score"] == 10, report
    assert {t["name"] for t in report["tests"]} >= {"test-cookie-visible", "test-cookie-hidden-when"}
    for test in report["tests"]:
        assert set(test) == {"notebook", "name", "points", "max_points", "passed", "message"}
        assert test["passed"] and test["points"] == test["max_points"] and test["message"] == ""
    text = json.dumps(report)
    leaked = [line for line in _hidden_lines(A) if line in text]
    assert not leaked, leaked


@pytest.mark.slow
def test_a_wrong_notebook_gets_its_failures_with_messages(service):
    nb, expect = subs.submission(A, "wrong")
    status, report, _ = post(service, A, _bytes(nb), "token-ben", notebook=subs.notebook_name(A))
    assert status == 200, report
    failed = {t["name"]: t["message"] for t in report["tests"] if not t["passed"]}
    assert set(failed) == set(expect), failed
    for name, phrase in expect.items():
        assert phrase.lower() in failed[name].lower(), (name, phrase, failed[name])
    assert report["score"] == sum(t["points"] for t in report["tests"]) < report["max_score"]
    messages = "\n".join(failed.values()) + json.dumps(report)
    leaked = [line for line in _hidden_lines(A) if line in messages]
    assert not leaked, leaked


@pytest.mark.slow
def test_the_service_token_reaches_no_learner_code(service):
    code = subs.solution_sections(A)["signed-cookie"] + (
        "\n\nimport os\n"
        "def _route(self, request, pool):\n"
        "    raise RuntimeError('env: ' + repr(sorted((k, v) for k, v in os.environ.items()\n"
        "                                             if 'TOKEN' in k or 'JUPYTERHUB' in k)))\n"
        "SignedCookieRouter.route = _route\n")
    status, report, _ = post(service, A, _bytes(subs.fill(A, {"signed-cookie": code})), "token-hal")
    assert status == 200, report
    text = json.dumps(report)
    assert "env: " in text, "the learner's exception did not come back: the check sees nothing"
    assert SERVICE_TOKEN not in text and "JUPYTERHUB" not in text, text


@pytest.mark.slow
def test_the_student_command_prints_the_report(service, tmp_path):
    path = tmp_path / A / subs.notebook_name(A)
    path.parent.mkdir()
    nbformat.write(subs.submission(A, "solution")[0], path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "STICKYLAB_"))}
    env.update(JUPYTERHUB_API_TOKEN="token-cal", JUPYTERHUB_API_URL="http://127.0.0.1:1/hub/api",
               STICKYLAB_GRADE_URL=service["url"])
    run = subprocess.run([sys.executable, "-m", "stickylab.grade", str(path), "--hub"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^  PASS  test-cookie-visible +2/2$", run.stdout, re.M), run.stdout
    assert "Score: 10 / 10" in run.stdout and "Feedback:" not in run.stdout


def test_the_student_command_says_what_it_needs(tmp_path, monkeypatch, capsys):
    path = tmp_path / A / subs.notebook_name(A)
    path.parent.mkdir()
    nbformat.write(subs.release(A), path)
    for name in ("JUPYTERHUB_API_TOKEN", "STICKYLAB_GRADE_URL", "JUPYTERHUB_PUBLIC_URL",
                 "JUPYTERHUB_PUBLIC_HUB_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main([str(path), "--hub"]) == 2
    assert "STICKYLAB_GRADE_URL" in capsys.readouterr().err
    assert main([str(path), "--service", "http://127.0.0.1:1/services/x/"]) == 2
    assert "JUPYTERHUB_API_TOKEN is not set" in capsys.readouterr().err
    assert main([str(path), "--service", "ftp://example/x"]) == 2
    assert "must be http(s)" in capsys.readouterr().err


@pytest.mark.slow
def test_the_student_command_passes_on_a_refusal(service, tmp_path, monkeypatch, capsys):
    path = tmp_path / "99_nothing" / "mine.ipynb"
    path.parent.mkdir()
    nbformat.write(subs.release(A), path)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token-eve")
    assert main([str(path), "--service", service["url"]]) == 2
    err = capsys.readouterr().err
    assert "said 400" in err and "unknown assignment '99_nothing'" in err, err


# -- what the service leaves behind (after the gradings above) ------------------------------------------
@pytest.mark.slow
def test_the_instructors_course_and_gradebook_are_unchanged(service):
    assert _digest(service["course"].root) == service["before"]


@pytest.mark.slow
def test_nothing_of_the_course_is_left_where_a_student_could_read_it(service):
    scratch = [p for p in service["temp"].iterdir()]
    assert len(scratch) == 1 and scratch[0].name.startswith("stickylab-grade-service-"), scratch
    assert stat.S_IMODE(scratch[0].stat().st_mode) == 0o700
    assert list((scratch[0] / "jobs").iterdir()) == [], "a grading's folder was left behind"
    hidden = _hidden_lines(A)[:10]
    for folder in (service["home"], service["temp"]):
        for path in folder.rglob("*"):
            if path.is_file() and scratch[0] not in path.parents:
                text = path.read_text(errors="replace")
                assert not any(line in text for line in hidden), f"{path} holds a hidden test"
    assert service["course"].root not in scratch[0].parents


@pytest.mark.slow
def test_the_service_stops_cleanly_and_removes_its_scratch(tmp_path):
    """A second service, started and stopped: its scratch folder goes with it (bad flags first)."""
    course = Course(tmp_path / "course", subs.ROOT, [A])
    env = dict(os.environ, TMPDIR=str(tmp_path))
    bad = subprocess.run([sys.executable, "-m", "stickylab.grade.service", "--course", str(course.root),
                          "--assignments", "99_nothing"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "no assignment '99_nothing'" in bad.stderr, bad.stderr
    inside = subprocess.run([sys.executable, "-m", "stickylab.grade.service", "--course", str(course.root),
                             "--scratch", str(course.root / "scratch")], capture_output=True, text=True,
                            env=env, timeout=60)
    assert inside.returncode == 2 and "must be outside the course" in inside.stderr, inside.stderr
    proc = subprocess.Popen([sys.executable, "-m", "stickylab.grade.service", "--course", str(course.root),
                             "--port", "0", "--api-url", "http://127.0.0.1:1/hub/api"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert "listening on" in _read_line(proc.stdout, 60)
        assert any(p.name.startswith("stickylab-grade-service-") for p in tmp_path.iterdir())
    finally:
        proc.terminate()
        assert proc.wait(20) == 0
    assert not any(p.name.startswith("stickylab-grade-service-") for p in tmp_path.iterdir())
