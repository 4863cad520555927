"""`python -m services.notify`: the same as `mailpipe notify`."""

from mailpipe.cli import app

app(["notify"])
