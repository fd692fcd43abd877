"""stickylab.children: children die with their parent, trees are stopped whole, waits never block a loop."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from stickylab import children

LINUX = sys.platform.startswith("linux")


def gone(processes, within=5.0) -> bool:
    """True once none of ``processes`` (psutil's) runs (zombies do not), polled up to ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def started():
    """A list to put every child a test starts in; each is killed, with its tree, when the test ends."""
    procs = []
    yield procs
    for proc in procs:
        children.kill(proc)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def pids_of(proc: subprocess.Popen) -> list[psutil.Process]:
    """The processes whose pids ``proc`` prints on its first line (read within 10 s)."""
    line = _readline(proc, 10.0)
    return [psutil.Process(int(pid)) for pid in line.split()]


def _readline(proc: subprocess.Popen, seconds: float) -> str:
    box = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    assert box, f"no line from process {proc.pid} within {seconds:g} s"
    return box[0].decode() if isinstance(box[0], bytes) else box[0]


#: A parent that starts a sleeping child with children.start (from a thread that then ends, if
#: asked), prints the child's pid once the child runs, and sleeps.
PARENT = """\
    import subprocess, sys, threading, time
    from stickylab import children

    box = []

    def begin():
        child = children.start([sys.executable, "-c", "print('up', flush=True); import time; time.sleep(60)"],
                               stdout=subprocess.PIPE)
        child.stdout.readline()                  # the child runs: past the trampoline's prctl
        box.append(child)

    if sys.argv[1] == "thread":
        thread = threading.Thread(target=begin)
        thread.start()
        thread.join()
        time.sleep(0.3)                          # the thread that asked for the child has ended
    else:
        begin()
    print(box[0].pid, box[0].poll(), flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(not LINUX, reason="the kernel's parent-death signal is Linux's")
@pytest.mark.parametrize("where", ["main", "thread"])
def test_a_child_dies_when_its_parent_is_killed(where, started):
    parent = subprocess.Popen([*python(PARENT), where], stdout=subprocess.PIPE, text=True)
    started.append(parent)
    pid, status = _readline(parent, 20.0).split()
    child = psutil.Process(int(pid))
    assert status == "None", f"the child started from the {where} thread was dead before its parent"
    os.kill(parent.pid, 9)
    parent.wait(5)
    assert gone([child]), f"child {pid} outlived its parent killed with SIGKILL"


def test_a_child_started_from_a_thread_outlives_the_thread(started):
    """PR_SET_PDEATHSIG fires when the thread that forked a child ends: start must not fork there."""
    box = []

    def begin():
        proc = children.start(python("print('up', flush=True); import time; time.sleep(60)"),
                              stdout=subprocess.PIPE)
        box.append(proc)
        assert _readline(proc, 10.0) == "up\n"

    thread = threading.Thread(target=begin)
    thread.start()
    thread.join(15)
    assert not thread.is_alive() and box
    started.extend(box)
    time.sleep(0.3)
    assert box[0].poll() is None, f"the child died with the thread that started it ({box[0].returncode})"
    children.stop(box[0])
    assert box[0].poll() is not None


def test_a_child_gets_its_arguments_environment_folder_and_session(tmp_path, started):
    proc = children.start(python("import os, sys; print(sys.argv[1:], os.environ['WHO'], os.getcwd(), "
                                 "os.getsid(0) == os.getpid())") + ["a b", "c"],
                          stdout=subprocess.PIPE, env={**os.environ, "WHO": "lab"}, cwd=tmp_path)
    started.append(proc)
    out, _ = proc.communicate(timeout=20)
    assert out.decode().split(" ", 3) == ["['a", "b',", "'c']", f"lab {tmp_path} True\n"]


def test_an_unknown_program_is_refused_before_anything_starts():
    with pytest.raises(FileNotFoundError, match="no-such-program"):
        children.start(["no-such-program-stickylab"])


#: A child that starts a tree and prints every pid in it: a grandchild that ignores SIGTERM, with a
#: child of its own; a grandchild in a session of its own (out of the group, still below); and a
#: process that forked twice (no longer below, still in the group).
TREE = """\
    import os, subprocess, sys, time
    stubborn = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "p = subprocess.Popen(['sleep', '60']); print(p.pid, flush=True); time.sleep(60)")
    a = subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE, text=True)
    below_a = a.stdout.readline().strip()
    b = subprocess.Popen(["sleep", "60"], start_new_session=True)
    r, w = os.pipe()
    if os.fork() == 0:
        if os.fork() == 0:
            os.write(w, f"{os.getpid()}".encode())
            time.sleep(60)
        os._exit(0)
    os.wait()
    orphan = os.read(r, 32).decode()
    print(a.pid, below_a, b.pid, orphan, flush=True)
    time.sleep(60)
"""


def test_stop_ends_a_whole_tree_within_its_bounds(started):
    proc = children.start(python(TREE), stdout=subprocess.PIPE)
    started.append(proc)
    tree = pids_of(proc)
    assert len(tree) == 4 and all(p.is_running() for p in tree)
    t0 = time.monotonic()
    children.stop(proc, grace=0.5)
    assert time.monotonic() - t0 < 0.5 + children.KILL_WAIT + 2.0
    assert proc.returncode is not None and proc.stdout.closed
    assert gone(tree), [p.pid for p in tree if p.is_running()]


def test_stop_ends_a_stopped_child_by_its_sigterm_not_after_the_grace(started):
    """A process stopped with SIGSTOP gets SIGCONT after its SIGTERM, as systemd sends one."""
    proc = children.start(["sleep", "60"])
    started.append(proc)
    os.kill(proc.pid, signal.SIGSTOP)
    t0 = time.monotonic()
    children.stop(proc, grace=5.0)
    assert proc.returncode == -signal.SIGTERM, proc.returncode
    assert time.monotonic() - t0 < 5.0


def test_kill_ends_a_whole_tree_at_once(started):
    proc = children.start(python(TREE), stdout=subprocess.PIPE)
    started.append(proc)
    tree = pids_of(proc)
    children.kill(proc)
    assert proc.returncode == -9
    assert gone(tree), [p.pid for p in tree if p.is_running()]


def test_kill_lets_a_parent_reap_its_children_first(started):
    """As bubblewrap does: once the processes below are killed, the child exits by itself."""
    proc = children.start(python("""\
        import subprocess, sys
        p = subprocess.Popen(["sleep", "60"])
        print(p.pid, flush=True)
        sys.exit(3 if p.wait() == -9 else 4)
    """), stdout=subprocess.PIPE)
    started.append(proc)
    below = pids_of(proc)
    children.kill(proc, grace=10.0)
    assert proc.returncode == 3 and gone(below)


def test_wait_async_does_not_block_the_loop(started):
    async def main():
        ticks = 0

        async def tick():
            nonlocal ticks
            for _ in range(1000):
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        quick = children.start(python("import time; time.sleep(0.5)"))
        slow = children.start(python("import time; time.sleep(60)"))
        started.extend([quick, slow])
        t0 = time.monotonic()
        assert await children.wait_async(quick, 20.0) == 0
        waited, during = time.monotonic() - t0, ticks
        with pytest.raises(TimeoutError):
            await children.wait_async(slow, 0.3)
        assert slow.poll() is None, "a wait that times out leaves the child running"
        await children.stop_async(slow)
        ticker.cancel()
        return waited, during, slow.returncode

    waited, ticks, stopped = asyncio.run(asyncio.wait_for(main(), 60))
    assert waited >= 0.4 and ticks >= 10, f"{ticks} ticks in {waited:.2f} s: the wait blocked the loop"
    assert stopped is not None


def test_a_python_child_exits_when_its_parent_closes_stdin(started):
    """The child's half, on any system: exit_with_parent exits at stdin's EOF."""
    proc = children.start(python("""\
        import time
        from stickylab import children
        children.exit_with_parent()
        print("watching", flush=True)
        time.sleep(60)
    """), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    started.append(proc)
    assert _readline(proc, 20.0) == "watching\n"
    proc.stdin.close()
    assert proc.wait(10) == 0
