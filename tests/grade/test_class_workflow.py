"""The class workflow as the README and the notebooks tell it: submit, the hub's exchange, ignored outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import submissions as subs

from stickylab.grade import Course

A = "02_cookie_affinity"


def _nbgrader_config_value(cwd, env, expression: str) -> str:
    code = ("from nbgrader.apps import NbGraderApp\n"
            "app = NbGraderApp(); app.initialize([])\n"
            f"print({expression})")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("STICKYLAB_EXCHANGE", "JUPYTER_CONFIG_PATH")}
    env.update(extra)
    return env


@pytest.mark.slow
def test_the_repository_exchange_is_used_on_one_machine(tmp_path):
    env = _env(JUPYTER_CONFIG_PATH=str(tmp_path))
    assert _nbgrader_config_value(subs.ROOT, env, "app.config.Exchange.root") == str(subs.ROOT / ".exchange")


@pytest.mark.slow
def test_a_hub_s_global_exchange_is_not_overridden(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.Exchange.root = "/srv/hub/exchange"\n')
    env = _env(JUPYTER_CONFIG_PATH=str(tmp_path))
    assert _nbgrader_config_value(subs.ROOT, env, "app.config.Exchange.root") == "/srv/hub/exchange"
    env["STICKYLAB_EXCHANGE"] = "/srv/other"
    assert _nbgrader_config_value(subs.ROOT, env, "app.config.Exchange.root") == "/srv/other"


@pytest.mark.slow
def test_submit_by_name_from_the_course_folder_as_the_notebooks_say(tmp_path):
    exchange = tmp_path / "exchange"
    course = Course(tmp_path / "course", subs.ROOT, [A], exchange=exchange)
    course.generate(A)
    course.release(A)
    said = [c.source for c in subs.release(A).cells if "nbgrader submit" in c.source]
    assert said and f"nbgrader submit {A} --course stickylab" in said[-1]
    done = subprocess.run([sys.executable, "-m", "nbgrader", "submit", A, "--course", "stickylab"],
                          cwd=course.root, env=_env(STICKYLAB_EXCHANGE=str(exchange),
                                                    JUPYTER_CONFIG_PATH=str(tmp_path / "none")),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    inbound = list((exchange / "stickylab" / "inbound").iterdir())
    assert len(inbound) == 1 and inbound[0].name.split("+")[1] == A
    assert (inbound[0] / subs.notebook_name(A)).exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_grading_outputs_are_git_ignored():
    names = ["gradebook.db", "gradebook.db.backup-20260101T000000Z", "grades.csv", "submitted/x/a/a.ipynb",
             "autograded/x/a/a.ipynb", "feedback/x/a/a.html", ".exchange/stickylab/inbound/x"]
    done = subprocess.run(["git", "check-ignore", *names], cwd=subs.ROOT, capture_output=True, text=True)
    if done.returncode == 128:
        pytest.skip(f"not a git checkout: {done.stderr.strip()}")
    assert sorted(done.stdout.split()) == sorted(names)


@pytest.mark.parametrize("assignment", subs.assignments())
def test_every_notebook_says_the_submit_command_that_works(assignment):
    said = [c.source for c in subs.release(assignment).cells if "nbgrader submit" in c.source]
    assert said and f"nbgrader submit {assignment} --course stickylab" in said[-1]
    assert (subs.ROOT / "exercises" / assignment).is_dir()
