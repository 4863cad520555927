"""Operations commands: ``mailpipe healthcheck`` for container probes.

The slim image has no curl, and a probe must not pay for importing the services: this module
imports only the standard library and typer, and reads the port through ``Settings`` so the
probe and the service agree on it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Annotated

import typer

#: Docker treats exit 1 as "unhealthy"; every other non-zero code is reserved, so a probe that
#: cannot even run (no port configured) also answers 1.
UNHEALTHY = 1


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


def probe_url(port: int, *, ready: bool, host: str = "127.0.0.1") -> str:
    """The probe's URL: ``/readyz`` (can work) or ``/healthz`` (is alive)."""
    return f"http://{host}:{port}/{'readyz' if ready else 'healthz'}"


def describe(status: int, body: bytes) -> ProbeResult:
    """Turn the health server's answer into one line: ok on 200, else the failing checks."""
    if status == 200:
        return ProbeResult(True, f"ok ({status})")
    try:
        checks = json.loads(body).get("checks", {})
        failing = [f"{name}: {c.get('detail')}" for name, c in checks.items() if not c.get("ok")]
    except (ValueError, AttributeError):
        failing = []
    return ProbeResult(False, f"HTTP {status}" + (f" ({'; '.join(failing)})" if failing else ""))


def probe(url: str, timeout_s: float) -> ProbeResult:
    """GET ``url``; a refused or timed-out connection is "not healthy", never an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (http only)
            return describe(int(resp.status), resp.read())
    except urllib.error.HTTPError as exc:
        return describe(exc.code, exc.read())
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        return ProbeResult(False, f"no answer from {url}: {reason}")


def _configured_port() -> int | None:
    from pydantic import ValidationError

    from libs.common.settings import Settings
    from libs.common.startup import settings_error
    from mailpipe.cli_errors import fail

    try:
        return Settings().health_port
    except ValidationError as exc:
        # Docker reads every code but 0 and 1 as reserved: a probe that cannot run is "1".
        fail("healthcheck", settings_error(exc), code=UNHEALTHY)


def healthcheck(
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT", help="Health port of the service (default: MAILPIPE_HEALTH_PORT)"
        ),
    ] = None,
    ready: Annotated[
        bool, typer.Option("--ready", help="Check /readyz (can work) instead of /healthz (alive)")
    ] = False,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="Seconds to wait for an answer")
    ] = 3.0,
) -> None:
    """Probe this container's service: exit 0 when healthy (or ready), 1 when not."""
    if port is None:
        port = _configured_port()
    if port is None:
        typer.echo(
            "mailpipe healthcheck: no port: set MAILPIPE_HEALTH_PORT (the service serves "
            "its probes there) or pass --port",
            err=True,
        )
        raise typer.Exit(UNHEALTHY)
    result = probe(probe_url(port, ready=ready), timeout)
    typer.echo(result.detail, err=not result.ok)
    raise typer.Exit(0 if result.ok else UNHEALTHY)
