"""The public API is exactly what DESIGN.md documents, and the README's quick start runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import stickylab as sl

ROOT = Path(__file__).resolve().parents[1]


def test_public_names_are_exported_and_importable():
    documented = {"Scenario", "simulate", "Router", "Request", "Response", "Pool", "Fail", "Recover",
                  "ScaleOut", "ScaleIn", "Drain", "routers", "hashing", "Result", "RouterError",
                  "NoHealthyInstance"}
    assert documented <= set(sl.__all__)
    for name in sl.__all__:
        assert getattr(sl, name) is not None
    routers = {"RoundRobin", "Random", "LeastConnections", "SourceIPHash", "CookieInsert",
               "AppCookieLearn", "HeaderHash", "StickTable", "Router", "make"}
    assert routers <= set(sl.routers.__all__)
    for name in sl.routers.__all__:
        assert getattr(sl.routers, name) is not None
    assert "stable_hash" in sl.hashing.__all__


def test_every_router_names_the_real_system_it_copies():
    systems = ("HAProxy", "nginx", "Envoy", "ALB", "Kubernetes")
    for name in ("RoundRobin", "Random", "LeastConnections", "SourceIPHash", "CookieInsert",
                 "AppCookieLearn", "HeaderHash", "StickTable"):
        doc = getattr(sl.routers, name).__doc__
        assert any(s in doc for s in systems), f"{name}'s docstring names no real balancer"


def test_the_core_never_imports_jupyter():
    for path in (ROOT / "src" / "stickylab").rglob("*.py"):
        if path.name == "quiz.py" or path.parent.name == "widgets" or path.relative_to(ROOT).as_posix() \
                == "src/stickylab/live/watch.py":     # the live lab's dashboard, imported only when asked for
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(ipywidgets|IPython)", text, re.M), path


def test_the_live_lab_loads_its_dashboard_only_when_asked():
    """Every backend process imports ``stickylab.live``: Jupyter's widgets must not slow its start."""
    code = ("import sys, stickylab.live as live; print('ipywidgets' in sys.modules); "
            "live.LiveDashboard; print('ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split() == ["False", "True"]


def test_readme_quick_start_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "sl.simulate(" in b]
    assert blocks, "README has no quick-start example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    summary = namespace["res"].summary()
    assert summary["requests"] > 0 and 0 <= summary["session_loss_rate"] <= 1


def test_readme_hashing_example_runs_as_pasted():
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "hashing as H" in b]
    assert blocks, "README has no hashing example"
    ns: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    bigger = ns["H"].Ring(["i0", "i1", "i2", "i3", "i4"])
    assert 0.1 < ns["H"].moved_fraction(ns["ring"], bigger, ns["keys"]) < 0.3


@pytest.mark.slow
def test_readme_live_lab_example_runs_as_pasted(capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "live.Lab" in b]
    assert blocks, "README has no live-lab example"
    ns: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    printed = capsys.readouterr().out
    assert "SERVERID=" in printed and "HttpOnly" in printed and "SameSite=" in printed
    summary = ns["res"].summary()
    assert summary["requests"] > 50 and summary["session_loss_rate"] > 0, summary   # the kill logs users out
