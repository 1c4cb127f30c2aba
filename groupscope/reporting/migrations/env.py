"""Alembic environment: runs on the connection that groupscope.reporting.db hands over.

groupscope never lets Alembic open its own connection: `db.upgrade()` passes one (with the configured
schema names in its schema_translate_map) through `config.attributes["connection"]`.
"""

from alembic import context

from groupscope.reporting.models import metadata

conn = context.config.attributes["connection"]
context.configure(
    connection=conn,
    target_metadata=metadata,
    version_table_schema=context.config.attributes["version_table_schema"],
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
