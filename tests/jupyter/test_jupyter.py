"""``python -m stickylab.jupyter``: the README's command that opens the course in JupyterLab.

The browser journeys (tests/jupyter/test_journeys.py) use this launcher for everything they check in
the page; these tests check its settings, and that the server starts as root and as a
regular user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stickylab import jupyter as lab

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "STICKYLAB_EXCHANGE"))}
    env.update(extra)
    return env


def test_allow_root_only_for_root_and_nbgrader_s_extensions_always_on():
    assert lab.lab_config(root_user=True)["ServerApp"]["allow_root"] is True
    assert "allow_root" not in lab.lab_config(root_user=False)["ServerApp"]
    extensions = lab.lab_config(root_user=False)["ServerApp"]["jpserver_extensions"]
    assert extensions == dict.fromkeys(lab.NBGRADER_EXTENSIONS, True)


def test_no_news_prompt_and_no_news_or_update_requests():
    assert lab.page_config() == {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    settings = lab.lab_config(root_user=False)["LabApp"]
    assert settings["news_url"] is None
    assert settings["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"


def test_the_announcements_plugin_is_the_one_that_asks_about_news():
    """The plugin disabled is the installed JupyterLab's, and it reads the setting that makes it ask."""
    from jupyterlab import __file__ as jupyterlab_init

    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static"
    if not static.is_dir():
        static = Path(jupyterlab_init).parent / "static"
    bundles = [p.read_text(errors="replace") for p in static.glob("*.js")]
    asking = [b for b in bundles if "Would you like to get notified about official Jupyter news?" in b]
    assert asking, f"JupyterLab's news prompt is not in {static}: has it moved?"
    assert any("apputils-extension:announcements" in b for b in bundles)
    schemas = Path(jupyterlab_init).parent / "schemas" / "@jupyterlab"
    schema = schemas / "apputils-extension" / "notification.json"
    assert json.loads(schema.read_text())["properties"]["fetchNews"]["default"] == "none"


def test_the_readme_opens_the_course_with_this_launcher():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Set up and open the course.*?```bash\n(.*?)\n```", readme, re.S)
    assert command, "README has no command that opens the course"
    assert command.group(1).strip() == \
        "python -m pip install -r requirements.txt && python -m stickylab.jupyter"


def test_the_course_is_served_from_its_folder_and_opens_on_the_start_page(tmp_path):
    assert lab.course_root(ROOT / "course") == ROOT
    assert lab.course_root(ROOT) == ROOT
    import stickylab

    editable = ROOT in Path(stickylab.__file__).resolve().parents
    # Elsewhere: the checkout this package runs from (an editable install), else none (a wheel).
    assert lab.course_root(tmp_path) == (ROOT if editable else None)
    args = lab.lab_arguments(ROOT, ["--port=9999"])
    assert args == [f"--ServerApp.root_dir={ROOT}", "--LabApp.default_url=/lab/tree/course/00_start.ipynb",
                    "--port=9999"]
    assert lab.lab_arguments(None, ["--no-browser"]) == ["--no-browser"]


def test_the_assignments_tab_gets_the_course_s_exchange_and_id(tmp_path, monkeypatch):
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("STICKYLAB_EXCHANGE", str(tmp_path / "exchange"))
    assert lab.nbgrader_settings(ROOT) == {"Exchange": {"root": str(tmp_path / "exchange")},
                                           "CourseDirectory": {"course_id": "stickylab"}}
    assert lab.nbgrader_settings(None) == {}
    with lab.config_folder(ROOT, root_user=False) as folder:
        assert (tmp_path / "exchange").is_dir()          # made: nbgrader never makes it
        assert json.loads((folder / "nbgrader_config.json").read_text())["Exchange"]["root"] == \
            str(tmp_path / "exchange")
        assert json.loads((folder / "labconfig" / "page_config.json").read_text()) == lab.page_config()
        server = json.loads((folder / "jupyter_server_config.json").read_text())
        assert "allow_root" not in server["ServerApp"]
    assert not folder.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(cmd: list[str], cwd: Path, env: dict, preexec=None, seconds: float = 90.0) -> dict:
    """Start the launcher, wait for its API, return its status and the log; always stop it."""
    port = _free_port()
    token = "stickylab-test"
    log = cwd.parent / f"lab-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([*cmd, "--no-browser", f"--ServerApp.port={port}",
                                    "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                                    f"--IdentityProvider.token={token}"],
                                   cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=preexec)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    url = f"http://127.0.0.1:{port}/api/status?token={token}"
                    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                        json.loads(answer.read())
                    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=10)  # noqa: S310
                    return {"ok": True, "landed": page.url, "log": log.read_text(errors="replace")}
                except OSError:
                    time.sleep(0.3)
            return {"ok": False, "log": log.read_text(errors="replace")[-3000:]}
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def _scratch(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copytree(ROOT / "course", root / "course", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "exercises").mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    return root


def _home_env(home: Path) -> dict:
    env = _env(HOME=str(home))
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(home / name.lower())
    return env


@pytest.mark.slow
def test_the_readme_command_starts_jupyterlab_here_on_the_start_page(tmp_path):
    """As whoever runs the tests (root in most containers, where plain ``jupyter lab`` refuses)."""
    root = _scratch(tmp_path)
    done = _serve([sys.executable, "-m", "stickylab.jupyter"], root, _home_env(tmp_path / "home"))
    assert done["ok"], done["log"]
    assert done["landed"].split("?")[0].endswith("/lab/tree/course/00_start.ipynb"), done["landed"]
    assert f"Serving notebooks from local directory: {root}" in done["log"]
    assert (root / ".exchange").is_dir()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="runs only as root, which can become a regular user")
def test_the_readme_command_starts_jupyterlab_as_a_regular_user(tmp_path):
    nobody = 65534
    try:
        probe = subprocess.run([sys.executable, "-c", "import stickylab.jupyter, jupyterlab"],
                               preexec_fn=lambda: (os.setgid(nobody), os.setuid(nobody)),
                               capture_output=True, text=True, cwd="/", env=_env(HOME="/tmp"), timeout=60)
        why = probe.stderr.strip()[-200:] if probe.returncode else ""
    except OSError as exc:
        why = str(exc)
    if why:
        pytest.skip(f"a regular user cannot run this Python and its packages here "
                    f"(installed under a private home, say): {why}")
    os.chmod(tmp_path, 0o777)
    root = _scratch(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    for folder in (root, home):
        subprocess.run(["chown", "-R", f"{nobody}:{nobody}", str(folder)], check=True)
    done = _serve([sys.executable, "-m", "stickylab.jupyter"], root, _home_env(home),
                  preexec=lambda: (os.setgid(nobody), os.setuid(nobody)))
    assert done["ok"], done["log"]
    assert done["landed"].split("?")[0].endswith("/lab/tree/course/00_start.ipynb"), done["landed"]
