"""``python -m stickylab.jupyter``: open the course in JupyterLab (see :mod:`stickylab.jupyter`)."""

import sys

from . import main

sys.exit(main())
