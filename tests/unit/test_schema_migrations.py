"""The migrations build exactly the schema the models describe, on whichever database the suite runs."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import db
from models import Base


def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    with db.engine().connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
