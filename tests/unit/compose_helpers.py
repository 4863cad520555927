"""Reading the deployment files for tests/unit/test_compose.py: compose files, their merge,
the Dockerfile's instructions, the CLI's commands and the known ``MAILPIPE_*`` settings."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
BASE = "docker-compose.yml"
DEMO = "docker-compose.demo.yml"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def merged(*names: str) -> dict[str, Any]:
    """The project compose builds from ``-f a -f b``: mappings merge, lists append."""
    out: dict[str, Any] = {}
    for name in names:
        out = _merge(out, load(name))
    return out


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(over, list):
        return base + [item for item in over if item not in base]
    return over


# --- the CLI ----------------------------------------------------------------------------


def cli_root() -> Any:
    from mailpipe.cli import app

    return typer.main.get_command(app)


def parse_mailpipe_args(args: Sequence[str]) -> str:
    """Parse ``mailpipe ARGS`` as the CLI would (without running it); returns the command path.

    Sub-groups are followed through their ``commands``, so this follows the CLI as it grows.
    Raises LookupError for an unknown command, and the CLI's own usage error for an unknown
    option or a bad value.
    """
    cmd, rest, path = cli_root(), list(args), ["mailpipe"]
    while hasattr(cmd, "commands"):  # a group: the next word names a sub-command
        assert rest, f"{' '.join(path)} needs a sub-command"
        name, rest = rest[0], rest[1:]
        if name not in cmd.commands:
            raise LookupError(f"no such command: {' '.join([*path, name])}")
        cmd, path = cmd.commands[name], [*path, name]
    cmd.make_context(" ".join(path), rest)
    return " ".join(path)


def mailpipe_args(test: Any) -> list[str] | None:
    """The mailpipe arguments of a healthcheck ``test`` running the mailpipe CLI, else None."""
    if isinstance(test, list) and test[:2] == ["CMD", "mailpipe"]:
        return [str(t) for t in test[2:]]
    return None


# --- settings ---------------------------------------------------------------------------


def settings_classes() -> list[type[BaseSettings]]:
    """Every BaseSettings model: the shared one and each service's own ``config`` module."""
    modules = ["libs.common.settings"]
    modules += [
        f"services.{p.parent.name}.config" for p in sorted((REPO / "services").glob("*/config.py"))
    ]
    found: list[type[BaseSettings]] = []
    for name in modules:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseSettings) and obj.__module__ == name:
                found.append(obj)
    return found


def env_names(model: type[BaseModel], prefix: str, delimiter: str | None) -> Iterator[str]:
    for field_name, field in model.model_fields.items():
        name = f"{prefix}{field_name}".upper()
        yield name
        sub = field.annotation
        if delimiter and isinstance(sub, type) and issubclass(sub, BaseModel):
            yield from env_names(sub, name + delimiter, delimiter)


def known_settings() -> set[str]:
    known: set[str] = set()
    for cls in settings_classes():
        prefix = cls.model_config.get("env_prefix") or ""
        known |= set(env_names(cls, prefix, cls.model_config.get("env_nested_delimiter")))
    return known


MAILPIPE_VAR = re.compile(r"\bMAILPIPE_[A-Z0-9_]*[A-Z0-9]")


def mailpipe_vars_in(text: str) -> set[str]:
    return set(MAILPIPE_VAR.findall(text))


# --- the Dockerfile ---------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not exec form: {args}"
    return [str(v) for v in value]
