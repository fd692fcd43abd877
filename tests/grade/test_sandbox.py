"""The bubblewrap sandbox that learners' code runs in when it is graded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import submissions as subs

from stickylab.grade import sandbox as sb

needs_sandbox = pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")

PROBE = textwrap.dedent('''
    import json, os, resource, signal, socket, sys
    from pathlib import Path
    out = {}
    secret = Path(sys.argv[1])
    out["sees_secret"] = secret.exists() or secret.parent.exists()
    try:
        Path(sys.argv[2]).write_text("x")
        out["wrote_outside"] = True
    except OSError:
        out["wrote_outside"] = False
    Path("mine.txt").write_text("ok")
    out["wrote_scratch"] = Path("mine.txt").read_text() == "ok"
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=2).close()
        out["network"] = True
    except OSError:
        out["network"] = False
    out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    out["as_limit"] = resource.getrlimit(resource.RLIMIT_AS)[0]
    out["nproc_limit"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    out["uid"] = os.getuid()
    out["fds"] = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    print(json.dumps(out))
''')


@needs_sandbox
def test_a_sandboxed_process_sees_and_reaches_only_what_it_is_given(tmp_path):
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("grades")
    outside = tmp_path / "outside.txt"
    listener = __import__("socket").create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    keep_open = open(secret, "rb")      # an open file of the grader must not be inherited
    try:
        box = sb.Sandbox(tmp_path / "scratch", forbidden=[secret.parent],
                         limits=sb.Limits(memory_bytes=1 << 30, processes=64))
        box.prepare()
        argv = box.launcher(box.command([sys.executable, "-c", PROBE, str(secret), str(outside), str(port)]))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              pass_fds=(keep_open.fileno(),))
    finally:
        keep_open.close()
        listener.close()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["sees_secret"] is False
    assert out["wrote_outside"] is False and not outside.exists()
    assert out["wrote_scratch"] is True      # in a memory file system of its own: nothing on the disk
    assert not (tmp_path / "scratch" / "mine.txt").exists()
    assert out["network"] is False
    assert max(out["pids"]) < 10, f"the sandbox sees other processes: {out['pids']}"
    assert out["as_limit"] == 1 << 30 and out["nproc_limit"] == 64
    assert out["fds"] == [0, 1, 2, 3], f"inherited descriptors: {out['fds']}"   # 3: listdir's own
    if os.getuid() == 0:
        assert out["uid"] in sb.SANDBOX_UIDS


@needs_sandbox
def test_all_a_sandbox_writes_is_capped_not_only_each_file(tmp_path):
    """Sixteen files under the per-file cap cannot fill the grader's disk: the scratch folder has a total."""
    box = sb.Sandbox(tmp_path / "scratch", limits=sb.Limits(file_bytes=8 << 20, scratch_bytes=16 << 20))
    box.prepare()
    writer = textwrap.dedent('''
        written = 0
        try:
            for n in range(16):
                with open(f"f{n}", "wb") as f:
                    for _ in range(8):
                        f.write(b"x" * (1 << 20))
                        f.flush()
                        written += 1 << 20
        except OSError as exc:
            print(written, exc.errno)
    ''')
    done = subprocess.run(box.launcher(box.command([sys.executable, "-c", writer])), capture_output=True,
                          text=True, timeout=60)
    written, errno = map(int, done.stdout.split())
    assert written <= 16 << 20 and errno == 28, done.stdout + done.stderr     # ENOSPC
    assert sb.folder_bytes(tmp_path) < 1 << 20


def test_sockets_get_a_short_folder_when_the_temp_folder_is_long(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 40)
    deep.mkdir(parents=True)
    folder = sb.socket_folder(deep)
    try:
        assert len(str(folder / "fresh-99.sock")) <= sb.SOCKET_PATH_BYTES
        assert deep not in folder.parents
    finally:
        folder.rmdir()
    near = sb.socket_folder(tmp_path)
    assert near.parent == tmp_path or len(str(tmp_path)) > 60
    near.rmdir()


def test_a_folder_over_its_quota_is_reported_once(tmp_path):
    import threading

    hits = []
    done = threading.Event()
    with sb.FolderQuota(tmp_path, 1000, lambda used: (hits.append(used), done.set()), every=0.02):
        (tmp_path / "big").write_bytes(b"x" * 5000)
        assert done.wait(5)
    assert hits == [5000]


def test_a_bind_that_would_expose_a_forbidden_path_is_refused(tmp_path):
    import stickylab

    package = Path(stickylab.__file__).resolve().parent
    box = sb.Sandbox(tmp_path, forbidden=[package / "grade"])
    with pytest.raises(sb.SandboxUnavailable, match="would need to read"):
        box.readable()


def test_without_bubblewrap_check_names_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    sb.check.cache_clear()
    try:
        assert "bubblewrap is not installed" in sb.check()
    finally:
        sb.check.cache_clear()


def test_autograding_refuses_without_a_sandbox_unless_asked(monkeypatch, tmp_path):
    import nbformat

    from stickylab.grade.execute import SandboxedExecute

    monkeypatch.setattr(sb, "check", lambda: "bubblewrap is not installed")
    monkeypatch.delenv("STICKYLAB_UNSAFE_GRADING", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hi')")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(tmp_path)}}
    with pytest.raises(sb.SandboxUnavailable, match="refusing to grade.*bubblewrap is not installed.*unsafe"):
        SandboxedExecute().preprocess(nb, resources)
    monkeypatch.setenv("STICKYLAB_UNSAFE_GRADING", "1")
    done, _ = SandboxedExecute().preprocess(nb, resources)
    assert done.cells[0].outputs[0]["text"] == "hi\n"


def test_without_a_sandbox_grading_refuses_unless_asked(tmp_path, monkeypatch, capsys):
    from stickylab.grade import main

    a = subs.assignments()[0]
    monkeypatch.setenv("PATH", str(tmp_path))           # no bwrap on the path
    monkeypatch.delenv("STICKYLAB_UNSAFE_GRADING", raising=False)
    sb.check.cache_clear()
    try:
        assert sb.check() and "bubblewrap" in sb.check()
        work = tmp_path / "exercises" / a
        work.mkdir(parents=True)
        nbformat.write(subs.release(a), work / subs.notebook_name(a))
        code = main([str(work / subs.notebook_name(a)), "--course", str(subs.ROOT),
                     "--workdir", str(tmp_path / "scratch")])
        err = capsys.readouterr().err
        assert code == 2 and "no sandbox" in err and "--unsafe" in err
    finally:
        sb.check.cache_clear()
    assert os.environ.get("PATH") == str(tmp_path)
