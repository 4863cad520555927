"""Alembic migrations of the record store; run them with ``mailpipe migrate``."""
