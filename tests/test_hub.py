"""A class on a real JupyterHub, as the README's "A class on JupyterHub" sets it up.

JupyterHub (PAM login, ``LocalProcessSpawner``) with configurable-http-proxy, on loopback,
with real Linux users: an instructor and two students. The course is installed as a hub
installs it: non-editable, into a Python every user can run (a venv of the system's Python,
prepared once in ``/var/tmp`` and kept, keyed by requirements.txt; the package itself is
reinstalled into it on every run). ``python -m stickylab.hub setup`` does the machine-wide
parts, except that the global config goes to a folder of the test's own, given to every
server through ``JUPYTER_CONFIG_PATH``, never to ``/etc/jupyter``.

The instructor releases, collects, autogrades (sandboxed), releases feedback and exports
grades from the command line as their Linux user; students fetch, submit and fetch feedback
through the Assignments tab's server API (nbgrader's ``assignment_list`` handlers) with their
own API tokens. Before they submit, each runs ``python -m stickylab.grade <notebook> --hub``
as their Linux user with their server's environment, and the README's grading service (run by
the hub as the instructor) answers with the report: full marks for the correct answer, the
failures for the wrong one, no line of a hidden test, the instructor's course and gradebook
unchanged, and no copy of the hidden tests anywhere a student can read. Then, as a student,
the instructor's ``solutions/``, gradebook and the other student's work are read and must be
refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.cookiejar
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parents[1]
A = "01_stateless_vs_sticky"
JUPYTERHUB = "jupyterhub>=5,<7"
CACHE = Path("/var/tmp")
DEADLINE = 110.0          # seconds for the whole cycle, venv preparation aside

hub = pytest.mark.hub


def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"^### A class on JupyterHub\n(.*?)(?=^##? )", readme, re.S | re.M)
    assert found, "README has no section 'A class on JupyterHub'"
    return found.group(1)


def _adapted(config: str, replace: dict[str, str]) -> str:
    """The README's config with its example names, paths and ports replaced (each must be there)."""
    for example, own in replace.items():
        assert example in config, f"the README's jupyterhub_config.py no longer has {example}"
        config = config.replace(example, own)
    return config


def _readme_hub_config() -> str:
    """The README's jupyterhub_config.py, as an administrator would copy it."""
    block = re.search(r"jupyterhub_config\.py.*?```python\n(.*?)```", _readme_section(), re.S)
    assert block, "the README's hub section shows no jupyterhub_config.py"
    return textwrap.dedent(block.group(1))


# -- no global config reaches the suite; setup refuses bad input -----------------------------------

_EXCHANGE_ROOT = ("from nbgrader.apps import NbGraderApp\n"
                  "app = NbGraderApp(); app.initialize([])\n"
                  "print(app.config.Exchange.root)")


def _with_etc_jupyter(folder: Path, cmd: list[str]) -> list[str]:
    """``cmd`` in a mount namespace where ``/etc/jupyter`` is ``folder``: the real /etc is untouched."""
    etc = []
    for entry in sorted(Path("/etc").iterdir()):
        if entry.name == "jupyter":
            continue
        if entry.is_symlink():
            etc += ["--symlink", os.readlink(entry), str(entry)]
        else:
            etc += ["--bind", str(entry), str(entry)]
    return ["bwrap", "--dev-bind", "/", "/", "--tmpfs", "/etc", *etc,
            "--ro-bind", str(folder), "/etc/jupyter", "--", *cmd]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("bwrap") is None,
                    reason="shows /etc/jupyter in a mount namespace of its own: needs root and bubblewrap")
def test_a_hub_s_global_nbgrader_config_does_not_reach_the_tests(tmp_path):
    """With a hostile /etc/jupyter/nbgrader_config.py (the README's hub setup writes one), the suite's
    environment keeps nbgrader on the course's own exchange, and the test that once failed passes."""
    hostile = tmp_path / "etc-jupyter"
    hostile.mkdir()
    (hostile / "nbgrader_config.py").write_text('c = get_config()\nc.Exchange.root = "/hostile/exchange"\n')
    suite = {k: v for k, v in os.environ.items() if k not in ("STICKYLAB_EXCHANGE", "JUPYTER_CONFIG_PATH")}
    plain = {k: v for k, v in suite.items()
             if k not in ("JUPYTER_PLATFORM_DIRS", "XDG_CONFIG_DIRS", "JUPYTER_CONFIG_DIR")}
    assert suite.get("JUPYTER_PLATFORM_DIRS") == "1", "conftest.py's _no_global_jupyter_config is not on"

    def exchange(env):
        done = subprocess.run(_with_etc_jupyter(hostile, [sys.executable, "-c", _EXCHANGE_ROOT]), cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert exchange(plain) == "/hostile/exchange"            # the hostile config is there to be read
    assert exchange(suite) == str(ROOT / ".exchange")
    again = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
             f"--basetemp={tmp_path / 'nested'}",
             "tests/grade/test_class_workflow.py::test_the_repository_exchange_is_used_on_one_machine",
             "tests/grade/test_class_workflow.py::test_a_hub_s_global_exchange_is_not_overridden"]
    done = subprocess.run(_with_etc_jupyter(hostile, again), cwd=ROOT, env=plain, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert not Path("/etc/jupyter/nbgrader_config.py").exists() or \
        "/hostile/exchange" not in Path("/etc/jupyter/nbgrader_config.py").read_text()


def _setup(*args: str) -> list[str]:
    return ["setup", *args]


def test_hub_setup_refuses_bad_input_and_changes_nothing(tmp_path, capsys):
    from stickylab import hub as hub_setup

    exchange, config = tmp_path / "exchange", tmp_path / "etc-jupyter"
    common = ["--exchange", str(exchange), "--config-dir", str(config), "--profile", str(tmp_path / "p.sh")]
    not_a_clone = tmp_path / "course"
    not_a_clone.mkdir()
    cases = [
        (["--instructor", "sl-nobody-by-this-name", "--course", str(not_a_clone)], "no user"),
        (["--instructor", "root", "--course", str(not_a_clone)], "root cannot be"),
        (["--instructor", "nobody", "--course", str(not_a_clone)], "not a clone"),
        (["--instructor", "nobody", "--course", str(ROOT)], "not owned by nobody"),
        (["--instructor", "nobody", "--course", "relative/path"], "absolute"),
        (["--instructor", "nobody", "--students", "nobody", "--course", str(ROOT)], "named twice"),
    ]
    for args, reason in cases:
        assert hub_setup.main(_setup(*args, *common)) == 2
        said = capsys.readouterr().err
        expected = reason if os.geteuid() == 0 else "run it as root"
        assert "refused, nothing changed" in said and expected in said, (args, said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course"]


# -- the hub's Python: one every user can run --------------------------------------------------------

def _runs_as_nobody(python: str) -> bool:
    nobody = pwd.getpwnam("nobody")
    try:
        probe = "import sys, venv, ensurepip; assert sys.version_info >= (3, 11)"
        done = subprocess.run([python, "-c", probe],
                              preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)),
                              cwd="/", env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _base_python() -> str | None:
    """A Python 3.11+ with venv that every user can execute (this one may live under a 0700 /root)."""
    for candidate in (sys._base_executable, sys.executable, "/usr/local/bin/python3", "/usr/bin/python3"):
        if candidate and os.path.exists(candidate) and _runs_as_nobody(candidate):
            return candidate
    return None


def _pip_env() -> dict:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "PIP_REQUIRE_VIRTUALENV")) and k != "XDG_CONFIG_DIRS"}


@pytest.fixture(scope="session")
def hub_python(tmp_path_factory) -> Path:
    """The bin folder of a venv with the course installed non-editable, jupyterhub and nbgrader."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("the hub test runs as root: it creates Linux users and starts servers as them")
    if shutil.which("configurable-http-proxy") is None:
        pytest.skip("configurable-http-proxy is not installed (npm install -g configurable-http-proxy)")
    if shutil.which("runuser") is None:
        pytest.skip("runuser (util-linux) is not installed")
    from stickylab.grade import sandbox

    why = sandbox.check()
    if why:
        pytest.skip(f"autograding on the hub needs the sandbox: {why}")
    base = _base_python()
    if base is None:
        pytest.skip("no Python 3.11+ with venv here that every user may execute")
    requirements = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
                    if ln.strip() and not ln.lstrip().startswith(("#", "-e"))]
    version = subprocess.run([base, "-VV"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\n".join([base, version, JUPYTERHUB, *requirements]).encode()).hexdigest()[:12]
    folder = CACHE / f"stickylab-hub-{key}"
    venv = folder / "venv"
    with open(CACHE / "stickylab-hub.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ready").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(mode=0o755)
            (folder / "requirements.txt").write_text("\n".join([*requirements, JUPYTERHUB, ""]))
            steps = [[base, "-m", "venv", str(venv)],
                     [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", "-r", str(folder / "requirements.txt")]]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True, env=_pip_env(), timeout=1200)
                if done.returncode:
                    shutil.rmtree(folder, ignore_errors=True)
                    pytest.skip(f"jupyterhub and the course cannot be installed here: {' '.join(step[:4])}: "
                                f"{done.stderr.strip()[-500:]}")
            (folder / "ready").write_text(key)
        package = tmp_path_factory.mktemp("package")
        shutil.copytree(ROOT / "src", package / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, package)
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                               "--force-reinstall", "--disable-pip-version-check", str(package)],
                              capture_output=True, text=True, env=_pip_env(), timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        yield venv / "bin"


# -- users, processes, HTTP ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids_of(uids: set[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def _users(*roles: str):
    """Linux users with homes in /home, one per role; removed with everything they ran."""
    tag = secrets.token_hex(3)
    names = {role: f"sl-{role}-{tag}" for role in roles}
    made = []
    try:
        for name in names.values():
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                           capture_output=True, timeout=30)
            made.append(name)
        yield names
    finally:
        uids = {pwd.getpwnam(n).pw_uid for n in made}
        for _ in range(2):
            for pid in _pids_of(uids):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        for place in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):     # e.g. the grading service's
            for entry in place.iterdir():                                       # scratch, if it was killed
                with contextlib.suppress(OSError):
                    if entry.lstat().st_uid in uids:
                        if entry.is_dir() and not entry.is_symlink():
                            shutil.rmtree(entry, ignore_errors=True)
                        else:
                            entry.unlink()
        for name in made:
            home = pwd.getpwnam(name).pw_dir
            subprocess.run(["userdel", "--remove", "--force", name], capture_output=True, timeout=30)
            shutil.rmtree(home, ignore_errors=True)


def _as(user: str, cmd: list[str], cwd: str | Path = "/", env: dict | None = None, timeout: float = 120):
    """Run ``cmd`` as the Linux user ``user`` (runuser), with a clean environment."""
    entry = pwd.getpwnam(user)
    base = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    base.update(env or {})
    clean = [f"{k}={v}" for k, v in base.items()]
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *clean, *cmd],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


class Http:
    """A small client of the hub: its API with a token, a user's server through the proxy."""

    def __init__(self, base: str):
        self.base = base

    def call(self, path: str, token: str, method: str = "GET", body=None, form=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"token {token}"}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
                text = answer.read().decode()
                status = answer.status
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        return status, text

    def json(self, path: str, token: str, method: str = "GET", **kw):
        status, text = self.call(path, token, method, **kw)
        assert status < 300, f"{method} {path}: {status} {text[:1000]}"
        return json.loads(text) if text.strip() else None


def _wait(what: str, check, seconds: float, every: float = 0.3):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


@contextlib.contextmanager
def _jupyterhub(bin_dir: Path, folder: Path, config: str):
    """JupyterHub with its proxy, from ``folder``; stopped (and every server with it) at the end."""
    (folder / "jupyterhub_config.py").write_text(config)
    log = open(folder / "hub.log", "wb")  # noqa: SIM115 - closed below
    env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8"}
    process = subprocess.Popen([str(bin_dir / "jupyterhub"), "-f", str(folder / "jupyterhub_config.py")],
                               cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()


def _log_tail(folder: Path) -> str:
    return (folder / "hub.log").read_text(errors="replace")[-4000:]


def _page_disabled(html: str) -> set[str]:
    """The lab plugins a JupyterLab page says are disabled."""
    data = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    disabled = data.get("disabledExtensions", [])
    return {k for k, v in disabled.items() if v} if isinstance(disabled, dict) else set(disabled)


def _readable(user: str, path: Path) -> bool:
    if path.is_dir():
        return _as(user, ["ls", str(path)]).returncode == 0
    return _as(user, ["cat", str(path)]).returncode == 0


# -- the test --------------------------------------------------------------------------------------

@hub
@pytest.mark.slow
def test_a_class_on_jupyterhub_release_fetch_submit_grade_feedback_and_isolation(hub_python):
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="sl-hub-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        private = folder / "hub"
        private.mkdir(mode=0o700)
        global_config = folder / "etc-jupyter"
        exchange = folder / "exchange"
        profile = folder / "profile.d" / "stickylab.sh"
        with _users("teacher", "student1", "student2") as users:
            _class_on_a_hub(hub_python, folder, private, global_config, exchange, profile, users, started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert time.monotonic() - started < 120


def _class_on_a_hub(bin_dir, folder, private, global_config, exchange, profile, users, started):
    teacher, one, two = users["teacher"], users["student1"], users["student2"]
    home = Path(pwd.getpwnam(teacher).pw_dir)
    course = home / "stickylab"

    # The instructor's clone of the course (what `git clone` gives them).
    course.mkdir()
    for name in ("solutions", "exercises"):
        shutil.copytree(ROOT / name / A, course / name / A,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    subprocess.run(["chown", "-R", f"{teacher}:{teacher}", str(course)], check=True)

    # The administrator's machine-wide setup, as the README gives it (paths of the test's own).
    done = subprocess.run([str(bin_dir / "python"), "-m", "stickylab.hub", "setup", "--instructor", teacher,
                           "--course", str(course), "--students", one, two, "--exchange", str(exchange),
                           "--config-dir", str(global_config), "--profile", str(profile)],
                          capture_output=True, text=True, timeout=120, env=_pip_env())
    assert done.returncode == 0, done.stderr
    assert (exchange / "stickylab").stat().st_uid == pwd.getpwnam(teacher).pw_uid
    said = _as(one, ["bash", "-c", f". {profile} && command -v nbgrader"])
    assert said.stdout.strip() == str(bin_dir / "nbgrader"), said

    # The hub: the README's jupyterhub_config.py with the test's users, clone and loopback ports,
    # then the test's own state folder and admin token.
    port, hub_port, api_port, grade_port = _free_port(), _free_port(), _free_port(), _free_port()
    admin = secrets.token_hex(32)
    readme = _adapted(_readme_hub_config(), {
        '"/home/teacher/stickylab"': repr(str(course)), '"teacher"': repr(teacher),
        '"student1"': repr(one), '"student2"': repr(two),
        "127.0.0.1:8000/": f"127.0.0.1:{port}/", "127.0.0.1:10101": f"127.0.0.1:{grade_port}"})
    config = "\n".join([
        "c = get_config()  # noqa: F821",
        readme,
        "# -- the test's own: loopback ports, state in a private folder, an admin token --",
        f"c.JupyterHub.bind_url = 'http://127.0.0.1:{port}'",
        f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{hub_port}'",
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{api_port}'",
        f"c.JupyterHub.db_url = 'sqlite:///{private}/jupyterhub.sqlite'",
        f"c.JupyterHub.cookie_secret_file = '{private}/cookie_secret'",
        f"c.ConfigurableHTTPProxy.pid_file = '{private}/proxy.pid'",
        f"c.Spawner.environment.update({{'JUPYTER_CONFIG_PATH': {str(global_config)!r}}})",
        "c.Spawner.start_timeout = 60",
        "c.Spawner.http_timeout = 60",
        f"c.JupyterHub.services.append({{'name': 'stickylab-test', 'api_token': {admin!r}}})",
        "c.JupyterHub.load_roles.append({'name': 'admin', 'services': ['stickylab-test']})",
        "",
    ])
    web = Http(f"http://127.0.0.1:{port}")
    with _jupyterhub(bin_dir, private, config) as process:
        def up():
            assert process.poll() is None, _log_tail(private)
            with contextlib.suppress(OSError):
                return web.call("/hub/api/", admin)[0] == 200
        _wait("the hub", up, 40)

        # A student logs in with their Linux password (PAM).
        password = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{one}:{password}\n", text=True, check=True, timeout=30)
        assert _pam_login(web.base, one, password), _log_tail(private)
        assert not _pam_login(web.base, one, password + "x")

        tokens = {}
        for user in (teacher, one, two):
            tokens[user] = web.json(f"/hub/api/users/{user}/tokens", admin, "POST",
                                    body={"note": "stickylab hub test", "expires_in": 900})["token"]
            status, text = web.call(f"/hub/api/users/{user}/server", admin, "POST", body={})
            assert status in (201, 202, 400), (status, text)   # 400: the login above started it

        def ready(user):
            return lambda: web.json(f"/hub/api/users/{user}", admin)["servers"].get("", {}).get("ready")
        for user in (teacher, one, two):
            _wait(f"{user}'s server", ready(user), 60)

        def server(user, path, method="GET", **kw):
            return web.json(f"/user/{user}{path}", tokens[user], method, **kw)

        # The Formgrader and Create Assignment are the instructor's alone.
        assert web.call(f"/user/{one}/formgrader", tokens[one])[0] == 404
        status, page = web.call(f"/user/{one}/lab", tokens[one])
        assert status == 200 and {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= \
            _page_disabled(page)
        status, page = web.call(f"/user/{teacher}/lab", tokens[teacher])
        assert status == 200 and not {"@jupyter/nbgrader:formgrader",
                                      "@jupyter/nbgrader:create-assignment"} & _page_disabled(page)

        # The instructor generates and releases from the command line, as their Linux user.
        def nbgrader(*args):
            done = _as(teacher, [str(bin_dir / "nbgrader"), *args], cwd=course,
                       env={"PATH": f"{bin_dir}:/usr/bin:/bin", "JUPYTER_CONFIG_PATH": str(global_config)},
                       timeout=180)
            assert done.returncode == 0, \
                f"nbgrader {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            return done
        nbgrader("generate_assignment", A, "--force")
        nbgrader("release_assignment", A)
        assert A in json.dumps(server(teacher, "/formgrader/api/assignments"))

        # Students fetch and answer through the Assignments tab's API.
        answers = {one: subs.submission(A, "solution")[0], two: subs.submission(A, "wrong")[0]}
        for user, answer in answers.items():
            listed = server(user, "/assignments?course_id=stickylab")
            assert listed["success"] and [a["status"] for a in listed["value"]] == ["released"], listed
            fetched = server(user, "/assignments/fetch", "POST",
                             form={"course_id": "stickylab", "assignment_id": A})
            assert [a["status"] for a in fetched["value"]] == ["fetched"], fetched
            path = f"{A}/{subs.notebook_name(A)}"
            content = json.loads(nbformat.writes(answer))
            server(user, f"/api/contents/{path}", "PUT",
                   body={"type": "notebook", "format": "json", "content": content})

        # Before the deadline, each checks their answer against the hidden tests with the grading
        # service, from a terminal of their server: the report, never the tests, nothing graded.
        failing = {one: set(), two: set(subs.submission(A, "wrong")[1])}
        _graded_on_the_hub(web, private, course, teacher, failing)

        # Then they submit.
        for user in answers:
            submitted = server(user, "/assignments/submit", "POST",
                               form={"course_id": "stickylab", "assignment_id": A})
            assert "submitted" in [a["status"] for a in submitted["value"]], submitted

        # The instructor collects, autogrades (sandboxed), releases feedback and exports grades.
        nbgrader("collect", A)
        nbgrader("autograde", A)
        nbgrader("generate_feedback", A)
        kept = course / "autograded" / one / A / "submission_secret.txt"
        assert kept.exists(), ("nbgrader release_feedback reads submission_secret.txt from autograded/, and "
                               "SandboxedExecute removed it as a file handed in beside the notebook")
        nbgrader("release_feedback", A)
        nbgrader("export", "--to", "grades.csv")
        grades = _as(teacher, ["cat", str(course / "grades.csv")]).stdout.splitlines()
        rows = {r.split(",")[3]: r.split(",") for r in grades[1:]}
        header = grades[0].split(",")
        score, top = header.index("raw_score"), header.index("max_score")
        assert float(rows[one][score]) == float(rows[one][top]) > 0, grades
        assert float(rows[two][score]) < float(rows[two][top]), grades

        for user in (one, two):
            server(user, "/assignments/fetch_feedback", "POST",
                   form={"course_id": "stickylab", "assignment_id": A})
            feedback = _as(user, ["find", f"{A}/feedback", "-name", "*.html"], cwd=pwd.getpwnam(user).pw_dir)
            assert feedback.stdout.strip(), feedback

        # What a student must not read: solutions, the gradebook, the other student's work.
        secret = {
            "solutions": course / "solutions" / A / subs.notebook_name(A),
            "the gradebook": course / "gradebook.db",
            "the other's collected submission": course / "submitted" / one / A / subs.notebook_name(A),
            "the other's autograded notebook": course / "autograded" / one / A / subs.notebook_name(A),
            "the other's home copy": Path(pwd.getpwnam(one).pw_dir) / A / subs.notebook_name(A),
            "the exchange's inbox": exchange / "stickylab" / "inbound",
        }
        for what, path in secret.items():
            assert path.exists(), what
            assert not _readable(two, path), f"{two} can read {what}: {path}"
        assert _readable(two, Path(pwd.getpwnam(two).pw_dir) / A / subs.notebook_name(A))
        assert time.monotonic() - started < DEADLINE


# -- hidden-test feedback before the deadline, through the hub's grading service ---------------------

def _hidden_lines() -> list[str]:
    """The lines of the source's ``### BEGIN HIDDEN TESTS`` blocks a student cannot see in the release."""
    released = "\n".join(c.source for c in subs.release(A).cells)
    found, inside = [], False
    for cell in subs.source(A).cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 20 and line.strip() not in released:
                found.append(line.strip())
    assert len(found) > 20, "the source has no hidden tests to look for"
    return found


def _test_cells() -> set[str]:
    return {c.metadata.nbgrader.grade_id for c in subs.source(A).cells if c.cell_type == "code"
            and c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")}


def _server_env(user: str) -> dict[str, str]:
    """The environment of ``user``'s Jupyter server: what a terminal of that server starts with."""
    for pid in _pids_of({pwd.getpwnam(user).pw_uid}):
        with contextlib.suppress(OSError):
            if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes():
                raw = Path(f"/proc/{pid}/environ").read_bytes().decode()
                env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
                if env.get("JUPYTERHUB_API_TOKEN"):
                    return env
    raise AssertionError(f"no Jupyter server of {user} with an API token")


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _holding(lines: list[str], uids: set[int], places=("/tmp", "/var/tmp", "/dev/shm", "/home", "/run")):
    """Files owned by one of ``uids`` under ``places`` that hold one of ``lines`` (links not followed)."""
    found = []
    for place in places:
        for top, _dirs, files in os.walk(place):
            for name in files:
                path = Path(top) / name
                with contextlib.suppress(OSError):
                    info = path.lstat()
                    if info.st_uid in uids and path.is_file() and not path.is_symlink() \
                            and info.st_size < 50_000_000:
                        text = path.read_bytes().decode(errors="replace")
                        if any(line in text for line in lines):
                            found.append(path)
    return found


def _graded_on_the_hub(web: Http, private: Path, course: Path, teacher: str, failing: dict[str, set[str]]):
    """Each student runs ``python -m stickylab.grade <notebook> --hub`` as their Linux user, with
    their server's environment (its API token, ``STICKYLAB_GRADE_URL``), as the README says;
    ``failing`` names, per student, the tests their notebook fails."""
    name = subs.notebook_name(A)
    teacher_uid = pwd.getpwnam(teacher).pw_uid
    service = [pid for pid in _pids_of({teacher_uid})
               if b"stickylab.grade.service" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert service, "the hub did not start the grading service as the instructor:\n" + _log_tail(private)
    _wait("the grading service, through the hub's proxy",
          lambda: web.call("/services/stickylab-grade/", "")[0] == 200, 40)
    before = _digest(course)
    assert "gradebook.db" in before, sorted(before)

    runs = {}
    for user in failing:
        env = _server_env(user)
        assert env.get("STICKYLAB_GRADE_URL", "").endswith("/services/stickylab-grade/"), env.keys()
        scopes = web.json("/hub/api/user", env["JUPYTERHUB_API_TOKEN"])["scopes"]
        assert "access:services!service=stickylab-grade" in scopes, scopes
        command = ["python", "-m", "stickylab.grade", f"{A}/{name}", "--hub"]     # as typed in a terminal
        runs[user] = subprocess.Popen([shutil.which("runuser"), "-m", "-u", user, "--", *command],
                                      cwd=env["HOME"], env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
    said = {}
    try:
        for user, run in runs.items():
            out, err = run.communicate(timeout=150)
            said[user] = (run.returncode, out, err)
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
                run.wait()

    hidden, tests = _hidden_lines(), _test_cells()
    for user, (code, out, err) in said.items():
        context = f"{user}: exit {code}\n{out}\n{err[-3000:]}\n{_log_tail(private)}"
        assert code == (1 if failing[user] else 0) and "on the hub's grading service" in out, context
        rows = re.findall(r"^  (PASS|FAIL)  (\S+) +([\d.]+)/([\d.]+)$", out, re.M)
        score = re.search(r"^Score: ([\d.]+) / ([\d.]+)$", out, re.M)
        assert score and {r[1] for r in rows} == tests, context
        got, top = float(score.group(1)), float(score.group(2))
        assert got == sum(float(r[2]) for r in rows) and top == sum(float(r[3]) for r in rows) > 0, context
        assert {r[1] for r in rows if r[0] == "FAIL"} == failing[user], context
        assert (got == top) == (not failing[user]), context
        leaked = [line for line in hidden if line in out + err]
        assert not leaked, f"{user}'s report holds hidden-test source: {leaked[:3]}"

    assert _digest(course) == before, "grading on the hub changed the instructor's course or gradebook"
    students = {u: pwd.getpwnam(u) for u in failing}
    for user, entry in students.items():
        for what in (course / "solutions", course / "solutions" / A / name, course / "gradebook.db"):
            assert not _readable(user, what), f"{user} can read {what}"
        cache = Path(entry.pw_dir) / ".cache" / "stickylab"
        assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*")), \
            f"{user}'s {cache} holds {sorted(map(str, cache.rglob('*')))[:5]}"
    scratch = [p for p in Path("/tmp").glob("stickylab-grade-service-*") if p.stat().st_uid == teacher_uid]
    assert len(scratch) == 1 and (scratch[0].stat().st_mode & 0o777) == 0o700, scratch
    holding = _holding(hidden, {teacher_uid, *(e.pw_uid for e in students.values())})
    assert course / "solutions" / A / name in holding, "the search for copies of the hidden tests is blind"
    for user in students:
        readable = [p for p in holding if _readable(user, p)]
        assert not readable, f"{user} can read a copy of the hidden tests: {readable}"


def _pam_login(base: str, user: str, password: str) -> bool:
    """Log in on the hub's form; True if the hub accepted the password."""
    jar = http.cookiejar.CookieJar()

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Stay)
    with opener.open(f"{base}/hub/login", timeout=30) as page:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    try:
        opener.open(urllib.request.Request(f"{base}/hub/login", data=form), timeout=60)
    except urllib.error.HTTPError as exc:
        return exc.code == 302
    return False
