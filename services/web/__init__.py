"""The web console (docs/console.md): sign-in, roles, accounts and the audit log."""
