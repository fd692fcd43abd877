"""Eat memory, and start processes until none can be started."""
import stickylab as sl

# %% first-sticky
import subprocess, sys

try:
    _hog = bytearray(64 << 30)
except MemoryError:
    print("no 64 GiB")
_procs = []
try:
    for _ in range(2000):
        _procs.append(subprocess.Popen(["sleep", "300", "stickylab-attack-marker"]))
except OSError as _exc:
    print("stopped after", len(_procs), "processes:", _exc)
#include _wrong
