"""Widget messages: sixty of a megabyte of state each (kept in the notebook's metadata), then
malformed ones (state that is not a dict, buffers without paths) that crashed the executor and
had the student's graded notebook removed."""
import stickylab as sl

# %% first-sticky
from ipykernel.comm import Comm

_big = Comm(target_name="jupyter.widget", data={"state": {"_model_name": "X"}, "buffer_paths": []})
for _k in range(60):
    _big.send({"method": "update", "state": {f"v{_k}": "w" * 1_000_000}, "buffer_paths": []})
Comm(target_name="jupyter.widget", data={"state": 5, "buffer_paths": [["a", "b"]]})
Comm(target_name="jupyter.widget", data={"state": {"x": 1}, "buffer_paths": [["x"]]}, buffers=[])
_big.send({"method": "update", "state": None, "buffer_paths": 7})
#include _wrong
