"""Alembic environment: the URL comes from ``-x url=…``, the config's attribute, or settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from workstation import models_all  # noqa: F401  (fills Base.metadata)
from workstation.db import Base

config = context.config


def _url() -> str:
    xargs = context.get_x_argument(as_dictionary=True)
    if xargs.get("url"):
        return xargs["url"]
    if config.attributes.get("url"):
        return str(config.attributes["url"])
    from workstation.settings import load_settings

    return load_settings().resolved_database_url()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
