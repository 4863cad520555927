"""The metadata every table of the one database is declared on, and the column types they share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, MetaData

from libs.common.db.storable import UTCDateTime

# Constraint names are explicit so that later migrations (and SQLite batch mode) can find them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
ADDRESS = 320
HEADER = 1000
PROVIDER = 32


def timestamp(name: str, *, nullable: bool = False) -> Column[datetime]:
    """A timezone-aware UTC timestamp column."""
    return Column(name, UTCDateTime(), nullable=nullable)
