"""Alembic environment: runs on the connection smscope hands it (see Database.upgrade)."""

from alembic import context
from sqlalchemy import create_engine

from smscope.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` called by hand, e.g. to autogenerate a revision
        url = config.get_main_option("sqlalchemy.url") or "sqlite:///smscope.db"
        with create_engine(url).connect() as conn:
            _migrate(conn)
            conn.commit()
        return
    _migrate(connection)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
