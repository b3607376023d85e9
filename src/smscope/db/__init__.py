"""Storage: tables, engine, migrations — the only package that speaks SQL dialects."""

from smscope.db.engine import Database, normalize_url
from smscope.db.tables import Base

__all__ = ["Base", "Database", "normalize_url"]
