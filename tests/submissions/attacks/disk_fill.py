"""Sixteen files just under the per-file cap in the working folder, then in the folder of the
kernel's sockets (which the grader shares with the sandbox): a gigabyte on the grader's disk."""
import stickylab as sl

# %% first-sticky
import os
from ipykernel import get_connection_file

_chunk = b"d" * (1 << 20)


def _fill(folder, label):
    written = 0
    try:
        for _n in range(16):
            with open(os.path.join(folder, f"fill-{_n}"), "wb") as _f:
                for _m in range(64):
                    _f.write(_chunk)
                    _f.flush()
                    written += len(_chunk)
    except OSError as _exc:
        print(f"{label}: stopped after {written >> 20} MiB ({_exc.strerror})")
        return
    print(f"{label}: wrote {written >> 20} MiB")


_fill(".", "working folder")
#include _wrong

# %% +fill-sockets
_fill(os.path.dirname(get_connection_file()), "socket folder")
