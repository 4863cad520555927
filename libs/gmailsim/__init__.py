"""A Gmail API (v1) simulator: an HTTPS server that google-auth and a REST client use unchanged.

See README.md in this directory.
"""
