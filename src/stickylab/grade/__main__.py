"""``python -m stickylab.grade NOTEBOOK``: grade one exercise notebook against the hidden tests."""

import sys

# jsonschema, which nbformat imports, loads the optional `rfc3987_syntax` package where it is
# installed, and that builds some forty grammars at import: over a second, a quarter of a
# self-grade. The URI formats it checks are never used by nbformat or nbgrader, so this
# command does without it.
sys.modules.setdefault("rfc3987_syntax", None)

from .cli import main  # noqa: E402

sys.exit(main())
