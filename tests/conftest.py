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
