"""Hostile: calls sys.exit() at the top of the cell, before defining anything.

IPython turns SystemExit into an error in that cell; the kernel lives on, every test
cell fails, and the grading of everyone else goes on.
"""
# expect: test-cookie-visible SignedCookieRouter
# expect: test-cookie-hidden-when SignedCookieRouter
# expect: test-cookie-hidden-bad SignedCookieRouter
# expect: test-cookie-hidden-drain SignedCookieRouter
# expect: test-cookie-hidden-opaque SignedCookieRouter
# expect: test-cookie-hidden-restart SignedCookieRouter
import sys

# %% signed-cookie
sys.exit("grading is over")
