"""Whether a contract's JSON Schema may stay at its version (docs/publishing-jobs.md, "Evolving
the contracts"): within a version only optional properties may be added. A property removed or
retyped (its type, format, pattern, limits or allowed values changed), a new required property,
an optional one made required, or unknown fields newly refused need a new version.

Pure functions over the JSON Schemas pydantic writes (``$ref`` into ``$defs``), so that the
test over the committed files and ``mailpipe schema`` judge alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Keys that describe a value without constraining it: changing them breaks no reader.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "$schema", "$id", "$defs"}
)
#: Keys an object schema compares property by property (the rest as plain constraints).
_OBJECT_KEYS = frozenset({"properties", "required", "additionalProperties"})
_MAX_DEPTH = 64  # far beyond any contract; stops a self-referencing schema


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What makes ``new`` incompatible with ``old`` (both a contract's whole JSON Schema);
    an empty list when ``new`` only added optional properties or changed annotations."""
    walk = _Walk(old.get("$defs", {}), new.get("$defs", {}))
    return list(walk.compare(old, new, "$", 0))


class _Walk:
    def __init__(self, old_defs: dict[str, Any], new_defs: dict[str, Any]) -> None:
        self._old_defs = old_defs
        self._new_defs = new_defs

    def compare(self, old: Any, new: Any, path: str, depth: int) -> Iterator[str]:
        if depth > _MAX_DEPTH:
            return
        old, new = _resolve(old, self._old_defs), _resolve(new, self._new_defs)
        if isinstance(old, dict) and isinstance(new, dict):
            skip = _ANNOTATIONS
            if "properties" in old or "properties" in new:
                yield from self._object(old, new, path, depth)
                skip |= _OBJECT_KEYS
            yield from self._keys(old, new, path, depth, skip)
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                yield from self.compare(before, after, f"{path}[{index}]", depth + 1)
        elif old != new:
            yield f"{path}: {_short(old)} became {_short(new)}"

    def _keys(
        self, old: dict[str, Any], new: dict[str, Any], path: str, depth: int, skip: frozenset[str]
    ) -> Iterator[str]:
        for key in sorted((old.keys() | new.keys()) - skip):
            if key not in new:
                yield f"{path}: constraint {key!r} removed"
            elif key not in old:
                yield f"{path}: constraint {key!r} added"
            else:
                yield from self.compare(old[key], new[key], f"{path}.{key}", depth + 1)

    def _object(
        self, old: dict[str, Any], new: dict[str, Any], path: str, depth: int
    ) -> Iterator[str]:
        before, after = old.get("properties", {}), new.get("properties", {})
        required_before, required_after = set(old.get("required", ())), set(new.get("required", ()))
        for name in before:
            if name not in after:
                yield f"{path}.{name}: property removed"
            else:
                yield from self.compare(before[name], after[name], f"{path}.{name}", depth + 1)
        for name in sorted(required_after - required_before):
            what = "optional property made required" if name in before else "new required property"
            yield f"{path}.{name}: {what}"
        extra_before = old.get("additionalProperties", True)
        extra_after = new.get("additionalProperties", True)
        if extra_after is False and extra_before is not False:
            yield f"{path}: unknown fields newly refused (additionalProperties false)"
        elif isinstance(extra_before, dict) and isinstance(extra_after, dict):
            yield from self.compare(extra_before, extra_after, f"{path}.*", depth + 1)
        elif isinstance(extra_before, dict) != isinstance(extra_after, dict):
            before_text, after_text = _short(extra_before), _short(extra_after)
            yield f"{path}: additionalProperties {before_text} became {after_text}"


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with a local ``$ref`` replaced by the definition (its own keys kept)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = defs.get(node["$ref"].removeprefix("#/$defs/"), {})
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
