"""nbgrader step: back the gradebook up beside itself before a run of autograding writes to it.

Runs on the host. ``BackupGradebook`` opens ``c.Autograde.sanitize_preprocessors`` in
``nbgrader_config.py``, so the first notebook a run autogrades (``nbgrader autograde``, the
self-grade command, class grading) copies the SQLite gradebook to
``<gradebook>.backup-<UTC time>`` first, once per gradebook and process; the newest
:data:`BACKUPS_KEPT` copies are kept.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["BACKUPS_KEPT", "BackupGradebook", "backup_gradebook", "copy_database"]

#: Gradebook backups kept beside it.
BACKUPS_KEPT = 10
_BACKED_UP: set[str] = set()


def backup_gradebook(db_url: str) -> Path | None:
    """Copy the SQLite gradebook at ``db_url`` to ``<db>.backup-<UTC time>``; keep the newest few.

    None where there is nothing to copy (no file, or a database that is not SQLite).
    """
    _BACKED_UP.add(db_url)
    if not db_url.startswith("sqlite:///"):
        return None
    db = Path(db_url[len("sqlite:///"):])
    if not db.is_file():
        return None
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = db.with_name(f"{db.name}.backup-{stamp}")
    copy_database(db, target)
    for old in sorted(db.parent.glob(f"{db.name}.backup-*"))[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return target


def copy_database(db: Path, target: Path) -> None:
    """A consistent copy of the SQLite database ``db`` at ``target`` (safe while it is open)."""
    with contextlib.closing(sqlite3.connect(db)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


class BackupGradebook(NbGraderPreprocessor):
    """Back the gradebook up the first time this process grades a notebook against it."""

    def preprocess(self, nb, resources):
        """Back up the gradebook ``resources`` names, unless this process did already; ``nb`` unchanged."""
        db_url = resources.get("nbgrader", {}).get("db_url")
        if db_url and db_url not in _BACKED_UP:
            saved = backup_gradebook(db_url)
            if saved:
                self.log.info("Gradebook backed up to %s", saved)
        return nb, resources
