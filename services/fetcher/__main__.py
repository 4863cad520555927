"""`python -m services.fetcher`: the same as `mailpipe fetcher`."""

from mailpipe.cli import app

app(["fetcher"])
