"""Trivial: FallbackHashRouter is stickylab's own HeaderHash with a constructor that takes the
cookie name too, and an affinity_key that reads the header only.

Every cell must see that the routing is the library's: what runs (HeaderHash's methods) and
what the router holds (the library's Random fallback).
"""
import stickylab as sl

# %% fallback-router
class FallbackHashRouter(sl.routers.HeaderHash):
    def __init__(self, header="X-User-Id", cookie="SESSION"):
        super().__init__(header)
        self.cookie = cookie

    def affinity_key(self, request):
        return "header:" + (request.headers.get(self.header) or "")
