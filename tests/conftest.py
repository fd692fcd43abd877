"""Shared fixtures: small scenarios that simulate in a fraction of a second."""

import pytest

import stickylab as sl


@pytest.fixture
def small():
    """A small scenario: 300 users, 3 instances, 5 minutes."""
    return sl.Scenario(users=300, instances=3, duration=300.0, seed=11)


def pool_of(*healthy, draining=(), members=None):
    return sl.Pool(healthy=healthy, draining=draining, members=members)


def request(ip="203.0.113.7", cookies=None, headers=None, t=0.0, path="/app"):
    return sl.Request(ip, headers or {}, cookies or {}, path, t)


@pytest.fixture(autouse=True, scope="session")
def _grading_cache(tmp_path_factory):
    """Self-grades keep their generated courses, and nbgrader its submission cache (in Jupyter's data
    folder), in temporary folders, not in the user's ~/.cache and ~/.local/share/jupyter."""
    import os

    os.environ["STICKYLAB_CACHE"] = str(tmp_path_factory.mktemp("stickylab-cache"))
    os.environ["JUPYTER_DATA_DIR"] = str(tmp_path_factory.mktemp("jupyter-data"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _no_global_jupyter_config(tmp_path_factory):
    """Jupyter reads no machine-wide config while the tests run: a JupyterHub's
    ``/etc/jupyter/nbgrader_config.py`` (the README's hub setup writes one) would otherwise set
    the exchange of every nbgrader command the tests start.

    jupyter_core has no switch that drops only the system folders (``/usr/local/etc/jupyter``,
    ``/etc/jupyter``); with ``JUPYTER_PLATFORM_DIRS`` it takes them from ``XDG_CONFIG_DIRS``
    instead, which points here at an empty folder of the session's. The user's ``~/.jupyter``
    is replaced by another (``JUPYTER_CONFIG_DIR``); the Python environment's own
    ``etc/jupyter`` stays, for it is where the installed packages turn their extensions on.
    Processes the tests start inherit all of it; in this process, a jupyter_core imported
    earlier has its system folders replaced as well.
    """
    import os
    import sys

    empty = tmp_path_factory.mktemp("xdg-config-dirs")
    settings = {"JUPYTER_PLATFORM_DIRS": "1", "XDG_CONFIG_DIRS": str(empty),
                "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("jupyter-config")),
                "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("jupyter-runtime"))}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    paths = sys.modules.get("jupyter_core.paths")
    system = paths.SYSTEM_CONFIG_PATH[:] if paths else None
    if paths:
        paths.SYSTEM_CONFIG_PATH[:] = [str(empty / "jupyter")]
    yield
    if paths:
        paths.SYSTEM_CONFIG_PATH[:] = system
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
