"""Hostile: the cell raises while it is being run (an import that fails), before defining anything."""
# expect: test-ip-visible IPHashRouter
# expect: test-ip-hidden-restart ip_hash
# expect: test-ip-hidden-spread ip_hash
# expect: test-ip-hidden-pool IPHashRouter
# expect: test-nat-visible nat_balance
# expect: test-nat-hidden nat_balance

# %% ip-hash
import stickylab.no_such_module  # noqa: F401

# %% nat-balance
raise RuntimeError("and this cell refuses to run at all")
