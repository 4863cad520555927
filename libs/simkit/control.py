"""The control API's plumbing both simulators share: its error answers (``{"error": …}``) and
its JSON bodies. The routes are each simulator's own."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ControlError(ValueError):
    """A bad control API request; answered 400 with the message."""


class MissingError(ControlError):
    """A control API request about something the simulator does not have; answered 404."""


def error_json(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def control_error(request: Request, exc: Exception) -> Response:
    """The exception handler for :class:`ControlError` (and :class:`MissingError`)."""
    return error_json(404 if isinstance(exc, MissingError) else 400, str(exc))


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body (an empty body is ``{}``); anything else is a
    :class:`ControlError`."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data
