"""The console's pages: one module per area, each a list of routes."""
