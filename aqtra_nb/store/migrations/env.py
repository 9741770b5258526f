"""Alembic environment: migrations run on the connection the Store hands over (no ini file)."""

from alembic import context

from aqtra_nb.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
