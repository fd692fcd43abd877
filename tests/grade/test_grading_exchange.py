"""``nbgrader collect`` with the course's config follows no link a student left in the exchange.

Students write the exchange's ``inbound/`` folder; the instructor runs ``collect``. Each
submission below hands in links to the instructor's files (the source notebook with the
hidden tests, the gradebook) in place of its own; stock nbgrader's collect copies their
targets into ``submitted/`` (checked first, so the test can see the harm) and stops at a
named pipe; the course's ``SafeCollect`` copies none of them, names each link it skipped,
and keeps a submission within ``CourseDirectory.max_dir_size``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import submissions as subs

from stickylab.grade import Course

A = subs.ATTACKED
NB = subs.notebook_name(A)
STAMP = "2026-01-05 10:00:00.000000 UTC"
STOCK = "nbgrader.exchange.default.collect.ExchangeCollect"
SQLITE = b"SQLite format 3"
HIDDEN = b"BEGIN HIDDEN TESTS"


def _configured_collect(global_config: Path) -> str:
    """``ExchangeFactory.collect`` as nbgrader reads it in the checkout, beside ``global_config``."""
    code = ("from nbgrader.apps import NbGraderApp\n"
            "app = NbGraderApp(); app.initialize([])\n"
            "print(app.config.ExchangeFactory.collect)")
    env = {k: v for k, v in os.environ.items() if k != "STICKYLAB_EXCHANGE"}
    env["JUPYTER_CONFIG_PATH"] = str(global_config)
    return subprocess.run([sys.executable, "-c", code], cwd=subs.ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.mark.slow
def test_the_course_collects_with_safe_collect_unless_a_hub_chose_its_own(tmp_path):
    assert _configured_collect(tmp_path) == "stickylab.grade.exchange.SafeCollect"
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.ExchangeFactory.collect = {STOCK!r}\n")
    assert _configured_collect(tmp_path) == STOCK


@pytest.fixture
def exchange_course(tmp_path):
    """A course with ``A`` released, and three hostile submissions in the exchange's inbound."""
    course = Course(tmp_path / "course", subs.ROOT, [A], exchange=tmp_path / "exchange")
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(f"c.Exchange.root = {str(tmp_path / 'exchange')!r}\n"
                "c.CourseDirectory.max_dir_size = 64\n")      # kB, for the whole submission
    course.generate(A)
    course.release(A)
    inbound = tmp_path / "exchange" / "stickylab" / "inbound"
    source = course.root / "solutions" / A / NB
    gradebook = course.root / "gradebook.db"
    assert source.read_bytes().count(HIDDEN) and gradebook.read_bytes().startswith(SQLITE)

    links = _folder(inbound, "links")             # the notebook and an extra file are links
    (links / NB).symlink_to(source)
    (links / "notes.txt").symlink_to(gradebook)
    (links / "data").mkdir()
    (links / "data" / "readme.txt").write_text("my own data\n")
    (links / "data" / "all").symlink_to(course.root / "solutions", target_is_directory=True)
    os.mkfifo(links / "pipe")

    whole = inbound / f"whole+{A}+{STAMP}"        # the submission folder itself is a link
    whole.symlink_to(course.root / "solutions" / A, target_is_directory=True)

    big = _folder(inbound, "big")                 # past the size cap, beside a small notebook
    (big / NB).write_text(subs.release(A).cells[0].source)
    (big / "big.bin").write_bytes(b"x" * 100_000)
    return course


def _folder(inbound: Path, student: str) -> Path:
    folder = inbound / f"{student}+{A}+{STAMP}"
    folder.mkdir()
    (folder / "timestamp.txt").write_text(STAMP)
    return folder


def _collect(course, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", "collect", A, *extra], cwd=course.root,
                          capture_output=True, text=True, timeout=120)


def _stolen(course) -> list[str]:
    """Files under ``submitted/`` that hold the gradebook or the hidden tests."""
    return sorted(str(p.relative_to(course.root)) for p in (course.root / "submitted").rglob("*")
                  if p.is_file() and (p.read_bytes().startswith(SQLITE) or HIDDEN in p.read_bytes()))


@pytest.mark.slow
def test_stock_collect_copies_what_the_links_point_to(exchange_course):
    done = _collect(exchange_course, f"--ExchangeFactory.collect={STOCK}")
    assert _stolen(exchange_course), "stock nbgrader no longer follows links: this test sees nothing"
    assert "is a named pipe" in done.stderr         # and a pipe stops the whole class's collect


@pytest.mark.slow
def test_collect_follows_no_link_and_names_each_one(exchange_course):
    done = _collect(exchange_course)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    submitted = exchange_course.root / "submitted"
    assert _stolen(exchange_course) == []
    got = sorted(str(p.relative_to(submitted)) for p in submitted.rglob("*"))
    assert got == ["big", f"big/{A}", f"big/{A}/{NB}", f"big/{A}/timestamp.txt",
                   "links", f"links/{A}", f"links/{A}/data", f"links/{A}/data/readme.txt",
                   f"links/{A}/timestamp.txt"]
    assert not any(p.is_symlink() for p in submitted.rglob("*"))
    for student, path, why in [("links", NB, "a link"), ("links", "notes.txt", "a link"),
                               ("links", "data/all", "a link"), ("links", "pipe", "not a regular file"),
                               ("whole", "", "a link"), ("big", "big.bin", "max_dir_size")]:
        said = [ln for ln in log.splitlines()
                if f"from {student}'s submission" in ln and f"+{STAMP}/{path}".rstrip("/") in ln]
        assert said and why in said[0], f"{student}/{path} not reported as {why!r}:\n{log[-3000:]}"
