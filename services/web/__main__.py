"""`python -m services.web`: the same as `mailpipe web`."""

from mailpipe.cli import app

app(["web"])
