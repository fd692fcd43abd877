"""Hostile: prints megabytes, at the top of the cell and on every call, and answers nothing useful.

nbgrader's output limit cuts the printed lines down in the graded notebook.
"""
# expect: test-header-visible header:u42
# expect: test-header-hidden-order the key is None
# expect: test-header-hidden-route
# expect: test-header-hidden-pool must be a plain str
import stickylab as sl

# %% fallback-router
for _ in range(60_000):
    print("spam " * 20)


class FallbackHashRouter(sl.Router):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        self.header = header
        self.cookie = cookie

    def affinity_key(self, request):
        for _ in range(10_000):
            print("eggs " * 20)
        return None

    def route(self, request, pool):
        for _ in range(10_000):
            print("ham " * 20)
        return None
