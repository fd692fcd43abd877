"""``python -m stickylab.grade NOTEBOOK``: grade one exercise notebook against the hidden tests."""

import sys

from . import main

sys.exit(main())
