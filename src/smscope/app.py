"""The service context shared by the CLI (and later the web app and workers).

Holds the configuration and opens the database on first use, creating the schema in an
empty database and refusing an outdated one with the command that fixes it.
"""

from __future__ import annotations

from functools import cached_property

from smscope.config import Config, load_config
from smscope.db import Database
from smscope.pricing import PriceTable, load_price_table


class Smscope:
    """One configured smscope: ``Smscope().db`` is ready to use."""

    def __init__(self, config: Config | None = None, *, database_url: str | None = None) -> None:
        self._config = config
        self._database_url = database_url

    @cached_property
    def config(self) -> Config:
        return self._config if self._config is not None else load_config()

    @cached_property
    def db(self) -> Database:
        database = Database(self._database_url or self.config.database_url)
        database.ensure_schema()
        return database

    def price_table(self) -> PriceTable:
        """Prices of the config file, overridden by those edited in smscope itself."""
        with self.db.session() as session:
            return load_price_table(session, self.config.prices)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()

