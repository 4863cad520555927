"""`python -m services.ticketer`: the same as `mailpipe ticketer`."""

from mailpipe.cli import app

app(["ticketer"])
