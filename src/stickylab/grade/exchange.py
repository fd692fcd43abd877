"""``nbgrader collect`` that copies a submission out of the exchange without following links.

Students write the exchange's ``inbound/`` folder; the instructor runs ``collect``. Stock
nbgrader copies each submission with ``shutil.copytree``, which follows a symbolic link, so
a notebook handed in as a link to ``solutions/.../x.ipynb`` or to ``gradebook.db`` arrives in
``submitted/`` as that file, read with the instructor's rights. ``SafeCollect`` (configured
as ``c.ExchangeFactory.collect`` in ``nbgrader_config.py``) copies only regular files and
folders, opened with ``O_NOFOLLOW`` relative to their already opened folder (so a file
swapped for a link mid-copy is not followed either); links, FIFOs, sockets and devices are
skipped with a warning naming the student and the path, and the copy stops growing at
``CourseDirectory.max_dir_size``, counted in bytes actually read.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat

from nbgrader.exchange.default.collect import ExchangeCollect

__all__ = ["SafeCollect"]

_CHUNK = 1 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, copying regular files and folders only, within the size cap."""

    def do_copy(self, src, dest, log=None):
        """Copy the submission folder ``src`` to ``dest``, following no link."""
        self._student = os.path.basename(os.path.dirname(dest))
        self._budget = 1000 * self.coursedir.max_dir_size
        try:
            fd = os.open(src, _DIR)
        except OSError as exc:
            self._skip(src, _why(src, exc))
            with contextlib.suppress(OSError):      # the student's folder nbgrader made for it
                os.rmdir(os.path.dirname(dest))
            return
        try:
            os.makedirs(dest)
            self._copy_folder(fd, src, dest)
        finally:
            os.close(fd)
        if self.coursedir.groupshared:
            self._share(dest)

    def _copy_folder(self, fd: int, src: str, dest: str) -> None:
        with os.scandir(fd) as entries:      # notebooks first, should the size cap be reached
            names = sorted((entry.name for entry in entries), key=lambda n: (not n.endswith(".ipynb"), n))
        for name in names:
            if any(fnmatch.fnmatch(name, glob) for glob in self.coursedir.ignore):
                continue
            path = os.path.join(src, name)
            try:
                child = os.open(name, _FILE, dir_fd=fd)
            except OSError as exc:
                self._skip(path, _why(path, exc))
                continue
            try:
                self._copy_entry(child, os.fstat(child), path, os.path.join(dest, name))
            finally:
                os.close(child)

    def _copy_entry(self, fd: int, info: os.stat_result, path: str, dest: str) -> None:
        if stat.S_ISDIR(info.st_mode):
            os.mkdir(dest)
            self._copy_folder(fd, path, dest)
        elif not stat.S_ISREG(info.st_mode):
            self._skip(path, "not a regular file")
        elif not any(fnmatch.fnmatch(os.path.basename(path), glob) for glob in self.coursedir.include):
            return
        elif info.st_size > 1000 * self.coursedir.max_file_size:
            self._skip(path, f"larger than CourseDirectory.max_file_size ({info.st_size} bytes)")
        elif info.st_size > self._budget:
            self._skip(path, "past CourseDirectory.max_dir_size for the whole submission")
        else:
            self._copy_file(fd, path, dest)

    def _copy_file(self, fd: int, path: str, dest: str) -> None:
        with open(dest, "wb") as out:
            while chunk := os.read(fd, min(_CHUNK, self._budget + 1)):
                if len(chunk) > self._budget:
                    break
                self._budget -= len(chunk)
                out.write(chunk)
            else:
                return
        os.remove(dest)
        self._skip(path, "grew past CourseDirectory.max_dir_size while being copied")

    @staticmethod
    def _share(dest: str) -> None:
        """As nbgrader does for a group-shared course: folders ug+rwx and setgid, files ug+rw."""
        for folder, _, files in os.walk(dest):
            os.chmod(folder, (os.stat(folder).st_mode | 0o2770) & 0o2777)
            for name in files:
                path = os.path.join(folder, name)
                os.chmod(path, (os.stat(path).st_mode | 0o660) & 0o777)

    def _skip(self, path: str, why: str) -> None:
        self.log.warning("Not collected from %s's submission: %s (%s)", self._student, path, why)


def _why(path: str, exc: OSError) -> str:
    return "a link, not followed" if os.path.islink(path) else f"cannot be read ({exc.strerror})"
