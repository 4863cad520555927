"""`python -m services.sender`: the same as `mailpipe sender`."""

from mailpipe.cli import app

app(["sender"])
