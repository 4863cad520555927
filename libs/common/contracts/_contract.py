"""``Contract``: a message on the broker, its version and how it is read (tolerantly between
mailpipe's own services, strictly where others write it). docs/publishing-jobs.md"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import ValidationError

from libs.common.contracts._base import Model
from libs.common.contracts.wire_json import json_problem, peek_object
from libs.common.errors import ContractError


class Contract(Model):
    """A message on the broker. ``schema`` names the contract and its major version."""

    #: The message's JSON once :meth:`to_json` made it (a slot, not a field: no part of the
    #: model's fields, equality, dumps or copies, which start without it).
    __slots__ = ("_wire_json",)

    SCHEMA: ClassVar[str]
    #: A field :meth:`from_json` does not know: ``ignore`` between mailpipe's own services (a
    #: newer producer never dead-letters mail at an older consumer), ``forbid`` where others
    #: write the message (they must hear of a misspelt field). docs/publishing-jobs.md
    UNKNOWN_FIELDS: ClassVar[Literal["ignore", "forbid"]] = "ignore"
    #: Read with one reading only (libs/common/contracts/wire_json.py) where others write the
    #: message: no key twice, no NaN, no byte-order mark, declared as UTF-8 JSON.
    STRICT_JSON: ClassVar[bool] = False
    #: The version before this one, still read by :meth:`from_json` (and turned into this one
    #: by its :meth:`upgrade`) while messages of it may be queued or parked.
    PREVIOUS: ClassVar[type[Contract] | None] = None

    def upgrade(self) -> Contract:
        """The same message in the next version of its contract (a ``PREVIOUS`` only)."""
        raise NotImplementedError(f"{self.SCHEMA} has no next version")

    def downgrade(self) -> Contract | None:
        """The same message in ``PREVIOUS``, for a consumer not yet upgraded; ``None`` when
        this message cannot be said in the previous version (or there is none)."""
        return None

    def to_json(self) -> bytes:
        """The message as sent on the wire. Made once per message: a producer checks that its
        message serialises before it publishes it, and both ends of a publish used to pay for
        the same dump twice. The model is frozen (its nested models too), so it cannot go
        stale."""
        body: bytes | None = getattr(self, "_wire_json", None)
        if body is None:
            body = self.model_dump_json(by_alias=True).encode("utf-8")
            object.__setattr__(self, "_wire_json", body)
        return body

    @classmethod
    def from_json(cls, body: bytes | str) -> Self:
        """Parse and validate; any problem is a :class:`ContractError` saying which field."""
        problem = json_problem(body) if cls.STRICT_JSON else None
        if problem is not None:
            raise ContractError(f"{cls.SCHEMA}: {problem}")
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            error = exc
        previous = cls.PREVIOUS
        if previous is not None and _schema_of(body) == previous.SCHEMA:
            upgraded = previous.from_json(body).upgrade()
            assert isinstance(upgraded, cls), f"{previous.SCHEMA} upgrades to {cls.SCHEMA}"
            return upgraded
        # The models stay strict (code that builds one refuses a misspelt field): a tolerant
        # read drops what was refused as unknown and validates again, so usual mail pays nothing.
        known = _without_unknown_fields(body, error) if cls.UNKNOWN_FIELDS == "ignore" else None
        if known is not None:
            try:
                return cls.model_validate_json(known)
            except ValidationError as exc:
                error = exc
        raise ContractError(f"{cls.SCHEMA}: {_first_error(error)}") from None


def _schema_of(body: bytes | str) -> object:
    """The ``schema`` a message names; ``None`` when it is not a JSON object."""
    data = peek_object(body)
    return data.get("schema") if data is not None else None


def _without_unknown_fields(body: bytes | str, exc: ValidationError) -> str | None:
    """``body`` without the fields ``exc`` refused as unknown; ``None`` when it refused none."""
    unknown = [e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"]
    if not unknown:
        return None
    data = json.loads(body)
    for loc in unknown:
        parent = data
        try:
            for step in loc[:-1]:
                parent = parent[step]
            del parent[loc[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # not a plain path (a union's branch): the next validation says so
    return json.dumps(data)


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    err = errors[0]
    where = ".".join(str(p) for p in err["loc"]) or "(message)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {err['msg'].removeprefix('Value error, ')}{more}"


_C = TypeVar("_C", bound=Contract)


def restated(message: Contract, target: type[_C], drop: set[str], **fields: Any) -> _C:
    """``message`` as a ``target`` (the next or previous version of its contract): its fields
    but ``drop``, plus ``fields``, validated anew."""
    return target(**message.model_dump(exclude={"schema_name", *drop}), **fields)
