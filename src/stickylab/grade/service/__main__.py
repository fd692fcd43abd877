"""``python -m stickylab.grade.service``: run the grading service (see :func:`.app.main`)."""

import sys

from .app import main

sys.exit(main())
