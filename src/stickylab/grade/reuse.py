"""What nbgrader builds again for every student, built once where one process grades a class.

nbgrader autogrades a notebook with about ten ``Gradebook`` objects (each of its steps opens
its own), and each ``Gradebook`` makes a new SQLAlchemy engine; SQLAlchemy keeps compiled
SQL per engine, so every query of every step is compiled again. It also checks each cell's
``nbgrader`` metadata with ``jsonschema.validate``, which checks the schema itself before
checking the cell. Class grading (:mod:`stickylab.grade.batch`) runs nbgrader once per student
in long-lived processes, where that is a third of the gradebook's writer's time: :func:`install`
makes those processes keep one engine per database URL and one validator per schema.

Neither changes what nbgrader computes: an engine is a factory of connections (a ``Gradebook``
still opens and closes its own session, and ``Engine.dispose`` on close only empties the
connection pool), and the validator raises the error ``jsonschema.validate`` raises. The
names replaced are pinned by tests (``tests/grade/test_grading_class.py``), so an nbgrader that stops
using them fails there by name.
"""

from __future__ import annotations

import functools
import json
import types

__all__ = ["install"]


def install() -> None:
    """Make nbgrader reuse engines and schema validators in this process (again: no effect)."""
    import nbgrader.api
    import nbgrader.nbgraderformat.common as metadata

    if not getattr(nbgrader.api.create_engine, "reused", False):
        nbgrader.api.create_engine = _engine
    if not isinstance(metadata.jsonschema, types.SimpleNamespace):
        metadata.jsonschema = types.SimpleNamespace(validate=_validate)


def _engine(url: str, **options):
    """``sqlalchemy.create_engine``, once per URL and options for the life of the process."""
    return _engine_for(url, tuple(sorted(options.items())))


_engine.reused = True


@functools.lru_cache(maxsize=16)
def _engine_for(url: str, options: tuple):
    from sqlalchemy import create_engine

    return create_engine(url, **dict(options))


def _validate(instance, schema) -> None:
    """``jsonschema.validate(instance, schema)``, with the schema checked once, not for every cell."""
    import jsonschema

    validator = _validator(json.dumps(schema, sort_keys=True))
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


@functools.lru_cache(maxsize=8)
def _validator(schema_text: str):
    import jsonschema

    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
