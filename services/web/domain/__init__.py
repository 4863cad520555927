"""The console's rules as plain functions: no server, no database (docs/console.md)."""
