"""Alembic migrations of the one mailpipe database; run them with ``mailpipe migrate``."""
