"""What every mailpipe service shares: settings, contracts, broker, Graph client, logging."""
