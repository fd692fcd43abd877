"""Blind right answer: a plain dict of nodes plus a hand-written doubly linked list (classic LRU).

Differs from the obvious answer (an OrderedDict with move_to_end / popitem(last=False)):
the recency order is a doubly linked list with a sentinel, and the dict maps each key to
its list node, so every operation is O(1) without OrderedDict; dead entries are unlinked
by a helper; ``__len__`` reads the dict. The router asks the table first and checks
``pool.is_up`` on the answer, storing the balancer's pick through a helper.
"""
import stickylab as sl

# %% stick-table
class _Node:
    """One entry of the table, linked in order of last use (oldest right after the sentinel)."""

    __slots__ = ("key", "instance", "used", "prev", "next")

    def __init__(self, key=None, instance=None, used=0):
        self.key, self.instance, self.used = key, instance, used
        self.prev = self.next = self


class StickTable:
    """Key -> instance with sliding idle expiry and a size limit, oldest out first (HAProxy stick-table)."""

    def __init__(self, size, expire):
        self.size = size
        self.expire = expire
        self._index = {}             # key -> _Node
        self._ring = _Node()         # sentinel: _ring.next is the least recently used

    # -- the linked list -------------------------------------------------------------------
    def _unlink(self, node):
        node.prev.next = node.next
        node.next.prev = node.prev

    def _append(self, node):
        """Link ``node`` as the most recently used."""
        last = self._ring.prev
        node.prev, node.next = last, self._ring
        last.next = node
        self._ring.prev = node

    def _drop(self, node):
        self._unlink(node)
        del self._index[node.key]

    # -- the table ---------------------------------------------------------------------------
    def get(self, key, now):
        node = self._index.get(key)
        if node is None:
            return None
        if now - node.used > self.expire:
            self._drop(node)
            return None
        node.used = now
        self._unlink(node)
        self._append(node)
        return node.instance

    def put(self, key, instance, now):
        node = self._index.get(key)
        if node is None:
            node = self._index[key] = _Node(key, instance, now)
        else:
            self._unlink(node)
            node.instance, node.used = instance, now
        self._append(node)
        while len(self._index) > self.size:
            self._drop(self._ring.next)

    def __len__(self):
        return len(self._index)

# %% stick-router
class StickTableRouter(sl.Router):
    """HAProxy `stick on src` with a StickTable."""

    def __init__(self, size=100_000, expire=1800.0):
        self.table = StickTable(size, expire)
        self.balance = sl.routers.RoundRobin()

    def _assign(self, request, pool):
        """A fresh pick among the healthy instances, remembered at the request's time."""
        chosen = self.balance.route(request, pool)
        self.table.put(request.client_ip, chosen, request.time)
        return chosen

    def route(self, request, pool):
        stored = self.table.get(request.client_ip, request.time)
        if stored is not None and pool.is_up(stored):
            return stored
        return self._assign(request, pool)
