"""Alembic environment: migrations run on the connection the Store hands over (no ini file)."""

from alembic import context

from aqtra_nb.store.models import Base

connection = context.config.attributes["connection"]


def include_name(name, type_, parent_names) -> bool:
    """Entity tables are created and migrated by store/entity_tables.py: autogenerate leaves them alone."""
    return type_ != "table" or name in Base.metadata.tables


context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_name=include_name
)
with context.begin_transaction():
    context.run_migrations()
