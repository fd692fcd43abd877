"""Open the course in JupyterLab, configured for it: ``python -m stickylab.jupyter``.

Plain ``jupyter lab`` needs these things that this course cannot leave to each machine:

- **root**: JupyterLab refuses to start as root (how most containers run) unless told
  ``ServerApp.allow_root``; it is set only when the user is root.
- **no news prompt**: JupyterLab 4's first screen asks "Would you like to get notified about
  official Jupyter news?". Its ``@jupyterlab/apputils-extension:announcements`` plugin asks
  while the ``fetchNews`` setting is "none", and nothing but that plugin reads it; the plugin is
  disabled here through a page config (what ``jupyter labextension disable`` writes, and what
  the Jupyter Docker Stacks do), and the server fetches neither news nor update checks.
- **the course directory**: nbgrader's server extensions (Validate, Assignments, Formgrader)
  read ``nbgrader_config.py`` from the server's working directory, so the server runs in the
  folder that holds it, serves it, and opens on ``course/00_start.ipynb``.
- **nbgrader's extensions on**, even where an installation left them off.
- **the Assignments tab**: it reads nbgrader's settings a second time from inside the
  learners' folder (``exercises/``), where only global configuration is found, and so looked
  for an exchange in ``/usr/local/share/nbgrader``. The course's exchange and course id, as
  its ``nbgrader_config.py`` resolves them, are repeated in a global ``nbgrader_config.json``
  for the server's lifetime. That exchange folder is made if it is missing (a fresh clone has
  no ``.exchange/``): nbgrader never makes it, and a server started without it offers neither
  the Formgrader's Release button nor the Assignments tab, even once it exists.

The settings live in a Jupyter config folder made for the server's lifetime and put first on
``JUPYTER_CONFIG_PATH`` (after the user's own ``~/.jupyter``, which still wins). Arguments are
passed on to ``jupyter lab`` after the course's, so ``--port=8890`` or ``--no-browser`` work.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["NBGRADER_EXTENSIONS", "config_folder", "course_root", "lab_arguments", "lab_config", "main",
           "nbgrader_settings", "page_config"]

#: nbgrader's server extensions: Validate, the Assignments tab, the course list and the Formgrader.
NBGRADER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
#: The JupyterLab plugin that asks about, and shows, Jupyter news and update notices.
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
#: The notebook a newcomer lands on.
START = "course/00_start.ipynb"
CONFIG = "nbgrader_config.py"


def course_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: here) with ``nbgrader_config.py`` and ``course/``.

    Falls back to the checkout this package was installed from (an editable install), else None.
    """
    here = Path(start or Path.cwd()).resolve()
    checkout = Path(__file__).resolve().parents[3]
    for folder in [here, *here.parents, checkout]:
        if (folder / CONFIG).is_file() and (folder / "course").is_dir():
            return folder
    return None


def is_root() -> bool:
    """True when running as the superuser (JupyterLab then needs ``allow_root``)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_config(root_user: bool | None = None) -> dict:
    """The server's traitlets settings: nbgrader's extensions on, no news, ``allow_root`` for root."""
    config = {
        "ServerApp": {"jpserver_extensions": dict.fromkeys(NBGRADER_EXTENSIONS, True)},
        # The server fetches neither the news feed nor PyPI's latest JupyterLab version.
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }
    if is_root() if root_user is None else root_user:
        config["ServerApp"]["allow_root"] = True
    return config


def page_config() -> dict:
    """JupyterLab's page config: the announcements plugin (the news prompt) disabled."""
    return {"disabledExtensions": {ANNOUNCEMENTS: True}}


def nbgrader_settings(root: Path | None) -> dict:
    """The course's exchange and course id, as its ``nbgrader_config.py`` resolves them here and now.

    Empty where there is no course, and without the exchange where the course leaves it to a
    global configuration (a JupyterHub's), which nbgrader then finds everywhere anyway.
    """
    if root is None:
        return {}
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG, path=str(root)).load_config()
    out = {}
    if "root" in config.get("Exchange", {}):
        # the server runs in ``root``: a relative exchange (STICKYLAB_EXCHANGE=x) is relative to it
        out["Exchange"] = {"root": os.path.join(root, str(config.Exchange.root))}
    if "course_id" in config.get("CourseDirectory", {}):
        out["CourseDirectory"] = {"course_id": str(config.CourseDirectory.course_id)}
    return out


def lab_arguments(root: Path | None, extra: Sequence[str] = ()) -> list[str]:
    """``jupyter lab``'s arguments: serve ``root`` and open the start page, then ``extra``."""
    args = []
    if root is not None:
        args.append(f"--ServerApp.root_dir={root}")
        if (root / START).is_file():
            args.append(f"--LabApp.default_url=/lab/tree/{START}")
    return [*args, *extra]


@contextlib.contextmanager
def config_folder(root: Path | None, root_user: bool | None = None) -> Iterator[Path]:
    """A Jupyter config folder for the course at ``root``, removed afterwards.

    It holds :func:`lab_config`, :func:`page_config` and :func:`nbgrader_settings`; the
    course's exchange folder is made if it is missing.
    """
    nbgrader = nbgrader_settings(root)
    exchange = nbgrader.get("Exchange", {}).get("root")
    if exchange:
        Path(exchange).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stickylab-jupyter-") as folder:
        path = Path(folder)
        (path / "jupyter_server_config.json").write_text(json.dumps(lab_config(root_user), indent=1))
        if nbgrader:
            (path / "nbgrader_config.json").write_text(json.dumps(nbgrader, indent=1))
        (path / "labconfig").mkdir()
        (path / "labconfig" / "page_config.json").write_text(json.dumps(page_config(), indent=1))
        yield path


def main(argv: Sequence[str] | None = None) -> int:
    """Start JupyterLab on the course (this process becomes the server until it stops)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    root = course_root()
    if root is None:
        print(f"stickylab.jupyter: no course folder ({CONFIG} beside course/) here or above; "
              "serving the current folder", file=sys.stderr)
    with config_folder(root) as folder:
        paths = [str(folder), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
        if root is not None:
            os.chdir(root)
        from jupyterlab.labapp import LabApp

        LabApp.launch_instance(argv=lab_arguments(root, argv))
    return 0
