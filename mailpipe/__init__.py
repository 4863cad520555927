"""mailpipe: a Microsoft 365 helpdesk mailbox pipeline. The CLI is the composition root."""

__version__ = "0.1.0"
