"""The service context shared by the CLI, the web app and the workers.

Holds the configuration and opens the database on first use, creating the schema in an
empty database and refusing an outdated one with the command that fixes it. Its
``config`` is the effective one: the file, the settings edited in smscope over it
(:mod:`smscope.settings`), the environment over both.
"""

from __future__ import annotations

from functools import cached_property

from smscope import settings
from smscope.config import Config, Layers, read_layers
from smscope.db import Database
from smscope.pricing import PriceTable, load_price_table


class Smscope:
    """One configured smscope: ``Smscope().db`` is ready to use."""

    def __init__(self, config: Config | None = None, *, database_url: str | None = None) -> None:
        self._config = config
        self._database_url = database_url

    @cached_property
    def layers(self) -> Layers:
        """The file's and the environment's values, apart (a config given in code
        counts as the file)."""
        return Layers.of(self._config) if self._config is not None else read_layers()

    @cached_property
    def base_config(self) -> Config:
        """The file and the environment alone: what is known before the database is
        open (its URL among them)."""
        return self._config if self._config is not None else self.layers.build()

    @cached_property
    def config(self) -> Config:
        """The effective configuration, settings edited in smscope included."""
        with self.db.session() as session:
            edited = settings.edited_settings(session)
        if not edited and not self.layers.env:
            return self.base_config
        return self.layers.build(edited)

    def reload_settings(self) -> Config:
        """Read the settings edited in smscope again (after the settings page saved)."""
        self.__dict__.pop("config", None)
        return self.config

    @cached_property
    def db(self) -> Database:
        database = Database(self._database_url or self.base_config.database_url)
        database.ensure_schema()
        return database

    def price_table(self) -> PriceTable:
        """Prices of the config file, overridden by those edited in smscope itself, the
        environment's (``SMSCOPE_PRICES_FR``) over both."""
        with self.db.session() as session:
            return load_price_table(session, self.base_config.prices,
                                    over=self.layers.env.get("prices"))

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
