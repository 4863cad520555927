"""A Microsoft Graph mail simulator: HTTPS, an Entra-shaped token endpoint, the v1.0 mail
endpoints mailpipe uses, throttling and fault injection, and a control API for tests.

Run it with ``mailpipe graphsim``; in tests use :func:`libs.graphsim.testing.running_simulator`.
"""
